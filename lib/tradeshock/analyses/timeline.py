"""The tariff timeline over one series, and day 0 of key events per market (``01_event_calendar``).

The curated calendar (``data/events/tariff_events_2025.csv``) is drawn over one series between two
dates, and the key events are aligned to each market's **own exchange calendar**: day 0 is the
first session of that exchange that trades after the announcement (the session in progress when
the news lands intraday, otherwise the next one to open; an event without a time of day is placed
at the end of its local day). Holidays move day 0: a market closed on the weekdays after an
announcement first trades it later than the others, and the narrative says so.

Units: levels in the series' own units (index points, price); moves in percent of the level.
Nothing here estimates a statistic; it places events in time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from tradeshock.analyses.contract import (
    Codes, Contract, Date, EventRef, Events, History, Kinds, Symbol, ordered,
)
from tradeshock.analyses.figures import mark_events, new_figure
from tradeshock.core.tables import Table
from tradeshock.data.calendars import get_calendar
from tradeshock.errors import ValidationError
from tradeshock.events.align import Alignment, align

__all__ = ["PARAMETERS", "Timeline", "build_timeline", "closed_weekdays", "plot_timeline",
           "describe", "calendar_codes", "market_name"]


def calendar_codes() -> list[str]:
    """Every exchange_calendars code (what ``calendars`` may list)."""
    import exchange_calendars as xcals

    return list(xcals.get_calendar_names(include_aliases=False))


def _span_has_a_weekday(values) -> list[tuple[str, str, str]]:
    """A chart from ``start`` to ``end`` with no weekday in it can show no close of any series."""
    if len(pd.bdate_range(values["start"], values["end"])) == 0:
        return [("end", f"= {values['end']:%Y-%m-%d}: the span from {values['start']:%Y-%m-%d} "
                 "holds no weekday, so no series has a close to draw", "widen the span")]
    return []


#: What the parameters of ``notebooks/01_event_calendar.ipynb`` must be.
PARAMETERS = Contract(
    "01_event_calendar",
    [
        Symbol("index_symbol", help="the series drawn under the timeline (data/universe.csv)"),
        Date("start", help="the chart's first date (YYYY-MM-DD)"),
        Date("end", help="the chart's last date (YYYY-MM-DD)"),
        Kinds("kinds", help="event kinds marked on the chart"),
        Events("key_events", help="events of the day-0 table (ids or short names)"),
        Codes("calendars", help="exchange calendar codes", min_items=1, known=calendar_codes),
    ],
    rules=[ordered("start", "end")],
    history=[History(("index_symbol",), (), (), dates=("start", "end"))],
    checks=[_span_has_a_weekday],
)

#: Market names of the common calendar codes (others show as their code).
_MARKETS = {
    "XNYS": "New York", "XNAS": "Nasdaq", "XTSE": "Toronto", "XMEX": "Mexico City",
    "XLON": "London", "XETR": "Xetra (Frankfurt)", "XPAR": "Paris", "XMIL": "Milan",
    "XAMS": "Amsterdam", "XSWX": "Zurich", "XTKS": "Tokyo", "XKRX": "Seoul",
    "XHKG": "Hong Kong", "XSHG": "Shanghai", "XTAI": "Taipei", "XASX": "Sydney",
    "XBOM": "Mumbai", "XSES": "Singapore", "BVMF": "São Paulo",
}


def market_name(code: str) -> str:
    """``"Tokyo (XTKS)"`` for a known code, else the code itself."""
    return f"{_MARKETS[code]} ({code})" if code in _MARKETS else code


@dataclass
class Timeline:
    """The calendar between ``start`` and ``end`` over one series, and the key events' day 0.

    ``levels`` is the series on its own dates within the span; ``events`` the calendar rows dated
    in the span; ``kinds`` the kinds the chart marks; ``alignments[(event_id, code)]`` day 0 of
    each key event on each calendar (missing when the calendar cannot place it, see ``notes``).
    """

    symbol: str
    name: str
    units: str
    start: pd.Timestamp
    end: pd.Timestamp
    levels: pd.Series
    events: pd.DataFrame
    kinds: list[str]
    key: list[EventRef]
    calendars: list[str]
    alignments: dict[tuple[str, str], Alignment] = field(default_factory=dict)
    notes: dict[tuple[str, str], str] = field(default_factory=dict)
    #: When each key event was announced, as text ("16:00 (approx) America/New_York").
    announced: dict[str, str] = field(default_factory=dict)

    @property
    def shown(self) -> pd.DataFrame:
        """The events the chart marks: the span's events of the chosen kinds."""
        return self.events[self.events["kind"].isin(self.kinds)]

    def event_table(self) -> Table:
        """Every calendar event dated in the span: local date and time, kind, actor, title."""
        ev = self.events
        time = [_time_text(t, b) for t, b in zip(ev["time_local"], ev["time_basis"])]
        frame = pd.DataFrame({"date": ev["date"].to_numpy(), "time": time,
                              "timezone": ev["timezone"].to_numpy(), "kind": ev["kind"].to_numpy(),
                              "actor": ev["actor"].to_numpy(), "title": ev["title"].to_numpy(),
                              "event_id": ev["event_id"].to_numpy()})
        return Table(frame, caption=f"The {len(frame)} events of the calendar from "
                     f"{self.start:%-d %b %Y} to {self.end:%-d %b %Y}",
                     formats={"date": "date", "time": "text"},
                     labels={"time": "local time", "event_id": "event id (for parameters)"},
                     notes=["Local date and time in the event's time zone; a dash: time not "
                            "known. 'approx' = reported as approximate, 'by' = an upper bound "
                            "(public by then). Sources are in data/events/tariff_events_2025.csv."],
                     index=False)

    def day0_frame(self) -> pd.DataFrame:
        """Rows: key events (labels); columns: calendar codes; cells: day 0 (Timestamp or NaT)."""
        out = pd.DataFrame(index=[e.label for e in self.key], columns=self.calendars,
                           dtype="datetime64[ns]")
        for e in self.key:
            for code in self.calendars:
                a = self.alignments.get((e.event_id, code))
                if a is not None:
                    out.loc[e.label, code] = a.day0
        return out

    def day0_table(self) -> Table:
        """Day 0 of each key event on each market, with "(intraday)" and "(untimed)" flags."""
        frame = pd.DataFrame(index=pd.Index([e.label for e in self.key], name="event"))
        for code in self.calendars:
            frame[market_name(code)] = [self._cell(e.event_id, code) for e in self.key]
        return Table(frame, caption="Day 0 of each key event per market (first session that "
                     "trades after the announcement, local session date)",
                     notes=["(intraday): announced while that session was open, so its return "
                            "only partly reflects the news; (untimed): no time of day known, "
                            "placed at the end of its local day."])

    def _cell(self, event_id: str, code: str) -> str:
        a = self.alignments.get((event_id, code))
        if a is None:
            return self.notes.get((event_id, code), "not placed")
        flags = (["intraday"] if a.intraday else []) + (["untimed"] if a.untimed else [])
        return f"{a.day0:%Y-%m-%d}" + (f" ({', '.join(flags)})" if flags else "")


def _time_text(time, basis) -> str:
    if not isinstance(time, str) or not time.strip():
        return "–"
    return f"{time} ({basis})" if isinstance(basis, str) and basis.strip() else time


def build_timeline(levels: pd.Series, symbol: str, name: str, units: str, events: pd.DataFrame,
                   start: pd.Timestamp, end: pd.Timestamp, kinds: Sequence[str],
                   key: Sequence[EventRef], calendars: Sequence[str]) -> Timeline:
    """The timeline of ``events`` (the calendar frame) from ``start`` to ``end`` (inclusive) over
    ``levels`` (one series on its own dates), with day 0 of each ``key`` event on each calendar.

    A key event that a calendar cannot place (before its first or after its last session) gets
    a note instead of a day 0. Raises ValidationError when the series has no value in the span.
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    span = levels.dropna().sort_index().loc[start:end]
    if span.empty:
        raise ValidationError(f"{name} ({symbol}) has no value from {start:%Y-%m-%d} to "
                              f"{end:%Y-%m-%d}. Fix: choose dates the series covers.")
    ev = events[events["date"].between(start, end)].sort_values("date", kind="stable")
    tl = Timeline(symbol, name, units, start, end, span, ev.reset_index(drop=True), list(kinds),
                  list(key), list(calendars))
    rows = events.set_index("event_id")
    for e in key:
        r = rows.loc[e.event_id]
        tl.announced[e.event_id] = (
            f"on {e.date:%-d %b %Y} at {_time_text(r['time_local'], r['time_basis'])} "
            f"{r['timezone']}" if e.timed else f"on {e.date:%-d %b %Y} at an unknown time of day "
            "(placed at the end of its local day)")
        for code in calendars:
            try:
                tl.alignments[(e.event_id, code)] = align(e.event_id, code, events=events)
            except ValidationError as exc:
                tl.notes[(e.event_id, code)] = f"not placed ({str(exc).split('. Fix')[0]})"
    return tl


def closed_weekdays(alignment: Alignment, event_date: pd.Timestamp) -> list[pd.Timestamp]:
    """Weekdays from the event's local date up to (not including) day 0 on which the exchange had
    no session (holidays that a market closed for while others could trade the news)."""
    sessions = pd.DatetimeIndex(get_calendar(alignment.calendar).sessions)
    days = pd.bdate_range(pd.Timestamp(event_date).normalize(),
                          alignment.day0 - pd.Timedelta(days=1))
    return [d for d in days if d not in sessions]


def plot_timeline(tl: Timeline) -> tuple:
    """The series over the span with the chosen kinds of events marked (lines coloured by kind,
    labels abbreviated). Returns ``(fig, ax)``; the caller adds the source line."""
    months = (f"{tl.start:%b %Y}" if f"{tl.start:%b %Y}" == f"{tl.end:%b %Y}" else
              f"{tl.start:%b %Y}–{tl.end:%b %Y}")
    fig, ax = new_figure(title=f"Tariff events, {months}, over the {tl.name}", xlabel="Date",
                         ylabel=f"{tl.name} close", yunits=tl.units)
    ax.plot(tl.levels.index, tl.levels.to_numpy(), color="black", lw=1.2)
    mark_events(ax, tl.shown, date_col="date", kind_col="kind", label_col="title")
    return fig, ax


def _dates(days: Sequence[pd.Timestamp]) -> str:
    return ", ".join(f"{d:%-d %b}" for d in days)


def _short(title: str, n: int = 40) -> str:
    return title if len(title) <= n else title[: n - 1].rstrip() + "…"


def _markets(codes: Sequence[str]) -> str:
    return ", ".join(_MARKETS.get(c, c) for c in codes)


def _move(tl: Timeline) -> str:
    """The series' change over the span and its deepest fall: in percent of the level for
    prices and index points; in percentage points for a series quoted in percent (a yield or
    spread, whose relative change means nothing and can cross zero)."""
    s = tl.levels
    first, last = s.index[0], s.index[-1]
    in_points = tl.units == "percent"
    peak_to_date = s.cummax()
    dd = s - peak_to_date if in_points else s / peak_to_date - 1
    low = dd.idxmin()
    peak = s.loc[:low].idxmax()

    def change(x: float) -> str:
        return f"{x:+.2f} percentage points" if in_points else f"{100 * x:+.1f}%"

    total = s.iloc[-1] - s.iloc[0] if in_points else s.iloc[-1] / s.iloc[0] - 1
    text = (f"- The {tl.name} closed at {s.iloc[0]:,.2f} on {first:%-d %b %Y} and at "
            f"{s.iloc[-1]:,.2f} on {last:%-d %b %Y} ({change(total)}).")
    if dd.min() < 0:
        text += (f" Its deepest fall in the span ran from {s[peak]:,.2f} on {peak:%-d %b %Y} to "
                 f"{s[low]:,.2f} on {low:%-d %b %Y} ({change(dd.min())}).")
    return text


def _event_line(tl: Timeline, e: EventRef) -> str:
    when = tl.announced.get(e.event_id, f"on {e.date:%-d %b %Y}")
    by_day: dict[pd.Timestamp, list[str]] = {}
    intraday = []
    for code in tl.calendars:
        a = tl.alignments.get((e.event_id, code))
        if a is None:
            continue
        by_day.setdefault(a.day0, []).append(code)
        if a.intraday:
            intraday.append(code)
    if not by_day:
        return f"- {e.label}: no chosen market could place it."
    parts = [f"{d:%-d %b} on {_markets(c)}" for d, c in sorted(by_day.items())]
    text = f"- **{e.title}**, announced {when}: first traded " + "; ".join(parts)
    if intraday:
        rule = " (by the end-of-day rule for an untimed event)" if not e.timed else ""
        text += (f". It landed during the session on {_markets(intraday)}{rule}, so that day's "
                 "return only partly reflects it")
    return text + "."


def describe(tl: Timeline) -> str:
    """"What the data say": the span's events, the series' move, and day 0 of each key event per
    market (intraday arrivals and holiday closures named), as Markdown bullets."""
    counts = tl.events["kind"].value_counts()
    lines = [f"- From {tl.start:%-d %b %Y} to {tl.end:%-d %b %Y} the calendar holds "
             f"{len(tl.events)} events ("
             + ", ".join(f"{n} {k}" for k, n in counts.items()) + "); the chart marks the "
             f"{len(tl.shown)} of kind {', '.join(tl.kinds)}."
             if len(tl.events) else
             f"- The calendar holds no event from {tl.start:%-d %b %Y} to {tl.end:%-d %b %Y}."]
    lines.append(_move(tl))
    lines += [_event_line(tl, e) for e in tl.key]
    closed = []
    for e in tl.key:
        by_days: dict[str, list[str]] = {}
        for code in tl.calendars:
            a = tl.alignments.get((e.event_id, code))
            days = closed_weekdays(a, e.date) if a is not None else []
            if days:
                by_days.setdefault(_dates(days), []).append(_MARKETS.get(code, code))
        closed += [f"{', '.join(m)} on {d} (after {_short(e.title)})" for d, m in by_days.items()]
    if closed:
        lines.append("- Closed on a weekday between an announcement and its day 0 (holidays): "
                     + "; ".join(closed) + ".")
    unplaced = [f"{e.label} on {code}" for (eid, code) in tl.notes for e in tl.key
                if e.event_id == eid]
    if unplaced:
        lines.append("- Not placed (outside the exchange calendar): " + "; ".join(unplaced) + ".")
    return "\n".join(lines)
