"""Equity indices of one market around tariff events: returns, AR/CAR, tests, drawdown
(the ``02_us_indices`` notebook).

* **Event study.** Each studied event is aligned to the exchange calendar the indices share (day
  0 is the first session that trades after the announcement; an announcement inside the session
  makes that session day 0, whose return only partly reflects it). Abnormal returns (AR) and
  cumulative abnormal returns (CAR) come from :func:`tradeshock.engine.study.event_study` with the
  model of the parameters (constant mean by default: the natural benchmark for a market-wide
  shock); the CAAR tests are the engine's battery (Brown and Warner 1985; Boehmer, Musumeci and
  Poulsen 1991; Kolari and Pynnönen 2010; Corrado 1989, ...). Bands of the paths are 95%
  intervals of the per-security CAR test with the estimation error (Campbell, Lo and MacKinlay
  1997, eq. 4.4.19).
* **Drawdown.** From a reference close (the highest close of the first series in
  ``peak_window`` sessions before the sell-off event's day 0, or the last session on or before
  ``record_date`` when that override is given) to each series' lowest close up to
  ``trough_sessions`` sessions after day 0 (:func:`tradeshock.analyses.anatomy.drawdown_table`),
  and the first close back at the pre-shock close (the last session before day 0) and at the
  reference.

Units: returns, AR and CAR are simple returns as fractions in frames, percent in tables, text and
figures; levels in the series' own units; drawdowns in percent of the reference close.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tradeshock.analyses.anatomy import ar_paths, drawdown_table
from tradeshock.analyses.contract import (
    Choice, Contract, Date, Event, EventRef, Events, History, Integer, Symbol, Symbols, Window,
    Windows, before, inside,
)
from tradeshock.analyses.figures import plot_levels, plot_paths
from tradeshock.analyses.overlap import shared_day0_lines
from tradeshock.analyses.timing import timing_text
from tradeshock.core.tables import Table
from tradeshock.core.windows import parse_window
from tradeshock.engine import present
from tradeshock.engine.present import window_label
from tradeshock.engine.results import EventStudyResult
from tradeshock.engine.study import event_study
from tradeshock.errors import StudyError, TradeshockError, ValidationError
from tradeshock.events.align import Alignment, align, event_window

__all__ = ["PARAMETERS", "IndexStudy", "Drawdown", "study_indices", "daily_table", "daily_spans",
           "drawdown", "plot_paths_of", "plot_rebased", "test_tables", "describe",
           "explore_car", "explore_panel", "PATHS"]

MODELS = ("mean", "market_adjusted", "market")
#: The fewest estimation-window sessions a study may ask for: the engine's default
#: ``min_estimation_obs`` of :func:`~tradeshock.engine.study.event_study` (a shorter window
#: could only give a report without results, so the contract refuses it before any work).
MIN_ESTIMATION_SESSIONS = 30


def _calendars(values: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """All studied series trade on one exchange calendar (event time is counted on it)."""
    from tradeshock.data.universe import load_universe

    uni = load_universe().set_index("symbol")
    cals = {s: uni.at[s, "exchange_calendar"] for s in values["symbols"]}
    if len(set(cals.values())) > 1:
        return [("symbols", "trade on different exchange calendars (" + ", ".join(
            f"{s} {c}" for s, c in cals.items()) + ")", "study series of one market together "
            "(a country_report per market compares markets)")]
    return []


def _market_needed(values: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    if values["model"] != "mean" and values.get("market_symbol") is None:
        return [("market_symbol", f"is None, but model {values['model']!r} needs a market proxy",
                 "give a market series, e.g. 'ACWI', or use model 'mean'")]
    if values["model"] != "mean":
        from tradeshock.data.universe import load_universe

        uni = load_universe().set_index("symbol")
        m, first = values["market_symbol"], values["symbols"][0]
        mcal, cal = uni.at[m, "exchange_calendar"], uni.at[first, "exchange_calendar"]
        if mcal != cal:
            return [("market_symbol", f"= {m!r} trades on {mcal or 'no exchange calendar'}, the "
                     f"studied series on {cal}: their returns of one date close at different "
                     "hours, so the abnormal return would mix two reactions",
                     f"use a market proxy of the {cal} calendar, or model 'mean'")]
    if values["model"] != "mean" and values["market_symbol"] in values["symbols"]:
        return [("market_symbol", f"= {values['market_symbol']!r} is also in symbols: under "
                 f"model {values['model']!r} its abnormal return would be zero by construction",
                 "use a market proxy that is not studied (e.g. 'ACWI'), or drop it from symbols")]
    return []


def _peak_before_day0(values: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    a, b = values["peak_window"]
    out = []
    if b >= 0:
        out.append(("peak_window", f"= {a}:{b} does not end before day 0",
                    "search for the reference close before the sell-off, e.g. -60:-1"))
    rec, ev = values.get("record_date"), values["selloff_event"]
    if rec is not None and rec >= ev.date:
        out.append(("record_date", f"= {rec:%Y-%m-%d} is not before the sell-off event "
                    f"{ev.label}", "give a pre-shock date before the event, or None"))
    return out


#: What the parameters of ``notebooks/02_us_indices.ipynb`` must be.
PARAMETERS = Contract(
    "02_us_indices",
    [
        Symbols("symbols", help="indices or ETFs of one market (data/universe.csv)", priced=True,
                exchange=True),
        Symbol("vix_symbol", help="a series shown as its level beside the returns (or None)",
               optional=True),
        Events("events_studied", help="event ids or short names"),
        Choice("model", help="the normal-return model", choices=MODELS),
        Symbol("market_symbol", help="the market proxy of the market models (None: no market "
               "model)", priced=True, optional=True),
        Window("estimation_window", help="the estimation window",
               min_length=MIN_ESTIMATION_SESSIONS),
        Window("event_window", help="the event window"),
        Windows("car_windows", help="CAR windows inside the event window"),
        Window("daily_window", help="sessions around the first and last event in the daily "
               "table"),
        Event("selloff_event", help="the event whose sell-off the drawdown measures"),
        Window("peak_window", help="sessions before the sell-off's day 0 searched for the "
               "reference close"),
        Date("record_date", help="an override of the reference close's date", optional=True),
        Integer("trough_sessions", help="sessions after day 0 searched for the trough", lo=1,
                hi=500),
    ],
    rules=[before("estimation_window", "event_window"), inside("car_windows", "event_window")],
    history=[
        History(("symbols", "market_symbol"), ("events_studied",),
                ("estimation_window", "event_window", "daily_window")),
        History(("vix_symbol",), ("events_studied",), ("daily_window",)),
        History(("symbols",), ("selloff_event",), ("peak_window",), dates=("record_date",),
                sessions_after=("trough_sessions",)),
    ],
    checks=[_calendars, _market_needed, _peak_before_day0],
)

#: The two paths drawn per event: column of :func:`~tradeshock.analyses.anatomy.ar_paths` and
#: what it is.
PATHS = (("ar", "Abnormal return"), ("car", "Cumulative abnormal return"))


# ------------------------------------------------------------------------------------ study
@dataclass
class IndexStudy:
    """One event study per studied event over the same series, on one exchange calendar."""

    symbols: list[str]
    names: dict[str, str]
    calendar: str
    model: str
    estimation: tuple[int, int]
    car_windows: list[tuple[int, int]]
    events: dict[str, EventRef]
    alignments: dict[str, Alignment]
    results: dict[str, EventStudyResult] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    #: Symbol of the market proxy of the market models (None under the constant mean).
    market: str | None = None

    def model_text(self) -> str:
        """The normal-return model as a reader needs it: ``market`` names its proxy."""
        if self.market is None:
            return f"model {self.model}"
        return (f"model {self.model} against {self.names.get(self.market, self.market)} "
                f"({self.market})")

    def day0_table(self) -> Table:
        """Day 0 of each event on the calendar, its timing, whether the time was known."""
        rows = [{"event": self.events[e].label, "day0": a.day0,
                 "timing": timing_text(a),
                 "time known": "no (end of day assumed)" if a.untimed else "yes",
                 "note": self.notes.get(e, "")} for e, a in self.alignments.items()]
        return Table(pd.DataFrame(rows).set_index("event"),
                     caption=f"Day 0 of each event ({self.calendar} sessions)",
                     formats={"day0": "date"}, labels={"day0": f"day 0 ({self.calendar})"},
                     notes=["Day 0 is the first session that trades after the announcement; "
                            "'intraday': announced during that session, so its return only "
                            "partly reflects the news."]
                     + ([f"Normal returns: {self.model_text()}."] if self.market else []))

    def caar_frame(self) -> pd.DataFrame:
        """One row per (event, CAR window): CAAR (fraction), the p-values of the Brown-Warner
        (1985) t, the cross-sectional t and the Kolari-Pynnönen test, and the number of series."""
        rows = []
        for e, res in self.results.items():
            ct = res.car_tests
            for a, b in self.car_windows:
                w = ct[(ct["window_start"] == a) & (ct["window_end"] == b)].set_index("test")
                rows.append({"event_id": e, "window": (a, b), "caar": float(w["caar"].iloc[0]),
                             "p_bw": _get(w, "brown_warner_1985"), "p_t": _get(w, "t_test"),
                             "p_kp": _get(w, "kolari_pynnonen"),
                             "n": int(w["n"].iloc[0])})
        return pd.DataFrame(rows)


def _get(frame: pd.DataFrame, test: str) -> float:
    return float(frame.at[test, "p_value"]) if test in frame.index else float("nan")


def study_indices(returns: pd.DataFrame, symbols: Sequence[str], names: Mapping[str, str],
                  calendar: str, events: Sequence[EventRef], *, model: str,
                  estimation: tuple[int, int], event: tuple[int, int],
                  car_windows: Sequence[tuple[int, int]], market: pd.Series | None = None,
                  calendar_frame: pd.DataFrame | None = None) -> IndexStudy:
    """Study each event over ``symbols`` (columns of ``returns``: simple returns, fractions, on
    each series' own sessions) with day 0 on ``calendar``. An event on whose day 0 no series has
    a return, or whose windows the data cannot fill, gets a note instead of a result; series
    excluded from an event's study are named in its note."""
    out = IndexStudy(list(symbols), dict(names), calendar, model, tuple(estimation),
                     [tuple(w) for w in car_windows], {e.event_id: e for e in events},
                     {e.event_id: align(e.event_id, calendar, events=calendar_frame)
                      for e in events})
    if model != "mean" and market is not None:
        out.market = str(market.name)
    rets = returns[list(symbols)].dropna(how="all")
    for e, al in out.alignments.items():
        if al.day0 not in rets.index or rets.loc[al.day0].isna().all():
            out.notes[e] = (f"no return on day 0 ({al.day0:%Y-%m-%d}): no series traded or the "
                            "data have no close that day")
            continue
        kw: dict[str, Any] = {"model": model, "estimation": estimation, "event": event,
                              "car_windows": list(out.car_windows)}
        if model != "mean":
            kw["market"] = market
        try:
            res = event_study(rets, al.day0, **kw)
        except StudyError as exc:
            out.notes[e] = str(exc).split(" Fix:")[0]
            continue
        if len(res.excluded):
            out.notes[e] = "excluded: " + "; ".join(
                f"{names.get(s, s)} ({r})" for s, r in zip(res.excluded["security"],
                                                         res.excluded["reason"]))
        if res.n_securities:
            out.results[e] = res
    return out


def daily_table(returns: pd.DataFrame, levels: pd.DataFrame, study: IndexStudy,
                window: tuple[int, int], level_symbol: str | None = None) -> Table:
    """Daily simple returns (percent) of the studied series from day ``window[0]`` of the first
    event to day ``window[1]`` of the last (sessions of the study's calendar), with the closing
    level of ``level_symbol`` (e.g. the VIX) beside them."""
    blocks = daily_spans(study, window)
    first, last = blocks[0][0], blocks[-1][1]
    frame = pd.concat([returns.loc[a:b, study.symbols] for a, b in blocks]).dropna(how="all")
    frame = frame.rename(columns=study.names)
    formats = {study.names[s]: "pct" for s in study.symbols}
    if level_symbol is not None:
        col = f"{study.names.get(level_symbol, level_symbol)} (level)"
        frame[col] = levels[level_symbol].reindex(frame.index)
        formats[col] = "num:2"
    frame.index.name = "date"
    span = (f"from {first:%-d %b} to {last:%-d %b %Y}" if len(blocks) == 1 else
            f"{window_label(*window)} around each event ("
            + ", ".join(f"{a:%-d %b %Y}" if a == b else f"{a:%-d %b %Y}–{b:%-d %b %Y}"
                        for a, b in blocks) + ")")
    return Table(frame, caption=f"Daily returns {span}, percent"
                 + (f"; {study.names.get(level_symbol, level_symbol)} as its closing level"
                    if level_symbol else ""), formats=formats,
                 notes=["Close-to-close simple returns on each series' own sessions; a dash: "
                        "no close that day."])


#: Blocks of the daily table closer than this many sessions are shown as one span.
DAILY_MERGE_SESSIONS = 5


def daily_spans(study: IndexStudy, window: tuple[int, int]) -> list[tuple[pd.Timestamp,
                                                                          pd.Timestamp]]:
    """The (first, last) sessions of the daily table: day ``window[0]`` to ``window[1]`` around
    each event's day 0 on the study's calendar, in date order; spans that overlap or lie fewer
    than :data:`DAILY_MERGE_SESSIONS` sessions apart are joined into one (so events a week apart
    show every session between them, events months apart do not fill the table with the months
    between)."""
    from tradeshock.data.calendars import get_calendar

    sessions = pd.DatetimeIndex(get_calendar(study.calendar).sessions)
    spans = sorted((event_window(a, study.calendar, (window[0], window[0]))["session"].iloc[0],
                    event_window(a, study.calendar, (window[1], window[1]))["session"].iloc[0])
                   for a in study.alignments.values())
    out = [spans[0]]
    for a, b in spans[1:]:
        prev_a, prev_b = out[-1]
        if sessions.get_loc(a) - sessions.get_loc(prev_b) <= DAILY_MERGE_SESSIONS:
            out[-1] = (prev_a, max(prev_b, b))
        else:
            out.append((a, b))
    return out


def test_tables(study: IndexStudy, event_id: str) -> list[Table]:
    """The AAR by event day with key daily tests, then the battery of each CAR window (test x
    statistic, p-value), captions naming the event."""
    res, label = study.results[event_id], study.events[event_id].label
    tables = [present.daily_table(res)] + [present.battery_table(res, w)
                                           for w in study.car_windows]
    return [dataclasses.replace(t, caption=f"{label}: {t.caption}") for t in tables]


def plot_paths_of(study: IndexStudy, event_id: str, column: str, what: str) -> tuple:
    """AR (``column="ar"``) or CAR paths of every series around one event, with 95% bands."""
    paths = ar_paths(study.results[event_id])
    per = {s: g for s, g in paths.groupby("security", sort=False)}
    return plot_paths(per, column, title=f"{what}s around: {study.events[event_id].title}",
                      xlabel=f"Trading day relative to day 0 ({study.calendar})", ylabel=what,
                      label_of=study.names)


# ------------------------------------------------------------------------------------ drawdown
@dataclass
class Drawdown:
    """The drawdown table and how its reference was chosen."""

    table: pd.DataFrame
    lead: str
    reference: pd.Timestamp
    pre_shock: pd.Timestamp
    trough_by: pd.Timestamp
    event: EventRef
    day0: pd.Timestamp
    how: str
    names: dict[str, str]

    def as_table(self) -> Table:
        """Drawdown (percent) and the dates each series regained its closes."""
        t = self.table
        cols = ["reference close", "trough date", "trough close", "drawdown (%)",
                "regained pre-shock close", "regained reference", "data end", "note"]
        frame = t[cols].rename(index=self.names).copy()
        frame["drawdown (%)"] = frame["drawdown (%)"] / 100.0
        return Table(frame, caption=f"Drawdown from the reference close of "
                     f"{self.reference:%-d %b %Y} to the low from day 0 ({self.day0:%-d %b}) to "
                     f"{self.trough_by:%-d %b %Y}",
                     formats={"reference close": "num:2", "trough date": "date",
                              "trough close": "num:2", "drawdown (%)": "pct",
                              "regained pre-shock close": "date", "regained reference": "date",
                              "data end": "date", "note": "text"},
                     labels={"regained pre-shock close":
                             f"regained {self.pre_shock:%-d %b} close"},
                     notes=[f"Reference: {self.how}. Drawdown = trough close / reference close "
                            "- 1, percent. The pre-shock close is the last close before day 0 of "
                            f"{self.event.label} ({self.pre_shock:%Y-%m-%d}); a dash: not "
                            "regained within the data."])


def drawdown(levels: pd.DataFrame, symbols: Sequence[str], names: Mapping[str, str],
             calendar: str, selloff: EventRef, peak_window: tuple[int, int],
             trough_sessions: int, record_date: pd.Timestamp | None = None, *,
             calendar_frame: pd.DataFrame | None = None) -> Drawdown:
    """The drawdown of ``symbols`` around the sell-off event (see the module docstring).

    ``record_date`` on a weekend or holiday is read as the last session on or before it (said
    in ``how``); one before the first close of the lead series raises ValidationError.
    """
    al = align(selloff.event_id, calendar, events=calendar_frame)
    lead = symbols[0]
    s = levels[lead].dropna()
    pre_shock = event_window(al, calendar, (-1, -1))["session"].iloc[0]
    if record_date is not None:
        before_ = s.loc[:record_date]
        if before_.empty:
            raise ValidationError(f"record_date {record_date:%Y-%m-%d} is before the first close "
                                  f"of {names.get(lead, lead)} ({s.index[0]:%Y-%m-%d}). Fix: "
                                  "give a later date, or None to use peak_window.")
        ref = before_.index[-1]
        how = (f"the close of {ref:%-d %b %Y} (record_date)" if ref == record_date else
               f"record_date {record_date:%Y-%m-%d} is not a session; the last close on or "
               f"before it, {ref:%-d %b %Y}, is used")
    else:
        a, b = peak_window
        span = s.loc[event_window(al, calendar, (a, a))["session"].iloc[0]:
                     event_window(al, calendar, (b, b))["session"].iloc[0]]
        if span.empty:
            raise ValidationError(f"{names.get(lead, lead)} has no close in peak_window {a}:{b} "
                                  f"before {selloff.label}. Fix: widen peak_window.")
        ref = span.idxmax()
        how = (f"the highest close of the {names.get(lead, lead)} in the {b - a + 1} sessions "
               f"before day 0 of {selloff.title} ({window_label(a, b)}), on {ref:%-d %b %Y}")
    trough_by = event_window(al, calendar, (trough_sessions, trough_sessions))["session"].iloc[0]
    # the low is searched from day 0 on: closes between the reference and day 0 are left out
    lv = levels[list(symbols)].copy()
    lv.loc[(lv.index > ref) & (lv.index < al.day0)] = float("nan")
    table = drawdown_table(lv, ref, trough_by)
    table.insert(table.columns.get_loc("regained reference") + 1, "regained pre-shock close",
                 [_regained(levels[sym].dropna(), pre_shock, table.at[sym, "trough date"])
                  for sym in table.index])
    return Drawdown(table, lead, ref, pre_shock, trough_by, selloff, al.day0, how, dict(names))


def _regained(s: pd.Series, when: pd.Timestamp, trough: pd.Timestamp) -> pd.Timestamp:
    """First date after ``trough`` with a close at or above the close of ``when`` (NaT: none,
    or no close on ``when`` or no trough)."""
    if pd.isna(trough) or when not in s.index:
        return pd.NaT
    after = s.loc[trough:]
    hit = after.index[after >= float(s[when])]
    return hit[0] if len(hit) else pd.NaT


def plot_rebased(levels: pd.DataFrame, dd: Drawdown, marks: Sequence[tuple]) -> tuple:
    """Each series rebased to 100 at the reference close, on its own dates, from the reference
    to one month after the last series regained it (or its data end), events marked."""
    regained = pd.to_datetime(dd.table["regained reference"]).dropna()
    last = max([dd.trough_by] + list(regained))
    end = min(last + pd.DateOffset(months=1), pd.to_datetime(dd.table["data end"]).max())
    return plot_levels(levels[list(dd.table.index)], title=f"Rebased to 100 at the close of "
                       f"{dd.reference:%-d %B %Y}, through {end:%-d %B %Y}",
                       ylabel=f"Level, {dd.reference:%-d %b %Y} = 100", yunits="index",
                       names=dd.names, start=dd.reference, end=end, rebase=dd.reference,
                       events=list(marks))


def event_marks(events: Sequence[EventRef]) -> list[tuple[pd.Timestamp, str, str]]:
    """(announcement date, kind, title) of each event, once, for the charts."""
    seen = {e.event_id: e for e in events}
    return [(e.date, e.kind, e.title) for e in seen.values()]


# ------------------------------------------------------------------------------------ narrative
def _p(p: float) -> str:
    if p != p:
        return "p n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _event_sentence(study: IndexStudy, e: str, ref: EventRef) -> str:
    al = study.alignments[e]
    if e not in study.results:
        return f"- {ref.label}: not studied ({study.notes.get(e, 'no result')})."
    res = study.results[e]
    cf = study.caar_frame()
    cf = cf[cf["event_id"] == e]
    ar0 = res.abnormal_returns[res.abnormal_returns["day"] == 0].set_index("security")["ar"]
    worst = ar0.idxmin() if (ar0 < 0).sum() >= (ar0 > 0).sum() else ar0.idxmax()
    n = res.n_securities
    parts = [f"CAAR {100 * r.caar:+.2f}% over {window_label(*r.window)} ("
             + "; ".join(f"{what} {_p(pv)}" for what, pv in (
                 ("Brown–Warner", r.p_bw), ("cross-sectional t", r.p_t),
                 ("Kolari–Pynnönen", r.p_kp)) if pv == pv) + ")" for r in cf.itertuples()]
    one = res.securities[0]
    who = f"average over the {n} series" if n > 1 else f"for the {study.names.get(one, one)}"
    text = (f"- **{ref.label}**, day 0 {al.day0:%-d %b %Y} on {study.calendar}"
            + _intraday_note(al) + f": {who}, " + "; ".join(parts) + "."
            + (f" The largest day-0 move: {study.names.get(worst, worst)} "
               f"{100 * ar0[worst]:+.2f}% (abnormal)." if n > 1 else ""))
    if study.notes.get(e):
        text += f" Note: {study.notes[e]}."
    return text


def _intraday_note(al: Alignment) -> str:
    """Why day 0 may only partly reflect the news: announced in the session, or (untimed) placed
    at the end of its local day, which fell in the session."""
    if not al.intraday:
        return ""
    if al.untimed:
        return (" (no time of day known: placed at the end of its local day, which falls in the "
                "session, so day 0 may only partly reflect it)")
    return " (announced during the session, so day 0 only partly reflects it)"


def _drawdown_sentence(dd: Drawdown) -> str:
    t = dd.table.dropna(subset=["drawdown (%)"])
    if t.empty:
        return "- No series could be measured for the drawdown."
    lo, hi = t["drawdown (%)"].idxmin(), t["drawdown (%)"].idxmax()
    troughs = [f"{d:%-d %b %Y}" for d in sorted(set(pd.to_datetime(t["trough date"])))]
    d_lo, d_hi = t.at[lo, "drawdown (%)"], t.at[hi, "drawdown (%)"]
    n_lo, n_hi = dd.names.get(lo, lo), dd.names.get(hi, hi)
    if d_hi < 0:  # every series fell below the reference
        fall = (f"the falls to the low ran from {d_hi:.1f}% ({n_hi}) to {d_lo:.1f}% ({n_lo})"
                if len(t) > 1 else f"the {n_lo} fell {abs(d_lo):.1f}% to its low")
    elif d_lo >= 0:  # none did: no drawdown to speak of
        fall = ("no series closed below it; their lowest closes were "
                f"{d_lo:+.1f}% ({n_lo}) to {d_hi:+.1f}% ({n_hi}) from it" if len(t) > 1 else
                f"the {n_lo} never closed below it; its lowest close was {d_lo:+.1f}% from it")
    else:
        fall = (f"the lowest closes ran from {d_hi:+.1f}% ({n_hi}, which never closed below "
                f"it) to {d_lo:+.1f}% ({n_lo})")
    text = (f"- Reference close: {dd.how}. From it, {fall} (lowest close from day 0 to "
            f"{dd.trough_by:%-d %b %Y}: {', '.join(troughs)}).")
    back = []
    for s, r in t.iterrows():
        if r["drawdown (%)"] >= 0:
            back.append(f"{dd.names.get(s, s)} stayed at or above the reference close from "
                        "day 0 on")
            continue
        pre, ref = r["regained pre-shock close"], r["regained reference"]
        back.append(f"{dd.names.get(s, s)} regained its {dd.pre_shock:%-d %b} close "
                    + (f"on {pd.Timestamp(pre):%-d %b %Y}" if pd.notna(pre) else
                       "not within the data")
                    + " and the reference close "
                    + (f"on {pd.Timestamp(ref):%-d %b %Y}" if pd.notna(ref) else
                       f"not by its data end ({pd.Timestamp(r['data end']):%-d %b %Y})"))
    return text + " " + "; ".join(back) + "."


def _level_sentence(levels: pd.DataFrame, symbol: str, name: str, study: IndexStudy) -> str:
    s = levels[symbol].dropna()
    als = sorted(study.alignments.values(), key=lambda a: a.day0)
    first = event_window(als[0], study.calendar, (-1, -1))["session"].iloc[0]
    span = s.loc[first:als[-1].day0]
    if span.empty:
        return f"- {name}: no level between {first:%-d %b %Y} and {als[-1].day0:%-d %b %Y}."
    top = span.idxmax()
    if top == span.index[0]:  # no peak after the first close: say where it went instead
        return (f"- {name} closed at {span.iloc[0]:.2f} on {span.index[0]:%-d %b %Y}, its "
                f"highest close from day -1 of the first to day 0 of the last event studied, "
                f"and at {span.iloc[-1]:.2f} on {span.index[-1]:%-d %b %Y}.")
    return (f"- {name} closed at {span.iloc[0]:.2f} on {span.index[0]:%-d %b %Y} and peaked at "
            f"{span[top]:.2f} on {top:%-d %b %Y} (between day -1 of the first and day 0 of the "
            "last event studied).")


def describe(study: IndexStudy, dd: Drawdown | None = None, levels: pd.DataFrame | None = None,
             level_symbol: str | None = None) -> str:
    """"What the data say": per event the CAAR of each window with two tests and the largest
    day-0 move; the drawdown and recoveries; the level series' path. Markdown bullets."""
    lines = [_event_sentence(study, e, ref) for e, ref in study.events.items()]
    if study.market is not None:
        lines.append(f"- Abnormal returns are measured with the {study.model_text()}.")
    lines += shared_day0_lines({e: a.day0 for e, a in study.alignments.items()},
                               {e: r.label for e, r in study.events.items()}, study.calendar)
    if len(study.symbols) < 3:
        lines.append(f"- With {len(study.symbols)} series, the cross-sectional tests have almost "
                     "no power; read the time-series tests (Brown–Warner, Patell) instead.")
    if dd is not None:
        lines.append(_drawdown_sentence(dd))
    if levels is not None and level_symbol is not None:
        lines.append(_level_sentence(levels, level_symbol,
                                     study.names.get(level_symbol, level_symbol), study))
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ explore
def explore_car(returns: pd.Series, name: str, day0: pd.Timestamp, estimation: str, event: str,
                title: str, calendar: str, *, model: str = "mean",
                market: pd.Series | None = None, model_text: str | None = None) -> tuple:
    """The CAR path (percent, 95% band) of one series around one day 0 with windows given as
    text (``"-260:-11"``), under the study's ``model`` (``market``: the proxy's returns for the
    market models; ``model_text`` names it in the title); raises a project error
    (ValidationError, StudyError) when a window is malformed or the data cannot fill it."""
    est = tuple(parse_window(estimation, "estimation window", kind="days"))
    evw = tuple(parse_window(event, "event window", kind="days"))
    s = returns.dropna()
    if day0 not in s.index:
        raise StudyError(f"{name} has no return on day 0 ({day0:%Y-%m-%d})")
    pos = s.index.get_loc(day0)
    lo, hi = -pos, len(s) - 1 - pos
    if min(est[0], evw[0]) < lo or max(est[1], evw[1]) > hi:
        raise ValidationError(f"the data of {name} cover days {lo}..{hi} around day 0 "
                              f"({s.index[0]:%Y-%m-%d} to {s.index[-1]:%Y-%m-%d}); keep both "
                              "windows inside")
    kw: dict[str, Any] = {} if model == "mean" else {"market": market}
    res = event_study(s.to_frame(name), day0, model=model, estimation=est, event=evw, **kw)
    if not res.n_securities:
        raise StudyError("; ".join(res.excluded["detail"].astype(str)))
    what = f" ({model_text})" if model_text and model != "mean" else ""
    return plot_paths({name: ar_paths(res)}, "car", title=f"CAR of {name} around: {title}{what}",
                      xlabel=f"Trading day relative to day 0 ({calendar})")


def _window_text(value: Any) -> str:
    """A window parameter as the text of a window box (a JupyterLab user may give a pair)."""
    if isinstance(value, str):
        return value
    a, b = parse_window(value, "window", kind="days")
    return f"{a}:{b}"


def explore_message(exc: BaseException) -> str:
    """One line for the Explore panel instead of a traceback."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"Cannot run: {first}"


def explore_panel(returns: pd.DataFrame, study: IndexStudy, estimation: str, event: str,
                  source_line: Any = None) -> Any:
    """An ipywidgets panel (JupyterLab): series and event dropdowns (names and titles), two
    window boxes and a Run button; runs on the button or on Enter in a box, shows a one-line
    message on a bad window instead of a traceback. ``source_line(fig)`` adds the source."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    series = w.Dropdown(options=[(study.names[s], s) for s in study.symbols], description="series")
    ev = w.Dropdown(options=[(r.label, e) for e, r in study.events.items()], description="event")
    est = w.Text(value=_window_text(estimation), description="estimation",
                 continuous_update=False)
    evw = w.Text(value=_window_text(event), description="event window", continuous_update=False)
    run, out = w.Button(description="Run", button_style="primary"), w.Output()

    def _run(*_):
        out.clear_output()
        with out:
            try:
                fig, _ = explore_car(returns[series.value], study.names[series.value],
                                     study.alignments[ev.value].day0, est.value, evw.value,
                                     study.events[ev.value].title, study.calendar,
                                     model=study.model, model_text=study.model_text(),
                                     market=returns[study.market] if study.market else None)
            except TradeshockError as exc:
                print(explore_message(exc))
                return
            if source_line is not None:
                source_line(fig)
            plt.show()

    run.on_click(_run)
    est.observe(_run, names="value")
    evw.observe(_run, names="value")
    panel = w.VBox([w.HBox([series, ev]), w.HBox([est, evw, run]), out])
    panel.run = _run  # tests and users can trigger a run
    return panel
