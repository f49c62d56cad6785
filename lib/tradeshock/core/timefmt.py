"""Dates and instants as tradeshock writes them: ISO dates, UTC instants, lenient parsing.

Dates are session dates: tz-naive ``pandas.Timestamp`` at midnight, written ``YYYY-MM-DD``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

__all__ = ["utc_now", "iso_date", "to_date"]


def utc_now() -> str:
    """The current UTC instant, ISO 8601 to the second (``2026-12-04T01:10:48+00:00``)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _blank(x: Any) -> bool:
    if x is None:
        return True
    if isinstance(x, str):
        return not x.strip()
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def iso_date(x: Any) -> str | None:
    """``YYYY-MM-DD`` of a date-like value; ``None`` for None, NaN, NaT or a blank string."""
    return None if _blank(x) else pd.Timestamp(x).strftime("%Y-%m-%d")


def to_date(x: Any) -> pd.Timestamp | None:
    """A tz-naive midnight Timestamp from a date-like value; ``None`` for a blank one."""
    return None if _blank(x) else pd.Timestamp(x).normalize()
