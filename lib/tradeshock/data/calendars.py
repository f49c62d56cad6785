"""The exchange-calendar registry: one :func:`get_calendar` for the whole package.

Every exchange calendar tradeshock uses (price validation, the sessions an online download should
have had, the market closures in the pinned snapshot's ``SOURCES.md``, event alignment in
:mod:`tradeshock.events.align`) comes from here, built once per process with one documented start:

* **Start** :data:`CALENDAR_START` (1990-01-01), or the calendar's own earliest date when that is
  later (``ExchangeCalendar.bound_min``: e.g. XTKS from 1997). exchange_calendars' default start
  moves with today's date (20 years back), so an explicit start keeps sessions reproducible. 1990
  is the earliest any caller needs: :func:`~tradeshock.data.validate.validate_prices` checks the
  full history of the offline snapshot folder (series from 1970; calendar checks from 1990 on, as
  they always were), and event alignment needs 2025 only.
* **End** the library's default (about a year after today).
* **Unknown codes** raise :class:`~tradeshock.errors.ValidationError` naming close matches.

Only exchange_calendars' public API is used.
"""

from __future__ import annotations

import difflib
import functools
import warnings

import pandas as pd

from tradeshock.errors import ValidationError

__all__ = ["CALENDAR_START", "get_calendar"]

#: Start of every exchange calendar built here (ISO date; later for calendars whose data start
#: later, see :func:`get_calendar`).
CALENDAR_START = "1990-01-01"


def _build(code: str, start=None):
    import exchange_calendars as xcals

    with warnings.catch_warnings():
        # only exchange_calendars runs here; it still calls pandas APIs that pandas 3
        # deprecates (Series.values on tz-aware data, DatetimeIndex.weekday): not ours to fix
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        return xcals.get_calendar(code, start=start)


@functools.lru_cache(maxsize=None)
def get_calendar(code: str):
    """The exchange_calendars calendar *code* (e.g. ``"XNYS"``), from :data:`CALENDAR_START` or
    the calendar's earliest date if later; cached per process.

    Raises :class:`~tradeshock.errors.ValidationError` for an unknown code, with close matches.
    """
    import exchange_calendars as xcals

    start = pd.Timestamp(CALENDAR_START)
    try:
        return _build(code, start)
    except xcals.errors.InvalidCalendarName:
        close = difflib.get_close_matches(str(code).upper(), xcals.get_calendar_names(), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValidationError(
            f"unknown exchange calendar {code!r}.{hint} Fix: use an exchange_calendars code such "
            "as XNYS, XTKS, XHKG, XETR, XLON (exchange_calendars.get_calendar_names() lists them)."
        ) from None
    except ValueError:
        # the calendar cannot start that early: start at its own earliest date (bound_min is a
        # public class method; the default-start calendar gives the class)
        bound = type(_build(code)).bound_min()
        if bound is None or pd.Timestamp(bound) <= start:
            raise
        return _build(code, pd.Timestamp(bound))
