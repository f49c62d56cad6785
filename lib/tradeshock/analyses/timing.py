"""How an announcement fell against a market's session, in words a reader of a table knows.

:attr:`tradeshock.events.align.Alignment.timing` is a code (``before_open``, ``intraday``,
``after_close``, ``non_session``); tables show :func:`timing_text` of it. ``non_session`` (news
on a weekend or a holiday of that exchange) reads "on a day without a session".
"""

from __future__ import annotations

from typing import Any

__all__ = ["TIMING_TEXT", "timing_text"]

#: Alignment timing code -> table text.
TIMING_TEXT = {"before_open": "before open", "intraday": "intraday",
               "after_close": "after close", "non_session": "on a day without a session"}


def timing_text(alignment: Any) -> str:
    """The table text of ``alignment.timing`` (an unknown code shows with spaces)."""
    code = str(alignment.timing)
    return TIMING_TEXT.get(code, code.replace("_", " "))
