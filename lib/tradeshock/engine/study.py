"""The event-study engine: windows, normal returns, abnormal returns, CAR/BHAR, AAR/CAAR, exclusions

One call, :func:`event_study`, runs a whole study and returns an
:class:`~tradeshock.engine.results.EventStudyResult` whose read-only properties are tidy frames (``abnormal_returns``, ``car``, ``aar``, ``caar``,
``estimates``, ``excluded``, ``tests``, ``car_tests``) and whose ``summary()`` prints a text table.

Inputs
------
``returns``
    Wide frame: a ``DatetimeIndex`` of sessions (tz-naive dates) × one column per security, **simple
    returns as fractions** (0.01 = 1 %), NaN where a security has no observation. The engine takes
    *returns*, not prices: total returns computed from **adjusted** close (dividends and splits
    folded in) are what belongs here; the data layer (``tradeshock.data.returns``) builds them from
    ``adj_close``. Returns from the raw close show a spurious negative AR of about ``-D/P`` on every
    ex-dividend day (see ``tests/test_study.py::test_close_vs_adjusted_close``). Values below -1
    (impossible for a simple return) or a frame that looks like percent or prices raise
    :class:`~tradeshock.errors.StudyError`.
``market``
    The market's simple returns (a Series on the same dates, or the name of a column of
    ``returns``, which is then not treated as a security). Needed by ``market`` and
    ``market_adjusted``.
``factors``
    Optional frame of factor returns (same dates, same units) for ``model="factor"``.
``events``
    Day 0: one date for every column, or a mapping ``id -> date`` (``id`` a column of ``returns``)
    or ``id -> (column, date)`` (one security with several events gets several ids, e.g.
    ``{"SPY@E1": ("SPY", d1), "SPY@E2": ("SPY", d2)}``), or a frame with columns ``security``,
    ``day0`` and optionally ``id`` / ``event_id``. Each id is one observation of the cross-section:
    a security with two events counts twice *only* under two ids, and the same (security, day 0)
    listed twice is an error, never a silent double count. Day 0 must be a row of ``returns``
    (align announcements to sessions first with ``tradeshock.events``); the engine never moves it.

Event time and windows
----------------------
With windows in *trading days* (``estimation=(-260, -11)``, ``event=(-1, 5)``, both ends
inclusive, so these hold 250 and 7 rows), event time counts **the security's own sessions**: the
rows where it has an observation (a non-NaN return). Day +1 is the next row after day 0 in which
the security has a return; a row where it is NaN (a holiday of its exchange in a frame that mixes
markets) is skipped, not counted as a zero return. So a security always gets exactly 250
estimation rows unless its history is too short. Rows between the estimation and event windows
(here -10..-2) are a gap that no computation uses.

With windows as *dates* (``estimation=("2023-01-02", "2023-09-08")``, inclusive; what the CLI
uses, like R's estudy2), the rows are the frame's own rows between those dates, shared by all
securities; a NaN is a missing observation of that security, masked out of its estimation, and
``day`` counts rows from day 0 (the ``events`` date if given, else the first event-window row).

Windows are read by :func:`tradeshock.core.windows.parse_window`; they must not overlap and the
estimation window must precede the event window (:class:`~tradeshock.errors.WindowError`, a
:class:`StudyError`, otherwise). CAR windows (several in one call, e.g. ``[(0, 0), (0, 3),
(-1, 5)]``, or date pairs in date mode) must lie inside the event window.

Exclusions
----------
A security is excluded, with one row in ``result.excluded`` (``security, reason, detail``), when
``no_data_day0`` (no return on day 0), ``missing_event_data`` (an event-window row without a
return, market or factor value, including a window that runs past the data; with
``missing="keep"`` only a window with no observation at all), ``too_few_estimation_obs`` (fewer
than ``min_estimation_obs`` usable estimation rows; an int, or a fraction of the window length,
never below ``p + 1`` for ``p`` parameters), ``singular_design`` (collinear regressors, e.g. a
constant market return), ``zero_variance`` (residual sd of the estimation window at most
:data:`ZERO_VARIANCE_SD`: constant returns, or returns the model fits exactly; its abnormal returns
cannot be standardized), or ``non_finite_return`` (an infinite return anywhere in its column; the
dates are named). An infinite market or factor value is refused (:class:`StudyError`), since it
would touch every security. Excluded securities appear in no other frame, and nothing is silently
NaN.

Outputs
-------
``AR_it = R_it - E[R_it]`` with the model of :mod:`tradeshock.engine.models`. ``CAR_i(a, b) = sum of
AR_it`` over days a..b. ``BHAR_i(a, b) = prod(1 + R_it) - prod(1 + E[R_it])`` (Barber and Lyon
1997, J. Fin. Econ. 43, eq. 1) with the model's normal return ``E[R_it]`` as the benchmark: the
constant mean for ``mean``, the market return for ``market_adjusted``, ``alpha + beta R_mt`` for
``market``, the factor fit for ``factor`` (not a size/book-to-market reference portfolio).
``AAR_t`` is the mean AR across securities on day t (``n`` securities observed), ``CAAR(a, b)``
the mean CAR. Test statistics come from :mod:`tradeshock.engine.inference` through
:class:`~tradeshock.engine.inference.EventData`.

Performance: all securities are handled at once by array algebra (gathers with fancy indexing,
masked cross-products); the only Python loops run over windows and days, never securities, except
the optional GARCH fits.

The steps of :func:`event_study`, each a function of its own: read the inputs
(:func:`_read_inputs`), read the windows (:func:`_read_windows`), lay out the rows of each window
per security (:func:`_layout`, :func:`_car_days`), gather returns and regressors
(:func:`_gather`), exclude securities (:func:`_exclusions`), estimate the model
(:func:`_estimate`), compute the event-window abnormal returns (:func:`_event_arrays`) and the
optional GARCH scale (:func:`_garch_scale`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from tradeshock.core.windows import (
    Window,
    check_window_order,
    is_datelike,
    parse_session_date,
    parse_window,
)
from tradeshock.engine.models import (
    MODELS,
    ModelFit,
    NormalReturnModel,
    garch_forecast_sd,
    get_model,
)
from tradeshock.engine.results import EXCLUSION_REASONS, EventStudyResult
from tradeshock.errors import StudyError

__all__ = ["EXCLUSION_REASONS", "ZERO_VARIANCE_SD", "EventStudyResult", "event_study"]

#: A residual sd of the estimation window at or below this (simple returns as fractions; real
#: securities have about 1e-2) is a zero-variance security, excluded as ``zero_variance``.
ZERO_VARIANCE_SD = 1e-10

_is_datelike = is_datelike


def _to_date(x: Any, what: str) -> pd.Timestamp:
    """A tz-naive session date from ``x`` (an ``events`` entry), :class:`StudyError` otherwise."""
    return parse_session_date(x, what, error=StudyError)


# ---------------------------------------------------------------------------------------- inputs
def _check_returns_frame(returns: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(returns, pd.DataFrame):
        raise StudyError(
            f"returns must be a pandas DataFrame (dates x securities), not {type(returns).__name__}"
        )
    if not isinstance(returns.index, pd.DatetimeIndex):
        try:
            returns = returns.set_axis(pd.DatetimeIndex(returns.index), axis=0)
        except (ValueError, TypeError):
            raise StudyError(
                "returns: the index must hold dates (a DatetimeIndex of sessions); "
                "set it with df.set_index('date') after pd.to_datetime"
            ) from None
    if returns.index.tz is not None:
        raise StudyError("returns: the index is tz-aware; use tz-naive session dates")
    if returns.index.hasnans:
        raise StudyError("returns: the index has missing dates (NaT); drop those rows")
    if returns.index.has_duplicates:
        dup = returns.index[returns.index.duplicated()][0]
        raise StudyError(
            f"returns: date {dup.date()} appears more than once; keep one row per session"
        )
    if not returns.index.is_monotonic_increasing:
        returns = returns.sort_index()
    if returns.columns.has_duplicates:
        dup = returns.columns[returns.columns.duplicated()][0]
        raise StudyError(
            f"returns: column {dup!r} appears more than once; give each security one column"
        )
    dtypes = returns.dtypes
    odd = {dt for dt in set(dtypes) if not pd.api.types.is_numeric_dtype(dt)}
    bad = [c for c, dt in dtypes.items() if dt in odd] if odd else []
    if bad:
        raise StudyError(
            f"returns: column {bad[0]!r} is not numeric; pass simple returns as numbers (fractions)"
        )
    return returns


def _check_values(
    values: np.ndarray, names: Sequence[str], index: pd.DatetimeIndex, what: str
) -> None:
    """Guard against prices or percent passed as fractional simple returns."""
    v = values
    fin = np.isfinite(v)
    n_finite = np.count_nonzero(fin)
    if not n_finite:
        return
    below = fin & (v < -1.0)  # NaN compares False; infinities are handled as non-finite
    if below.any():
        r, c = np.argwhere(below)[0]
        raise StudyError(
            f"{what}: {names[c]!r} on {index[r].date()} is {v[r, c]:.6g}, below -1, impossible "
            "for a simple return; pass simple returns as fractions (0.01 = 1 %), not percent"
        )
    share = np.count_nonzero(fin & (np.abs(v) > 0.5)) / n_finite
    if share > 0.2:
        raise StudyError(
            f"{what}: {share:.0%} of the values exceed 0.5 in absolute value; these look like "
            "prices or percent. Pass simple returns as fractions, e.g. adj_close.pct_change()"
        )


def _refuse_infinite(
    values: np.ndarray, names: Sequence[str], index: pd.DatetimeIndex, what: str
) -> None:
    """An infinite market or factor value would drop that row for every security: refuse it."""
    inf = np.isinf(values)
    if inf.any():
        r, c = np.argwhere(inf)[0]
        raise StudyError(
            f"{what}: {names[c]!r} on {index[r].date()} is {values[r, c]}, not a finite return "
            f"({int(inf.sum())} such value(s)); fix the data, or leave a missing value empty (NaN)"
        )


def _parse_events(
    events: Any, columns: Sequence[str]
) -> tuple[list[str], list[str], list[pd.Timestamp | None]]:
    """(ids, columns, day0s) from the ``events`` argument."""
    colset = set(columns)

    def need(col: Any, where: str) -> str:
        if col not in colset:
            raise StudyError(
                f"events: {where} names security {col!r}, which is not a column of returns "
                f"(columns: {', '.join(map(str, list(columns)[:10]))}"
                f"{' …' if len(columns) > 10 else ''})"
            )
        return col

    if events is None:
        return list(columns), list(columns), [None] * len(columns)
    if _is_datelike(events):
        d = _to_date(events, "events (day 0)")
        return list(columns), list(columns), [d] * len(columns)
    rows: list[tuple[str, str, pd.Timestamp, Any]] = []
    if isinstance(events, pd.DataFrame):
        cols = set(events.columns)
        dcol = "day0" if "day0" in cols else ("date" if "date" in cols else None)
        if "security" not in cols or dcol is None:
            raise StudyError(
                "events frame needs columns 'security' and 'day0' (optionally 'id' or 'event_id'); "
                f"got {list(events.columns)}"
            )
        secs = events["security"].tolist()
        days = [_to_date(d, f"events row {i} day0") for i, d in enumerate(events[dcol])]
        if "id" in cols:
            ids = [str(x) for x in events["id"]]
        else:
            counts = pd.Series(secs).value_counts()
            tags = events["event_id"].tolist() if "event_id" in cols else None
            ids = []
            for i, (s, d) in enumerate(zip(secs, days)):
                if counts[s] == 1:
                    ids.append(str(s))
                else:
                    ids.append(f"{s}@{tags[i]}" if tags is not None else f"{s}@{d:%Y-%m-%d}")
        for i, (ident, s, d) in enumerate(zip(ids, secs, days)):
            rows.append((ident, need(s, f"events row {i}"), d, i))
    elif isinstance(events, Mapping):
        return _parse_mapping(events, colset, need)
    else:
        raise StudyError(
            "events must be a date, a mapping id -> date or id -> (security, date), or a frame "
            f"with columns security, day0; got {type(events).__name__}"
        )
    if not rows:
        raise StudyError("events is empty: give at least one security and its day 0")
    _check_unique(rows)
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def _parse_mapping(events: Mapping, colset: set, need: Any
                   ) -> tuple[list[str], list[str], list[pd.Timestamp]]:
    """(ids, columns, day0s) of a mapping ``id -> date`` or ``id -> (security, date)``.

    A panel (e.g. 491 firms x 35 sessions) repeats a few date objects over many securities:
    each object is parsed once (keyed by identity; the objects stay alive in ``events``), and
    the duplicate checks are vectorized, so that no Python object is made per observation
    beyond the three lists (tuples per observation wake the garbage collector, whose full
    passes over a large heap cost more than the parsing itself)."""
    seen: dict[int, pd.Timestamp] = {}
    ids: list[str] = []
    secs: list[str] = []
    days: list[pd.Timestamp] = []
    for key, val in events.items():
        if isinstance(val, (tuple, list)) and len(val) == 2:
            sec, d = val
        else:
            sec, d = key, val
        day = seen.get(id(d))
        if day is None:
            day = seen[id(d)] = _to_date(d, f"events[{key!r}]")
        ids.append(str(key))
        secs.append(sec if sec in colset else need(sec, f"event {key!r}"))
        days.append(day)
    if not ids:
        raise StudyError("events is empty: give at least one security and its day 0")
    pairs = pd.DataFrame({"s": secs, "d": np.fromiter((d.value for d in days), np.int64,
                                                      len(days))})
    if pairs.duplicated().any() or len(set(ids)) < len(ids):  # say which, in input order
        _check_unique(list(zip(ids, secs, days, ids)))
    return ids, secs, days


def _check_unique(rows: list[tuple[str, str, pd.Timestamp, Any]]) -> None:
    """Refuse an id used twice, or a (security, day 0) listed twice (counted twice)."""
    seen_ids: set[str] = set()
    seen_pairs: dict[tuple[str, int], str] = {}  # keyed by the date's ns (hashing is faster)
    for ident, sec, d, _ in rows:
        pair = (sec, d.value)
        if pair in seen_pairs:
            raise StudyError(
                f"events: security {sec!r} with day 0 {d.date()} is listed twice "
                f"(ids {seen_pairs[pair]!r} and {ident!r}); it would be counted twice"
            )
        seen_pairs[pair] = ident
        if ident in seen_ids:
            raise StudyError(
                f"events: id {ident!r} is used twice; give each event of a security its own id"
            )
        seen_ids.add(ident)


# ------------------------------------------------------------------------- step 1: the inputs
@dataclass(frozen=True)
class _Inputs:
    """Checked inputs: the securities' returns, market and factors on the same dates, the model."""

    returns: pd.DataFrame  # dates x securities (the market's column removed)
    market: pd.Series | None  # on returns.index
    market_name: str | None
    factors: np.ndarray | None  # (T, kf) on returns.index
    factor_names: tuple[str, ...]
    model: NormalReturnModel


def _read_market(
    returns: pd.DataFrame, market: pd.Series | str | None
) -> tuple[pd.DataFrame, pd.Series | None, str | None]:
    """The market's returns on ``returns``' dates, and ``returns`` without the market's column."""
    if isinstance(market, str):
        if market not in returns.columns:
            raise StudyError(
                f"market column {market!r} is not in returns (columns: "
                f"{', '.join(map(str, returns.columns[:10]))}); name the market's column"
            )
        return returns.drop(columns=[market]), returns[market], market
    if market is None:
        return returns, None, None
    if not isinstance(market, pd.Series):
        raise StudyError(
            "market must be a pandas Series of returns or a column name, not "
            f"{type(market).__name__}"
        )
    if not isinstance(market.index, pd.DatetimeIndex):
        raise StudyError("market: the index must hold dates (a DatetimeIndex)")
    if market.index.has_duplicates:
        raise StudyError("market: a date appears more than once; keep one row per session")
    name = str(market.name) if market.name is not None else "market"
    return returns, market.reindex(returns.index), name


def _read_inputs(
    returns: pd.DataFrame,
    market: pd.Series | str | None,
    factors: pd.DataFrame | None,
    model: str,
    missing: str,
) -> _Inputs:
    """Check the frames and options of :func:`event_study` and align market and factors."""
    returns = _check_returns_frame(returns)
    if model not in MODELS:
        raise StudyError(
            f"unknown normal-return model {model!r}; choose one of {', '.join(MODELS)}"
        )
    if missing not in ("exclude", "keep"):
        raise StudyError(f"missing must be 'exclude' or 'keep', not {missing!r}")
    returns, mser, market_name = _read_market(returns, market)
    factor_names: tuple[str, ...] = ()
    fvals = None
    if factors is not None:
        if not isinstance(factors, pd.DataFrame) or not isinstance(factors.index, pd.DatetimeIndex):
            raise StudyError("factors must be a DataFrame with a DatetimeIndex (dates x factors)")
        badf = [c for c in factors.columns if not pd.api.types.is_numeric_dtype(factors[c])]
        if badf:
            raise StudyError(f"factors: column {badf[0]!r} is not numeric")
        factor_names = tuple(str(c) for c in factors.columns)
        fvals = factors.reindex(returns.index).to_numpy(dtype=float)
    nrm = get_model(model, factor_names)
    if nrm.needs_market and mser is None:
        raise StudyError(
            f"model {model!r} needs the market's returns: pass market=<Series or column name>"
        )
    if model == "factor" and fvals is None:
        raise StudyError("model 'factor' needs factors=<DataFrame of factor returns>")
    return _Inputs(returns, mser, market_name, fvals, factor_names, nrm)


# ------------------------------------------------------------------------ step 2: the windows
def _read_windows(estimation: Any, event: Any) -> tuple[Window, Window]:
    """The estimation and event windows, of one kind, the estimation window first."""
    est = parse_window(estimation, "estimation window")
    ev = parse_window(event, "event window")
    check_window_order(est, ev)
    return est, ev


# ---------------------------------------------------------------- step 3: layout of event time
@dataclass(frozen=True)
class _Layout:
    """Where each window's rows are for each event id (``-1`` in a row array: no such row)."""

    mode: str  # "days" or "dates"
    index: pd.DatetimeIndex  # the returns' sessions
    ids: list[str]  # event ids (one per observation of the cross-section)
    cols: list[str]  # the column of returns of each id
    cidx: np.ndarray  # (N,) position of each id's column in R
    R: np.ndarray  # (T, C) returns of the used columns
    mvals: np.ndarray | None  # (T,) market returns
    valid: np.ndarray  # (T, C) a return is observed
    own_pos: np.ndarray  # (T, C) own-session position of each row (valid rows)
    day0_row: np.ndarray  # (N,) row of day 0
    has_day0: np.ndarray  # (N,) a return on day 0
    est_rows: np.ndarray  # (L1, N) rows of the estimation window
    ev_rows: np.ndarray  # (L2, N) rows of the event window
    days: np.ndarray  # (L2,) event-time offsets of the event rows
    est_label: str
    ev_label: str


def _layout(inp: _Inputs, events: Any, est: Window, ev: Window) -> _Layout:
    """Rows of the estimation and event windows of every event id, in array form."""
    ids, cols, day0s = _parse_events(events, list(inp.returns.columns))
    if est.kind == "days" and day0s[0] is None:
        raise StudyError(
            "windows in trading days need events (day 0): a date or a mapping security -> date"
        )
    returns = inp.returns
    index = returns.index
    if len(index) == 0:
        raise StudyError("returns has no rows")
    used_cols = list(dict.fromkeys(cols))
    col_pos = {c: i for i, c in enumerate(used_cols)}
    if len(used_cols) == returns.shape[1] and (returns.columns == pd.Index(used_cols)).all():
        R = returns.to_numpy(dtype=float)
    else:
        R = returns[used_cols].to_numpy(dtype=float)
    _check_values(R, used_cols, index, "returns")
    mvals = None
    if inp.market is not None:
        if not pd.api.types.is_numeric_dtype(inp.market):
            raise StudyError(f"market {inp.market_name!r} is not numeric")
        mvals = inp.market.to_numpy(dtype=float)
        _check_values(mvals[:, None], [inp.market_name], index, "market")
        _refuse_infinite(mvals[:, None], [inp.market_name], index, "market")
    if inp.factors is not None:
        _refuse_infinite(inp.factors, inp.factor_names, index, "factors")
    cidx = np.array([col_pos[c] for c in cols])
    valid = np.isfinite(R)  # (T, C)
    own_pos = np.cumsum(valid, axis=0) - 1  # own-session position of each row (valid rows)
    rows = (
        _rows_in_days(index, valid, own_pos, cidx, day0s, est, ev)
        if est.kind == "days"
        else _rows_in_dates(index, valid, cidx, day0s, est, ev)
    )
    return _Layout(est.kind, index, ids, cols, cidx, R, mvals, valid, own_pos, *rows)


def _rows_in_days(
    index: pd.DatetimeIndex,
    valid: np.ndarray,
    own_pos: np.ndarray,
    cidx: np.ndarray,
    day0s: list[pd.Timestamp],
    est: Window,
    ev: Window,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, str, str]:
    """Windows in trading days: event time counts each security's own sessions."""
    T, N = len(index), len(cidx)
    for d in set(day0s):
        if d not in index:
            raise StudyError(
                f"day 0 {d.date()} is not a row of returns "
                f"(data {index[0].date()}..{index[-1].date()}); "
                "align the event to a session first (tradeshock events align)"
            )
    pos_of = {d: index.get_loc(d) for d in set(day0s)}
    day0_row = np.empty(N, dtype=np.int64)
    day0_row[:] = [pos_of[d] for d in day0s]
    nvalid = valid.sum(axis=0)[cidx]
    # Row numbers as int32 (a session count fits): the (L, N) row arrays of a large panel take
    # half the memory (250 x 17185 x 4 bytes = 17 MB).
    itype = np.int32 if T < 2**31 - 1 else np.int64
    if valid.all():  # no holes: own sessions are the rows themselves
        order = np.broadcast_to(np.arange(T, dtype=itype)[:, None], valid.shape)
    else:  # valid rows first, in date order
        order = np.argsort(~valid, axis=0, kind="stable").astype(itype)
    has_day0 = valid[day0_row, cidx]
    p0 = own_pos[day0_row, cidx].astype(itype)

    def rows_for(a: int, b: int) -> np.ndarray:
        k = np.arange(a, b + 1, dtype=itype)
        q = p0[None, :] + k[:, None]
        ok = (q >= 0) & (q < nvalid[None, :]) & has_day0[None, :]
        np.clip(q, 0, T - 1, out=q)  # in place: (L, N) int arrays are large for big panels
        rows = order[q, cidx[None, :]]
        rows[~ok] = -1
        return rows

    days = np.arange(ev.start, ev.end + 1)
    return day0_row, has_day0, rows_for(*est), rows_for(*ev), days, str(est), str(ev)


def _rows_in_dates(
    index: pd.DatetimeIndex,
    valid: np.ndarray,
    cidx: np.ndarray,
    day0s: list[pd.Timestamp | None],
    est: Window,
    ev: Window,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, str, str]:
    """Windows as dates: the frame's own rows between the dates, shared by all securities."""
    N = len(cidx)
    span = f"the data ({index[0].date()}..{index[-1].date()})"
    if est.start < index[0]:
        raise StudyError(
            f"estimation window {est} starts before {span}; "
            "start it on or after the first date, or load more history"
        )
    if ev.end > index[-1]:
        raise StudyError(
            f"event window {ev} ends after {span}; "
            "end it on or before the last date, or load more data"
        )
    e0, e1 = index.searchsorted(est.start), index.searchsorted(est.end, side="right") - 1
    v0, v1 = index.searchsorted(ev.start), index.searchsorted(ev.end, side="right") - 1
    if e1 < e0:
        raise StudyError(f"estimation window {est} holds no row of returns")
    if v1 < v0:
        raise StudyError(f"event window {ev} holds no row of returns")
    d0 = day0s[0]
    if any(d != d0 for d in day0s):
        raise StudyError(
            "windows given as dates are shared by all securities; for different day 0s per "
            "security use windows in trading days, e.g. estimation=(-260, -11), event=(-1, 5)"
        )
    if d0 is None:
        r0 = v0
    else:
        if d0 not in index or not (v0 <= index.get_loc(d0) <= v1):
            raise StudyError(f"day 0 {d0.date()} must be a row of returns inside the event window")
        r0 = index.get_loc(d0)
    day0_row = np.full(N, r0)
    has_day0 = valid[r0, cidx]
    est_rows = np.broadcast_to(np.arange(e0, e1 + 1)[:, None], (e1 - e0 + 1, N))
    ev_rows = np.broadcast_to(np.arange(v0, v1 + 1)[:, None], (v1 - v0 + 1, N))
    days = np.arange(v0 - r0, v1 - r0 + 1)
    est_label = f"{index[e0].date()}..{index[e1].date()}"
    ev_label = f"{index[v0].date()}..{index[v1].date()}"
    return day0_row, has_day0, est_rows, ev_rows, days, est_label, ev_label


def _car_days(car_windows: Sequence[Any] | None, lay: _Layout) -> list[tuple[int, int]]:
    """CAR windows as day offsets inside the event window (default: the whole event window)."""
    days = lay.days
    if car_windows is None:
        return [(int(days[0]), int(days[-1]))]
    if isinstance(car_windows, (str, tuple, Window)):
        car_windows = [car_windows]
    out: list[tuple[int, int]] = []
    for w in car_windows:
        win = parse_window(w, f"CAR window {w!r}")
        a, b = win.bounds
        if win.kind == "dates":
            if lay.mode != "dates":
                raise StudyError(f"CAR window {w!r}: use day offsets when the windows are in days")
            index = lay.index
            ia, ib = index.searchsorted(a), index.searchsorted(b, side="right") - 1
            a, b = int(ia - lay.day0_row[0]), int(ib - lay.day0_row[0])
        if a < days[0] or b > days[-1] or a > b:
            raise StudyError(
                f"CAR window {w!r} (days {a}..{b}) is not inside the event window "
                f"(days {days[0]}..{days[-1]}); choose a window within it"
            )
        if (a, b) not in out:
            out.append((int(a), int(b)))
    return out


# ------------------------------------------------------------- step 4: returns and regressors
@dataclass(frozen=True)
class _Gathered:
    """Returns, market, factors and regressors of each window, ``(L, N[, k])``, NaN = missing."""

    y_est: np.ndarray
    m_est: np.ndarray | None
    x_est: np.ndarray | None
    use_est: np.ndarray  # (L1, N) return and every regressor observed
    y_ev: np.ndarray
    m_ev: np.ndarray | None
    x_ev: np.ndarray | None
    use_ev: np.ndarray  # (L2, N)
    d_ev: np.ndarray  # (L2, N) dates of the event rows (NaT: beyond the data)


def _gather_rows(
    lay: _Layout, fvals: np.ndarray | None, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    ok = rows >= 0
    full = bool(ok.all())
    rr = rows if full else np.where(ok, rows, 0)
    y = lay.R[rr, lay.cidx[None, :]]
    m = lay.mvals[rr] if lay.mvals is not None else None
    f = fvals[rr] if fvals is not None else None
    if not full:
        y = np.where(ok, y, np.nan)
        m = np.where(ok, m, np.nan) if m is not None else None
        f = np.where(ok[:, :, None], f, np.nan) if f is not None else None
    return y, m, f


def _gather(lay: _Layout, inp: _Inputs) -> _Gathered:
    """Gather every window's values by fancy indexing (no loop over securities)."""
    nrm = inp.model
    y_est, m_est, f_est = _gather_rows(lay, inp.factors, lay.est_rows)
    y_ev, m_ev, f_ev = _gather_rows(lay, inp.factors, lay.ev_rows)
    d_ev = np.where(
        lay.ev_rows >= 0, lay.index.values[np.maximum(lay.ev_rows, 0)], np.datetime64("NaT")
    )
    ones_est = np.where(np.isfinite(y_est), 1.0, np.nan)
    ones_ev = np.where(np.isfinite(y_ev), 1.0, np.nan)
    x_est = nrm.regressors(ones_est, m_est, f_est)
    x_ev = nrm.regressors(ones_ev, m_ev, f_ev)
    use_est = np.isfinite(y_est)
    use_ev = np.isfinite(y_ev)
    if x_est is not None:
        use_est &= np.isfinite(x_est).all(axis=2)
        use_ev &= np.isfinite(x_ev).all(axis=2)
    elif m_est is not None:  # market_adjusted
        use_est &= np.isfinite(m_est)
        use_ev &= np.isfinite(m_ev)
    return _Gathered(y_est, m_est, x_est, use_est, y_ev, m_ev, x_ev, use_ev, d_ev)


# ------------------------------------------------------------------------ step 5: exclusions
def _need_obs(min_estimation_obs: float, L1: int, p: int) -> int:
    """Fewest usable estimation rows: an int, or a fraction of ``L1``; never below ``p + 1``."""
    if isinstance(min_estimation_obs, float) and 0 < min_estimation_obs <= 1:
        need = math.ceil(min_estimation_obs * L1)
    elif float(min_estimation_obs) == int(min_estimation_obs) and min_estimation_obs >= 1:
        need = int(min_estimation_obs)
    else:
        raise StudyError(
            "min_estimation_obs must be a whole number >= 1 or a fraction in (0, 1], got "
            f"{min_estimation_obs!r}"
        )
    return max(need, p + 1)


def _missing_detail(lay: _Layout, g: _Gathered, i: int, missing: str) -> str:
    lost = np.flatnonzero(~g.use_ev[:, i])
    parts = []
    for k in lost[:5]:
        if lay.ev_rows[k, i] < 0:
            parts.append(f"day {lay.days[k]:+d} beyond the data")
        else:
            what = "return" if not np.isfinite(g.y_ev[k, i]) else "market/factor value"
            parts.append(f"day {lay.days[k]:+d} ({lay.index[lay.ev_rows[k, i]].date()}): no {what}")
    more = f" and {len(lost) - 5} more" if len(lost) > 5 else ""
    return (
        f"{len(lost)} of {lay.ev_rows.shape[0]} event-window rows missing: "
        + "; ".join(parts)
        + more
        + (" (missing='keep' keeps partial windows)" if missing == "exclude" else "")
    )


def _exclusions(
    lay: _Layout, g: _Gathered, need_obs: int, missing: str
) -> tuple[np.ndarray, np.ndarray]:
    """``(reason, detail)`` per event id ("" = kept so far), in order of precedence.

    ``singular_design`` is added by :func:`_estimate`, which needs the fit.
    """
    N = len(lay.ids)
    reason = np.full(N, "", dtype=object)
    detail = np.full(N, "", dtype=object)
    inf_cols = np.isinf(lay.R).any(axis=0)
    for i in np.flatnonzero(inf_cols[lay.cidx]):
        rows = np.flatnonzero(np.isinf(lay.R[:, lay.cidx[i]]))
        shown = ", ".join(f"{lay.index[r].date()} ({lay.R[r, lay.cidx[i]]})" for r in rows[:5])
        reason[i] = "non_finite_return"
        detail[i] = (
            f"{len(rows)} infinite return(s) in column {lay.cols[i]!r}: {shown}"
            f"{' …' if len(rows) > 5 else ''}; fix the data (leave a missing value empty)"
        )
    for i in np.flatnonzero(~lay.has_day0 & (reason == "")):
        reason[i] = "no_data_day0"
        detail[i] = (
            f"no return on day 0 ({lay.index[lay.day0_row[i]].date()}) for {lay.cols[i]!r}"
        )
    miss_ev = ~g.use_ev
    bad_ev = miss_ev.any(axis=0) if missing == "exclude" else miss_ev.all(axis=0)
    for i in np.flatnonzero(bad_ev & (reason == "")):
        reason[i] = "missing_event_data"
        detail[i] = _missing_detail(lay, g, i, missing)
    n_est = g.use_est.sum(axis=0)
    for i in np.flatnonzero((n_est < need_obs) & (reason == "")):
        reason[i] = "too_few_estimation_obs"
        detail[i] = (
            f"{int(n_est[i])} usable rows in the estimation window {lay.est_label}, "
            f"at least {need_obs} needed"
        )
    return reason, detail


# ------------------------------------------------------------------------ step 6: estimation
def _take_cols(a: np.ndarray | None, sel: slice | np.ndarray) -> np.ndarray | None:
    """Columns ``sel`` (axis 1) of ``a`` as a C-ordered array (``a[:, idx]`` would be laid out
    column by column, which changes the order of floating-point sums along the rows)."""
    if a is None or isinstance(sel, slice):
        return None if a is None else a[:, sel]
    return np.take(a, sel, axis=1)


def _estimate(
    lay: _Layout, g: _Gathered, nrm: NormalReturnModel, reason: np.ndarray, detail: np.ndarray
) -> tuple[ModelFit, np.ndarray, pd.DataFrame]:
    """Fit the model on the candidates; collinear ones become ``singular_design`` exclusions.

    Returns the fit of the kept securities, the ``keep`` mask over event ids and the
    ``excluded`` frame. ``reason`` and ``detail`` are completed in place.
    """
    cand = reason == ""
    csel = slice(None) if cand.all() else np.flatnonzero(cand)  # a slice avoids copies
    fit_all = nrm.fit(
        _take_cols(g.y_est, csel),
        _take_cols(g.x_est, csel),
        _take_cols(g.m_est, csel),
    )
    for i in np.flatnonzero(cand)[fit_all.singular]:
        reason[i] = "singular_design"
        detail[i] = (
            f"the regressors of model {nrm.name!r} are collinear in the estimation window "
            f"{lay.est_label} (e.g. a constant market return); coefficients cannot be estimated"
        )
    with np.errstate(invalid="ignore"):
        flat = ~fit_all.singular & (fit_all.resid_var <= ZERO_VARIANCE_SD**2)
    for i, j in zip(np.flatnonzero(cand)[flat], np.flatnonzero(flat)):
        reason[i] = "zero_variance"
        detail[i] = (
            f"residual sd {math.sqrt(max(float(fit_all.resid_var[j]), 0.0)):.3g} in the "
            f"estimation window {lay.est_label} (model {nrm.name!r}): its returns are constant "
            "or fitted exactly, so its abnormal returns cannot be standardized; check the data "
            "(a stale price?)"
        )
    keep = reason == ""
    drop = fit_all.singular | flat
    sub = slice(None) if not drop.any() else np.flatnonzero(~drop)
    fit = ModelFit(
        fit_all.model,
        fit_all.param_names,
        fit_all.params[sub],
        _take_cols(fit_all.resid, sub),
        fit_all.n_obs[sub],
        fit_all.n_params,
        fit_all.resid_var[sub],
        fit_all.r2[sub],
        fit_all.singular[sub],
    )
    excluded = pd.DataFrame(
        {
            "security": [lay.ids[i] for i in np.flatnonzero(~keep)],
            "reason": list(reason[~keep]),
            "detail": list(detail[~keep]),
        },
        columns=["security", "reason", "detail"],
    )
    return fit, keep, excluded


# -------------------------------------------------------------- step 7: the abnormal returns
def _event_arrays(
    lay: _Layout, g: _Gathered, nrm: NormalReturnModel, fit: ModelFit, keep: np.ndarray
) -> dict[str, Any]:
    """Arrays of the kept securities that :class:`EventStudyResult` holds (keyword arguments)."""
    kx = np.flatnonzero(keep)
    ks = slice(None) if keep.all() else kx  # a slice avoids copies when nothing is excluded
    y_ev = _take_cols(g.y_ev, ks)
    xe = _take_cols(g.x_ev, ks)
    me = _take_cols(g.m_ev, ks)
    normal = nrm.expected(fit, xe, me)
    use_ev = g.use_ev[:, ks]
    ue = g.use_est[:, ks]
    ev_full, est_full = bool(use_ev.all()), bool(ue.all())
    x_est_k = x_ev_k = None
    if g.x_est is not None:
        xk = _take_cols(g.x_est, ks)
        x_est_k = xk if est_full else np.where(ue[:, :, None], xk, np.nan)
        x_ev_k = xe if ev_full else np.where(use_ev[:, :, None], xe, np.nan)
    return {
        "ids": [lay.ids[i] for i in kx],
        "columns": [lay.cols[i] for i in kx],
        "day0": lay.index.values[lay.day0_row[kx]].astype("datetime64[ns]"),
        "ev_dates": g.d_ev[:, ks],
        "est_bounds": _estimation_bounds(lay, ue, ks),
        "ret_event": y_ev if ev_full else np.where(use_ev, y_ev, np.nan),
        "normal_event": normal if ev_full else np.where(use_ev, normal, np.nan),
        "ar_event": y_ev - normal if ev_full else np.where(use_ev, y_ev - normal, np.nan),
        "ar_est": fit.resid if est_full else np.where(ue, fit.resid, np.nan),
        "x_est": x_est_k,
        "x_event": x_ev_k,
    }


def _estimation_bounds(lay: _Layout, ue: np.ndarray, ks: slice | np.ndarray) -> np.ndarray:
    """``(N, 2)`` first and last estimation dates actually used, per kept security."""
    L1 = lay.est_rows.shape[0]
    has_est = ue.any(axis=0)
    er = lay.est_rows[:, ks]
    r_first = np.take_along_axis(er, np.argmax(ue, axis=0)[None, :], axis=0)[0]
    r_last = np.take_along_axis(er, (L1 - 1 - np.argmax(ue[::-1], axis=0))[None, :], axis=0)[0]
    nat = np.datetime64("NaT", "ns")
    dates = lay.index.values
    return np.stack(
        [
            np.where(has_est, dates[np.maximum(r_first, 0)].astype("datetime64[ns]"), nat),
            np.where(has_est, dates[np.maximum(r_last, 0)].astype("datetime64[ns]"), nat),
        ],
        axis=1,
    )


def _garch_scale(
    lay: _Layout, g: _Gathered, keep: np.ndarray, ar_est: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """GARCH(1,1) sd forecasts; horizon = own sessions from the last usable estimation row."""
    kx = np.flatnonzero(keep)
    if not kx.size:
        return None
    cpos = lay.own_pos[:, lay.cidx[kx]]
    last_est = np.where(g.use_est[:, kx], lay.est_rows[:, kx], -1).max(axis=0)
    last_pos = cpos[np.maximum(last_est, 0), np.arange(kx.size)]
    evr = lay.ev_rows[:, kx]
    h = np.where(
        evr >= 0,
        cpos[np.maximum(evr, 0), np.arange(kx.size)[None, :]] - last_pos[None, :],
        np.nan,
    )
    h = np.where(g.use_ev[:, kx], h, np.nan).astype(float)
    return garch_forecast_sd(ar_est, h)


# ------------------------------------------------------------- large panels: column blocks
#: Observations handled together by :func:`event_study` (steps 4-7). Every step is a function
#: of each observation's own column, so a panel of many observations (e.g. 491 firms x 35 event
#: sessions) is run block by block and the blocks concatenated: the same numbers, but each
#: block's temporaries (250 x 2048 x 8 bytes = 4 MB) stay in cache and below the allocator's
#: mmap threshold, where whole-panel temporaries (34 MB each) cost a page fault per 4 kB.
BLOCK_SIZE = 2048


def _layout_block(lay: _Layout, sl: slice) -> _Layout:
    """The layout of the observations ``sl`` (a slice of event ids); shared arrays kept."""
    return replace(lay, ids=lay.ids[sl], cols=lay.cols[sl], cidx=lay.cidx[sl],
                   day0_row=lay.day0_row[sl], has_day0=lay.has_day0[sl],
                   est_rows=lay.est_rows[:, sl], ev_rows=lay.ev_rows[:, sl])


def _in_blocks(
    lay: _Layout, inp: _Inputs, need_obs: int, missing: str
) -> tuple[ModelFit, pd.DataFrame, dict[str, Any]]:
    """Steps 4-7 (gather, exclusions, estimation, event arrays) per block of
    :data:`BLOCK_SIZE` observations, concatenated in the order of the event ids."""
    fits, excl, parts = [], [], []
    for a in range(0, len(lay.ids), BLOCK_SIZE):
        lb = _layout_block(lay, slice(a, a + BLOCK_SIZE))
        g = _gather(lb, inp)
        reason, detail = _exclusions(lb, g, need_obs, missing)
        fit, keep, excluded = _estimate(lb, g, inp.model, reason, detail)
        fits.append(fit)
        excl.append(excluded)
        parts.append(_event_arrays(lb, g, inp.model, fit, keep))
    f0 = fits[0]

    def cat(vals: list, axis: int) -> Any:
        return None if vals[0] is None else np.concatenate(vals, axis=axis)

    fit = ModelFit(
        f0.model, f0.param_names, cat([f.params for f in fits], 0),
        cat([f.resid for f in fits], 1), cat([f.n_obs for f in fits], 0), f0.n_params,
        cat([f.resid_var for f in fits], 0), cat([f.r2 for f in fits], 0),
        cat([f.singular for f in fits], 0),
    )
    axis0 = {"day0", "est_bounds"}
    arrays = {
        k: ([x for p in parts for x in p[k]] if isinstance(v, list)
            else cat([p[k] for p in parts], 0 if k in axis0 else 1))
        for k, v in parts[0].items()
    }
    excl = [e for e in excl if len(e)] or excl[:1]
    return fit, pd.concat(excl, ignore_index=True), arrays


# ------------------------------------------------------------------------------------ study
def event_study(
    returns: pd.DataFrame,
    events: Any = None,
    *,
    model: str = "market",
    market: pd.Series | str | None = None,
    factors: pd.DataFrame | None = None,
    estimation: Any = (-260, -11),
    event: Any = (-1, 5),
    car_windows: Sequence[Any] | None = None,
    min_estimation_obs: float = 30,
    missing: str = "exclude",
    garch: bool = False,
    tests: Sequence[str] | None = None,
    car_test_names: Sequence[str] | None = None,
    adjust: str | None = None,
    n_boot: int = 2000,
    seed: int | None = 0,
) -> EventStudyResult:
    """Run an event study on a cross-section of securities (see the module docstring).

    Parameters
    ----------
    returns, events, market, factors
        Inputs as described in the module docstring.
    model
        ``"mean"``, ``"market_adjusted"``, ``"market"`` or ``"factor"``
        (:mod:`tradeshock.engine.models`).
    estimation, event
        Windows, both ends inclusive: pairs of trading-day offsets from day 0 (default
        ``(-260, -11)`` and ``(-1, 5)``) or pairs of dates (or ``"A:B"`` strings, or
        :class:`~tradeshock.core.windows.Window`).
    car_windows
        CAR windows (pairs of day offsets, or of dates in date mode) inside the event window;
        default: the whole event window.
    min_estimation_obs
        Fewest usable estimation rows a security needs: an int, or a float in (0, 1] read as a
        fraction of the estimation window's length; never fewer than the number of parameters + 1.
    missing
        ``"exclude"`` (default): a security lacking any event-window observation is excluded.
        ``"keep"``: it stays, its missing days are left out of AR/AAR (``n`` shows the count), and
        its CAR/BHAR cover its observed days (``n_days``).
    garch
        Also standardize ARs by GARCH(1,1) conditional-sd forecasts (``sar`` and ``garch_sd``
        columns in ``abnormal_returns``; ``garch_*`` columns in ``estimates``). Optional, uses
        ``arch`` and loops over securities.
    tests, car_test_names, adjust, n_boot, seed
        Passed to :mod:`tradeshock.engine.inference` (which daily / CAR tests, the
        multiple-testing adjustment ``"holm"`` / ``"fdr_bh"`` applied per test across days or
        windows, bootstrap draws and seed). Tests run lazily, when ``result.tests`` /
        ``result.car_tests`` is read.
    """
    inp = _read_inputs(returns, market, factors, model, missing)
    est, ev = _read_windows(estimation, event)
    lay = _layout(inp, events, est, ev)
    car_days = _car_days(car_windows, lay)
    need_obs = _need_obs(min_estimation_obs, lay.est_rows.shape[0], inp.model.n_params)
    if garch or len(lay.ids) <= BLOCK_SIZE:
        g = _gather(lay, inp)
        reason, detail = _exclusions(lay, g, need_obs, missing)
        fit, keep, excluded = _estimate(lay, g, inp.model, reason, detail)
        arrays = _event_arrays(lay, g, inp.model, fit, keep)
        gscale = _garch_scale(lay, g, keep, arrays["ar_est"]) if garch else None
    else:
        fit, excluded, arrays = _in_blocks(lay, inp, need_obs, missing)
        gscale = None
    return EventStudyResult(
        **arrays,
        model=model,
        fit=fit,
        days=lay.days,
        car_windows=car_days,
        excluded=excluded,
        garch=gscale,
        settings={
            "mode": lay.mode,
            "estimation": lay.est_label,
            "event": lay.ev_label,
            "estimation_rows": lay.est_rows.shape[0],
            "event_rows": lay.ev_rows.shape[0],
            "min_estimation_obs": need_obs,
            "missing": missing,
            "market": inp.market_name,
            "factors": inp.factor_names,
            "n_requested": len(lay.ids),
            "tests": None if tests is None else tuple(tests),
            "car_test_names": None if car_test_names is None else tuple(car_test_names),
            "adjust": adjust,
            "n_boot": n_boot,
            "seed": seed,
        },
    )
