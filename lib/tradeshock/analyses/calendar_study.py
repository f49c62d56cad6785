"""The 2025 tariff calendar as one study: every event session × every market, pooled by kind.

Helpers for the calendar notebook (issue 18), on top of :mod:`tradeshock.analyses.sessions`
(event sessions and their directions) and :func:`tradeshock.engine.study.event_study`:

* :func:`load_calendar_inputs` loads the markets' returns and the cross-asset levels;
* :func:`market_table` runs **one** event study over every (market, session) observation and
  returns a :class:`MarketTable`: per session and market the raw day-0 return, the day-0 AR, the
  *reaction* (the AR summed over the session's reaction window: day 0, or the two sessions of an
  untimed event), the CAR over a short window, each with its per-security t test
  (:func:`tradeshock.engine.groups.security_car_t`); beside them the VIX change (points),
  the 10-year yield change (bp), the dollar and oil (simple returns); and, per session, the
  cross-sections of sector and country ETFs tested with BMP and Kolari-Pynnönen;
* :func:`write_table_csv` writes the tidy table atomically; :func:`heatmap_figure` draws it
  (sessions down, markets across) in the house style;
* :func:`pool_sessions` / :func:`pooled_study` average a market's reactions over the sessions of
  each direction, with tests that treat **sessions** as the units (cross-session t test and exact
  sign test); sessions of direction ``effective`` (measures taking effect on a date announced in
  advance) are the placebo.

Units: returns, ARs and CARs are simple returns as **fractions** (0.01 = 1 %) in every frame;
cross-asset moves say their unit in the ``units`` column (``points``, ``bp``, ``fraction``).
Figures and text show percent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from tradeshock.analyses.sessions import DIRECTIONS, EventSessions
from tradeshock.core.fileio import atomic_write_text
from tradeshock.data.prices import load_prices, source_summary
from tradeshock.data.returns import price_levels, wide_returns
from tradeshock.data.universe import load_universe
from tradeshock.engine.study import event_study
from tradeshock.errors import StudyError
from tradeshock.core.windows import parse_window
from tradeshock.events import get_calendar

__all__ = [
    "DEFAULT_PROXY",
    "INDICES",
    "MODELS",
    "RAW_SERIES",
    "VARIANTS",
    "CalendarInputs",
    "calendar_inputs",
    "cross_session_tests",
    "MarketTable",
    "PooledResult",
    "default_markets",
    "heatmap_figure",
    "load_calendar_inputs",
    "market_table",
    "pool_sessions",
    "pooled_study",
    "table_csv_text",
    "write_table_csv",
]

#: The three US indices of the table.
INDICES: dict[str, str] = {"^GSPC": "S&P 500", "^IXIC": "Nasdaq Composite", "^RUT": "Russell 2000"}
#: Cross-asset series shown beside the markets, with the unit of their moves.
RAW_SERIES: dict[str, str] = {"^VIX": "points", "DGS10": "bp", "DX-Y.NYB": "fraction",
                              "CL=F": "fraction"}
#: Market proxy of the market model when one is asked for: a world index, so that the S&P 500
#: itself can be studied (its AR is then the US move beyond the world's).
DEFAULT_PROXY = "ACWI"
#: Normal-return models a calendar study accepts (``factor`` needs factor data it does not load).
MODELS: tuple[str, ...] = ("mean", "market", "market_adjusted")
_RAW_UNITS = ("points", "bp", "fraction")
#: Session samples of the pooled study.
VARIANTS: dict[str, str] = {
    "all": "all sessions",
    "no_overlap": "sessions whose window overlaps no other session's",
    "all_timed": "sessions whose events all have a clock time",
}


def default_markets(universe: pd.DataFrame | None = None) -> dict[str, str]:
    """Symbol -> group of the default markets: the three indices (``us_index``), the sector ETFs
    (universe group ``us_sector``) and the country ETFs (``country_etf``)."""
    uni = load_universe() if universe is None else universe
    out = {s: "us_index" for s in INDICES}
    for grp in ("us_sector", "country_etf"):
        out.update({s: grp for s in uni.loc[uni["group"] == grp, "symbol"]})
    return out


@dataclass(frozen=True)
class CalendarInputs:
    """What :func:`market_table` needs, loaded by :func:`load_calendar_inputs`.

    ``returns``: sessions × symbols, simple returns (fractions) on the calendar's sessions, the
    markets and the proxy; ``levels``: the cross-asset series' levels on their own dates;
    ``groups``: market -> group; ``names``: symbol -> name; ``raw_units``: cross-asset symbol ->
    unit of its moves; ``source``: one line naming the sources; ``as_of``: last date loaded.
    """

    returns: pd.DataFrame
    levels: pd.DataFrame
    groups: dict[str, str]
    names: dict[str, str]
    raw_units: dict[str, str]
    source: str
    as_of: pd.Timestamp
    proxy: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def load_calendar_inputs(
    markets: Mapping[str, str] | Sequence[str] | None = None,
    *,
    raw_series: Mapping[str, str] | None = None,
    proxy: str | None = DEFAULT_PROXY,
    start: str = "2023-10-02",
    end: str | None = None,
    source: str = "auto",
    snapshot: Any = None,
    calendar: str = "XNYS",
) -> CalendarInputs:
    """Load the markets' returns and the cross-asset levels (``data.prices.load_prices``).

    ``markets``: symbols (or symbol -> group), default :func:`default_markets`; ``raw_series``:
    symbol -> unit (``points``, ``bp`` or ``fraction``), default :data:`RAW_SERIES`; ``proxy``:
    the market model's proxy, loaded beside the markets (``None``: none). Returns are computed
    from adjusted closes where a series has them (total returns) and kept on ``calendar``'s
    sessions only. ``source``/``snapshot`` are passed to ``load_prices`` (the source used is named
    in ``source`` of the result, so a report says whether the pinned snapshot or a newer folder
    served the numbers).
    """
    uni = load_universe()
    groups = dict(default_markets(uni)) if markets is None else (
        dict(markets) if isinstance(markets, Mapping) else dict.fromkeys(markets, "market"))
    raw = dict(RAW_SERIES if raw_series is None else raw_series)
    eq = list(dict.fromkeys(list(groups) + ([proxy] if proxy else [])))
    prices = load_prices(list(dict.fromkeys(eq + list(raw))), start=start, end=end,
                         source=source, snapshot=snapshot, universe=uni)
    return calendar_inputs(prices, groups, raw_series=raw, proxy=proxy, universe=uni,
                           calendar=calendar)


def calendar_inputs(
    prices: pd.DataFrame,
    markets: Mapping[str, str] | Sequence[str],
    *,
    raw_series: Mapping[str, str] | None = None,
    proxy: str | None = DEFAULT_PROXY,
    universe: pd.DataFrame | None = None,
    calendar: str = "XNYS",
) -> CalendarInputs:
    """:class:`CalendarInputs` from prices already loaded (long frame of
    ``data.prices.load_prices``, e.g. a notebook preamble's ``s.prices``); arguments as
    :func:`load_calendar_inputs`. Series of ``markets`` or ``raw_series`` missing from
    ``prices`` raise :class:`StudyError`."""
    uni = load_universe() if universe is None else universe
    groups = dict(markets) if isinstance(markets, Mapping) else dict.fromkeys(markets, "market")
    raw = dict(RAW_SERIES if raw_series is None else raw_series)
    bad = {s: u for s, u in raw.items() if u not in _RAW_UNITS}
    if bad:
        raise StudyError(f"raw_series: units {bad} unknown; use one of {', '.join(_RAW_UNITS)}")
    eq = list(dict.fromkeys(list(groups) + ([proxy] if proxy else [])))
    absent = sorted(set(eq + list(raw)) - set(prices["symbol"]))
    if absent:
        raise StudyError(f"calendar_inputs: no prices for {absent}; load them first")
    is_raw = prices["symbol"].isin(raw) & ~prices["symbol"].isin(eq)
    rets = wide_returns(prices[~is_raw.to_numpy()], universe=uni)
    sessions = pd.DatetimeIndex(get_calendar(calendar).sessions)
    rets = rets.loc[rets.index.isin(sessions), [s for s in eq if s in rets.columns]]
    levels = price_levels(prices[prices["symbol"].isin(raw).to_numpy()], basis="close")
    for s, u in raw.items():
        meas = uni.loc[uni["symbol"] == s, "measure"]
        if u == "bp" and (meas.empty or meas.iloc[0] != "bp_change"):
            raise StudyError(f"raw_series: {s} is not quoted in percent; its moves cannot be bp")
    names = dict(zip(uni["symbol"], uni["name"]))
    names.update(INDICES)
    return CalendarInputs(
        returns=rets, levels=levels, groups=groups, names=names, raw_units=raw,
        source=source_summary(prices, as_of=False), as_of=pd.Timestamp(prices["date"].max()),
        proxy=proxy,
    )


# ------------------------------------------------------------------------------ market table
def _check_model(model: str, proxy: str | None, markets: Sequence[str], returns: pd.DataFrame):
    if model not in MODELS:
        raise StudyError(f"model={model!r}: choose one of {', '.join(MODELS)}")
    if model == "mean":
        return None
    if not proxy:
        raise StudyError(f"model {model!r} needs a market proxy: pass proxy='ACWI' (or another "
                         "symbol loaded with the returns)")
    if proxy in markets:
        raise StudyError(
            f"model {model!r} with proxy {proxy!r} while {proxy!r} is also a studied market: its "
            "abnormal return would be identically zero (a degenerate regression on itself). Drop "
            f"{proxy!r} from the markets, choose another proxy (e.g. ACWI), or use model='mean'"
        )
    if proxy not in returns.columns:
        raise StudyError(f"proxy {proxy!r} is not a column of the returns; load it with the "
                         "markets")
    return returns[proxy]


def _raw_moves(levels: pd.DataFrame, units: Mapping[str, str], sessions: EventSessions,
               sids: Sequence[str], windows: Mapping[str, tuple[int, int]]) -> pd.DataFrame:
    """Raw moves of cross-asset series over each session's windows (see :func:`market_table`)."""
    rows = []
    for sym, unit in units.items():
        if sym not in levels.columns:
            raise StudyError(f"cross-asset series {sym!r} is not in the levels loaded")
        s = levels[sym].dropna().sort_index()
        for sid in sids:
            row = {"session_id": sid, "market": sym, "units": unit}
            for name, (a, b) in windows[sid].items():
                end = sessions.session_at(sid, b)
                base = sessions.session_at(sid, a - 1)
                v1 = s.get(end, np.nan)
                v0 = s.asof(base) if len(s) and base >= s.index[0] else np.nan
                if unit == "fraction":
                    row[name] = v1 / v0 - 1.0
                elif unit == "bp":
                    row[name] = 100.0 * (v1 - v0)
                else:
                    row[name] = v1 - v0
            rows.append(row)
    return pd.DataFrame(rows)


def _compound(R: np.ndarray, p0: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """prod(1 + r) - 1 over rows p0+a..p0+b of each column (NaN if a row is missing)."""
    out = np.full(len(p0), np.nan)
    T = R.shape[0]
    for j in range(len(p0)):
        lo, hi = p0[j] + a[j], p0[j] + b[j]
        if 0 <= lo and hi < T:
            out[j] = np.prod(1.0 + R[lo:hi + 1, j]) - 1.0
    return out


def market_table(
    returns: pd.DataFrame | CalendarInputs,
    sessions: EventSessions,
    *,
    markets: Sequence[str] | None = None,
    model: str = "mean",
    proxy: str | None = None,
    estimation: Any = (-260, -11),
    car_window: Any = (-1, 1),
    levels: pd.DataFrame | None = None,
    raw_units: Mapping[str, str] | None = None,
    groups: Mapping[str, str] | None = None,
    names: Mapping[str, str] | None = None,
    min_estimation_obs: int = 100,
    cross_section_tests: Sequence[str] = ("t_test", "boehmer", "kolari_pynnonen"),
) -> MarketTable:
    """Every session × every market as one event study (one :func:`event_study` call).

    ``returns``: sessions × symbols (fractions), or a :class:`CalendarInputs` (then ``levels``,
    ``raw_units``, ``groups``, ``names`` and the proxy come from it unless given). ``markets``:
    default every column but the proxy. ``model``: ``"mean"`` (default: the constant-mean model,
    so that an AR is the whole move beyond the market's usual drift, the quantity a tariff shock
    moves; Brown and Warner 1985), ``"market"`` or ``"market_adjusted"`` against ``proxy`` (default
    :data:`DEFAULT_PROXY`); a proxy that is also a studied market is refused (its AR would be
    identically zero). ``estimation``: trading days relative to each session's day 0
    (default -260..-11). ``car_window``: the short CAR window in days around day 0 (default
    -1..+1); each session also gets its reaction window (``sessions``). Observations lacking data
    are excluded by the engine and listed in ``excluded``; sessions outside the data in
    ``not_covered``.

    Cross-asset moves (``levels``: the series' own dates) are raw: the level on the window's last
    session minus the last level on or before the session before the window (``points``; ``bp``
    for yields quoted in percent; ``fraction``: the ratio minus one). A series without an
    observation on the window's last session (its market was closed) gets NaN, not zero.
    """
    src, as_of = None, None
    if isinstance(returns, CalendarInputs):
        inp = returns
        levels = inp.levels if levels is None else levels
        raw_units = inp.raw_units if raw_units is None else raw_units
        groups = inp.groups if groups is None else groups
        names = inp.names if names is None else names
        proxy = (inp.proxy or DEFAULT_PROXY) if proxy is None else proxy
        src, as_of = inp.source, inp.as_of
        returns = inp.returns
    elif proxy is None and model != "mean":
        proxy = DEFAULT_PROXY
    if markets is None:
        markets = [c for c in (groups or returns.columns) if c in returns.columns and c != proxy]
    markets = list(dict.fromkeys(markets))
    missing = [m for m in markets if m not in returns.columns]
    if missing:
        raise StudyError(f"market_table: markets {missing} are not columns of the returns")
    mser = _check_model(model, proxy, markets, returns)
    est = tuple(parse_window(estimation, "estimation window", kind="days"))
    cw = tuple(parse_window(car_window, "CAR window", kind="days"))
    ses = sessions.sessions
    lo = min(cw[0], int(ses["start_offset"].min()))
    hi = max(cw[1], 0)
    if est[1] >= lo:
        raise StudyError(f"estimation window {est} must end before the event window ({lo}, {hi})")
    index = returns.index
    covered, not_cov = [], []
    for r in ses.itertuples():
        if r.day0 not in index:
            not_cov.append((r.session_id, f"day 0 {r.day0:%Y-%m-%d} is not a row of the returns"))
        elif index.get_loc(r.day0) + hi >= len(index):
            not_cov.append((r.session_id, f"the data end {index[-1]:%Y-%m-%d}, before day {hi:+d}"))
        else:
            covered.append(r.session_id)
    if not covered:
        raise StudyError("market_table: no session lies inside the returns' dates")
    sub = ses.set_index("session_id").loc[covered]
    obs = {f"{m}@{sid}": (m, sub.at[sid, "day0"]) for sid in covered for m in markets}
    res = event_study(returns[markets], obs, model=model, market=mser, estimation=est,
                      event=(lo, hi), car_windows=[cw], min_estimation_obs=min_estimation_obs)
    table = _observation_rows(res, returns, sub, cw, model, proxy, groups, names)
    flags_c = sessions.overlaps(cw).set_index("session_id")["overlap"]
    if levels is not None and raw_units:
        wins = {sid: {"raw0": (0, 0), "raw_reaction": (int(sub.at[sid, "start_offset"]), 0),
                      "raw_car": cw} for sid in covered}
        raw = _raw_moves(levels, raw_units, sessions, covered, wins)
        raw["group"] = "cross_asset"
        raw["name"] = raw["market"].map(dict(names or {}))
        table = pd.concat([table, raw], ignore_index=True)
    table = _decorate(table, sub, flags_c, cw, model, proxy, res.settings["estimation"])
    cross = _cross_sections(res, table, sub, cw, groups, cross_section_tests)
    return MarketTable(
        table, study=res, sessions=sessions, cross_sections=cross,
        not_covered=pd.DataFrame(not_cov, columns=["session_id", "reason"]),
        settings={"model": model, "proxy": proxy if model != "mean" else None,
                  "estimation": est, "car_window": cw, "event_window": (lo, hi),
                  "min_estimation_obs": min_estimation_obs, "markets": markets,
                  "raw_units": dict(raw_units or {}), **sessions.settings},
        source=src, as_of=as_of,
    )


def _observation_rows(res, returns, sub, cw, model, proxy, groups, names) -> pd.DataFrame:
    ids = res.securities
    mk = [i.split("@", 1)[0] for i in ids]
    sid = [i.split("@", 1)[1] for i in ids]
    start = np.array([int(sub.at[s, "start_offset"]) for s in sid])
    t_r = res.security_car_t(np.column_stack([start, np.zeros_like(start)]))
    t_c = res.security_car_t(cw)
    ar = res.ar_matrix
    R = returns[list(dict.fromkeys(mk))]
    cpos = {c: i for i, c in enumerate(R.columns)}
    Rv = R.to_numpy(dtype=float)[:, [cpos[m] for m in mk]]
    p0 = returns.index.get_indexer(pd.DatetimeIndex([sub.at[s, "day0"] for s in sid]))
    zero = np.zeros(len(ids), dtype=int)
    est = res.estimates.set_index("security")
    return pd.DataFrame({
        "session_id": sid,
        "market": mk,
        "name": [dict(names or {}).get(m, m) for m in mk],
        "group": [dict(groups or {}).get(m, "market") for m in mk],
        "units": "fraction",
        "raw0": _compound(Rv, p0, zero, zero),
        "raw_reaction": _compound(Rv, p0, start, zero),
        "raw_car": _compound(Rv, p0, np.full(len(ids), cw[0]), np.full(len(ids), cw[1])),
        "ar0": ar.loc[0, ids].to_numpy(dtype=float),
        "ar_reaction": t_r["car"].to_numpy(),
        "t_reaction": t_r["statistic"].to_numpy(),
        "p_reaction": t_r["p_value"].to_numpy(),
        "car": t_c["car"].to_numpy(),
        "t_car": t_c["statistic"].to_numpy(),
        "p_car": t_c["p_value"].to_numpy(),
        "dof": t_c["dof"].to_numpy(),
        "est_start": est.loc[ids, "est_start"].to_numpy(),
        "est_end": est.loc[ids, "est_end"].to_numpy(),
        "n_est": est.loc[ids, "n_obs"].to_numpy(),
    })


_COLUMNS = [
    "session_id", "day0", "window_start", "n_window", "direction", "kinds", "n_events",
    "all_timed", "market", "name", "group", "units", "raw0", "raw_reaction", "raw_car", "ar0",
    "ar_reaction", "t_reaction", "p_reaction", "car", "car_window", "t_car", "p_car", "dof",
    "model", "proxy", "estimation", "est_start", "est_end", "n_est", "overlap_reaction",
    "overlap_car",
]


def _decorate(table, sub, flags_c, cw, model, proxy, est_label) -> pd.DataFrame:
    info = sub[["day0", "window_start", "n_window", "direction", "kinds", "n_events",
                "all_timed", "overlap_reaction"]]
    t = table.join(info, on="session_id")
    t["overlap_car"] = t["session_id"].map(flags_c).astype(bool)
    t["car_window"] = f"{cw[0]}..{cw[1]}"
    t["model"] = model
    t["proxy"] = proxy if model != "mean" else ""
    t["estimation"] = est_label
    for c in _COLUMNS:
        if c not in t.columns:
            t[c] = np.nan
    order = {s: i for i, s in enumerate(sub.index)}
    morder = {m: i for i, m in enumerate(dict.fromkeys(table["market"]))}
    t = t.sort_values(["session_id", "market"], key=lambda c: c.map(order if c.name ==
                      "session_id" else morder), kind="stable")
    return t[_COLUMNS].reset_index(drop=True)


def _cross_sections(res, table, sub, cw, groups, tests) -> pd.DataFrame:
    if not tests or not groups:
        return pd.DataFrame()
    kept = set(res.securities)
    gmap: dict[tuple[str, str], list[str]] = {}
    for r in table.loc[table["group"].isin(["us_sector", "country_etf"]),
                       ["session_id", "market", "group"]].itertuples():
        i = f"{r.market}@{r.session_id}"
        if i in kept:
            gmap.setdefault((r.session_id, r.group), []).append(i)
    gmap = {k: v for k, v in gmap.items() if len(v) >= 2}
    if not gmap:
        return pd.DataFrame()
    wins = {k: [(int(sub.at[k[0], "start_offset"]), 0), tuple(cw)] for k in gmap}
    out = res.group_car_tests(gmap, wins, list(tests))
    out.insert(0, "session_id", [g[0] for g in out["group"]])
    out["group"] = [g[1] for g in out["group"]]
    out.insert(2, "window", np.where(
        (out["window_start"] == cw[0]) & (out["window_end"] == cw[1]), "car", "reaction"))
    out = out.join(sub[["day0", "direction"]], on="session_id")
    return out


class MarketTable:
    """The event × market table of :func:`market_table`.

    ``to_frame()``: one row per (session, market) with ``session_id, day0, window_start,
    n_window, direction, kinds, n_events, all_timed, market, name, group, units, raw0,
    raw_reaction, raw_car`` (raw moves in ``units``), ``ar0`` (day-0 AR), ``ar_reaction`` (AR
    summed over the reaction window), ``t_reaction, p_reaction``, ``car`` (over ``car_window``),
    ``t_car, p_car, dof, model, proxy, estimation, est_start, est_end, n_est, overlap_reaction,
    overlap_car``. ``cross_sections``: per session and ETF group the test battery rows
    (``t_test``, ``boehmer``, ``kolari_pynnonen``) for the reaction and CAR windows.
    """

    def __init__(self, table, *, study, sessions, cross_sections, not_covered, settings,
                 source=None, as_of=None) -> None:
        self._table = table
        self.study = study
        self.sessions = sessions
        self._cross = cross_sections
        self._not_covered = not_covered
        self._settings = settings
        self.source = source
        self.as_of = as_of

    def __repr__(self) -> str:
        t = self._table
        return (f"<MarketTable {t['session_id'].nunique()} sessions × {t['market'].nunique()} "
                f"series, model={self._settings['model']}>")

    @property
    def settings(self) -> dict[str, Any]:
        """Model, proxy, windows and session options."""
        return dict(self._settings)

    @property
    def cross_sections(self) -> pd.DataFrame:
        """ETF cross-sections per session: ``session_id, group, window, …, test, statistic,
        p_value, n, caar, rbar, day0, direction`` (see :func:`group_car_tests`)."""
        return self._cross.copy()

    @property
    def excluded(self) -> pd.DataFrame:
        """Observations (``market@session``) the engine excluded, with the reason."""
        return self.study.excluded

    @property
    def not_covered(self) -> pd.DataFrame:
        """Sessions outside the returns' dates: ``session_id, reason``."""
        return self._not_covered.copy()

    def to_frame(self) -> pd.DataFrame:
        """The tidy table (one row per session × market)."""
        return self._table.copy()

    def wide(self, value: str = "ar_reaction",
             markets: Sequence[str] | None = None) -> pd.DataFrame:
        """Sessions (rows, in order) × markets (columns) of one column of the table."""
        t = self._table
        w = t.pivot(index="session_id", columns="market", values=value)
        cols = list(dict.fromkeys(markets if markets is not None else t["market"]))
        return w.reindex(index=list(dict.fromkeys(t["session_id"])), columns=cols)

    def write_csv(self, path: str | Path) -> Path:
        """Write the tidy table as CSV, atomically (:func:`write_table_csv`)."""
        return write_table_csv(self, path)

    def summary(self) -> str:
        """A text summary: settings, coverage, and the S&P 500's largest reactions."""
        st, t = self._settings, self._table
        lines = [
            "Event x market table".center(78), "=" * 78,
            f"Model: {st['model']}" + (f" (proxy {st['proxy']})" if st["proxy"] else "")
            + f"; estimation {st['estimation'][0]}..{st['estimation'][1]}; CAR window "
            f"{st['car_window'][0]}..{st['car_window'][1]}; untimed: {st['untimed']}",
            f"Sessions: {t['session_id'].nunique()} covered, {len(self._not_covered)} not "
            f"covered; series: {t['market'].nunique()}; excluded observations: "
            f"{len(self.study.excluded)}",
        ]
        if self.source:
            lines.append(f"{self.source} As of {pd.Timestamp(self.as_of):%Y-%m-%d}.")
        lead = "^GSPC" if "^GSPC" in set(t["market"]) else t.loc[t["units"] == "fraction",
                                                                 "market"].iloc[0]
        s = t[t["market"] == lead].copy()
        s = s.reindex(s["ar_reaction"].abs().sort_values(ascending=False).index).head(8)
        lines += ["-" * 78, f"Largest reactions of {lead} (AR over the reaction window, %)",
                  f"{'session':<12}{'direction':<15}{'days':>5}{'AR %':>9}{'t':>8}{'p':>8}"]
        for r in s.itertuples():
            lines.append(f"{r.session_id:<12}{r.direction:<15}{r.n_window:>5}"
                         f"{100 * r.ar_reaction:>9.2f}{r.t_reaction:>8.2f}{r.p_reaction:>8.3f}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def heatmap(self, **kwargs: Any):
        """:func:`heatmap_figure` of this table."""
        return heatmap_figure(self, **kwargs)


def write_table_csv(table: MarketTable | pd.DataFrame, path: str | Path) -> Path:
    """Write the tidy event × market table as CSV (UTF-8, atomically: temporary file + rename).

    Dates as ``YYYY-MM-DD``; returns, ARs and CARs as fractions; ``units`` says the unit of each
    row's raw moves. With a :class:`MarketTable`, ``data_source`` and ``as_of`` columns are added
    so the file describes itself when it travels alone (e.g. in a bundle).
    """
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise StudyError(f"write_table_csv writes CSV files; {path} does not end in .csv")
    atomic_write_text(path, table_csv_text(table))
    return path


def table_csv_text(table: MarketTable | pd.DataFrame) -> str:
    """The CSV text :func:`write_table_csv` writes (for a report attachment)."""
    df = table.to_frame() if isinstance(table, MarketTable) else table.copy()
    if isinstance(table, MarketTable) and table.source:
        df["data_source"] = table.source
        df["as_of"] = f"{pd.Timestamp(table.as_of):%Y-%m-%d}"
    for c in ("day0", "window_start", "est_start", "est_end"):
        if c in df.columns:
            df[c] = pd.to_datetime(df[c]).dt.strftime("%Y-%m-%d")
    return df.to_csv(index=False, float_format="%.10g")


# ------------------------------------------------------------------------------------ heat map
def heatmap_figure(
    table: MarketTable,
    *,
    value: str = "ar_reaction",
    markets: Sequence[str] | None = None,
    alpha: float = 0.05,
    title: str | None = None,
    cross_asset: bool = True,
):
    """Heat map of ``value`` (default the reaction AR) in percent: sessions down, markets across.

    A dot marks a cell whose per-security test has ``p < alpha``. With ``cross_asset`` a second
    panel shows the cross-asset moves of the reaction window in their own units (each column
    coloured on its own scale). House style: title, axis labels with units, colour-bar label, and
    a source line (the table's source and as-of date, model and windows).
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import TwoSlopeNorm

    from tradeshock.analyses.figures import add_source_line, label_axes, use_house_style

    if value not in ("ar0", "ar_reaction", "car", "raw0", "raw_reaction", "raw_car"):
        raise StudyError(f"heatmap_figure: value={value!r} is not a return column of the table")
    t = table.to_frame()
    eq = t[t["group"] != "cross_asset"]
    mk = list(dict.fromkeys(markets if markets is not None else eq["market"]))
    w = table.wide(value, mk) * 100.0
    pcol = {"ar0": None, "ar_reaction": "p_reaction", "car": "p_car"}.get(value)
    lab = t.drop_duplicates("session_id").set_index("session_id").loc[w.index]
    rows = [f"{d:%d %b} {dirn}" for d, dirn in zip(lab["day0"], lab["direction"])]
    raw = t[t["group"] == "cross_asset"]
    show_raw = cross_asset and len(raw) > 0
    use_house_style()
    h = max(4.0, 0.24 * len(w) + 1.8)
    # at least 7 in wide: with one or two markets the title, tick labels and colour bar would
    # leave the axes no room (matplotlib: 'axes sizes collapsed to zero')
    fig = plt.figure(figsize=(min(max(4.0 + 0.28 * len(mk), 7.0), 18.0)
                              + (3.2 if show_raw else 0), h))
    gs = fig.add_gridspec(1, 2 if show_raw else 1,
                          width_ratios=[max(len(mk), 1), 3.2 / 0.28] if show_raw else [1])
    ax = fig.add_subplot(gs[0, 0])
    lim = float(np.nanmax(np.abs(w.to_numpy()))) if np.isfinite(w.to_numpy()).any() else 1.0
    im = ax.imshow(w.to_numpy(), aspect="auto", cmap="RdBu",
                   norm=TwoSlopeNorm(0.0, -max(lim, 1e-9), max(lim, 1e-9)))
    if pcol:
        pv = table.wide(pcol, mk).to_numpy()
        yy, xx = np.nonzero(pv < alpha)
        ax.scatter(xx, yy, s=6, c="black", marker="o", linewidths=0)
    ax.set_xticks(range(len(mk)), mk, rotation=90, fontsize=7)
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    ax.grid(False)
    what = {"ar0": "Day-0 AR", "ar_reaction": "AR over the reaction window",
            "car": "CAR over the CAR window", "raw0": "Day-0 return",
            "raw_reaction": "Raw return, reaction window",
            "raw_car": "Raw return, CAR window"}[value]
    st = table.settings
    label_axes(ax, title=title or f"{what} per tariff-news session and market, 2025",
               xlabel="Market (ticker)", ylabel="Event session", yunits="day 0, direction")
    cb = fig.colorbar(im, ax=ax, fraction=0.03, pad=0.01)
    cb.set_label(f"{what} (%)")
    cb.ax.set_title("%", fontsize=8)
    cb.ax.set_xlabel("scale", fontsize=8)
    if show_raw:
        _raw_panel(fig.add_subplot(gs[0, 1]), raw, w.index)
    note = (f"Model {st['model']}" + (f" vs {st['proxy']}" if st["proxy"] else "")
            + f", estimation days {st['estimation'][0]}..{st['estimation'][1]}, CAR window "
            f"{st['car_window'][0]}..{st['car_window'][1]}; dots: per-security p < {alpha}.")
    add_source_line(fig, (table.source or "tradeshock market data").rstrip("."),
                    table.as_of if table.as_of is not None else t["day0"].max(), note=note)
    return fig


def _raw_panel(ax, raw: pd.DataFrame, order) -> None:
    from tradeshock.analyses.figures import label_axes

    w = raw.pivot(index="session_id", columns="market", values="raw_reaction").reindex(
        index=order, columns=list(dict.fromkeys(raw["market"])))
    units = raw.drop_duplicates("market").set_index("market")["units"].reindex(w.columns)
    shown = w.copy()
    for c in shown.columns:
        if units[c] == "fraction":
            shown[c] = 100.0 * shown[c]
    scale = shown.abs().max().replace(0, 1.0)
    normed = (shown / scale).to_numpy()
    ax.imshow(normed, aspect="auto", cmap="PuOr_r", vmin=-1, vmax=1)
    unit_txt = {"points": "pts", "bp": "bp", "fraction": "%"}
    for (i, j), v in np.ndenumerate(shown.to_numpy()):
        if np.isfinite(v):
            ax.text(j, i, f"{v:+.1f}", ha="center", va="center", fontsize=6,
                    color="white" if abs(normed[i, j]) > 0.6 else "black")
    ax.set_xticks(range(len(w.columns)),
                  [f"{c} ({unit_txt[units[c]]})" for c in w.columns], rotation=90, fontsize=7)
    ax.set_yticks([])
    ax.grid(False)
    label_axes(ax, title="Cross-asset", xlabel="Series", ylabel="Reaction window move",
               yunits="own units")


# -------------------------------------------------------------------------------------- pooled
def _session_values(table: MarketTable, market: str | None, group: str | None,
                    measure: str, variant: str) -> pd.DataFrame:
    t = table.to_frame()
    if measure not in ("ar0", "ar_reaction", "car", "raw0", "raw_reaction", "raw_car"):
        raise StudyError(f"measure={measure!r}: use ar0, ar_reaction, car or a raw_* column")
    if (market is None) == (group is None):
        raise StudyError("pool_sessions: give exactly one of market= or group=")
    sel = t[t["market"] == market] if market is not None else t[t["group"] == group]
    if sel.empty:
        raise StudyError(f"pool_sessions: no rows for {market or group!r} in the table")
    flag = "overlap_car" if measure in ("car", "raw_car") else "overlap_reaction"
    if variant == "no_overlap":
        sel = sel[~sel[flag].astype(bool)]
    elif variant == "all_timed":
        sel = sel[sel["all_timed"].astype(bool)]
    elif variant != "all":
        raise StudyError(f"variant={variant!r}: choose one of {', '.join(VARIANTS)}")
    g = sel.groupby("session_id", sort=False)
    out = g.agg(day0=("day0", "first"), direction=("direction", "first"),
                value=(measure, "mean"), n_series=(measure, "count"))
    out = out[out["n_series"] > 0].reset_index()
    out.insert(0, "series", market if market is not None else f"{group} (mean)")
    return out


def cross_session_tests(x: np.ndarray, level: float = 0.95) -> dict[str, float]:
    """Tests of a zero mean with **sessions as the units**: one value per session in ``x``.

    Student's one-sample t test (Student 1908, Biometrika 6(1), 1-25; ``scipy.stats.ttest_1samp``)
    with its ``level`` confidence interval, and the exact two-sided sign test (binomial with
    p = 1/2 on the non-zero values, ``scipy.stats.binomtest``; Conover 1999, Practical
    Nonparametric Statistics, section 3.4). Returns ``n, mean, median, sd, se, t, p_t, ci_low,
    ci_high, n_pos, n_neg, p_sign`` (NaN where undefined: no t test below two sessions).
    """
    n = int(x.size)
    out = {"n": n, "mean": np.nan, "median": np.nan, "sd": np.nan, "se": np.nan, "t": np.nan,
           "p_t": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n_pos": int((x > 0).sum()),
           "n_neg": int((x < 0).sum()), "p_sign": np.nan}
    if n:
        out["mean"], out["median"] = float(x.mean()), float(np.median(x))
    if n >= 2:
        res = stats.ttest_1samp(x, 0.0)
        ci = res.confidence_interval(level)
        out.update(sd=float(x.std(ddof=1)), se=float(x.std(ddof=1) / np.sqrt(n)),
                   t=float(res.statistic), p_t=float(res.pvalue), ci_low=float(ci.low),
                   ci_high=float(ci.high))
    m = out["n_pos"] + out["n_neg"]
    if m:
        out["p_sign"] = float(stats.binomtest(out["n_pos"], m, 0.5).pvalue)
    return out


def pool_sessions(
    table: MarketTable,
    *,
    market: str | None = None,
    group: str | None = None,
    measure: str = "ar_reaction",
    by: str = "direction",
    variant: str = "all",
    level: float = 0.95,
) -> PooledResult:
    """Average one market's (or one group's mean) reaction over the sessions of each direction.

    ``market`` defaults to ``"^GSPC"`` when no ``group`` is given. Sessions are the units: for
    each direction (``by="direction"``) or all sessions together
    (``by=None``), the values are one number per session (``measure``: ``ar_reaction`` default,
    ``ar0``, ``car``; for ``group=`` the mean over the group's markets that session). Tests:
    Student's one-sample t test of a zero mean across sessions with its ``level`` confidence
    interval (``scipy.stats.ttest_1samp``; Student 1908, Biometrika 6(1), 1-25), and the exact
    two-sided sign test of a zero median (binomial with p = 1/2 on the non-zero values,
    ``scipy.stats.binomtest``; e.g. Conover 1999, Practical Nonparametric Statistics, 3rd ed.,
    section 3.4). ``variant``: ``all``, ``no_overlap`` (drop sessions whose window overlaps
    another's) or ``all_timed`` (sessions whose events all have a clock time).
    """
    if market is None and group is None:
        market = "^GSPC"
    vals = _session_values(table, market, group, measure, variant)
    rows = []
    keys = [d for d in DIRECTIONS if d in set(vals["direction"])] if by == "direction" else ["all"]
    if by not in ("direction", None):
        raise StudyError(f"by={by!r}: use 'direction' or None")
    for k in keys:
        x = (vals if k == "all" else vals[vals["direction"] == k])["value"].to_numpy(dtype=float)
        rows.append({"variant": variant, "series": vals["series"].iloc[0], "measure": measure,
                     "direction": k, **cross_session_tests(x, level)})
    vals.insert(0, "variant", variant)
    vals.insert(2, "measure", measure)
    return PooledResult(pd.DataFrame(rows), vals, {"level": level, "by": by,
                                                   "car_window": table.settings["car_window"]})


def pooled_study(
    table: MarketTable,
    *,
    markets: Sequence[str] = ("^GSPC",),
    groups: Sequence[str] = (),
    measures: Sequence[str] = ("ar_reaction", "car"),
    variants: Sequence[str] = tuple(VARIANTS),
    level: float = 0.95,
) -> PooledResult:
    """:func:`pool_sessions` for every market, group, measure and variant, in one result."""
    parts = []
    for v in variants:
        for me in measures:
            for m in markets:
                parts.append(pool_sessions(table, market=m, measure=me, variant=v, level=level))
            for g in groups:
                parts.append(pool_sessions(table, market=None, group=g, measure=me, variant=v,
                                           level=level))
    if not parts:
        raise StudyError("pooled_study: give at least one market or group")
    return PooledResult(pd.concat([p.to_frame() for p in parts], ignore_index=True),
                        pd.concat([p.values for p in parts], ignore_index=True),
                        {"level": level, "by": "direction",
                         "car_window": table.settings["car_window"]})


class PooledResult:
    """Pooled reactions per direction (:func:`pool_sessions`, :func:`pooled_study`).

    ``to_frame()``: ``variant, series, measure, direction, n, mean, median, sd, se, t, p_t,
    ci_low, ci_high, n_pos, n_neg, p_sign`` (means, sds and bounds as fractions); ``values``: the
    per-session inputs (``variant, series, measure, session_id, day0, direction, value,
    n_series``).
    """

    def __init__(self, table: pd.DataFrame, values: pd.DataFrame, settings: dict) -> None:
        self._table = table
        self.values = values
        self.settings = settings

    def to_frame(self) -> pd.DataFrame:
        """The pooled table."""
        return self._table.copy()

    def get(self, direction: str, *, series: str = "^GSPC", measure: str = "ar_reaction",
            variant: str = "all") -> pd.Series:
        """One row of the table; raises :class:`StudyError` if absent."""
        t = self._table
        sel = t[(t["direction"] == direction) & (t["series"] == series)
                & (t["measure"] == measure) & (t["variant"] == variant)]
        if sel.empty:
            raise StudyError(f"no pooled row for {direction!r}, {series}, {measure}, {variant}")
        return sel.iloc[0]

    def has(self, direction: str, **kw: str) -> bool:
        """Whether :meth:`get` would find the row."""
        try:
            self.get(direction, **kw)
        except StudyError:
            return False
        return True

    def summary(self) -> str:
        """A text table of the pooled means (percent) with CIs and p-values."""
        lvl = int(round(100 * self.settings["level"]))
        lines = [f"{'variant':<11}{'series':<18}{'measure':<12}{'direction':<14}{'n':>3}"
                 f"{'mean %':>8}{f'{lvl}% CI':>18}{'p(t)':>7}{'p(sign)':>8}"]
        for r in self._table.itertuples():
            ci = (f"[{100 * r.ci_low:+.2f}, {100 * r.ci_high:+.2f}]" if np.isfinite(r.ci_low)
                  else "-")
            lines.append(f"{r.variant:<11}{str(r.series)[:17]:<18}{r.measure:<12}"
                         f"{r.direction:<14}{r.n:>3}{100 * r.mean:>8.2f}{ci:>18}"
                         f"{r.p_t:>7.3f}{r.p_sign:>8.3f}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()
