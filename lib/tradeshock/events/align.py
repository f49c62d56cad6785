"""Exchange-aware event alignment: day 0 of an announcement on a market, and event time.

* **Alignment.** An announcement is an instant. For a market (an exchange_calendars code) its
  *day 0* is the first session that trades after the announcement (:func:`align`):

  - if the instant falls in ``[open, close)`` of a session (a lunch break counts as inside), day
    0 is that session and the timing is ``"intraday"``;
  - otherwise day 0 is the next session to open, and the timing says where the instant fell:
    ``"before_open"`` (earlier on the local date of that session), ``"after_close"`` (later on the
    local date of the previous session, after its close) or ``"non_session"`` (a local date that
    is not a session: weekend or holiday, or overnight into one).

  Events without a time of day follow one documented rule (:data:`UNTIMED_RULE`): the announcement
  is placed at the end of its local calendar day, 23:59:59 in its own time zone, which for US events
  is after the US close; the alignment is flagged ``untimed=True``. Times that are an upper bound
  (``time_basis == "by"``) are used as given: the news was public by then.

  Sessions, opens and closes come from exchange_calendars through the package's one registry,
  :func:`tradeshock.data.calendars.get_calendar` (re-exported here); no holiday is coded here.
  Calendars start at :data:`CALENDAR_START` (1990-01-01, or a calendar's own earliest date),
  because the library default moves with today's date; their last session is the library default
  end (about a year after today).

Event time (:func:`event_window`) counts a market's own sessions, so holidays are skipped; other
events whose day 0 falls inside a window are reported by :func:`events_in_window`, never merged.
"""
from __future__ import annotations

import datetime as _dt
import functools
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tradeshock.core.windows import parse_window
from tradeshock.data.calendars import CALENDAR_START, get_calendar
from tradeshock.errors import ValidationError
from tradeshock.events.calendar import get_event, load_events
from tradeshock.events.schema import _cell_to_str, is_iso_date, _is_time_or_blank, _is_timezone

__all__ = [
    "UNTIMED_RULE",
    "CALENDAR_START",
    "TIMINGS",
    "Alignment",
    "get_calendar",
    "event_instant",
    "align",
    "align_many",
    "event_window",
    "events_in_window",
    "day0_table",
]

#: How an event without a time of day is aligned.
UNTIMED_RULE = (
    "an event without a time of day is placed at the end of its local calendar day (23:59:59 in "
    "its time zone); for US events that is after the US close"
)

#: Values of :attr:`Alignment.timing`.
TIMINGS: tuple[str, ...] = ("intraday", "before_open", "after_close", "non_session")

# --------------------------------------------------------------------------------------------
# calendars and alignment
# --------------------------------------------------------------------------------------------


def _calendar(calendar) -> tuple[str, Any]:
    if isinstance(calendar, str):
        return calendar, get_calendar(calendar)
    name = getattr(calendar, "name", None)
    if name is None or not hasattr(calendar, "opens"):
        raise ValidationError(
            f"not an exchange calendar: {calendar!r}. Fix: pass a code such as 'XNYS' or an "
            "exchange_calendars ExchangeCalendar."
        )
    return name, calendar


@functools.lru_cache(maxsize=64)
def _arrays(cal) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    sessions = pd.DatetimeIndex(cal.sessions)
    opens = cal.opens.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
    closes = cal.closes.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
    return sessions, opens, closes


@dataclass(frozen=True)
class Alignment:
    """Where one announcement lands in one market's sessions."""

    #: Event id (or a label for an ad-hoc instant).
    event_id: str
    #: exchange_calendars code.
    calendar: str
    #: Day-0 session date: tz-naive, midnight, the exchange-local session label.
    day0: pd.Timestamp
    #: "intraday", "before_open", "after_close" or "non_session" (see the module docstring).
    timing: str
    #: True when the event had no time of day and :data:`UNTIMED_RULE` placed it.
    untimed: bool
    #: One-sentence explanation of how day 0 was found.
    rule: str
    #: The UTC instant aligned (the assumed end of day for untimed events).
    instant: pd.Timestamp | None = None
    #: time_basis of the event's time (exact, approx, by), None when untimed or ad hoc.
    time_basis: str | None = None

    @property
    def intraday(self) -> bool:
        """True when the announcement fell inside the day-0 session."""
        return self.timing == "intraday"

    @property
    def label(self) -> str:
        """'2025-04-03' or '2025-04-09 (intraday)'."""
        return self.day0.strftime("%Y-%m-%d") + (" (intraday)" if self.intraday else "")

    def __str__(self) -> str:
        return self.day0.strftime("%Y-%m-%d") + (" intraday" if self.intraday else "")


def event_instant(event: Mapping | pd.Series) -> tuple[pd.Timestamp, bool]:
    """The UTC instant used to align an event row, and whether it is the untimed assumption."""
    ts = event.get("timestamp")
    if ts is not None and not pd.isna(ts):
        return pd.Timestamp(ts).tz_convert("UTC"), False
    eid = event.get("event_id", "<event>")
    date = _cell_to_str(event.get("date"))[:10]
    tz = _cell_to_str(event.get("timezone"))
    time = _cell_to_str(event.get("time_local"))
    if not is_iso_date(date):
        raise ValidationError(f"event {eid!r}: date {date!r} is not YYYY-MM-DD. Fix: give the "
                              "local date, e.g. 2025-04-02.")
    if not _is_timezone(tz):
        raise ValidationError(f"event {eid!r}: time zone {tz!r} is not a zoneinfo name. Fix: use "
                              "e.g. America/New_York.")
    if not _is_time_or_blank(time):
        raise ValidationError(f"event {eid!r}: time_local {time!r} is not HH:MM. Fix: write e.g. "
                              "16:00, or leave it blank when not known.")
    zone = zoneinfo.ZoneInfo(tz)
    local = _dt.datetime.fromisoformat(f"{date}T{time or '23:59:59'}").replace(tzinfo=zone)
    return pd.Timestamp(local).tz_convert("UTC"), not time


def _as_event(event, events: pd.DataFrame | None) -> dict:
    """Normalise what align() accepts into a dict with event_id, timestamp/date/timezone."""
    if isinstance(event, Alignment):
        raise ValidationError("align() takes an event, not an Alignment. Fix: pass the event id.")
    if isinstance(event, (pd.Timestamp, _dt.datetime)):
        ts = pd.Timestamp(event)
        if ts.tzinfo is None:
            raise ValidationError(
                f"the instant {ts} has no time zone. Fix: give a tz-aware timestamp, e.g. "
                "pd.Timestamp('2025-04-09 13:18', tz='America/New_York')."
            )
        return {"event_id": ts.isoformat(), "timestamp": ts.tz_convert("UTC"), "time_basis": None}
    if isinstance(event, str):
        return dict(get_event(event, events))
    if isinstance(event, (pd.Series, Mapping)):
        rec = dict(event)
        missing = [k for k in ("event_id", "date", "timezone") if k not in rec]
        if missing and pd.isna(rec.get("timestamp", np.nan)):
            raise ValidationError(
                f"event mapping lacks {', '.join(missing)}. Fix: pass a row of load_events() or an "
                "event id."
            )
        rec.setdefault("event_id", "<event>")
        return rec
    raise ValidationError(
        f"cannot align a {type(event).__name__}. Fix: pass an event id, a row of load_events() or "
        "a tz-aware timestamp."
    )


def _fmt_local(ts: pd.Timestamp, tz) -> str:
    return f"{ts.tz_convert(tz):%Y-%m-%d %H:%M:%S} {tz}"


def align(event, calendar, *, events: pd.DataFrame | None = None) -> Alignment:
    """Day 0 of ``event`` for the exchange ``calendar``.

    Parameters
    ----------
    event
        An event id or :data:`KEY_EVENTS` name (looked up in ``events``, default the bundled
        calendar), a row of :func:`load_events`, or a tz-aware timestamp.
    calendar
        An exchange_calendars code such as ``"XNYS"`` (or a calendar object).

    Raises
    ------
    ValidationError
        Unknown event or calendar, or an instant before the calendar's first session opens or after
        its last session closes.
    """
    rec = _as_event(event, events)
    code, cal = _calendar(calendar)
    instant, untimed = event_instant(rec)
    eid = str(rec["event_id"])
    sessions, opens, closes = _arrays(cal)
    t = np.datetime64(instant.tz_convert("UTC").tz_localize(None).to_datetime64(), "ns")
    tz = cal.tz
    if t < opens[0]:
        raise ValidationError(
            f"event {eid!r} ({_fmt_local(instant, 'UTC')}) is before the first {code} session "
            f"({sessions[0]:%Y-%m-%d}; calendars start {CALENDAR_START}). Fix: drop the event or "
            "use a market whose calendar covers it."
        )
    i = int(np.searchsorted(closes, t, side="right"))
    if i >= len(sessions):
        raise ValidationError(
            f"event {eid!r} ({_fmt_local(instant, 'UTC')}) is after the last {code} session "
            f"({sessions[-1]:%Y-%m-%d}, the exchange_calendars default end, about a year after "
            "today), so its next session is unknown. Fix: check the date; a future event cannot be "
            "aligned yet."
        )
    day0 = sessions[i]
    open_i = pd.Timestamp(opens[i], tz="UTC").tz_convert(tz)
    close_i = pd.Timestamp(closes[i], tz="UTC").tz_convert(tz)
    local = instant.tz_convert(tz)
    local_date = pd.Timestamp(local.date())
    if opens[i] <= t < closes[i]:
        timing = "intraday"
        lunch = "; its lunch break counts as inside" if cal.session_has_break(day0) else ""
        where = (f"inside the session of {day0:%Y-%m-%d} ({open_i:%H:%M}-{close_i:%H:%M}{lunch}): "
                 "day 0 is that session (intraday)")
    else:
        if local_date == day0:
            timing = "before_open"
            where = f"before the open on the same local date ({open_i:%H:%M})"
        elif i > 0 and local_date == sessions[i - 1] and t >= closes[i - 1]:
            timing = "after_close"
            prev_close = pd.Timestamp(closes[i - 1], tz="UTC").tz_convert(tz)
            where = f"after the close of {sessions[i - 1]:%Y-%m-%d} ({prev_close:%H:%M})"
        else:
            timing = "non_session"
            where = "on a local date that is not a session (weekend or holiday)"
        where += f": day 0 is the next session to open, {day0:%Y-%m-%d} (opens {open_i:%H:%M})"
    basis = rec.get("time_basis")
    basis = None if basis is None or (not isinstance(basis, str) and pd.isna(basis)) else str(basis)
    if untimed:
        what = (f"{eid}: no time of day, so by rule it is placed at the end of its local day, "
                f"{_fmt_local(instant, str(rec['timezone']))} (= {instant:%Y-%m-%d %H:%M:%S} UTC; "
                "for US events that is after the US close)")
    else:
        if isinstance(rec.get("time_local"), str) and "date" in rec:
            what = (f"{eid}: {pd.Timestamp(rec['date']):%Y-%m-%d} {rec['time_local']} "
                    f"{rec['timezone']}")
            if basis == "by":
                what += " (by: an upper bound, the news was public by then)"
            elif basis:
                what += f" ({basis})"
            what += f" = {instant:%Y-%m-%d %H:%M} UTC"
        else:
            what = f"{eid}: {instant:%Y-%m-%d %H:%M:%S} UTC"
    rule = f"{what}. In {code} time ({tz}) that is {local:%Y-%m-%d %H:%M}, {where}."
    return Alignment(eid, code, day0, timing, untimed, rule, instant, None if untimed else basis)


def _event_rows(events, source: pd.DataFrame | None) -> list[dict]:
    if isinstance(events, pd.DataFrame):
        return [dict(r) for _, r in events.iterrows()]
    if isinstance(events, (str, pd.Series, Mapping, pd.Timestamp, _dt.datetime)):
        events = [events]
    return [_as_event(e, source) for e in events]


def _codes(calendars) -> list[str]:
    if isinstance(calendars, str):
        return [c.strip() for c in calendars.split(",") if c.strip()]
    return [c if isinstance(c, str) else _calendar(c)[0] for c in calendars]


def align_many(events, calendars, *, source: pd.DataFrame | None = None) -> pd.DataFrame:
    """Align several events to several markets.

    ``events`` is a calendar frame (e.g. :func:`load_events`, possibly filtered) or a list of ids /
    :data:`KEY_EVENTS` names (looked up in ``source``, default the bundled calendar);
    ``calendars`` a code or a list of codes. Returns a tidy frame with one row per (event, market):
    ``event_id, calendar, day0, timing, untimed, instant``.
    """
    rows = []
    for rec in _event_rows(events, source):
        for code in _codes(calendars):
            a = align(rec, code)
            rows.append(
                {"event_id": a.event_id, "calendar": a.calendar, "day0": a.day0,
                 "timing": a.timing, "untimed": a.untimed, "instant": a.instant}
            )
    cols = ["event_id", "calendar", "day0", "timing", "untimed", "instant"]
    out = pd.DataFrame(rows, columns=cols)
    out["day0"] = pd.to_datetime(out["day0"])
    out["untimed"] = out["untimed"].astype(bool)
    return out


def _day0_of(event_or_day0, calendar, events) -> tuple[pd.Timestamp, str]:
    code, cal = _calendar(calendar)
    if isinstance(event_or_day0, Alignment):
        if event_or_day0.calendar != code:
            raise ValidationError(
                f"the alignment is for {event_or_day0.calendar}, not {code}. Fix: align the event "
                f"to {code} first."
            )
        return event_or_day0.day0, code
    is_date = isinstance(event_or_day0, _dt.date) and not isinstance(event_or_day0, _dt.datetime)
    if isinstance(event_or_day0, str) and is_iso_date(event_or_day0):
        is_date = True
    if isinstance(event_or_day0, pd.Timestamp) and event_or_day0.tzinfo is None:
        is_date = True
    if is_date:
        day0 = pd.Timestamp(event_or_day0).normalize()
        sessions = _arrays(cal)[0]
        if day0 not in sessions:
            raise ValidationError(
                f"{day0:%Y-%m-%d} is not a {code} session (weekend, holiday or outside "
                f"{sessions[0]:%Y-%m-%d}..{sessions[-1]:%Y-%m-%d}). Fix: pass a session date as "
                "day 0, or pass the event so that day 0 is found by align()."
            )
        return day0, code
    return align(event_or_day0, code, events=events).day0, code


def event_window(event_or_day0, calendar, window=(-5, 10), *,
                 events: pd.DataFrame | None = None) -> pd.DataFrame:
    """The market's session at every offset of ``window`` around day 0.

    ``event_or_day0`` is an event (as for :func:`align`), an :class:`Alignment`, or a day-0 session
    date (tz-naive Timestamp, ``datetime.date`` or ``"YYYY-MM-DD"``). Offsets count the market's own
    sessions, so weekends and holidays are skipped. Returns ``offset`` (int) and ``session``.
    """
    lo, hi = parse_window(window, "window", kind="days")
    day0, code = _day0_of(event_or_day0, calendar, events)
    sessions = _arrays(_calendar(code)[1])[0]
    pos = int(sessions.get_loc(day0))
    if pos + lo < 0:
        raise ValidationError(
            f"window ({lo}, {hi}) around {day0:%Y-%m-%d} starts before the first {code} session "
            f"({sessions[0]:%Y-%m-%d}). Fix: shorten the window."
        )
    if pos + hi >= len(sessions):
        raise ValidationError(
            f"window ({lo}, {hi}) around {day0:%Y-%m-%d} ends after the last {code} session "
            f"({sessions[-1]:%Y-%m-%d}). Fix: shorten the window."
        )
    offsets = np.arange(lo, hi + 1)
    return pd.DataFrame({"offset": offsets, "session": sessions[pos + offsets]})


def events_in_window(events: pd.DataFrame | None, event_id: str, calendar,
                     window=(-5, 10)) -> pd.DataFrame:
    """The other events whose day 0 (on ``calendar``) falls inside ``event_id``'s window.

    They are reported, not merged: one row per other event with ``event_id, date, kind, actor,
    title, day0, offset, timing, untimed``. Events outside the calendar's range are skipped.
    """
    events = load_events() if events is None else events
    target = get_event(event_id, events)
    win = event_window(target, calendar, window, events=events)
    first, last = win["session"].iloc[0], win["session"].iloc[-1]
    offset_of = dict(zip(win["session"], win["offset"]))
    rows = []
    for _, ev in events.iterrows():
        if ev["event_id"] == target["event_id"]:
            continue
        try:
            a = align(ev, calendar)
        except ValidationError:
            continue
        if first <= a.day0 <= last:
            rows.append(
                {"event_id": ev["event_id"], "date": ev["date"], "kind": ev["kind"],
                 "actor": ev["actor"], "title": ev["title"], "day0": a.day0,
                 "offset": int(offset_of[a.day0]), "timing": a.timing, "untimed": a.untimed}
            )
    cols = ["event_id", "date", "kind", "actor", "title", "day0", "offset", "timing", "untimed"]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["offset", "date"], kind="stable").reset_index(drop=True)


def day0_table(events: pd.DataFrame | None, event_ids: Iterable[str], calendars,
               *, flag_untimed: bool = True) -> pd.DataFrame:
    """A display table: rows are events (as named in ``event_ids``), columns markets.

    Cells read ``"2025-04-03"`` or ``"2025-04-09 (intraday)"``; with ``flag_untimed`` an untimed
    event's cell says so, e.g. ``"2025-02-03 (untimed)"`` or ``"2025-03-04 (intraday, untimed)"``.
    """
    events = load_events() if events is None else events
    codes = _codes(calendars)
    names = list(event_ids)
    table = pd.DataFrame(index=pd.Index(names, name="event"),
                         columns=pd.Index(codes, name="market"), dtype=object)
    for name in names:
        row = get_event(name, events)
        for code in codes:
            a = align(row, code)
            notes = ["intraday"] if a.intraday else []
            if a.untimed and flag_untimed:
                notes.append("untimed")
            suffix = f" ({', '.join(notes)})" if notes else ""
            table.loc[name, code] = f"{a.day0:%Y-%m-%d}{suffix}"
    return table


