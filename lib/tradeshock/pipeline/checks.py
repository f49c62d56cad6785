"""Notebook parameter checks, run on entry before any work: each failure says what, where, how.

Papermill injects parameters as literals; these functions turn them into validated values (known
event ids, known symbols, ordered windows, ISO dates) or raise
:class:`~tradeshock.errors.ValidationError` naming the parameter.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from tradeshock.core.windows import check_window_order, parse_window
from tradeshock.errors import UnknownSymbolError, ValidationError


def check_event(value: str, name: str = "event", events: pd.DataFrame | None = None) -> str:
    """The calendar ``event_id`` for *value* (an id or a ``KEY_EVENTS`` short name)."""
    from tradeshock import events as ev

    if not isinstance(value, str):
        raise ValidationError(f"parameter {name!r} must be a string (an event id), got {value!r}")
    try:
        return str(ev.get_event(value, events)["event_id"])
    except ValidationError as exc:
        raise ValidationError(f"parameter {name!r}: {exc}") from None


def check_symbols(values: Iterable[str] | str, name: str = "symbols") -> list[str]:
    """The symbols as a list, every one known to ``data/universe.csv`` (close matches otherwise)."""
    from tradeshock.data.universe import lookup

    symbols = [values] if isinstance(values, str) else list(values)
    if not symbols or not all(isinstance(s, str) for s in symbols):
        raise ValidationError(f"parameter {name!r} must be a non-empty list of symbols, got {values!r}")
    try:
        lookup(symbols)
    except UnknownSymbolError as exc:
        raise ValidationError(f"parameter {name!r}: {exc}") from None
    return symbols


def check_window(value, name: str = "window") -> tuple[int, int]:
    """A window of trading-day offsets ``(a, b)`` with ``a <= b``, from ``"a:b"`` or a pair
    (read by :func:`tradeshock.core.windows.parse_window`)."""
    return parse_window(value, f"parameter {name!r}", kind="days").bounds


def check_windows_order(estimation: tuple[int, int], event: tuple[int, int]) -> None:
    """The estimation window must end before the event window starts."""
    check_window_order(parse_window(estimation, "estimation window", kind="days"),
                       parse_window(event, "event window", kind="days"))


def check_date(value, name: str) -> pd.Timestamp:
    """An ISO date (``YYYY-MM-DD``) as a Timestamp."""
    try:
        return pd.Timestamp(str(value)).normalize()
    except (ValueError, TypeError):
        raise ValidationError(f"parameter {name!r} = {value!r} is not an ISO date (YYYY-MM-DD)") from None
