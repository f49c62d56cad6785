"""The preamble's honest as-of text (pipeline/preamble.as_of_text)."""

from __future__ import annotations

import pandas as pd

from tradeshock.pipeline.preamble import as_of_text

T = pd.Timestamp


def test_one_date_when_every_series_ends_then():
    assert as_of_text({"A": T("2026-06-24"), "B": T("2026-06-24")}) == "2026-06-24"
    assert as_of_text({}) == "no data"


def test_common_date_first_then_the_exceptions_by_name():
    last = {"^GSPC": T("2026-06-24"), "^DJI": T("2026-03-05"), "^IXIC": T("2026-06-24")}
    text = as_of_text(last, {"^DJI": "Dow Jones Industrial Average"})
    assert text == ("2026-03-05 for all series (most to 2026-06-24; Dow Jones Industrial Average "
                    "to 2026-03-05)")
    # every series on its own date: no "most", each listed
    assert as_of_text({"A": T("2026-01-02"), "B": T("2026-02-03")}) == (
        "2026-01-02 for all series (A to 2026-01-02; B to 2026-02-03)")


def test_many_exceptions_are_counted_not_listed():
    last = {f"S{i}": T("2026-06-24") for i in range(5)}
    last.update({f"E{i}": T("2026-01-01") + pd.Timedelta(days=i) for i in range(7)})
    text = as_of_text(last)
    assert text.startswith("2026-01-01 for all series (most to 2026-06-24; E0 to 2026-01-01; ")
    assert "E3 to 2026-01-04 and 3 more)" in text and "E4" not in text
    full = as_of_text(last, listed=None)
    assert all(f"E{i} to" in full for i in range(7))
