"""US sectors around the April 2025 tariff shock: helpers for ``notebooks/03_sectors.ipynb``.

Thin functions on top of the engine (:func:`tradeshock.study.event_study`,
:func:`tradeshock.regression.sur_event_regression`) that turn its tidy results into the tables and
sentences the sector notebook shows. Units follow the project convention: every return, CAR and
net CAR here is a **simple return as a fraction** (0.01 = 1 %); columns that hold percent say
``_pct`` in their names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from tradeshock.analyses.contract import (
    Contract, Event, Flag, History, Integer, Number, Symbol, Symbols, Window, before,
)
from tradeshock.errors import StudyError

__all__ = [
    "PARAMETERS",
    "SectorStudy",
    "FirmStudy",
    "SECTOR_ETFS",
    "BROAD_ETFS",
    "car_table",
    "offset_date",
    "reversal_table",
    "firm_sectors",
    "sector_caar_tests",
    "top_movers",
    "describe_sectors",
    "describe_firms",
]

#: SPDR Select Sector ETFs and the GICS sector each tracks.
SECTOR_ETFS: dict[str, str] = {
    "XLK": "Information Technology",
    "XLF": "Financials",
    "XLE": "Energy",
    "XLV": "Health Care",
    "XLI": "Industrials",
    "XLY": "Consumer Discretionary",
    "XLP": "Consumer Staples",
    "XLU": "Utilities",
    "XLB": "Materials",
    "XLRE": "Real Estate",
    "XLC": "Communication Services",
}
#: Broad US equity ETFs shown beside the sectors.
BROAD_ETFS: dict[str, str] = {"SPY": "S&P 500", "QQQ": "Nasdaq-100", "IWM": "Russell 2000"}


def offset_date(index: pd.DatetimeIndex, day0: Any, k: int) -> pd.Timestamp:
    """The session ``k`` rows after (``k < 0``: before) ``day0`` in ``index`` (sorted sessions)."""
    index = pd.DatetimeIndex(index).sort_values()
    d0 = pd.Timestamp(day0)
    if d0 not in index:
        raise StudyError(f"offset_date: day 0 {d0.date()} is not a row of the index; align it first")
    i = index.get_loc(d0) + k
    if not 0 <= i < len(index):
        raise StudyError(
            f"offset_date: offset {k} from {d0.date()} falls outside the data "
            f"({index[0].date()} .. {index[-1].date()})"
        )
    return index[i]


def car_table(result, window: tuple[int, int] | None = None, level: float = 0.95) -> pd.DataFrame:
    """Per-security CAR over ``window`` with its t test and confidence interval, sorted by CAR.

    Columns ``security, car, ci_low, ci_high, se, t, df, p, n_days`` (fractions), from the
    engine's per-security CAR test (:meth:`EventStudyResult.car_by_security
    <tradeshock.engine.results.EventStudyResult.car_by_security>`): ``se`` is the CAR's standard
    error including the estimation error of the normal-return model (Campbell, Lo and MacKinlay
    1997, eq. 4.4.19), ``t = car / se``, ``p`` its two-sided p-value and ``ci_low``/``ci_high``
    the ``level`` interval, both from Student t with ``df`` (estimation rows minus parameters)
    degrees of freedom. ``window`` (a CAR window of the study) defaults to the result's first.
    """
    if window is None:
        window = result.car_windows[0]
    a, b = int(window[0]), int(window[1])
    if (a, b) not in result.car_windows:
        raise StudyError(
            f"car_table: window ({a}, {b}) is not a CAR window of this result; it has "
            f"{result.car_windows}. Pass it in event_study(car_windows=...)."
        )
    tab = result.car_by_security((a, b), level=level)
    out = tab.rename(columns={"statistic": "t", "p_value": "p"})
    cols = ["security", "car", "ci_low", "ci_high", "se", "t", "df", "p", "n_days"]
    return out[cols].sort_values("car").reset_index(drop=True)


def reversal_table(sur, selloff_days: Sequence[str], rebound_days: Sequence[str],
                   alpha: float = 0.05) -> pd.DataFrame:
    """Which series reversed fully: one row per series of a :class:`SUREventResult`.

    Columns ``series, selloff_car, rebound_car, net_car, se, stat, p, verdict`` (CARs as
    fractions: sums of the event-day dummies). ``verdict``: ``"full reversal not rejected"`` when
    ``p >= alpha``; otherwise ``"fell short"`` (net CAR < 0) or ``"overshot"`` (net CAR > 0).
    """
    g = sur.gammas.pivot(index="day", columns="series", values="gamma")  # fractions
    sell, reb = list(selloff_days), list(rebound_days)
    missing = [d for d in sell + reb if d not in g.index]
    if missing:
        raise StudyError(f"reversal_table: event days {missing} are not dummies of the regression "
                         f"(it has {list(g.index)})")
    tab = sur.wald_full_reversal_by_series(sell, reb).set_index("series")
    tab.insert(0, "selloff_car", g.loc[sell].sum())
    tab.insert(1, "rebound_car", g.loc[reb].sum())
    tab["verdict"] = np.where(
        tab["p"] >= alpha, "full reversal not rejected",
        np.where(tab["net_car"] < 0, "fell short", "overshot"))
    return tab.reset_index()


def firm_sectors(constituents: pd.DataFrame, symbols: Sequence[str]) -> pd.Series:
    """GICS sector of each symbol (index: symbol), from ``market.load_constituents()``.

    Symbols without a sector get ``"Unknown"`` (listed, never dropped silently).
    """
    sec = constituents.drop_duplicates("symbol").set_index("symbol")["gics_sector"]
    sec = sec.astype("string").str.strip().replace("", pd.NA)
    return sec.reindex(list(symbols)).fillna("Unknown").rename("sector").astype(str)


def sector_caar_tests(
    returns: pd.DataFrame,
    market_returns: pd.Series,
    day0: Any,
    sectors: Mapping[str, str] | pd.Series,
    *,
    estimation: tuple[int, int] = (-260, -11),
    event: tuple[int, int] = (0, 3),
    window: tuple[int, int] | None = None,
    tests: Sequence[str] = ("boehmer", "kolari_pynnonen"),
    min_estimation_obs: float = 30,
) -> pd.DataFrame:
    """Market-model CAAR of each sector's firms with ``tests`` side by side, one row per sector.

    Runs :func:`~tradeshock.study.event_study` on each sector's columns of ``returns`` (simple
    returns, fractions) and returns ``sector, n, caar`` (fraction) and, per test,
    ``<test>_stat`` and ``<test>_p`` (two-sided), sorted by CAAR. The default pair shows the
    standardized cross-sectional test of Boehmer, Musumeci and Poulsen (1991) and its adjustment
    for cross-correlation by Kolari and Pynnönen (2010): firms of one sector share the event date.
    """
    from tradeshock.engine.study import event_study

    sectors = pd.Series(sectors)
    window = tuple(window or event)
    rows = []
    for sector, members in sectors.groupby(sectors):
        cols = [c for c in members.index if c in returns.columns]
        if len(cols) < 2:
            continue
        res = event_study(returns[cols], day0, model="market", market=market_returns,
                          estimation=estimation, event=event, car_windows=[window],
                          car_test_names=list(tests), min_estimation_obs=min_estimation_obs)
        ct = res.car_tests.set_index("test")
        row: dict[str, Any] = {"sector": sector, "n": int(ct["n"].iloc[0]),
                               "caar": float(ct["caar"].iloc[0])}
        for t in tests:
            row[f"{t}_stat"] = float(ct.loc[t, "statistic"])
            row[f"{t}_p"] = float(ct.loc[t, "p_value"])
        rows.append(row)
    return pd.DataFrame(rows).sort_values("caar").reset_index(drop=True)


def top_movers(cars: pd.DataFrame, n: int = 20, *, names: Mapping[str, str] | None = None,
               sectors: Mapping[str, str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``n`` most negative and ``n`` most positive CARs of a :func:`car_table` frame.

    Returns ``(losers, gainers)``, each ``security, name, sector, car`` (fraction), losers from the
    worst, gainers from the best.
    """
    df = cars[["security", "car"]].copy()
    df.insert(1, "name", df["security"].map(dict(names) if names is not None else {}))
    df.insert(2, "sector", df["security"].map(dict(sectors) if sectors is not None else {}))
    ordered = df.sort_values("car", kind="stable")
    losers = ordered.head(n).reset_index(drop=True)
    gainers = ordered.tail(n).iloc[::-1].reset_index(drop=True)
    return losers, gainers


def _pct(x: float) -> str:
    return f"{100 * x:+.2f}%"


def describe_sectors(selloff: pd.DataFrame, rebound: pd.DataFrame, reversal: pd.DataFrame,
                     labels: Mapping[str, str] | None = None, alpha: float = 0.05,
                     rebound_title: str = "the rebound window") -> str:
    """A short "what the data say" paragraph (Markdown) computed from the tables it cites.

    ``selloff``/``rebound``: :func:`car_table` frames of the ETFs; ``reversal``:
    :func:`reversal_table`. Every number in the text is one of those tables' values.
    """
    lab = dict(labels or {})

    def name(s: str) -> str:
        return f"{lab[s]} ({s})" if s in lab else s

    s = selloff.sort_values("car")
    r = rebound.sort_values("car")
    worst, best = s.iloc[0], s.iloc[-1]
    n_neg_sig = int(((s["car"] < 0) & (s["p"] < alpha)).sum())
    if len(s) == 1:  # one series: its CARs, no range
        parts = [
            f"Over the selloff window the market-model CAR of {name(worst['security'])} is "
            f"{_pct(worst['car'])} (p = {worst['p']:.2g}, selloff CAR table).",
            f"Over {rebound_title} it is {_pct(r.iloc[0]['car'])} (p = {r.iloc[0]['p']:.2g}, "
            "rebound CAR table).",
        ]
    else:
        parts = [
            f"Over the selloff window the market-model CAR ranges from {_pct(worst['car'])} for "
            f"{name(worst['security'])} to {_pct(best['car'])} for {name(best['security'])} "
            f"(selloff CAR table); {n_neg_sig} of {len(s)} ETFs have a negative CAR with "
            f"p < {alpha} against the estimation-window volatility.",
            f"Over {rebound_title} the abnormal return runs from {_pct(r.iloc[0]['car'])} "
            f"({name(r.iloc[0]['security'])}) to {_pct(r.iloc[-1]['car'])} "
            f"({name(r.iloc[-1]['security'])}) (rebound CAR table).",
        ]
    full = reversal[reversal["p"] >= alpha]["series"].tolist()
    short = reversal[(reversal["p"] < alpha) & (reversal["net_car"] < 0)]["series"].tolist()
    over = reversal[(reversal["p"] < alpha) & (reversal["net_car"] > 0)]["series"].tolist()
    if len(reversal) == 1:
        one = reversal.iloc[0]
        verdict = "not rejected" if one["p"] >= alpha else "rejected"
        parts.append(f"In the SUR reversal table, full reversal (selloff + rebound dummies sum "
                     f"to zero) is {verdict} at {100 * alpha:g}% (p = {one['p']:.2g}, net CAR "
                     f"{_pct(one['net_car'])}).")
        return " ".join(parts)
    rev = (f"In the SUR reversal table, full reversal (selloff + rebound dummies sum to zero) is "
           f"not rejected at {100 * alpha:g}% for {len(full)} of {len(reversal)} series")
    if short:
        rev += "; the rebound fell short for " + ", ".join(name(x) for x in short)
    if over:
        rev += "; it overshot for " + ", ".join(name(x) for x in over)
    parts.append(rev + ".")
    return " ".join(parts)


def describe_firms(overall: pd.DataFrame, by_sector: pd.DataFrame, alpha: float = 0.05) -> str:
    """The firm-level sentences of "what the data say", computed from the tables they cite.

    ``overall``: ``result.car_tests`` of the firm study (one window); ``by_sector``:
    :func:`sector_caar_tests` with the ``boehmer`` and ``kolari_pynnonen`` columns.
    """
    o = overall.set_index("test")
    caar, n = float(o["caar"].iloc[0]), int(o["n"].iloc[0])
    bmp_p, kp_p = float(o.loc["boehmer", "p_value"]), float(o.loc["kolari_pynnonen", "p_value"])
    text = (f"Across the {n} S&P 500 members the selloff CAAR is {_pct(caar)} (firm battery table): "
            f"BMP gives p = {bmp_p:.2g}, and after the Kolari-Pynnönen adjustment for "
            f"cross-correlation p = {kp_p:.2g}.")
    sig_bmp = int((by_sector["boehmer_p"] < alpha).sum())
    sig_kp = int((by_sector["kolari_pynnonen_p"] < alpha).sum())
    worst = by_sector.sort_values("caar").iloc[0]
    text += (f" By sector (sector CAAR table), {sig_bmp} of {len(by_sector)} sector CAARs have "
             f"BMP p < {alpha} but only {sig_kp} keep p < {alpha} with the adjustment; the lowest "
             f"is {worst['sector']} at {_pct(worst['caar'])} (KP p = "
             f"{worst['kolari_pynnonen_p']:.2g}).")
    return text


# ------------------------------------------------------------------------------------ notebook

#: The exchange every series of the sector notebook trades on (one day 0, one set of sessions).
CALENDAR = "XNYS"


def _series_problems(v: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The market proxy is not also a studied series; every series trades in New York (the
    study aligns all of them on one XNYS day 0, so a Tokyo index would be read on the wrong
    sessions)."""
    from tradeshock.data.universe import load_universe

    out = []
    studied = list(v["etfs"]) + list(v["broad"])
    if v["market_symbol"] in studied:
        out.append(("market_symbol", f"= {v['market_symbol']!r} is also listed in "
                    f"{'etfs' if v['market_symbol'] in v['etfs'] else 'broad'} (a series "
                    "regressed on itself has no abnormal return)",
                    "remove it from the list or choose another market proxy"))
    cal = load_universe().drop_duplicates("symbol").set_index("symbol")["exchange_calendar"]
    for name in ("etfs", "broad", "market_symbol"):
        syms = v[name] if isinstance(v[name], list) else [v[name]]
        ex = {s: cal.get(s) if isinstance(cal.get(s), str) and cal.get(s) else None
              for s in syms}
        odd = [f"{s} ({ex[s] or 'no exchange'})" for s in syms if ex[s] != CALENDAR
               and (name != "market_symbol" or ex[s] is not None)]
        if odd:
            out.append((name, (f"= {v[name]!r} trades on {odd[0].split('(')[1][:-1]}, not "
                               f"{CALENDAR}" if name == "market_symbol" else
                               f"lists series that do not trade on {CALENDAR}: {', '.join(odd)}")
                        + f"; the study reads every series on New York sessions from one "
                        f"{CALENDAR} day 0",
                        "use US-listed series (04_global studies markets on their own calendars)"))
    return out


def event_sessions(event: Any, window: tuple[int, int], events: pd.DataFrame | None = None,
                   calendar: str = CALENDAR) -> list[pd.Timestamp]:
    """The sessions of ``window`` (trading-day offsets, inclusive) around ``event``'s day 0 on
    ``calendar``."""
    from tradeshock.events.align import align, event_window

    a = align(getattr(event, "event_id", event), calendar, events=events)
    return list(event_window(a, calendar, tuple(window))["session"])


def _order_problems(v: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The rebound window starts after the selloff window ends (on XNYS sessions): the reversal
    test gives every session one dummy, selloff or rebound."""
    from tradeshock.errors import ValidationError

    try:
        sell = event_sessions(v["selloff_event"], v["selloff_window"])
        reb = event_sessions(v["rebound_event"], v["rebound_window"])
    except ValidationError:
        return []  # a window off the calendar: the history check says so
    if reb[0] > sell[-1]:
        return []
    what = ("is the selloff's own event" if v["rebound_event"].event_id ==
            v["selloff_event"].event_id else "does not come after the selloff")
    return [("rebound_event", f"{what}: rebound_window {_w(v['rebound_window'])} of "
             f"{v['rebound_event'].label} starts {reb[0]:%Y-%m-%d}, but selloff_window "
             f"{_w(v['selloff_window'])} of {v['selloff_event'].label} runs to "
             f"{sell[-1]:%Y-%m-%d} ({CALENDAR})",
             "choose a later rebound event or a shorter selloff_window")]


def _w(w: tuple[int, int]) -> str:
    return f"{w[0]}:{w[1]}"


#: Where the firm panel's price data start and end (``data.firms.load_firms``), found once.
_FIRM_SPAN: list[tuple[pd.Timestamp, pd.Timestamp]] = []


def firm_span() -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last date of the S&P 500 members' prices (the panel's data as served)."""
    if not _FIRM_SPAN:
        from tradeshock.data.firms import load_firms

        d = load_firms(start=None)["date"]
        _FIRM_SPAN.append((pd.Timestamp(d.min()), pd.Timestamp(d.max())))
    return _FIRM_SPAN[0]


def _firm_problems(v: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """With ``firm_level``, the firm panel's data cover the selloff's estimation and event
    windows (refused with the panel's range, never cut)."""
    from tradeshock.errors import ValidationError

    if not v["firm_level"]:
        return []
    est, win = v["estimation_window"], v["selloff_window"]
    try:
        need = event_sessions(v["selloff_event"], (min(est[0], win[0]), max(est[1], win[1])))
    except ValidationError:
        return []
    first, last = firm_span()
    if need[0] >= first and need[-1] <= last:
        return []
    return [("firm_level", f"= True, but estimation_window {_w(est)} and selloff_window "
             f"{_w(win)} around {v['selloff_event'].label} need the S&P 500 members' prices "
             f"from {need[0]:%Y-%m-%d} to {need[-1]:%Y-%m-%d}, and the firm data cover "
             f"{first:%Y-%m-%d} to {last:%Y-%m-%d}",
             "shorten the windows, choose an event the firm data cover, or set firm_level "
             "False")]


#: The fewest estimation sessions the engine accepts (``event_study(min_estimation_obs=30)``).
MIN_ESTIMATION_SESSIONS = 30


def _estimation_problems(v: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The estimation window holds at least :data:`MIN_ESTIMATION_SESSIONS` sessions (refused
    here rather than failing inside the kernel)."""
    a, b = v["estimation_window"]
    if b - a + 1 >= MIN_ESTIMATION_SESSIONS:
        return []
    return [("estimation_window", f"= '{a}:{b}' holds {b - a + 1} sessions, fewer than the "
             f"{MIN_ESTIMATION_SESSIONS} the model needs",
             f"give at least {MIN_ESTIMATION_SESSIONS} sessions, e.g. '-260:-11'")]


#: What the parameters of ``notebooks/03_sectors.ipynb`` must be.
PARAMETERS = Contract(
    "03_sectors",
    [
        Symbols("etfs", help="sector ETFs", priced=True),
        Symbols("broad", help="broad US equity ETFs shown beside the sectors", priced=True,
                min_items=0),
        Symbol("market_symbol", help="the market proxy of the market model", priced=True),
        Event("selloff_event", help="the event of the selloff"),
        Event("rebound_event", help="the event of the rebound"),
        Window("estimation_window", help="the estimation window"),
        Window("selloff_window", help="the selloff CAR window"),
        Window("rebound_window", help="the rebound CAR window"),
        Number("alpha", help="a significance level", lo=0, hi=1, open_interval=True),
        Flag("firm_level", help="True to run the S&P 500 members"),
        Integer("n_movers", help="how many losers and gainers to list", lo=1, hi=200),
    ],
    rules=[before("estimation_window", "selloff_window"),
           before("estimation_window", "rebound_window")],
    checks=[lambda v: _series_problems(v), lambda v: _order_problems(v),
            lambda v: _firm_problems(v), lambda v: _estimation_problems(v)],
    history=[History(("etfs", "broad", "market_symbol"), ("selloff_event",),
                     ("estimation_window", "selloff_window"), calendar="XNYS"),
             History(("etfs", "broad", "market_symbol"), ("rebound_event",),
                     ("estimation_window", "rebound_window"), calendar="XNYS")],
)


class SectorStudy:
    """The ETF studies of the sector notebook: day 0s (XNYS), market-model results of the
    selloff and the rebound, their CAR tables and the SUR reversal test. Fractions throughout."""

    def __init__(self, returns: pd.DataFrame, p: Mapping[str, Any], events: pd.DataFrame | None,
                 names: Mapping[str, str]):
        from tradeshock.engine import regression
        from tradeshock.engine.study import event_study
        from tradeshock.events.align import align

        self.p = p
        self.names = dict(names)
        self.series = list(dict.fromkeys(list(p["etfs"]) + list(p["broad"])))
        self.market = p["market_symbol"]
        self.labels = {s: f"{s} {SECTOR_ETFS.get(s, BROAD_ETFS.get(s, names.get(s, s)))}"
                       for s in self.series + [self.market]}
        self.day0 = {k: align(p[f"{k}_event"].event_id, "XNYS", events=events).day0
                     for k in ("selloff", "rebound")}
        self.sell_w, self.reb_w = tuple(p["selloff_window"]), tuple(p["rebound_window"])
        est = tuple(p["estimation_window"])
        kw = dict(model="market", market=returns[self.market], estimation=est)
        r = returns[self.series]
        self.res_sell = event_study(r, self.day0["selloff"], event=self.sell_w,
                                    car_windows=[self.sell_w], **kw)
        self.res_reb = event_study(r, self.day0["rebound"], event=self.reb_w,
                                   car_windows=[self.reb_w], **kw)
        self.car_sell = car_table(self.res_sell, self.sell_w)
        self.car_reb = car_table(self.res_reb, self.reb_w)
        idx = returns[self.market].dropna().index
        self.sell_dates = [offset_date(idx, self.day0["selloff"], k)
                           for k in range(self.sell_w[0], self.sell_w[1] + 1)]
        self.reb_dates = [offset_date(idx, self.day0["rebound"], k)
                          for k in range(self.reb_w[0], self.reb_w[1] + 1)]
        dummy = {d.strftime("%d_%b_%Y").lower(): d for d in self.sell_dates + self.reb_dates}
        self.sell_days = [k for k, d in dummy.items() if d in self.sell_dates]
        self.reb_days = [k for k, d in dummy.items() if d in self.reb_dates]
        self.sur = regression.sur_event_regression(
            r, returns[self.market], dummy,
            estimation_start=offset_date(idx, self.day0["selloff"], est[0]),
            estimation_end=offset_date(idx, self.day0["selloff"], est[1]))
        self.reversal = reversal_table(self.sur, self.sell_days, self.reb_days,
                                       alpha=p["alpha"])
        self.returns = returns

    def window_text(self, which: str) -> str:
        """``days 0..+3 from 3 Apr 2025``: the CAR window of ``which`` and its day 0 (XNYS);
        ``day 0 (9 Apr 2025)`` for a one-session window (the date of that session)."""
        from tradeshock.engine.present import window_label

        w = self.sell_w if which == "selloff" else self.reb_w
        if w[0] == w[1]:  # one session: its date
            d = (self.sell_dates if which == "selloff" else self.reb_dates)[0]
            return f"{window_label(*w)} ({d:%-d %b %Y})"
        return f"{window_label(*w)} from {self.day0[which]:%-d %b %Y}"

    def raw_table(self):
        """Raw simple returns (percent) from the session before the selloff's day 0 (or the
        selloff window's first session, if earlier) to the one after the rebound's (or the
        rebound window's last, if later), and the selloff window compounded."""
        from tradeshock.core.tables import Table

        cols = self.series + [self.market]
        idx = self.returns[self.market].dropna().index
        first = min(offset_date(idx, self.day0["selloff"], -1), self.sell_dates[0])
        last = max(offset_date(idx, self.day0["rebound"], 1), self.reb_dates[-1])
        raw = self.returns.loc[first:last, cols].dropna(how="all").T
        raw.columns = [f"{d:%a %-d %b}" for d in raw.columns]
        raw["selloff, compounded"] = (1 + self.returns.loc[self.sell_dates, cols]).prod() - 1
        raw.index = [self.labels.get(s, s) for s in raw.index]
        return Table(raw, caption="Raw close-to-close simple returns, percent (no model)",
                     formats={c: "pct" for c in raw.columns},
                     notes=[f"Selloff window: {self.window_text('selloff')} (XNYS)."])

    def estimates_table(self):
        from tradeshock.core.tables import Table

        est = self.res_sell.estimates.set_index("security")[
            ["alpha", "beta", "resid_sd", "r2", "n_obs", "est_start", "est_end"]]
        est.index = [self.labels.get(s, s) for s in est.index]
        return Table(est, caption=f"Market model against {self.labels[self.market]}: estimation "
                     "statistics (selloff estimation window)",
                     formats={"alpha": "pct:3", "beta": "num:3", "resid_sd": "pct:3",
                              "r2": "num:3", "n_obs": "int", "est_start": "date",
                              "est_end": "date"},
                     labels={"alpha": "alpha (%/day)", "resid_sd": "resid sd (%/day)",
                             "r2": "R²", "n_obs": "days", "est_start": "from",
                             "est_end": "to"})

    def cars_table(self, which: str):
        from tradeshock.core.tables import Table

        t = (self.car_sell if which == "selloff" else self.car_reb).set_index("security")
        t.index = [self.labels.get(s, s) for s in t.index]
        return Table(t, caption=f"{which.capitalize()} CAR, {self.window_text(which)}: percent, "
                     "lowest first",
                     formats={"car": "pct", "ci_low": "pct", "ci_high": "pct", "se": "pct",
                              "t": "num:2", "df": "int", "p": "p", "n_days": "int"},
                     labels={"car": "CAR (%)", "ci_low": "95% low (%)",
                             "ci_high": "95% high (%)", "se": "se (%)", "n_days": "days"})

    def reversal_frame(self):
        from tradeshock.core.tables import Table

        t = self.reversal.set_index("series")
        t.index = [self.labels.get(s, s) for s in t.index]
        return Table(t, caption="Full reversal per ETF (SUR event-dummy regression, Wald test)",
                     notes=[self.joint_reversal_text()],
                     formats={"selloff_car": "pct:3", "rebound_car": "pct:3",
                              "net_car": "pct:3", "se": "pct:3", "stat": "num:3", "p": "p",
                              "verdict": "text"},
                     labels={"selloff_car": "selloff CAR (%)", "rebound_car": "rebound CAR (%)",
                             "net_car": "net CAR (%)", "se": "se (%)", "stat": "Wald chi2"})

    def joint_reversal_text(self) -> str:
        """The SUR system's joint Wald test of full reversal for every series at once, as a
        sentence (Binder 1985): chi-squared with one degree of freedom per series."""
        from tradeshock.errors import StudyError

        n = len(self.series)
        try:
            w = self.sur.wald_full_reversal(self.sell_days, self.reb_days)
        except StudyError as exc:
            return (f"Joint test of full reversal for all {n} series at once: not defined "
                    f"({str(exc).rsplit(': ', 1)[-1].rstrip('.')}).")
        verdict = "rejected" if w.pval < self.p["alpha"] else "not rejected"
        p = "p < 0.001" if w.pval < 0.001 else f"p = {w.pval:.3f}"
        return (f"Joint test of full reversal for all {n} series at once (selloff "
                f"{self.window_text('selloff')}, rebound {self.window_text('rebound')}): "
                f"Wald chi2({w.df}) = {w.stat:.2f}, {p}; {verdict} at {self.p['alpha']:g}.")

    def car_figure(self, which: str, source: str, as_of: Any):
        """Ranked bar chart of the CARs with their 95% intervals (percent)."""
        from tradeshock.analyses.figures import add_source_line, new_figure

        t = (self.car_sell if which == "selloff" else self.car_reb).sort_values("car")
        fig, ax = new_figure(title=f"{which.capitalize()}: market-model CAR vs "
                             f"{self.labels[self.market]}, {self.window_text(which)}",
                             xlabel="Cumulative abnormal return (percent)", ylabel="ETF",
                             yunits="ticker", figsize=(9, min(6.0, 1.8 + 0.45 * len(t))))
        y = np.arange(len(t))
        ax.barh(y, 100 * t["car"], color=["#1f77b4" if s in self.p["etfs"] else "#9e9e9e"
                                          for s in t["security"]])
        ax.errorbar(100 * t["car"], y, xerr=[100 * (t["car"] - t["ci_low"]),
                                             100 * (t["ci_high"] - t["car"])],
                    fmt="none", ecolor="black", capsize=3, lw=1)
        ax.set_yticks(y, [self.labels[s] for s in t["security"]])
        ax.axvline(0, color="black", lw=0.6)
        est = self.p["estimation_window"]
        add_source_line(fig, f"{source} Market model vs {self.market}; estimation "
                        f"{est[0]}:{est[1]}.", as_of=as_of)
        return fig, ax

    def describe(self) -> str:
        names = {s: self.names.get(s, s) for s in self.series}
        return describe_sectors(self.car_sell, self.car_reb, self.reversal,
                                {**names, **SECTOR_ETFS, **BROAD_ETFS}, alpha=self.p["alpha"],
                                rebound_title=f"the rebound window, {self.window_text('rebound')}"
                                f" of {self.p['rebound_event'].title},")


class FirmStudy:
    """The S&P 500 members over the selloff window: market model against the notebook's market
    proxy, per-firm CARs, the battery, sector CAARs (BMP and Kolari-Pynnönen) and the movers."""

    def __init__(self, study: SectorStudy, load_from: Any):
        from tradeshock.data.firms import load_constituents, load_firms
        from tradeshock.data.returns import wide_returns
        from tradeshock.engine.study import event_study

        self.firms = load_firms(start=load_from)
        cons = load_constituents()
        flag = [c for c in cons.columns if c.startswith("in_sp500_")][0]
        self.members_date = flag.removeprefix("in_sp500_")  # the constituents file's date
        self.members = set(cons.loc[cons[flag], "symbol"])
        frets = wide_returns(self.firms)
        self.cols = [c for c in frets.columns if c in self.members]
        self.missing = sorted(self.members - set(self.cols))
        market = study.returns[study.market].reindex(frets.index)
        est = tuple(study.p["estimation_window"])
        self.result = event_study(frets[self.cols], study.day0["selloff"], model="market",
                                  market=market, estimation=est, event=study.sell_w,
                                  car_windows=[study.sell_w])
        self.cars = car_table(self.result, study.sell_w)
        ex = self.result.excluded
        self.excluded = {str(r.security): str(r.reason) for r in ex.itertuples()}
        n_est = self.result.estimates.set_index("security")["n_obs"]
        self.short = {str(k): int(v) for k, v in n_est.items() if v < est[1] - est[0] + 1}
        self.sectors = firm_sectors(cons, self.cars["security"])
        self.names = cons.drop_duplicates("symbol").set_index("symbol")["name"]
        self.by_sector = sector_caar_tests(frets[self.cols], market, study.day0["selloff"],
                                           self.sectors, estimation=est, event=study.sell_w)
        self.study = study

    def coverage_text(self) -> str:
        """Which members were studied, and which not and why (Markdown): none dropped silently."""
        est = self.study.p["estimation_window"]
        want = est[1] - est[0] + 1
        text = (f"S&P 500 members on {self.members_date} (the constituents file): "
                f"{len(self.members)}; with prices: {len(self.cols)}; studied: "
                f"{len(self.cars)}.")
        if self.missing:
            text += f" Without prices: {', '.join(self.missing)}."
        if self.excluded:
            span = self.firms.groupby("symbol")["date"].agg(["min", "max"])
            text += " Not studied: " + ", ".join(
                f"{s} ({why.replace('_', ' ')}; prices {span.at[s, 'min']:%Y-%m-%d} to "
                f"{span.at[s, 'max']:%Y-%m-%d})" if s in span.index else
                f"{s} ({why.replace('_', ' ')})" for s, why in sorted(self.excluded.items())) + "."
        if self.short:
            text += (f" Estimated on fewer than the {want} sessions of the estimation window "
                     f"(their data start later): " + ", ".join(
                         f"{s} ({n})" for s, n in sorted(self.short.items())) + ".")
        return text

    def sector_table(self):
        from tradeshock.core.tables import Table

        t = self.by_sector.set_index("sector")
        return Table(t, caption=f"Sector CAARs of the S&P 500 members, "
                     f"{self.study.window_text('selloff')}: percent, BMP and Kolari–Pynnönen",
                     formats={"n": "int", "caar": "pct", "boehmer_stat": "num:2",
                              "boehmer_p": "p", "kolari_pynnonen_stat": "num:2",
                              "kolari_pynnonen_p": "p"},
                     labels={"n": "firms", "caar": "CAAR (%)", "boehmer_stat": "BMP stat",
                             "boehmer_p": "BMP p", "kolari_pynnonen_stat": "KP stat",
                             "kolari_pynnonen_p": "KP p"})

    def movers_tables(self, n: int):
        from tradeshock.core.tables import Table

        out = []
        for what, t in zip(("losers", "gainers"), top_movers(self.cars, n, names=self.names,
                                                              sectors=self.sectors)):
            out.append(Table(t.set_index("security"), caption=f"The {n} largest {what}: "
                             "selloff CAR in percent", formats={"car": "pct", "name": "text",
                                                                "sector": "text"},
                             labels={"car": "CAR (%)"}))
        return out

    def box_figure(self, source: str, as_of: Any):
        from tradeshock.analyses.figures import add_source_line, new_figure

        d = self.cars.assign(sector=self.cars["security"].map(self.sectors),
                             car_pct=100 * self.cars["car"])
        order = d.groupby("sector")["car_pct"].median().sort_values().index.tolist()
        fig, ax = new_figure(title=f"S&P 500 members: selloff CAR by GICS sector, "
                             f"{self.study.window_text('selloff')}",
                             xlabel="Cumulative abnormal return (percent)", ylabel="GICS sector",
                             yunits="sector", figsize=(9, 6))
        ax.boxplot([d.loc[d["sector"] == s, "car_pct"] for s in order], orientation="horizontal",
                   tick_labels=[f"{s} (n={int((d['sector'] == s).sum())})" for s in order],
                   flierprops={"markersize": 3})
        ax.axvline(0, color="black", lw=0.6)
        est = self.study.p["estimation_window"]
        add_source_line(fig, f"{source} Market model vs {self.study.market}; estimation "
                        f"{est[0]}:{est[1]}.", as_of=as_of)
        return fig, ax

    def describe(self) -> str:
        return describe_firms(self.result.car_tests, self.by_sector, alpha=self.study.p["alpha"])
