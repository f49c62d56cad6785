"""The event-study engine: windows, normal returns, abnormal returns, CAR/BHAR, AAR/CAAR, exclusions

One call, :func:`event_study`, runs a whole study and returns an :class:`EventStudyResult` whose
read-only properties are tidy frames (``abnormal_returns``, ``car``, ``aar``, ``caar``,
``estimates``, ``excluded``, ``tests``, ``car_tests``) and whose ``summary()`` prints a text table.

Inputs
------
``returns``
    Wide frame: a ``DatetimeIndex`` of sessions (tz-naive dates) × one column per security, **simple
    returns as fractions** (0.01 = 1 %), NaN where a security has no observation. The engine takes
    *returns*, not prices: total returns computed from **adjusted** close (dividends and splits
    folded in) are what belongs here; the market layer (``tradeshock.market``) builds them from
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

Windows must not overlap and the estimation window must precede the event window
(:class:`StudyError` otherwise). CAR windows (several in one call, e.g. ``[(0, 0), (0, 3),
(-1, 5)]``, or date pairs in date mode) must lie inside the event window.

Exclusions
----------
A security is excluded, with one row in ``result.excluded`` (``security, reason, detail``), when
``no_data_day0`` (no return on day 0), ``missing_event_data`` (an event-window row without a
return, market or factor value, including a window that runs past the data; with
``missing="keep"`` only a window with no observation at all), ``too_few_estimation_obs`` (fewer
than ``min_estimation_obs`` usable estimation rows; an int, or a fraction of the window length,
never below ``p + 1`` for ``p`` parameters), or ``singular_design`` (collinear regressors, e.g. a
constant market return). Excluded securities appear in no other frame, and nothing is silently NaN.

Outputs
-------
``AR_it = R_it - E[R_it]`` with the model of :mod:`tradeshock.models`. ``CAR_i(a, b) = sum of
AR_it`` over days a..b. ``BHAR_i(a, b) = prod(1 + R_it) - prod(1 + E[R_it])`` (Barber and Lyon
1997, J. Fin. Econ. 43, eq. 1) with the model's normal return ``E[R_it]`` as the benchmark: the
constant mean for ``mean``, the market return for ``market_adjusted``, ``alpha + beta R_mt`` for
``market``, the factor fit for ``factor`` (not a size/book-to-market reference portfolio).
``AAR_t`` is the mean AR across securities on day t (``n`` securities observed), ``CAAR(a, b)``
the mean CAR. Test statistics come from :mod:`tradeshock.inference` through :class:`EventData`.

Performance: all securities are handled at once by array algebra (gathers with fancy indexing,
masked cross-products); the only Python loops run over windows and days, never securities, except
the optional GARCH fits.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from tradeshock.errors import StudyError
from tradeshock.engine.models import MODELS, ModelFit, garch_forecast_sd, get_model

__all__ = ["EXCLUSION_REASONS", "EventStudyResult", "event_study", "parse_window"]

#: Reasons a security can be excluded (the ``reason`` column of ``result.excluded``).
EXCLUSION_REASONS: tuple[str, ...] = (
    "no_data_day0",
    "missing_event_data",
    "too_few_estimation_obs",
    "singular_design",
)

_DateLike = str | pd.Timestamp | _dt.date | np.datetime64


# --------------------------------------------------------------------------------------- windows
def _is_datelike(x: Any) -> bool:
    if isinstance(x, (bool, np.bool_)):
        return False
    if isinstance(x, (int, np.integer)):
        return False
    if isinstance(x, str):
        s = x.strip()
        return not s.lstrip("+-").isdigit()
    return isinstance(x, (pd.Timestamp, _dt.date, np.datetime64))


def _to_date(x: Any, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(x)
    except (ValueError, TypeError) as exc:
        raise StudyError(f"{what}: cannot read {x!r} as a date ({exc}); use YYYY-MM-DD") from None
    if ts is pd.NaT or pd.isna(ts):
        raise StudyError(f"{what}: {x!r} is not a date; use YYYY-MM-DD")
    if ts.tz is not None:
        raise StudyError(
            f"{what}: {x!r} is tz-aware; pass the session date (tz-naive), e.g. from "
            "tradeshock.events alignment"
        )
    return ts.normalize()


def parse_window(window: Any, what: str = "window") -> tuple[str, tuple[Any, Any]]:
    """Read a window as ``("days", (a, b))`` or ``("dates", (start, end))``; both ends inclusive.

    Accepts a pair of ints (trading days relative to day 0), a pair of date-likes, or a string
    ``"A:B"`` of either kind (``"-250:-11"``, ``"2023-01-02:2023-09-08"``).
    """
    if isinstance(window, str):
        parts = window.split(":")
        if len(parts) != 2 or not all(p.strip() for p in parts):
            raise StudyError(
                f"{what}: {window!r} is not START:END; write e.g. -250:-11 or 2023-01-02:2023-09-08"
            )
        window = (parts[0].strip(), parts[1].strip())
    if not isinstance(window, (tuple, list)) or len(window) != 2:
        raise StudyError(f"{what}: expected a pair (start, end), got {window!r}")
    a, b = window
    if _is_datelike(a) and _is_datelike(b):
        start, end = _to_date(a, what), _to_date(b, what)
        if start > end:
            raise StudyError(f"{what}: start {start.date()} is after end {end.date()}")
        return "dates", (start, end)
    if _is_datelike(a) or _is_datelike(b):
        raise StudyError(f"{what}: mixes a date and a day offset in {window!r}; use two of a kind")
    try:
        ia, ib = int(a), int(b)
    except (TypeError, ValueError):
        raise StudyError(f"{what}: {window!r} is neither two day offsets nor two dates") from None
    if ia != float(a) or ib != float(b):
        raise StudyError(f"{what}: day offsets must be whole numbers, got {window!r}")
    if ia > ib:
        raise StudyError(f"{what}: start {ia} is after end {ib}")
    return "days", (ia, ib)


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
    n_finite = np.count_nonzero(np.isfinite(v))
    if not n_finite:
        return
    below = v < -1.0  # NaN compares False
    if below.any():
        r, c = np.argwhere(below)[0]
        raise StudyError(
            f"{what}: {names[c]!r} on {index[r].date()} is {v[r, c]:.6g}, below -1, impossible "
            "for a simple return; pass simple returns as fractions (0.01 = 1 %), not percent"
        )
    share = np.count_nonzero(np.abs(v) > 0.5) / n_finite
    if share > 0.2:
        raise StudyError(
            f"{what}: {share:.0%} of the values exceed 0.5 in absolute value; these look like "
            "prices or percent. Pass simple returns as fractions, e.g. adj_close.pct_change()"
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
        for key, val in events.items():
            if isinstance(val, (tuple, list)) and len(val) == 2:
                sec, d = val
            else:
                sec, d = key, val
            rows.append(
                (str(key), need(sec, f"event {key!r}"), _to_date(d, f"events[{key!r}]"), key)
            )
    else:
        raise StudyError(
            "events must be a date, a mapping id -> date or id -> (security, date), or a frame "
            f"with columns security, day0; got {type(events).__name__}"
        )
    if not rows:
        raise StudyError("events is empty: give at least one security and its day 0")
    seen_ids: set[str] = set()
    seen_pairs: dict[tuple[str, pd.Timestamp], str] = {}
    for ident, sec, d, _ in rows:
        if (sec, d) in seen_pairs:
            raise StudyError(
                f"events: security {sec!r} with day 0 {d.date()} is listed twice "
                f"(ids {seen_pairs[(sec, d)]!r} and {ident!r}); it would be counted twice"
            )
        seen_pairs[(sec, d)] = ident
        if ident in seen_ids:
            raise StudyError(
                f"events: id {ident!r} is used twice; give each event of a security its own id"
            )
        seen_ids.add(ident)
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


# ----------------------------------------------------------------------------------------- study
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
        ``"mean"``, ``"market_adjusted"``, ``"market"`` or ``"factor"`` (:mod:`tradeshock.models`).
    estimation, event
        Windows, both ends inclusive: pairs of trading-day offsets from day 0 (default
        ``(-260, -11)`` and ``(-1, 5)``) or pairs of dates (or ``"A:B"`` strings).
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
        Passed to :mod:`tradeshock.inference` (which daily / CAR tests, the multiple-testing
        adjustment ``"holm"`` / ``"fdr_bh"`` applied per test across days or windows, bootstrap
        draws and seed). Tests run lazily, when ``result.tests`` / ``result.car_tests`` is read.
    """
    returns = _check_returns_frame(returns)
    if model not in MODELS:
        raise StudyError(
            f"unknown normal-return model {model!r}; choose one of {', '.join(MODELS)}"
        )
    if missing not in ("exclude", "keep"):
        raise StudyError(f"missing must be 'exclude' or 'keep', not {missing!r}")

    # ---- market and factors aligned on the returns' dates
    market_name = None
    if isinstance(market, str):
        if market not in returns.columns:
            raise StudyError(
                f"market column {market!r} is not in returns (columns: "
                f"{', '.join(map(str, returns.columns[:10]))}); name the market's column"
            )
        market_name = market
        mser = returns[market]
        returns = returns.drop(columns=[market])
    elif market is not None:
        if not isinstance(market, pd.Series):
            raise StudyError(
                "market must be a pandas Series of returns or a column name, not "
                f"{type(market).__name__}"
            )
        mser = market
        if not isinstance(mser.index, pd.DatetimeIndex):
            raise StudyError("market: the index must hold dates (a DatetimeIndex)")
        if mser.index.has_duplicates:
            raise StudyError("market: a date appears more than once; keep one row per session")
        market_name = str(market.name) if market.name is not None else "market"
        mser = mser.reindex(returns.index)
    else:
        mser = None
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

    # ---- windows
    est_kind, est_win = parse_window(estimation, "estimation window")
    ev_kind, ev_win = parse_window(event, "event window")
    if est_kind != ev_kind:
        raise StudyError(
            "estimation and event windows must both be day offsets or both be dates; "
            f"got {estimation!r} and {event!r}"
        )
    mode = est_kind
    if est_win[1] >= ev_win[0] and est_win[0] <= ev_win[1]:
        fmt = (
            (lambda w: f"{w[0]}..{w[1]}")
            if mode == "days"
            else (lambda w: f"{w[0].date()}..{w[1].date()}")
        )
        raise StudyError(
            f"estimation window {fmt(est_win)} overlaps event window {fmt(ev_win)}; end the "
            "estimation window before the event window starts (e.g. -260..-11 with event -1..5)"
        )
    if est_win[0] > ev_win[1]:
        raise StudyError("the estimation window must come before the event window")

    ids, cols, day0s = _parse_events(events, list(returns.columns))
    if mode == "days" and day0s[0] is None:
        raise StudyError(
            "windows in trading days need events (day 0): a date or a mapping security -> date"
        )
    index = returns.index
    T = len(index)
    if T == 0:
        raise StudyError("returns has no rows")
    used_cols = list(dict.fromkeys(cols))
    col_pos = {c: i for i, c in enumerate(used_cols)}
    if len(used_cols) == returns.shape[1] and (returns.columns == pd.Index(used_cols)).all():
        R = returns.to_numpy(dtype=float)
    else:
        R = returns[used_cols].to_numpy(dtype=float)
    _check_values(R, used_cols, index, "returns")
    mvals = None
    if mser is not None:
        if not pd.api.types.is_numeric_dtype(mser):
            raise StudyError(f"market {market_name!r} is not numeric")
        mvals = mser.to_numpy(dtype=float)
        _check_values(mvals[:, None], [market_name], index, "market")
    cidx = np.array([col_pos[c] for c in cols])
    N = len(ids)
    valid = np.isfinite(R)  # (T, C)
    own_pos = np.cumsum(valid, axis=0) - 1  # own-session position of each row (valid rows)

    # ---- rows of each window, per security: (L, N) row numbers into returns, -1 = none
    if mode == "days":
        day0_row = np.empty(N, dtype=np.int64)
        for d in set(day0s):
            if d not in index:
                raise StudyError(
                    f"day 0 {d.date()} is not a row of returns "
                    f"(data {index[0].date()}..{index[-1].date()}); "
                    "align the event to a session first (tradeshock events align)"
                )
        pos_of = {d: index.get_loc(d) for d in set(day0s)}
        day0_row[:] = [pos_of[d] for d in day0s]
        nvalid = valid.sum(axis=0)[cidx]
        if valid.all():  # no holes: own sessions are the rows themselves
            order = np.broadcast_to(np.arange(T)[:, None], valid.shape)
        else:
            order = np.argsort(~valid, axis=0, kind="stable")  # valid rows first, in date order
        has_day0 = valid[day0_row, cidx]
        p0 = own_pos[day0_row, cidx]

        def rows_for(a: int, b: int) -> np.ndarray:
            k = np.arange(a, b + 1)
            q = p0[None, :] + k[:, None]
            ok = (q >= 0) & (q < nvalid[None, :]) & has_day0[None, :]
            return np.where(ok, order[np.clip(q, 0, T - 1), cidx[None, :]], -1)

        est_rows = rows_for(*est_win)
        ev_rows = rows_for(*ev_win)
        days = np.arange(ev_win[0], ev_win[1] + 1)
        est_label = f"{est_win[0]}..{est_win[1]}"
        ev_label = f"{ev_win[0]}..{ev_win[1]}"
    else:
        span = f"the data ({index[0].date()}..{index[-1].date()})"
        if est_win[0] < index[0]:
            raise StudyError(
                f"estimation window {est_win[0].date()}..{est_win[1].date()} starts before {span}; "
                "start it on or after the first date, or load more history"
            )
        if ev_win[1] > index[-1]:
            raise StudyError(
                f"event window {ev_win[0].date()}..{ev_win[1].date()} ends after {span}; "
                "end it on or before the last date, or load more data"
            )
        e0, e1 = index.searchsorted(est_win[0]), index.searchsorted(est_win[1], side="right") - 1
        v0, v1 = index.searchsorted(ev_win[0]), index.searchsorted(ev_win[1], side="right") - 1
        if e1 < e0:
            raise StudyError(
                f"estimation window {est_win[0].date()}..{est_win[1].date()} holds no row of "
                "returns"
            )
        if v1 < v0:
            raise StudyError(
                f"event window {ev_win[0].date()}..{ev_win[1].date()} holds no row of returns"
            )
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
                raise StudyError(
                    f"day 0 {d0.date()} must be a row of returns inside the event window"
                )
            r0 = index.get_loc(d0)
        day0_row = np.full(N, r0)
        has_day0 = valid[r0, cidx]
        est_rows = np.broadcast_to(np.arange(e0, e1 + 1)[:, None], (e1 - e0 + 1, N))
        ev_rows = np.broadcast_to(np.arange(v0, v1 + 1)[:, None], (v1 - v0 + 1, N))
        days = np.arange(v0 - r0, v1 - r0 + 1)
        est_label = f"{index[e0].date()}..{index[e1].date()}"
        ev_label = f"{index[v0].date()}..{index[v1].date()}"
    L1, L2 = est_rows.shape[0], ev_rows.shape[0]

    # ---- CAR windows in days
    if car_windows is None:
        car_days = [(int(days[0]), int(days[-1]))]
    else:
        if isinstance(car_windows, (str, tuple)):
            car_windows = [car_windows]
        car_days = []
        for w in car_windows:
            kind, (a, b) = parse_window(w, f"CAR window {w!r}")
            if kind == "dates":
                if mode != "dates":
                    raise StudyError(
                        f"CAR window {w!r}: use day offsets when the windows are in days"
                    )
                ia, ib = index.searchsorted(a), index.searchsorted(b, side="right") - 1
                a, b = int(ia - day0_row[0]), int(ib - day0_row[0])
            if a < days[0] or b > days[-1] or a > b:
                raise StudyError(
                    f"CAR window {w!r} (days {a}..{b}) is not inside the event window "
                    f"(days {days[0]}..{days[-1]}); choose a window within it"
                )
            if (a, b) not in car_days:
                car_days.append((int(a), int(b)))

    # ---- gather
    def gather(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        ok = rows >= 0
        full = bool(ok.all())
        rr = rows if full else np.where(ok, rows, 0)
        y = R[rr, cidx[None, :]]
        m = mvals[rr] if mvals is not None else None
        f = fvals[rr] if fvals is not None else None
        if not full:
            y = np.where(ok, y, np.nan)
            m = np.where(ok, m, np.nan) if m is not None else None
            f = np.where(ok[:, :, None], f, np.nan) if f is not None else None
        return y, m, f

    y_est, m_est, f_est = gather(est_rows)
    y_ev, m_ev, f_ev = gather(ev_rows)
    d_ev = np.where(ev_rows >= 0, index.values[np.maximum(ev_rows, 0)], np.datetime64("NaT"))
    ones_est = np.where(np.isfinite(y_est), 1.0, np.nan)
    ones_ev = np.where(np.isfinite(y_ev), 1.0, np.nan)
    x_est = nrm.regressors(ones_est, m_est, f_est)
    x_ev = nrm.regressors(ones_ev, m_ev, f_ev)

    # usable rows: return and every regressor observed
    use_est = np.isfinite(y_est)
    use_ev = np.isfinite(y_ev)
    if x_est is not None:
        use_est &= np.isfinite(x_est).all(axis=2)
        use_ev &= np.isfinite(x_ev).all(axis=2)
    elif m_est is not None:  # market_adjusted
        use_est &= np.isfinite(m_est)
        use_ev &= np.isfinite(m_ev)
    n_est = use_est.sum(axis=0)

    # ---- exclusions, in order of precedence
    p = nrm.n_params
    if isinstance(min_estimation_obs, float) and 0 < min_estimation_obs <= 1:
        need_obs = math.ceil(min_estimation_obs * L1)
    elif float(min_estimation_obs) == int(min_estimation_obs) and min_estimation_obs >= 1:
        need_obs = int(min_estimation_obs)
    else:
        raise StudyError(
            "min_estimation_obs must be a whole number >= 1 or a fraction in (0, 1], got "
            f"{min_estimation_obs!r}"
        )
    need_obs = max(need_obs, p + 1)
    reason = np.full(N, "", dtype=object)
    detail = np.full(N, "", dtype=object)
    dates_all = index

    for i in np.flatnonzero(~has_day0):
        reason[i] = "no_data_day0"
        detail[i] = f"no return on day 0 ({dates_all[day0_row[i]].date()}) for {cols[i]!r}"
    miss_ev = ~use_ev
    bad_ev = miss_ev.any(axis=0) if missing == "exclude" else miss_ev.all(axis=0)
    for i in np.flatnonzero(bad_ev & (reason == "")):
        lost = np.flatnonzero(miss_ev[:, i])
        parts = []
        for k in lost[:5]:
            if ev_rows[k, i] < 0:
                parts.append(f"day {days[k]:+d} beyond the data")
            else:
                what = "return" if not np.isfinite(y_ev[k, i]) else "market/factor value"
                parts.append(f"day {days[k]:+d} ({dates_all[ev_rows[k, i]].date()}): no {what}")
        more = f" and {len(lost) - 5} more" if len(lost) > 5 else ""
        reason[i] = "missing_event_data"
        detail[i] = (
            f"{len(lost)} of {L2} event-window rows missing: "
            + "; ".join(parts)
            + more
            + (" (missing='keep' keeps partial windows)" if missing == "exclude" else "")
        )
    for i in np.flatnonzero((n_est < need_obs) & (reason == "")):
        reason[i] = "too_few_estimation_obs"
        detail[i] = (
            f"{int(n_est[i])} usable rows in the estimation window {est_label}, "
            f"at least {need_obs} needed"
        )

    cand = reason == ""
    csel = slice(None) if cand.all() else cand  # a slice avoids copies when nothing is excluded
    fit_all = nrm.fit(
        y_est[:, csel],
        None if x_est is None else x_est[:, csel],
        None if m_est is None else m_est[:, csel],
    )
    sing = np.zeros(N, dtype=bool)
    sing[np.flatnonzero(cand)[fit_all.singular]] = True
    for i in np.flatnonzero(sing):
        reason[i] = "singular_design"
        detail[i] = (
            f"the regressors of model {model!r} are collinear in the estimation window {est_label} "
            "(e.g. a constant market return); coefficients cannot be estimated"
        )
    keep = reason == ""
    sub = slice(None) if not fit_all.singular.any() else ~fit_all.singular
    fit = ModelFit(
        fit_all.model,
        fit_all.param_names,
        fit_all.params[sub],
        fit_all.resid[:, sub],
        fit_all.n_obs[sub],
        fit_all.n_params,
        fit_all.resid_var[sub],
        fit_all.r2[sub],
        fit_all.singular[sub],
    )
    excluded = pd.DataFrame(
        {
            "security": [ids[i] for i in np.flatnonzero(~keep)],
            "reason": list(reason[~keep]),
            "detail": list(detail[~keep]),
        },
        columns=["security", "reason", "detail"],
    )

    # ---- event window on the kept securities
    kx = np.flatnonzero(keep)
    ks = slice(None) if keep.all() else kx  # a slice avoids copies when nothing is excluded
    y_ev_k = y_ev[:, ks]
    xe = None if x_ev is None else x_ev[:, ks]
    me = None if m_ev is None else m_ev[:, ks]
    normal = nrm.expected(fit, xe, me)
    use_ev_k = use_ev[:, ks]
    ue = use_est[:, ks]
    ev_full, est_full = bool(use_ev_k.all()), bool(ue.all())
    ar_ev = y_ev_k - normal if ev_full else np.where(use_ev_k, y_ev_k - normal, np.nan)
    ar_est = fit.resid if est_full else np.where(ue, fit.resid, np.nan)
    x_est_k = None
    x_ev_k = None
    if x_est is not None:
        x_est_k = x_est[:, ks] if est_full else np.where(ue[:, :, None], x_est[:, ks], np.nan)
        x_ev_k = xe if ev_full else np.where(use_ev_k[:, :, None], xe, np.nan)
    d_ev_k = d_ev[:, ks]
    # first and last estimation rows actually used, per security
    has_est = ue.any(axis=0)
    er = est_rows[:, ks]
    r_first = np.take_along_axis(er, np.argmax(ue, axis=0)[None, :], axis=0)[0]
    r_last = np.take_along_axis(er, (L1 - 1 - np.argmax(ue[::-1], axis=0))[None, :], axis=0)[0]
    nat = np.datetime64("NaT", "ns")
    est_bounds = np.stack(
        [
            np.where(has_est, index.values[np.maximum(r_first, 0)].astype("datetime64[ns]"), nat),
            np.where(has_est, index.values[np.maximum(r_last, 0)].astype("datetime64[ns]"), nat),
        ],
        axis=1,
    )

    garch_out = None
    if garch and kx.size:
        # horizon = own sessions from the last usable estimation row to each event row
        cpos = own_pos[:, cidx[kx]]
        last_est = np.where(use_est[:, kx], est_rows[:, kx], -1).max(axis=0)
        last_pos = cpos[np.maximum(last_est, 0), np.arange(kx.size)]
        evr = ev_rows[:, kx]
        h = np.where(
            evr >= 0,
            cpos[np.maximum(evr, 0), np.arange(kx.size)[None, :]] - last_pos[None, :],
            np.nan,
        )
        h = np.where(use_ev_k, h, np.nan).astype(float)
        garch_out = garch_forecast_sd(ar_est, h)

    return EventStudyResult(
        ids=[ids[i] for i in kx],
        columns=[cols[i] for i in kx],
        day0=index.values[day0_row[kx]].astype("datetime64[ns]"),
        model=model,
        fit=fit,
        days=days,
        ev_dates=d_ev_k,
        est_bounds=est_bounds,
        ret_event=y_ev_k if ev_full else np.where(use_ev_k, y_ev_k, np.nan),
        normal_event=normal if ev_full else np.where(use_ev_k, normal, np.nan),
        ar_event=ar_ev,
        ar_est=ar_est,
        x_est=x_est_k,
        x_event=x_ev_k,
        car_windows=car_days,
        excluded=excluded,
        garch=garch_out,
        settings={
            "mode": mode,
            "estimation": est_label,
            "event": ev_label,
            "estimation_rows": L1,
            "event_rows": L2,
            "min_estimation_obs": need_obs,
            "missing": missing,
            "market": market_name,
            "factors": factor_names,
            "n_requested": N,
            "tests": None if tests is None else tuple(tests),
            "car_test_names": None if car_test_names is None else tuple(car_test_names),
            "adjust": adjust,
            "n_boot": n_boot,
            "seed": seed,
        },
    )


# ---------------------------------------------------------------------------------------- result
def _inference():
    try:
        from tradeshock.engine import inference
    except ImportError as exc:  # pragma: no cover - only while the battery is being written
        raise StudyError(
            f"the test battery (tradeshock.inference) is not available: {exc}"
        ) from exc
    return inference


class EventStudyResult:
    """Results of :func:`event_study`: tidy frames behind read-only properties, plus ``summary()``.

    Frames are built on first access and returned as copies, so callers cannot alter the result.
    ``security`` in every frame is the event id (the column name, or e.g. ``"SPY@E1"``).
    """

    _frozen = False

    def __init__(
        self,
        *,
        ids: list[str],
        columns: list[str],
        day0: np.ndarray,
        model: str,
        fit: ModelFit,
        days: np.ndarray,
        ev_dates: np.ndarray,
        est_bounds: np.ndarray,
        ret_event: np.ndarray,
        normal_event: np.ndarray,
        ar_event: np.ndarray,
        ar_est: np.ndarray,
        x_est: np.ndarray | None,
        x_event: np.ndarray | None,
        car_windows: list[tuple[int, int]],
        excluded: pd.DataFrame,
        garch: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
        settings: dict[str, Any],
    ) -> None:
        self._ids = list(ids)
        self._columns = list(columns)
        self._day0 = day0
        self._model = model
        self._fit = fit
        self._days = np.asarray(days, dtype=np.int64)
        self._ev_dates = ev_dates
        self._est_bounds = est_bounds
        self._ret = ret_event
        self._normal = normal_event
        self._ar = ar_event
        self._ar_est = ar_est
        self._x_est = x_est
        self._x_event = x_event
        self._car_windows = [tuple(map(int, w)) for w in car_windows]
        self._excluded = excluded
        self._garch = garch
        self._settings = dict(settings)
        for a in (
            ev_dates,
            est_bounds,
            ret_event,
            normal_event,
            ar_event,
            ar_est,
            x_est,
            x_event,
            day0,
        ):
            if a is not None:
                a.flags.writeable = False
        self._frozen = True

    def __setattr__(self, name: str, value: Any) -> None:
        if self._frozen:
            raise AttributeError(f"EventStudyResult is read-only (cannot set {name!r})")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return (
            f"<EventStudyResult model={self._model} securities={self.n_securities} "
            f"excluded={len(self._excluded)} event={self._settings['event']} "
            f"car_windows={self._car_windows}>"
        )

    # -- scalars and settings
    @property
    def model(self) -> str:
        """Name of the normal-return model."""
        return self._model

    @property
    def n_securities(self) -> int:
        """Number of securities (event ids) kept in the study."""
        return len(self._ids)

    @property
    def securities(self) -> list[str]:
        """Ids of the kept securities, in input order."""
        return list(self._ids)

    @property
    def days(self) -> np.ndarray:
        """Event-time offsets of the event-window rows."""
        return self._days.copy()

    @property
    def car_windows(self) -> list[tuple[int, int]]:
        """CAR windows (day offsets, inclusive)."""
        return list(self._car_windows)

    @property
    def settings(self) -> dict[str, Any]:
        """Windows and options the study ran with."""
        return dict(self._settings)

    @cached_property
    def _shared_dates(self) -> np.ndarray | None:
        """Event-window dates when every security has the same date on each row, else None."""
        d = self._ev_dates.astype("datetime64[ns]")
        if d.shape[1] == 0:
            return None
        nat = np.isnat(d)
        if nat.all(axis=1).any():
            return None
        vals = d.view("i8")
        ref = np.where(nat, np.iinfo(np.int64).max, vals).min(axis=1)
        if not (nat | (vals == ref[:, None])).all():
            return None
        return ref.view("datetime64[ns]")

    # -- inference interface
    @cached_property
    def data(self):
        """The :class:`tradeshock.inference.EventData` handed to the test battery."""
        inf = _inference()
        n_params = np.full(self.n_securities, self._fit.n_params, dtype=np.int64)
        return inf.EventData(
            ar_est=self._ar_est,
            ar_event=self._ar,
            days=self._days.copy(),
            n_params=n_params,
            x_est=self._x_est,
            x_event=self._x_event,
            dates=self._shared_dates,
        )

    # -- tidy frames
    def _frame(self, name: str) -> pd.DataFrame:
        return getattr(self, name).copy()

    @cached_property
    def _abnormal_returns(self) -> pd.DataFrame:
        L2, N = self._ar.shape
        ok = np.isfinite(self._ar).T.ravel()
        out = {
            "security": np.repeat(np.array(self._ids, dtype=object), L2)[ok],
            "date": pd.to_datetime(self._ev_dates.T.ravel()[ok]),
            "day": np.tile(self._days, N)[ok],
            "ar": self._ar.T.ravel()[ok],
            "ret": self._ret.T.ravel()[ok],
            "expected": self._normal.T.ravel()[ok],
        }
        if self._garch is not None:
            sd = self._garch[0]
            out["garch_sd"] = sd.T.ravel()[ok]
            out["sar"] = (self._ar / sd).T.ravel()[ok]
        return pd.DataFrame(out)

    @property
    def abnormal_returns(self) -> pd.DataFrame:
        """AR per security and event day: ``security, date, day, ar, ret, expected``.

        ``ret`` is the security's return, ``expected`` the model's normal return (``ar = ret -
        expected``); with ``garch=True`` also ``garch_sd`` and ``sar = ar / garch_sd``.
        """
        return self._frame("_abnormal_returns")

    @property
    def ar_matrix(self) -> pd.DataFrame:
        """ARs wide: event day (rows) × security (columns); NaN only where ``missing='keep'``."""
        return pd.DataFrame(
            self._ar, index=pd.Index(self._days, name="day"), columns=self._ids
        ).copy()

    def _window_sums(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        W = len(self._car_windows)
        N = self.n_securities
        car = np.full((W, N), np.nan)
        bhar = np.full((W, N), np.nan)
        nd = np.zeros((W, N), dtype=np.int64)
        ok = np.isfinite(self._ar)
        ar0 = np.where(ok, self._ar, 0.0)
        g_r = np.where(ok, 1.0 + self._ret, 1.0)
        g_n = np.where(ok, 1.0 + self._normal, 1.0)
        for w, (a, b) in enumerate(self._car_windows):
            s = slice(int(a - self._days[0]), int(b - self._days[0]) + 1)
            nd[w] = ok[s].sum(axis=0)
            has = nd[w] > 0
            car[w] = np.where(has, ar0[s].sum(axis=0), np.nan)
            bhar[w] = np.where(has, g_r[s].prod(axis=0) - g_n[s].prod(axis=0), np.nan)
        return car, bhar, nd

    @cached_property
    def _car(self) -> pd.DataFrame:
        car, bhar, nd = self._window_sums()
        W, N = car.shape
        wa = np.array([w[0] for w in self._car_windows])
        wb = np.array([w[1] for w in self._car_windows])
        df = pd.DataFrame(
            {
                "security": np.tile(np.array(self._ids, dtype=object), W),
                "window_start": np.repeat(wa, N),
                "window_end": np.repeat(wb, N),
                "car": car.ravel(),
                "bhar": bhar.ravel(),
                "n_days": nd.ravel(),
            }
        )
        return df[df["n_days"] > 0].reset_index(drop=True)

    @property
    def car(self) -> pd.DataFrame:
        """CAR and BHAR per security and window.

        Columns ``security, window_start, window_end, car, bhar, n_days``.

        ``bhar = prod(1 + R) - prod(1 + E[R])`` over the window with the model's normal return as
        benchmark (Barber-Lyon 1997); ``n_days`` is the number of observed days in the window.
        """
        return self._frame("_car")

    @cached_property
    def _aar(self) -> pd.DataFrame:
        ok = np.isfinite(self._ar)
        n = ok.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            aar = np.where(
                n > 0, np.where(ok, self._ar, 0.0).sum(axis=1) / np.maximum(n, 1), np.nan
            )
        sd = self._shared_dates
        return pd.DataFrame(
            {
                "day": self._days,
                "date": pd.to_datetime(sd) if sd is not None else pd.NaT,
                "aar": aar,
                "n": n,
            }
        )

    @property
    def aar(self) -> pd.DataFrame:
        """Average abnormal return per event day: ``day, date, aar, n``.

        ``date`` is the common session date when every security shares it (one day 0 and the same
        sessions), else NaT.
        """
        return self._frame("_aar")

    @cached_property
    def _caar(self) -> pd.DataFrame:
        car, bhar, nd = self._window_sums()
        rows = []
        for w, (a, b) in enumerate(self._car_windows):
            has = nd[w] > 0
            rows.append(
                {
                    "window_start": a,
                    "window_end": b,
                    "caar": car[w][has].mean() if has.any() else np.nan,
                    "mean_bhar": bhar[w][has].mean() if has.any() else np.nan,
                    "n": int(has.sum()),
                }
            )
        df = pd.DataFrame(rows, columns=["window_start", "window_end", "caar", "mean_bhar", "n"])
        return self._with_window_dates(df)

    def _with_window_dates(self, df: pd.DataFrame) -> pd.DataFrame:
        sd = self._shared_dates
        if sd is not None and len(df):
            i0 = (df["window_start"].to_numpy() - self._days[0]).astype(int)
            i1 = (df["window_end"].to_numpy() - self._days[0]).astype(int)
            df = df.copy()
            df["date_start"] = pd.to_datetime(sd[i0])
            df["date_end"] = pd.to_datetime(sd[i1])
        return df

    @property
    def caar(self) -> pd.DataFrame:
        """Cumulative average AR per window: ``window_start, window_end, caar, mean_bhar, n``.

        ``caar`` is the mean CAR across the ``n`` securities (= the sum of the AARs when no day is
        missing); ``date_start``/``date_end`` are added when all securities share the dates.
        """
        return self._frame("_caar")

    @cached_property
    def _estimates(self) -> pd.DataFrame:
        f = self._fit
        first, last = self._est_bounds[:, 0], self._est_bounds[:, 1]
        out: dict[str, Any] = {
            "security": np.array(self._ids, dtype=object),
            "column": np.array(self._columns, dtype=object),
            "model": self._model,
            "day0": pd.to_datetime(self._day0),
        }
        for j, name in enumerate(f.param_names):
            out[name] = f.params[:, j]
        out.update(
            {
                "resid_sd": f.resid_sd,
                "r2": f.r2,
                "n_obs": f.n_obs.astype(np.int64),
                "est_start": pd.to_datetime(first),
                "est_end": pd.to_datetime(last),
            }
        )
        if self._garch is not None:
            _, gp, conv = self._garch
            out["garch_omega"] = gp[:, 0]
            out["garch_alpha"] = gp[:, 1]
            out["garch_beta"] = gp[:, 2]
            out["garch_converged"] = conv
        return pd.DataFrame(out)

    @property
    def estimates(self) -> pd.DataFrame:
        """Estimation statistics per security.

        ``security, column, model, day0, alpha, beta… (or beta_<factor>), resid_sd, r2, n_obs,
        est_start, est_end``: ``resid_sd = sqrt(SSR / (n_obs - p))``, the OLS standard error of
        the regression (the battery standardizes with its own estimator, documented in
        :mod:`tradeshock.inference`: the residuals' sample sd, as estudy2);
        ``est_start``/``est_end`` are the first and last estimation rows actually used. For
        ``market_adjusted`` alpha = 0 and beta = 1 are fixed by the model, not estimated.
        """
        return self._frame("_estimates")

    @property
    def excluded(self) -> pd.DataFrame:
        """Securities left out, one row each: ``security, reason, detail`` (reasons:
        :data:`EXCLUSION_REASONS`)."""
        return self._excluded.copy()

    # -- tests
    @cached_property
    def _tests(self) -> pd.DataFrame:
        inf = _inference()
        st = self._settings
        tab = inf.daily_tests(self.data, st["tests"])
        if "date" not in tab.columns:
            dmap = self._aar.set_index("day")["date"]
            tab.insert(1, "date", tab["day"].map(dmap).to_numpy())
        if st["adjust"]:
            tab = inf.adjust_pvalues(tab, st["adjust"], by=["test"])
        return tab

    @property
    def tests(self) -> pd.DataFrame:
        """Daily tests of the AAR (:func:`tradeshock.inference.daily_tests`) with a ``date`` column.

        ``day, date, test, statistic, p_value, n`` (+ ``p_adjusted`` with ``adjust=``, per test
        across days).
        """
        return self._frame("_tests")

    @cached_property
    def _car_tests(self) -> pd.DataFrame:
        inf = _inference()
        st = self._settings
        tab = inf.car_tests(
            self.data, self._car_windows, st["car_test_names"], n_boot=st["n_boot"], seed=st["seed"]
        )
        if st["adjust"]:
            tab = inf.adjust_pvalues(tab, st["adjust"], by=["test"])
        return self._with_window_dates(tab)

    @property
    def car_tests(self) -> pd.DataFrame:
        """CAAR tests per window (:func:`tradeshock.inference.car_tests`), with window dates when
        shared (+ ``p_adjusted`` with ``adjust=``, per test across windows)."""
        return self._frame("_car_tests")

    # -- text
    def summary(self, tests: bool = True) -> str:
        """A readable text table: setup, CAAR per window, AAR per day, p-values of key tests."""
        st = self._settings
        width = 78
        lines = ["Event study results".center(width), "=" * width]

        def two(a: str, b: str, c: str, d: str) -> str:
            return f"{a:<20}{b:<19}{c:<20}{d:<19}"

        lines.append(
            two("Model:", self._model, "Securities:", f"{self.n_securities} of {st['n_requested']}")
        )
        lines.append(f"{'Estimation window:':<20}{st['estimation']} ({st['estimation_rows']} rows)")
        lines.append(f"{'Event window:':<20}{st['event']} ({st['event_rows']} rows)")
        lines.append(
            two(
                "Min. est. obs:",
                str(st["min_estimation_obs"]),
                "Excluded:",
                str(len(self._excluded)),
            )
        )
        lines.append("Returns are simple returns (fractions); AR, CAAR and BHAR shown in percent.")
        lines.append("=" * width)
        tab_ok = tests
        daily = cart = None
        err = ""
        if tests:
            try:
                daily = self._tests
                cart = self._car_tests
            except Exception as exc:  # noqa: BLE001 - summary must render without the battery
                tab_ok = False
                err = f"(tests unavailable: {exc})"
        lines.append("CAAR by window")
        lines.append("-" * width)
        lines.append(f"{'window':<12}{'CAAR %':>10}{'mean BHAR %':>13}{'n':>6}")
        for _, r in self._caar.iterrows():
            w = f"{int(r.window_start):+d}..{int(r.window_end):+d}"
            lines.append(f"{w:<12}{100 * r.caar:>10.3f}{100 * r.mean_bhar:>13.3f}{int(r.n):>6}")
        if tab_ok and cart is not None and len(cart):
            lines.append("-" * width)
            lines.append(f"{'window':<12}{'CAAR test':<22}{'statistic':>12}{'p-value':>10}{'n':>6}")
            for _, r in cart.iterrows():
                w = f"{int(r.window_start):+d}..{int(r.window_end):+d}"
                lines.append(
                    f"{w:<12}{r.test:<22}{r.statistic:>12.4f}{r.p_value:>10.4f}{int(r.n):>6}"
                )
        lines.append("-" * width)
        key = ["t_test", "boehmer", "kolari_pynnonen", "rank"]
        present = [k for k in key if tab_ok and daily is not None and k in set(daily.test)]
        head = f"{'day':>4}  {'date':<11}{'AAR %':>9}{'n':>6}" + "".join(
            f"{'p ' + k[:11]:>15}" for k in present
        )
        lines.append("AAR by event day" + ("" if present else "  " + err))
        lines.append(head)
        pv = daily.pivot_table(index="day", columns="test", values="p_value") if present else None
        for _, r in self._aar.iterrows():
            ds = "" if pd.isna(r.date) else str(pd.Timestamp(r.date).date())
            row = f"{int(r.day):>4}  {ds:<11}{100 * r.aar:>9.3f}{int(r.n):>6}"
            for k in present:
                v = pv.at[r.day, k] if (pv is not None and r.day in pv.index) else np.nan
                row += f"{v:>15.4f}"
            lines.append(row)
        lines.append("=" * width)
        if len(self._excluded):
            lines.append(
                "Excluded: "
                + "; ".join(
                    f"{s} ({r})" for s, r in zip(self._excluded.security, self._excluded.reason)
                )
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary(tests=False)
