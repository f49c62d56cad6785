"""The date range of a price request: clip a long frame to it, and name it in messages.

*start* and *end* are tz-naive midnight Timestamps (:func:`tradeshock.core.timefmt.to_date`) or
``None`` for "no bound"; both bounds are inclusive.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["clip", "range_label"]


def range_label(start, end) -> str:
    """``"2025-04-01 .. 2025-04-30"``; an open bound reads "first available" or "latest"."""
    a = start.strftime("%Y-%m-%d") if start is not None else "first available"
    b = end.strftime("%Y-%m-%d") if end is not None else "latest"
    return f"{a} .. {b}"


def clip(df: pd.DataFrame, start, end) -> pd.DataFrame:
    """The rows of *df* whose ``date`` is within *start* .. *end* (inclusive)."""
    m = np.ones(len(df), dtype=bool)
    if start is not None:
        m &= (df["date"] >= start).to_numpy()
    if end is not None:
        m &= (df["date"] <= end).to_numpy()
    return df[m]
