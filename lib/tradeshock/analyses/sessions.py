"""Event sessions: the tariff calendar grouped by the market session it moves, with a direction.

An **event session** of a market is the set of calendar events whose day 0 (the first session of
that market that trades after the announcement, :func:`tradeshock.events.align`) is the same
session. A session is *one* observation: the five events of 9 April 2025 (the reciprocal rates
taking effect, "great time to buy", the pause, China to 125 %, China's 84 %) move the market once,
and counting them five times would multiply one return into five "independent" data points.

Three documented rules (each a sentence the report prints):

* :data:`DIRECTION_RULE` gives each session a direction from its events' kinds
  (:func:`session_direction`);
* :data:`UNTIMED_WINDOW_RULE` gives it a *reaction window*: most calendar events have no clock
  time, and the calendar's rule (:data:`tradeshock.events.UNTIMED_RULE`) places them after the
  close, so day 0 is the next session, which misses a reaction on the day itself when the news
  came during trading. The reaction window of an untimed event therefore starts at the session an
  announcement at 00:00 on its local date would reach;
* :data:`OVERLAP_RULE` keeps reaction windows of neighbouring sessions apart (``overlap="trim"``,
  the default) or keeps them whole and flags the overlaps (``overlap="keep"``); windows longer than
  the reaction window (a CAR window) are flagged by :meth:`EventSessions.overlaps`.

Dates are tz-naive session labels of the market's exchange calendar (exchange_calendars code such
as ``XNYS``); event time counts that calendar's sessions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from tradeshock.errors import StudyError
from tradeshock.events import KINDS, align, get_calendar, load_events

__all__ = [
    "DEESCALATION_KINDS",
    "DIRECTIONS",
    "DIRECTION_RULE",
    "ESCALATION_KINDS",
    "OVERLAP_RULE",
    "UNTIMED_MODES",
    "UNTIMED_WINDOW_RULE",
    "EventSessions",
    "event_sessions",
    "session_direction",
]

#: Kinds that raise trade barriers (escalation-like).
ESCALATION_KINDS: tuple[str, ...] = ("announcement", "escalation", "retaliation")
#: Kinds that lower them (de-escalation-like).
DEESCALATION_KINDS: tuple[str, ...] = ("de-escalation", "deal")
_OTHER_KINDS = tuple(k for k in KINDS if k not in ESCALATION_KINDS + DEESCALATION_KINDS)
#: Every direction a session can get, in display order.
DIRECTIONS: tuple[str, ...] = ("escalation", "de-escalation", "mixed", *_OTHER_KINDS,
                               "unclassified")

DIRECTION_RULE = (
    "A session is escalation-like when its events include an announcement, escalation or "
    "retaliation and no de-escalation or deal, de-escalation-like when they include a "
    "de-escalation or deal and none of those three, and mixed when both are present. The other "
    "kinds (negotiation, legal, effective, clarification, rumor, statement) carry no direction: "
    "they leave the direction of a session with directional events unchanged, a session made only "
    "of one such kind takes that kind (e.g. effective, legal), and a session mixing several of "
    "them is unclassified and listed."
)

UNTIMED_WINDOW_RULE = (
    "An event without a clock time could have come at any moment of its local date, so its "
    "reaction window runs from the session an announcement at 00:00 local time would reach to the "
    "session one at 23:59:59 would reach (its day 0 under the calendar's after-the-close rule): "
    "for a US event on a trading day that is the day's own session and the next one; on a weekend "
    "or holiday both cases land on the next session, which is then the whole window. Timed events "
    "(including 'by' times, used as the announcement instant) have a one-session window, day 0."
)

OVERLAP_RULE = (
    "A session that is one event session's day 0 belongs to that session alone: an untimed "
    "event's reaction window reaches back to the previous session only when no other event session "
    "has its day 0 there, so no session's return enters two reaction windows. Longer windows (the "
    "CAR window) can still overlap; those sessions are flagged, and pooled results are shown with "
    "and without them."
)

_OVERLAP_KEEP = (
    "Reaction windows are kept whole: where two sessions' windows share a session, both are "
    "flagged as overlapping and pooled results are shown with and without them."
)

#: How untimed events get their reaction window: ``local_day`` (:data:`UNTIMED_WINDOW_RULE`) or
#: ``after_close`` (day 0 alone, the calendar's rule).
UNTIMED_MODES: tuple[str, ...] = ("local_day", "after_close")
_OVERLAP_MODES = ("trim", "keep")


def session_direction(kinds: Iterable[str]) -> str:
    """Direction of a session with events of ``kinds`` (:data:`DIRECTION_RULE`).

    Returns ``"escalation"``, ``"de-escalation"``, ``"mixed"``, one of the non-directional kinds
    (when every event has that kind) or ``"unclassified"`` (several non-directional kinds only).
    Unknown kinds raise :class:`StudyError`.

    >>> session_direction(["escalation", "effective"])
    'escalation'
    >>> session_direction(["deal", "retaliation"])
    'mixed'
    >>> session_direction(["effective"])
    'effective'
    """
    ks = [str(k) for k in kinds]
    if not ks:
        raise StudyError("session_direction: a session needs at least one event kind")
    bad = sorted({k for k in ks if k not in KINDS})
    if bad:
        raise StudyError(
            f"session_direction: unknown kind(s) {bad}; the calendar's kinds are {list(KINDS)}"
        )
    esc = any(k in ESCALATION_KINDS for k in ks)
    de = any(k in DEESCALATION_KINDS for k in ks)
    if esc and de:
        return "mixed"
    if esc:
        return "escalation"
    if de:
        return "de-escalation"
    other = set(ks)
    return other.pop() if len(other) == 1 else "unclassified"


# ------------------------------------------------------------------------------------- sessions
def _local_midnight(row: pd.Series) -> pd.Timestamp:
    date = pd.Timestamp(row["date"]).strftime("%Y-%m-%d")
    return pd.Timestamp(f"{date} 00:00:00", tz=str(row["timezone"]))


def _event_rows(ev: pd.DataFrame, code: str, untimed: str) -> pd.DataFrame:
    rows = []
    for _, row in ev.iterrows():
        a = align(row, code)
        earliest = a.day0
        if a.untimed and untimed == "local_day":
            earliest = align(_local_midnight(row), code).day0
        rows.append(
            {
                "event_id": str(row["event_id"]),
                "date": pd.Timestamp(row["date"]).normalize(),
                "kind": str(row["kind"]),
                "actor": str(row.get("actor", "")),
                "title": str(row.get("title", "")),
                "timed": not a.untimed,
                "timing": a.timing,
                "day0": a.day0,
                "earliest": earliest,
            }
        )
    return pd.DataFrame(rows)


def event_sessions(
    events: pd.DataFrame | None = None,
    calendar: str = "XNYS",
    *,
    kinds: Sequence[str] | None = None,
    untimed: str = "local_day",
    timed_only: bool = False,
    overlap: str = "trim",
) -> EventSessions:
    """Group calendar events into event sessions of one market and give each a direction.

    Parameters
    ----------
    events
        A calendar frame (:func:`tradeshock.events.load_events`, possibly filtered or extended);
        default the bundled calendar.
    calendar
        exchange_calendars code of the market, e.g. ``"XNYS"`` for US-listed securities.
    kinds
        Keep only events of these kinds (before grouping); default all.
    untimed
        ``"local_day"`` (default, :data:`UNTIMED_WINDOW_RULE`) or ``"after_close"`` (the reaction
        window of an untimed event is its day 0 alone).
    timed_only
        Drop events without a clock time first (the robustness check of the pooled study).
    overlap
        ``"trim"`` (default, :data:`OVERLAP_RULE`) or ``"keep"`` (windows kept whole; overlaps
        flagged in ``overlap_reaction``).
    """
    if untimed not in UNTIMED_MODES:
        raise StudyError(f"untimed={untimed!r}: choose one of {', '.join(UNTIMED_MODES)}")
    if overlap not in _OVERLAP_MODES:
        raise StudyError(f"overlap={overlap!r}: choose one of {', '.join(_OVERLAP_MODES)}")
    ev = load_events() if events is None else events
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        bad = [k for k in kinds if k not in KINDS]
        if bad:
            raise StudyError(f"kinds: unknown kind(s) {bad}; choose among {list(KINDS)}")
        ev = ev[ev["kind"].isin(kinds)]
    if timed_only:
        timed = ev["time_local"].notna() & (ev["time_local"].astype(str).str.strip() != "")
        ev = ev[timed.to_numpy()]
    if ev.empty:
        raise StudyError(
            "event_sessions: no event left to group (check kinds= and timed_only=); "
            f"kinds asked: {kinds}, timed_only={timed_only}"
        )
    cal = get_calendar(calendar)
    all_sessions = pd.DatetimeIndex(cal.sessions)
    evr = _event_rows(ev, calendar, untimed)
    pos = {d: int(all_sessions.get_loc(d)) for d in set(evr["day0"]) | set(evr["earliest"])}
    day0_pos = sorted({pos[d] for d in evr["day0"]})
    day0_set = set(day0_pos)
    rows = []
    for d0, g in evr.groupby("day0", sort=True):
        p0 = pos[d0]
        p_start = min(pos[d] for d in g["earliest"])
        if overlap == "trim":
            taken = [p for p in range(p_start, p0) if p in day0_set]
            if taken:
                p_start = max(taken) + 1
        kinds_s = list(g["kind"])
        direction = session_direction(kinds_s)
        rows.append(
            {
                "session_id": f"{d0:%Y-%m-%d}",
                "day0": d0,
                "window_start": all_sessions[p_start],
                "start_offset": p_start - p0,
                "n_window": p0 - p_start + 1,
                "direction": direction,
                "kinds": "; ".join(sorted(set(kinds_s))),
                "n_events": len(g),
                "all_timed": bool(g["timed"].all()),
                "event_ids": "; ".join(g["event_id"]),
                "titles": " | ".join(g["title"]),
                "pos": p0,
            }
        )
    ses = pd.DataFrame(rows)
    first = ses["day0"].min()
    ses.insert(2, "order", np.arange(1, len(ses) + 1))
    ses.insert(3, "days_since_first", (ses["day0"] - first).dt.days.astype(int))
    ses["label"] = [
        f"{d:%d %b} · {dirn}" + (f" ({n})" if n > 1 else "")
        for d, dirn, n in zip(ses["day0"], ses["direction"], ses["n_events"])
    ]
    flags = _overlap_flags(ses["pos"].to_numpy(), ses["start_offset"].to_numpy(),
                           np.zeros(len(ses), dtype=int))
    ses["overlap_reaction"] = flags[0]
    ses["overlaps_with"] = [
        "; ".join(ses["session_id"].iloc[j] for j in js) for js in flags[1]
    ]
    evr = evr.merge(ses[["day0", "session_id"]], on="day0", how="left")
    evr = evr.merge(ses[["session_id", "window_start"]], on="session_id", how="left")
    return EventSessions(
        ses.reset_index(drop=True),
        evr.reset_index(drop=True),
        calendar=calendar,
        sessions_index=all_sessions,
        settings={
            "calendar": calendar,
            "untimed": untimed,
            "overlap": overlap,
            "timed_only": bool(timed_only),
            "kinds": None if kinds is None else tuple(kinds),
            "n_events": len(evr),
        },
    )


def _overlap_flags(
    pos: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, list[list[int]]]:
    """Which windows ``[pos + lo, pos + hi]`` (session positions) intersect another one."""
    a = pos + lo
    b = pos + hi
    inter = (a[:, None] <= b[None, :]) & (a[None, :] <= b[:, None])
    np.fill_diagonal(inter, False)
    return inter.any(axis=1), [list(np.flatnonzero(r)) for r in inter]


class EventSessions:
    """Event sessions of one market (:func:`event_sessions`).

    ``sessions`` has one row per session: ``session_id`` (the day-0 date, ``YYYY-MM-DD``), ``day0``,
    ``order`` (1, 2, ...), ``days_since_first`` (calendar days since the first session's day 0),
    ``window_start`` (first session of the reaction window), ``start_offset`` (its offset from
    day 0, 0 or -1), ``n_window`` (sessions in the reaction window), ``direction``, ``kinds``,
    ``n_events``, ``all_timed``, ``event_ids``, ``titles``, ``label``, ``overlap_reaction`` and
    ``overlaps_with``. ``events`` has one row per event with its ``session_id``.
    """

    def __init__(
        self,
        sessions: pd.DataFrame,
        events: pd.DataFrame,
        *,
        calendar: str,
        sessions_index: pd.DatetimeIndex,
        settings: dict[str, Any],
    ) -> None:
        self._sessions = sessions
        self._events = events
        self.calendar = calendar
        self._index = sessions_index
        self._settings = dict(settings)

    def __len__(self) -> int:
        return len(self._sessions)

    def __repr__(self) -> str:
        return (
            f"<EventSessions {self.calendar}: {len(self)} sessions from "
            f"{self._settings['n_events']} events, untimed={self._settings['untimed']}>"
        )

    @property
    def sessions(self) -> pd.DataFrame:
        """One row per session (see the class docstring)."""
        return self._sessions.drop(columns=["pos"]).copy()

    @property
    def events(self) -> pd.DataFrame:
        """One row per event: ``event_id, date, kind, actor, title, timed, timing, day0,
        earliest, session_id, window_start`` (``earliest``: the first session its news could reach
        under the untimed rule, before trimming)."""
        return self._events.copy()

    @property
    def settings(self) -> dict[str, Any]:
        """The options the sessions were built with."""
        return dict(self._settings)

    @property
    def untimed_rule(self) -> str:
        """The sentence stating how untimed events got their reaction window."""
        if self._settings["timed_only"]:
            return "Only events with a clock time are used; each reaction window is day 0 alone."
        if self._settings["untimed"] == "after_close":
            return (
                "An event without a clock time is placed after the close of its local date (the "
                "calendar's rule); its reaction window is that day 0 alone."
            )
        return UNTIMED_WINDOW_RULE

    @property
    def direction_rule(self) -> str:
        """:data:`DIRECTION_RULE`."""
        return DIRECTION_RULE

    @property
    def overlap_rule(self) -> str:
        """The sentence stating how overlapping windows are handled."""
        return OVERLAP_RULE if self._settings["overlap"] == "trim" else _OVERLAP_KEEP

    @property
    def unclassified(self) -> pd.DataFrame:
        """Sessions the direction rule could not classify: ``session_id, day0, kinds, event_ids,
        reason``."""
        u = self._sessions[self._sessions["direction"] == "unclassified"]
        out = u[["session_id", "day0", "kinds", "event_ids"]].copy()
        out["reason"] = ("several non-directional kinds and no escalation-like or "
                         "de-escalation-like event")
        return out.reset_index(drop=True)

    def counts(self) -> pd.Series:
        """Number of sessions per direction, in :data:`DIRECTIONS` order (zeros left out)."""
        c = self._sessions["direction"].value_counts()
        return c.reindex([d for d in DIRECTIONS if d in c.index]).rename("sessions")

    def positions(self) -> pd.Series:
        """Position of each session's day 0 in the exchange calendar (index: ``session_id``)."""
        return self._sessions.set_index("session_id")["pos"].copy()

    def session_at(self, session_id: str, offset: int) -> pd.Timestamp:
        """The calendar session ``offset`` sessions from a session's day 0."""
        p = self.positions()
        if session_id not in p.index:
            raise StudyError(f"unknown session {session_id!r}; sessions: {list(p.index)[:5]} …")
        return self._index[int(p[session_id]) + int(offset)]

    def overlaps(self, window: tuple[int, int]) -> pd.DataFrame:
        """Which sessions' windows overlap, for a window of day offsets ``(a, b)`` around day 0.

        Each session's window is ``[min(a, start_offset), b]`` (the reaction window is always
        inside it). Returns ``session_id, overlap, overlaps_with``.
        """
        a, b = int(window[0]), int(window[1])
        if a > b:
            raise StudyError(f"overlaps: window ({a}, {b}) starts after it ends")
        s = self._sessions
        lo = np.minimum(a, s["start_offset"].to_numpy())
        flag, js = _overlap_flags(s["pos"].to_numpy(), lo, np.full(len(s), b))
        return pd.DataFrame(
            {
                "session_id": s["session_id"].to_numpy(),
                "overlap": flag,
                "overlaps_with": ["; ".join(s["session_id"].iloc[j] for j in jj) for jj in js],
            }
        )

    def to_frame(self) -> pd.DataFrame:
        """The sessions table (:attr:`sessions`)."""
        return self.sessions

    def summary(self) -> str:
        """A text summary: counts by direction, window rule, unclassified sessions."""
        s = self._sessions
        st = self._settings
        lines = [
            f"Event sessions on {self.calendar}: {len(s)} sessions from {st['n_events']} events "
            f"({s['day0'].min():%Y-%m-%d} .. {s['day0'].max():%Y-%m-%d})",
            "  by direction: " + ", ".join(f"{k} {v}" for k, v in self.counts().items()),
            f"  two-session reaction windows: {int((s['n_window'] > 1).sum())}; "
            f"overlapping reaction windows: {int(s['overlap_reaction'].sum())}",
            f"  untimed: {st['untimed']}; overlap: {st['overlap']}; timed only: {st['timed_only']}",
        ]
        u = self.unclassified
        if len(u):
            lines.append("  unclassified: " + "; ".join(
                f"{r.session_id} ({r.kinds})" for r in u.itertuples()))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()
