"""The one-page summary (the ``06_summary`` notebook), for any selloff and rebound event.

Every headline is computed from the parameters and the data:

* a selloff event and a rebound event of the calendar are aligned to the headline index's own
  exchange calendar (day 0 = the first session that trades after the announcement); the selloff
  runs from its day 0 to the session before the rebound's day 0 (or ``selloff_sessions``);
* day-0 abnormal returns (AR) and the selloff CAR come from a constant-mean model of the index's
  simple returns, each with the Brown and Warner (1985) t test; the sector ETFs' selloff CARs from
  a market model against the index (per-security CAR test with the estimation-error term,
  Campbell, Lo and MacKinlay 1997, eq. 4.4.19);
* sector ETFs must trade on the index's exchange calendar (refused otherwise: a market model
  needs returns of the same sessions, and day 0 differs by exchange);
* the drawdown runs from the highest close of the ``record_lookback`` sessions before the
  selloff's day 0 to the trough from day 0 up to day ``+trough_within`` (the one rule of
  :func:`tradeshock.analyses.anatomy.drawdown_table`);
* the whole-calendar headline (issue 18) pools the index's reactions to every event session of the
  calendar by direction (sessions as units) and tests "TACO" (do escalation reactions shrink
  through 2025?) with :mod:`tradeshock.analyses.sessions`, :mod:`~tradeshock.analyses.
  calendar_study` and :mod:`~tradeshock.analyses.taco`; notebook 07 has the whole study. Its
  returns are loaded apart from the preamble (:func:`calendar_returns`, from further back); their
  ``attrs`` say what and from where, for ``Setup.also_loaded`` (the provenance records the load).

Units: returns, ARs and CARs are simple returns as fractions in frames, percent in tables and
text; the TACO slope is in percentage points per 30 days.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import Any

import numpy as np
import pandas as pd

from tradeshock.analyses.anatomy import ar_paths, drawdown_table
from tradeshock.analyses.calendar_study import (
    MarketTable,
    PooledResult,
    market_table,
    pooled_study,
)
from tradeshock.analyses.contract import (
    Contract,
    Event,
    EventRef,
    Events,
    History,
    Integer,
    Symbol,
    Symbols,
    Window,
    before,
)
from tradeshock.analyses.sectors import car_table
from tradeshock.analyses.sessions import EventSessions, event_sessions
from tradeshock.analyses.taco import TacoResult, taco_test
from tradeshock.core.tables import Table, fmt_p
from tradeshock.data.universe import exchange_calendar_of
from tradeshock.engine.present import window_label
from tradeshock.engine.results import EventStudyResult
from tradeshock.engine.study import event_study
from tradeshock.errors import StudyError
from tradeshock.events import align, get_calendar

__all__ = ["PARAMETERS", "CALENDAR_SINCE", "SummaryStudy", "CalendarHeadline", "summarize",
           "calendar_headline", "calendar_returns", "describe_calendar", "timeline_span",
           "path_annotation", "sector_figure", "event_marks"]

#: First date loaded for the whole-calendar headline (as :func:`load_calendar_inputs`): enough
#: history for a 260-session estimation window before the calendar's first event.
CALENDAR_SINCE = "2023-10-02"


def _shorten(text: str, width: int) -> str:
    """``text`` cut on a word boundary to at most ``width`` characters, with an ellipsis."""
    if len(text) <= width:
        return text
    cut = text[:width - 1].rsplit(" ", 1)[0].rstrip(" ,;:(")
    return cut + "…"


def _pv(p: float) -> str:
    """``p < 0.001`` or ``p = 0.024``."""
    text = fmt_p(p)
    return f"p {text[0]} {text[1:]}" if text.startswith("<") else f"p = {text}"


def _order_problems(p: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    from tradeshock.data.universe import load_universe
    from tradeshock.events import load_events

    ev, uni = load_events(), load_universe()
    cal = exchange_calendar_of(p["index_symbol"], uni)
    s0 = align(p["selloff_event"].event_id, cal, events=ev).day0
    r0 = align(p["rebound_event"].event_id, cal, events=ev).day0
    if r0 <= s0:
        return [("rebound_event", f"= {p['rebound_event'].label} has day 0 {r0:%Y-%m-%d}, not "
                 f"after the selloff's day 0 {s0:%Y-%m-%d} on {cal}",
                 "choose a rebound event after the selloff event")]
    if p.get("selloff_sessions"):
        sess = pd.DatetimeIndex(get_calendar(cal).sessions)
        last = sess[sess.get_loc(s0) + int(p["selloff_sessions"]) - 1]
        if last >= r0:
            return [("selloff_sessions", f"= {p['selloff_sessions']} runs to {last:%Y-%m-%d}, "
                     f"into the rebound's day 0 {r0:%Y-%m-%d}", "give fewer selloff sessions")]
    if p["index_symbol"] in p["sector_etfs"]:
        return [("sector_etfs", f"list the index {p['index_symbol']!r} itself (its market-model "
                 "CAR would be zero by construction)", "drop it from sector_etfs")]
    other = [f"{s} ({exchange_calendar_of(s, uni)})" for s in p["sector_etfs"]
             if exchange_calendar_of(s, uni) != cal]
    if other:
        return [("sector_etfs", f"lists {', '.join(other)}, which trade on another exchange "
                 f"calendar than the index {p['index_symbol']!r} ({cal}); a market model against "
                 "the index needs returns of the same sessions, and day 0 differs by exchange",
                 "give sector ETFs of the index's exchange, or sector_etfs = [] (none)")]
    return []


#: What the parameters of ``notebooks/06_summary.ipynb`` must be.
PARAMETERS = Contract(
    "06_summary",
    [
        Symbol("index_symbol", help="the headline index (a traded index or ETF)", priced=True,
               exchange=True),
        Event("selloff_event", help="the event that started the selloff"),
        Event("rebound_event", help="the event of the rebound"),
        Integer("selloff_sessions", help="selloff sessions from day 0 (None: up to the "
                "rebound)", optional=True, lo=1, hi=60),
        Window("estimation_window", help="the estimation window"),
        Window("event_window", help="the event window of the CAR path"),
        Integer("record_lookback", help="sessions before day 0 searched for the high", lo=1,
                hi=2500),
        Integer("trough_within", help="sessions after day 0 to look for the trough", lo=1,
                hi=500),
        Symbols("sector_etfs", help="sector ETFs (market model against the index)", priced=True,
                min_items=0),
        Events("timeline_events", help="events marked on the timeline"),
        Window("calendar_car_window", help="the CAR window of the whole-calendar study"),
    ],
    rules=[before("estimation_window", "event_window")],
    # the CAR path (event_window) is the index's, around the selloff only; the sector ETFs need
    # the estimation window (their selloff CAR ends before the rebound's day 0)
    history=[History(("index_symbol",), ("selloff_event",), ("estimation_window", "event_window")),
             History(("index_symbol", "sector_etfs"), ("selloff_event", "rebound_event"),
                     ("estimation_window",)),
             History(("index_symbol",), ("selloff_event",), (),
                     sessions_before=("record_lookback",), sessions_after=("trough_within",))],
    checks=[_order_problems],
)


# ------------------------------------------------------------------------------ the study
@dataclass
class SummaryStudy:
    """The summary's results (see :func:`summarize`)."""

    symbol: str
    name: str
    calendar: str
    selloff: EventRef
    rebound: EventRef
    selloff_day0: pd.Timestamp
    rebound_day0: pd.Timestamp
    rebound_intraday: bool
    n_selloff: int
    raw: pd.Series
    selloff_result: EventStudyResult
    rebound_result: EventStudyResult
    path_result: EventStudyResult
    drawdown: pd.Series
    record_date: pd.Timestamp
    sectors: pd.DataFrame | None
    sector_names: dict[str, str] = field(default_factory=dict)

    def _bw(self, res: EventStudyResult, w: tuple[int, int]) -> tuple[float, float]:
        ct = res.car_tests
        r = ct[(ct["test"] == "brown_warner_1985") & (ct["window_start"] == w[0])
               & (ct["window_end"] == w[1])].iloc[0]
        return float(r["statistic"]), float(r["p_value"])

    def _car(self, res: EventStudyResult, w: tuple[int, int]) -> float:
        c = res.car.set_index(["window_start", "window_end"])["car"]
        return float(c[(w[0], w[1])])

    def headline_frame(self) -> pd.DataFrame:
        """One row per headline: ``figure``, ``value`` (percent) and ``note`` (its test)."""
        n = self.n_selloff
        sel, reb = self.selloff_result, self.rebound_result
        t0, p0 = self._bw(sel, (0, 0))
        tc, pc = self._bw(sel, (0, n - 1))
        tr, pr = self._bw(reb, (0, 0))
        dd = self.drawdown
        when = " (announced intraday)" if self.rebound_intraday else ""
        rows = [
            (f"Return on day 0 of {self.selloff.label}, {self.selloff_day0:%Y-%m-%d}",
             100 * self.raw.get(self.selloff_day0, np.nan),
             f"AR {100 * self._car(sel, (0, 0)):.2f}%, t = {t0:.2f}, {_pv(p0)}"),
            (f"CAR over the selloff, {n} session{'s' if n != 1 else ''} from "
             f"{self.selloff_day0:%Y-%m-%d}", 100 * self._car(sel, (0, n - 1)),
             f"t = {tc:.2f}, {_pv(pc)}"),
            (f"Return on day 0 of {self.rebound.label}, {self.rebound_day0:%Y-%m-%d}{when}",
             100 * self.raw.get(self.rebound_day0, np.nan),
             f"AR {100 * self._car(reb, (0, 0)):.2f}%, t = {tr:.2f}, {_pv(pr)}"),
        ]
        if pd.isna(dd["trough date"]):
            rows.append((f"Drawdown from the {self.record_date:%-d %b %Y} high", np.nan,
                         str(dd["note"])))
        else:
            regained = dd["regained reference"]
            rows.append((f"Drawdown from the {self.record_date:%-d %b %Y} high (highest close of "
                         f"the look-back) to the {dd['trough date']:%Y-%m-%d} low",
                         dd["drawdown (%)"],
                         f"high regained on {regained:%Y-%m-%d}" if pd.notna(regained) else
                         f"high not regained by {dd['data end']:%Y-%m-%d}"))
        return pd.DataFrame(rows, columns=["figure", "value", "note"]).set_index("figure")

    def headline_table(self) -> Table:
        return Table(self.headline_frame(), caption=f"Headline figures, {self.name}: percent",
                     formats={"value": "num:2", "note": "text"},
                     labels={"value": "value (%)", "note": "test / note"},
                     notes=["AR: constant-mean model; t: Brown–Warner (1985) test against the "
                            "index's estimation-window volatility; two-sided p."])

    def path_title(self, width: int = 70) -> str:
        """Title of the CAR-path figure on two lines: the index, then the event's title cut on a
        word boundary to ``width`` characters (a one-line title ran past the figure)."""
        return (f"{self.name}: cumulative abnormal return around day 0 of\n"
                f"{_shorten(self.selloff.title, width)}")

    def paths(self) -> pd.DataFrame:
        return ar_paths(self.path_result)

    def sector_line(self) -> str:
        if self.sectors is None or self.sectors.empty:
            return "No sector ETF was studied."
        if len(self.sectors) == 1:
            one = self.sectors.iloc[0]
            return (f"One sector ETF: {one['security']} {100 * one['car']:.2f}% "
                    f"({_pv(one['p'])}).")
        lo, hi = self.sectors.iloc[0], self.sectors.iloc[-1]
        return (f"Lowest: {lo['security']} {100 * lo['car']:.2f}% ({_pv(lo['p'])}); "
                f"highest: {hi['security']} {100 * hi['car']:.2f}% ({_pv(hi['p'])}).")


def summarize(p: Mapping[str, Any], returns: pd.DataFrame, levels: pd.DataFrame,
              names: Mapping[str, str], events: pd.DataFrame,
              universe: pd.DataFrame) -> SummaryStudy:
    """The summary's studies from checked parameters ``p`` (see the module docstring)."""
    sym = p["index_symbol"]
    cal = exchange_calendar_of(sym, universe)
    sess = pd.DatetimeIndex(get_calendar(cal).sessions)
    a0 = align(p["selloff_event"].event_id, cal, events=events)
    a1 = align(p["rebound_event"].event_id, cal, events=events)
    pos0 = int(sess.get_loc(a0.day0))
    n = int(p["selloff_sessions"] or (int(sess.get_loc(a1.day0)) - pos0))
    r = returns[sym].dropna()
    if a0.day0 not in r.index or a1.day0 not in r.index:
        raise StudyError(f"{names.get(sym, sym)} has no return on day 0 of the selloff "
                         f"({a0.day0:%Y-%m-%d}) or the rebound ({a1.day0:%Y-%m-%d}). Fix: choose "
                         "an index that traded on both days.")
    est, ew = p["estimation_window"], p["event_window"]
    frame = r.to_frame(sym)
    sel = event_study(frame, a0.day0, model="mean", estimation=est, event=(0, n - 1),
                      car_windows=[(0, 0), (0, n - 1)])
    reb = event_study(frame, a1.day0, model="mean", estimation=est, event=(0, 0))
    path = event_study(frame, a0.day0, model="mean", estimation=est, event=ew)
    lv = levels[sym].dropna()
    look = lv.loc[sess[pos0 - int(p["record_lookback"])]:sess[pos0 - 1]]
    record = look.idxmax()
    dd = drawdown_table(lv.to_frame(sym), record, sess[pos0 + int(p["trough_within"])],
                        trough_from=a0.day0).iloc[0]  # the low after the event, not before it
    sectors = None
    if p["sector_etfs"]:
        res = event_study(returns[list(p["sector_etfs"])], a0.day0, model="market", market=r,
                          estimation=est, event=(0, n - 1))
        sectors = car_table(res)
    return SummaryStudy(sym, names.get(sym, sym), cal, p["selloff_event"], p["rebound_event"],
                        a0.day0, a1.day0, a1.intraday, n, r, sel, reb, path, dd, record, sectors,
                        {s: names.get(s, s) for s in p["sector_etfs"]})


def path_annotation(study: SummaryStudy) -> tuple[int, float, str] | None:
    """(event day, CAR in percent, label) of the rebound's day 0 on the CAR path, or None when
    the rebound falls outside the event window."""
    sess = pd.DatetimeIndex(get_calendar(study.calendar).sessions)
    day = int(sess.get_loc(study.rebound_day0)) - int(sess.get_loc(study.selloff_day0))
    pth = study.paths().set_index("day")
    if day not in pth.index:
        return None
    return day, 100 * float(pth.loc[day, "car"]), \
        f"{_shorten(study.rebound.title, 40)} ({study.rebound_day0:%-d %b})"


def timeline_span(study: SummaryStudy, marks: Sequence[tuple], months: int = 1):
    """First and last date of the timeline: ``months`` around the high and the events marked."""
    days = [pd.Timestamp(m[0]) for m in marks] + [study.record_date, study.selloff_day0]
    off = pd.DateOffset(months=months)
    return min(days) - off, max(days) + off


def sector_figure(study: SummaryStudy):
    """Sector ETFs' selloff CAR against the index (percent) with 95% intervals, sorted."""
    from tradeshock.analyses.figures import new_figure

    tab = study.sectors
    n = study.n_selloff
    fig, ax = new_figure(title=f"Sector ETFs: selloff CAR vs the {study.name}, {n} session"
                         f"{'s' if n != 1 else ''} from {study.selloff_day0:%Y-%m-%d}",
                         xlabel="Cumulative abnormal return", ylabel="Sector ETF",
                         yunits="ticker", xunits="percent")
    y = np.arange(len(tab))
    ax.barh(y, 100 * tab["car"], xerr=[100 * (tab["car"] - tab["ci_low"]),
                                       100 * (tab["ci_high"] - tab["car"])], capsize=3)
    ax.set_yticks(y, [f"{s} {study.sector_names.get(s, s)}" for s in tab["security"]])
    ax.axvline(0, color="black", lw=0.6)
    return fig, ax


def event_marks(events: Sequence[EventRef]) -> list[tuple[pd.Timestamp, str, str]]:
    """(date, kind, title) of each event (announcement dates), for the timeline."""
    return [(e.date, e.kind, e.title) for e in events]


# ------------------------------------------------------------------------------ whole calendar
@dataclass
class CalendarHeadline:
    """The whole-calendar study of one index, reduced to its headline."""

    symbol: str
    name: str
    sessions: EventSessions
    table: MarketTable
    pooled: PooledResult
    taco: TacoResult | None
    note: str = ""

    def frame(self) -> pd.DataFrame:
        """Mean reaction per direction (percent) with its CI and tests, and the TACO slope."""
        rows = []
        lvl = int(round(100 * self.pooled.settings["level"]))
        cw = window_label(*self.pooled.settings["car_window"])
        for d, measure in product(("escalation", "de-escalation"), ("ar_reaction", "car")):
            what = "mean reaction" if measure == "ar_reaction" else f"mean CAR {cw}"
            if not self.pooled.has(d, series=self.symbol, measure=measure):
                rows.append({"figure": f"{what}, {d}-like sessions", "n": 0, "value": np.nan,
                             "note": f"no {d}-like session"})
                continue
            r = self.pooled.get(d, series=self.symbol, measure=measure)
            rows.append({"figure": f"{what}, {d}-like sessions", "n": int(r["n"]),
                         "value": 100 * r["mean"],
                         "note": (f"{lvl}% CI {100 * r['ci_low']:+.2f} to "
                                  f"{100 * r['ci_high']:+.2f}; t-test {_pv(r['p_t'])}; "
                                  f"sign test {_pv(r['p_sign'])}")
                         if r["n"] >= 2 else "too few sessions to test"})
        if self.taco is not None:
            t = self.taco.get(self.symbol, "signed", "days")
            rows.append({"figure": "TACO: change of the escalation reaction per 30 days (pp)",
                         "n": int(t["n"]), "value": 100 * t["slope"],
                         "note": (f"{lvl}% CI {100 * t['ci_low']:+.3f} to "
                                  f"{100 * t['ci_high']:+.3f}; HC3 {_pv(t['p'])}")
                         if np.isfinite(t["slope"]) else "too few sessions for a slope"})
        return pd.DataFrame(rows).set_index("figure")

    def as_table(self) -> Table:
        return Table(self.frame(), caption=f"The whole tariff calendar, {self.name}: reaction "
                     "per event session, percent", formats={"n": "int", "value": "num:2",
                                                            "note": "text"},
                     labels={"n": "sessions", "value": "value (%)", "note": "interval / tests"},
                     notes=["Sessions are the units: events sharing a day 0 are one session. "
                            "The reaction is the AR of the session's reaction window (day 0, or "
                            "the two sessions of an untimed event); constant-mean model."])


def calendar_returns(symbol: str, calendar: str, estimation: tuple[int, int] = (-260, -11),
                     events: pd.DataFrame | None = None) -> pd.Series:
    """The index's simple returns (fractions) on ``calendar``'s sessions, from early enough for
    ``estimation`` before the calendar's first event (never later than :data:`CALENDAR_SINCE`),
    through :func:`tradeshock.analyses.calendar_study.load_calendar_inputs` (same data source as
    the rest of the report)."""
    from tradeshock.analyses.calendar_study import load_calendar_inputs
    from tradeshock.events import load_events

    ev = load_events() if events is None else events
    sess = pd.DatetimeIndex(get_calendar(calendar).sessions)
    before = sess[sess < pd.Timestamp(ev["date"].min())]
    need = before[max(0, len(before) + int(estimation[0]) - 10)] if len(before) else sess[0]
    start = min(need, pd.Timestamp(CALENDAR_SINCE))
    inp = load_calendar_inputs([symbol], raw_series={}, proxy=None,
                               start=f"{start:%Y-%m-%d}", calendar=calendar)
    out = inp.returns[symbol]
    # what a report records about this load (it is not the preamble's): Setup.also_loaded
    name = inp.names.get(symbol, symbol) if isinstance(inp.names, Mapping) else symbol
    out.attrs.update(what=f"whole-calendar returns of {name} ({calendar} sessions)",
                     source=str(inp.source).removeprefix("Market data: "))
    return out


def calendar_headline(returns: pd.Series, symbol: str, name: str, calendar: str,
                      events: pd.DataFrame, estimation: tuple[int, int],
                      car_window: tuple[int, int]) -> CalendarHeadline:
    """Every event session of the calendar for one index: pooled by direction, TACO tested.

    ``returns``: the index's simple returns (fractions) on its own sessions, from early enough
    for ``estimation`` before the calendar's first event (:data:`CALENDAR_SINCE`).
    """
    sess = event_sessions(events, calendar)
    r = returns.dropna()
    r = r[r.index.isin(pd.DatetimeIndex(get_calendar(calendar).sessions))].to_frame(symbol)
    table = market_table(r, sess, markets=[symbol], model="mean", estimation=estimation,
                         car_window=car_window, names={symbol: name})
    pooled = pooled_study(table, markets=[symbol], variants=("all",))
    try:
        taco = taco_test(table, markets=[symbol])
    except StudyError as exc:
        return CalendarHeadline(symbol, name, sess, table, pooled, None, str(exc))
    return CalendarHeadline(symbol, name, sess, table, pooled, taco)


def describe_calendar(h: CalendarHeadline, alpha: float = 0.05) -> str:
    """One paragraph: the calendar's sessions, the pooled reactions and the TACO verdict."""
    s = h.sessions.sessions
    c = h.sessions.counts()
    counts = ", ".join(f"{v} {k}" for k, v in c.items() if v)
    text = (f"The whole calendar: {h.sessions.settings['n_events']} events fall on {len(s)} "
            f"event sessions of {h.sessions.calendar} ({counts}).")
    parts = []
    for d in ("escalation", "de-escalation"):
        if not h.pooled.has(d, series=h.symbol):
            parts.append(f"there is no {d}-like session")
            continue
        r = h.pooled.get(d, series=h.symbol)
        if r["n"] < 2:
            parts.append(f"only {int(r['n'])} {d}-like session ({100 * r['mean']:+.2f}%), too "
                         "few to test")
            continue
        sig = "different from zero" if r["p_t"] < alpha else "not distinguishable from zero"
        parts.append(f"on the {int(r['n'])} {d}-like sessions it averaged "
                     f"{100 * r['mean']:+.2f}% (t-test {_pv(r['p_t'])}, {sig} at "
                     f"{100 * alpha:g}%)")
    text += f" The {h.name}'s reaction: " + "; ".join(parts) + "."
    lost = len(h.table.not_covered) + len(h.table.excluded)
    if lost:
        text += (f" {lost} session{'s' if lost != 1 else ''} could not be studied (no data for "
                 "the windows; listed in the study's excluded and not-covered tables).")
    if h.taco is None:
        return text + f" TACO was not tested: {h.note}"
    t = h.taco.get(h.symbol, "signed", "days")
    if not np.isfinite(t["slope"]):
        return text + (f" TACO cannot be tested: {int(t['n'])} escalation-like sessions are "
                       "too few for a slope.")
    if t["p"] < alpha:
        verdict = ("supports the claim that escalations hurt less as the year went on"
                   if t["slope"] > 0 else "contradicts the claim: escalations hurt more later")
    else:
        verdict = ("neither confirms nor refutes the claim that escalations hurt less as the "
                   f"year went on (only a slope of about {100 * t['mds']:.2f} pp per 30 days "
                   f"would be detected with {100 * h.taco.settings['power']:.0f}% power)")
    return text + (f" TACO, tested: the escalation reaction changed by {100 * t['slope']:+.3f} "
                   f"pp per 30 days (HC3 {_pv(t['p'])}), which {verdict}. Notebook 07 has "
                   "the whole study.")
