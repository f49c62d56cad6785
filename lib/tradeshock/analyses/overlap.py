"""Events that a study cannot tell apart: several studied events with the same day 0.

Two announcements that first trade in the same session (China's 104% confirmed on 8 Apr after
the close and the pause of 9 Apr, both day 0 = 9 Apr on XNYS) get identical abnormal returns: the
narratives say so instead of reporting two "results" that are one.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

__all__ = ["shared_day0", "shared_day0_lines"]


def shared_day0(day0: Mapping[str, pd.Timestamp]) -> dict[pd.Timestamp, list[str]]:
    """Day 0 -> the event ids that share it (only days with two or more events), in order."""
    by: dict[pd.Timestamp, list[str]] = {}
    for event_id, d in day0.items():
        by.setdefault(pd.Timestamp(d), []).append(event_id)
    return {d: ids for d, ids in by.items() if len(ids) > 1}


def shared_day0_lines(day0: Mapping[str, pd.Timestamp], labels: Mapping[str, str],
                      calendar: str) -> list[str]:
    """One Markdown bullet per day 0 shared by several events (none when all differ)."""
    return [f"- {' and '.join(labels[e] for e in ids)} share day 0 ({d:%-d %b %Y} on "
            f"{calendar}): their abnormal returns are those of the same sessions, so the study "
            "cannot tell these events apart." for d, ids in shared_day0(day0).items()]
