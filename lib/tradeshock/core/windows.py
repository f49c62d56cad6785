"""Event-time windows: the one parser every layer uses (events, the engine, notebook checks).

A window is a pair of **inclusive** bounds, either

* trading-day offsets from day 0 (``kind="days"``): ``(-260, -11)`` or ``"-260:-11"``, the
  estimation window ending 11 sessions before day 0; ``(0, 3)`` is day 0 and the three sessions
  after it (4 rows); or
* session dates (``kind="dates"``): ``("2023-01-02", "2023-09-08")`` or
  ``"2023-01-02:2023-09-08"``, tz-naive dates at midnight.

:func:`parse_window` reads any of these into a frozen :class:`Window`;
:func:`check_window_order` checks that an estimation window ends before the event window starts.
Every problem raises :class:`~tradeshock.errors.WindowError` (both a ``ValidationError`` and a
``StudyError``) whose message names the window (``what``), says what is wrong and how to fix it.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from tradeshock.errors import WindowError

__all__ = ["Window", "check_window_order", "is_datelike", "parse_session_date", "parse_window"]

Kind = Literal["days", "dates"]

_EXAMPLE = {
    "days": "-5:10 (five sessions before day 0 to ten after)",
    "dates": "2023-01-02:2023-09-08",
    None: "-5:10 (five sessions before day 0 to ten after) or 2023-01-02:2023-09-08",
}


@dataclass(frozen=True)
class Window:
    """An inclusive window: ``kind`` ``"days"`` (int offsets from day 0) or ``"dates"``
    (tz-naive ``pandas.Timestamp`` at midnight), ``start <= end``.

    Iterates as ``(start, end)``, so ``a, b = window`` works; ``str(window)`` is ``"a..b"``.
    """

    kind: Kind
    start: Any
    end: Any

    def __iter__(self):
        return iter((self.start, self.end))

    @property
    def bounds(self) -> tuple[Any, Any]:
        """``(start, end)``."""
        return (self.start, self.end)

    def __str__(self) -> str:
        if self.kind == "dates":
            return f"{self.start.date()}..{self.end.date()}"
        return f"{self.start}..{self.end}"

    def overlaps(self, other: Window) -> bool:
        """Whether the two windows (of one kind) share a day or a date."""
        return self.start <= other.end and other.start <= self.end


def is_datelike(x: Any) -> bool:
    """Whether ``x`` reads as a date rather than a day offset (``"-5"`` and ``5`` are offsets)."""
    if isinstance(x, (bool, np.bool_)):
        return False
    if isinstance(x, (int, np.integer)):
        return False
    if isinstance(x, str):
        s = x.strip()
        return not s.lstrip("+-").isdigit()
    return isinstance(x, (pd.Timestamp, _dt.date, np.datetime64))


def parse_session_date(x: Any, what: str, error: type[Exception] = WindowError) -> pd.Timestamp:
    """A tz-naive session date (midnight) from a date-like ``x``; ``error`` otherwise.

    ``what`` names the input in the message (e.g. ``"estimation window"``).
    """
    try:
        ts = pd.Timestamp(x)
    except (ValueError, TypeError) as exc:
        raise error(f"{what}: cannot read {x!r} as a date ({exc}); use YYYY-MM-DD") from None
    if ts is pd.NaT or pd.isna(ts):
        raise error(f"{what}: {x!r} is not a date; use YYYY-MM-DD")
    if ts.tz is not None:
        raise error(
            f"{what}: {x!r} is tz-aware; pass the session date (tz-naive), e.g. from "
            "tradeshock.events alignment"
        )
    return ts.normalize()


def _pair(value: Any, what: str, kind: Kind | None) -> tuple[Any, Any]:
    if isinstance(value, str):
        parts = value.split(":")
        if len(parts) != 2 or not all(p.strip() for p in parts):
            raise WindowError(
                f"{what} = {value!r} is not START:END; write e.g. {_EXAMPLE[kind]}"
            )
        return parts[0].strip(), parts[1].strip()
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = value.tolist()
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise WindowError(
            f"{what} = {value!r} is not a window: expected a pair (start, end) or a string "
            f"START:END, e.g. {_EXAMPLE[kind]}"
        )
    return value[0], value[1]


def _offsets(a: Any, b: Any, value: Any, what: str) -> tuple[int, int]:
    try:
        ia, ib = int(a), int(b)
        whole = ia == float(a) and ib == float(b)
    except (TypeError, ValueError, OverflowError):
        raise WindowError(
            f"{what} = {value!r} is neither two day offsets nor two dates; write e.g. "
            f"{_EXAMPLE[None]}"
        ) from None
    if not whole:
        raise WindowError(
            f"{what} = {value!r}: day offsets must be whole numbers of sessions, e.g. -5:10"
        )
    return ia, ib


def parse_window(value: Any, what: str = "window", *, kind: Kind | None = None) -> Window:
    """Read a window, both ends inclusive, as a :class:`Window`.

    ``value`` is a pair of ints (trading-day offsets from day 0), a pair of date-likes, a string
    ``"A:B"`` of either kind (``"-250:-11"``, ``"2023-01-02:2023-09-08"``) or a :class:`Window`.
    ``kind`` restricts it to ``"days"`` or ``"dates"``; ``None`` accepts both. ``what`` names the
    window in error messages (``"event window"``, ``"parameter 'estimation_window'"``).
    """
    if isinstance(value, Window):
        if kind is not None and value.kind != kind:
            raise WindowError(f"{what} = {value}: expected {_kind_text(kind)}, got {value.kind}")
        return value
    a, b = _pair(value, what, kind)
    da, db = is_datelike(a), is_datelike(b)
    if da != db:
        raise WindowError(
            f"{what} = {value!r} mixes a date and a day offset; use two of a kind, e.g. "
            f"{_EXAMPLE[kind]}"
        )
    if da:
        if kind == "days":
            raise WindowError(
                f"{what} = {value!r} gives dates; this window takes trading-day offsets from "
                f"day 0, e.g. {_EXAMPLE['days']}"
            )
        start, end = parse_session_date(a, what), parse_session_date(b, what)
        if start > end:
            raise WindowError(
                f"{what} = {value!r}: start {start.date()} is after end {end.date()} (the window "
                f"starts after it ends); write the earlier date first: {end.date()}:{start.date()}"
            )
        return Window("dates", start, end)
    if kind == "dates":
        raise WindowError(
            f"{what} = {value!r} gives day offsets; this window takes dates, e.g. "
            f"{_EXAMPLE['dates']}"
        )
    ia, ib = _offsets(a, b, value, what)
    if ia > ib:
        raise WindowError(
            f"{what} = {value!r}: start {ia} is after end {ib} (the window starts after it "
            f"ends); write the earlier offset first: {ib}:{ia}"
        )
    return Window("days", ia, ib)


def _kind_text(kind: Kind) -> str:
    return "trading-day offsets from day 0" if kind == "days" else "dates"


def check_window_order(estimation: Window, event: Window) -> None:
    """The estimation window must be of the event window's kind and end before it starts."""
    if estimation.kind != event.kind:
        raise WindowError(
            "estimation and event windows must both be day offsets or both be dates; "
            f"got estimation {estimation} ({estimation.kind}) and event {event} ({event.kind})"
        )
    example = "-260..-11 with event -1..5" if event.kind == "days" else "dates before the event's"
    if estimation.overlaps(event):
        raise WindowError(
            f"estimation window {estimation} overlaps event window {event}; end the estimation "
            f"window before the event window starts (e.g. {example})"
        )
    if estimation.start > event.end:
        raise WindowError(
            f"estimation window {estimation} comes after event window {event}; the estimation "
            f"window must come before the event window (e.g. {example})"
        )
