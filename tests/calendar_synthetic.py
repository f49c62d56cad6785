"""SYNTHETIC data for the calendar-study tests (issue 18): never real prices.

Event calendars in the format of ``tradeshock.events.load_events`` and returns on real NYSE (XNYS)
sessions, drawn from a seeded normal distribution, with abnormal returns planted on known sessions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from tradeshock.events import get_calendar

TZ = "America/New_York"


def xnys(start: str = "2024-01-02", end: str = "2025-12-31") -> pd.DatetimeIndex:
    """XNYS sessions between two dates (inclusive)."""
    s = pd.DatetimeIndex(get_calendar("XNYS").sessions)
    return s[(s >= start) & (s <= end)]


def events(rows) -> pd.DataFrame:
    """A calendar frame from ``(date, time_local or None, kind[, timezone])`` tuples."""
    out = []
    for i, r in enumerate(rows):
        date, time, kind = r[:3]
        tz = r[3] if len(r) > 3 else TZ
        out.append({"event_id": f"SYN-{i:02d}-{kind}", "date": pd.Timestamp(date),
                    "time_local": time, "time_basis": "exact" if time else None,
                    "timezone": tz, "kind": kind, "actor": "synthetic",
                    "title": f"synthetic {kind} {i}"})
    return pd.DataFrame(out)


def spaced_sessions(n: int, start: str = "2025-02-03", step: int = 8) -> list[pd.Timestamp]:
    """``n`` XNYS sessions ``step`` sessions apart from ``start``."""
    idx = xnys("2025-01-02", "2025-12-31")
    first = int(idx.searchsorted(pd.Timestamp(start)))
    return [idx[first + step * k] for k in range(n)]


def timed_calendar(n_esc: int = 10, n_de: int = 10, n_eff: int = 0, step: int = 6):
    """Alternating escalation / de-escalation (then effective) sessions, timed 10:00 New York
    (intraday: day 0 is the date itself). Returns ``(events frame, {kind: [dates]})``."""
    kinds = (["escalation", "de-escalation"] * max(n_esc, n_de))
    kinds = [k for i, k in enumerate(kinds) if (k == "escalation" and i // 2 < n_esc)
             or (k == "de-escalation" and i // 2 < n_de)] + ["effective"] * n_eff
    dates = spaced_sessions(len(kinds), step=step)
    by_kind: dict[str, list[pd.Timestamp]] = {}
    for d, k in zip(dates, kinds):
        by_kind.setdefault(k, []).append(d)
    return events([(d, "10:00", k) for d, k in zip(dates, kinds)]), by_kind


def returns(columns, seed: int = 1, sd: float = 0.01, index=None) -> pd.DataFrame:
    """SYNTHETIC simple returns (fractions): N(0.0003, sd) with a common factor."""
    idx = xnys() if index is None else index
    rng = np.random.default_rng(seed)
    common = rng.normal(0.0, sd / 2, len(idx))
    data = {c: 0.0003 + common + rng.normal(0.0, sd, len(idx)) for c in columns}
    return pd.DataFrame(data, index=idx)


def plant(r: pd.DataFrame, dates, columns, effect) -> pd.DataFrame:
    """Add ``effect`` (a number, or one per date) to ``columns`` on ``dates``."""
    r = r.copy()
    eff = np.broadcast_to(np.asarray(effect, dtype=float), (len(dates),))
    for d, e in zip(dates, eff):
        r.loc[pd.Timestamp(d), list(columns)] += e
    return r
