"""Tables people read (core/tables.py): one format per column, p-values as numbers, HTML escaped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradeshock.core.tables import Summary, Table, fmt_num, fmt_p, fmt_pct, fmt_value
from tradeshock.errors import ValidationError


def test_formats_by_hand():
    assert fmt_pct(-0.04843) == "-4.84"
    assert fmt_pct(0.000001) == "0.00"           # no "-0.00"
    assert fmt_pct(-0.000001) == "0.00"
    assert fmt_p(0.0004) == "<0.001" and fmt_p(0.001) == "0.001" and fmt_p(0.0496) == "0.050"
    assert fmt_p(3.2e-10, decimals=4) == "<0.0001"
    assert fmt_num(1.23456, 2) == "1.23" and fmt_num(np.inf) == "∞"
    assert fmt_value(np.nan, "pct") == "–" and fmt_value(None, "p") == "–"
    assert fmt_value(pd.Timestamp("2025-04-03 00:00"), "date") == "2025-04-03"
    assert fmt_value(12.345, "bp") == "12.3" and fmt_value(7.6, "int") == "8"
    with pytest.raises(ValidationError, match="unknown table format 'percent'"):
        fmt_value(1.0, "percent")


def test_table_keeps_numbers_and_shows_labels():
    frame = pd.DataFrame({"car": [-0.0484, 0.095], "p_value": [0.00001, 0.2346], "n": [4, 1]},
                         index=pd.Index(["^GSPC", "XLK"], name="series"))
    t = Table(frame, caption="CAR over days 0..3, percent",
              formats={"car": "pct", "p_value": "p", "n": "int"},
              labels={"car": "CAR (%)", "p_value": "p-value", "n": "days"},
              notes=["Brown–Warner t-test."])
    shown = t.formatted()
    assert list(shown.columns) == ["CAR (%)", "p-value", "days"]
    assert shown.loc["^GSPC"].tolist() == ["-4.84", "<0.001", "4"]
    assert shown.loc["XLK"].tolist() == ["9.50", "0.235", "1"]
    pd.testing.assert_frame_equal(t.to_frame(), frame)      # numbers untouched
    text = t.as_text()
    assert text.splitlines()[0] == "CAR over days 0..3, percent" and "Note: Brown–Warner" in text
    assert "<caption>CAR over days 0..3, percent</caption>" in t.as_html()
    assert t._repr_html_() == t.as_html()


def test_html_is_escaped():
    t = Table(pd.DataFrame({"x": ["<script>alert(1)</script>"]}), caption="a & b")
    html = t.as_html()
    assert "<script>" not in html and "&lt;script&gt;" in html and "a &amp; b" in html


def test_summary_stacks_header_and_tables():
    t = Table(pd.DataFrame({"v": [0.01]}), caption="one", formats={"v": "pct"})
    s = Summary("Event study", header={"Model": "mean", "Securities": "4 of 4"}, tables=[t])
    assert "Model:" in s.as_text() and "one" in s.as_text()
    assert "<th>Model</th><td>mean</td>" in s.as_html() and "<caption>one</caption>" in s.as_html()


def test_grouped_rows_show_each_level_as_text_not_tuples():
    idx = pd.MultiIndex.from_tuples(
        [(pd.Timestamp("2025-04-03"), "sector ETFs"), (pd.Timestamp("2025-04-09"), "indices")],
        names=["day 0", "group"])
    t = Table(pd.DataFrame({"car": [-0.051, 0.083]}, index=idx), "CAR by session and group",
              formats={"car": "pct:1"})
    html_text, text = t.as_html(), t.as_text()
    for out in (html_text, text):
        assert "Timestamp" not in out and "('" not in out
        assert "2025-04-03" in out and "sector ETFs" in out
    assert "<th>day 0</th><th>group</th>" in html_text
    assert "<th>2025-04-09</th><th>indices</th>" in html_text


def test_count_text_puts_the_noun_in_the_right_number():
    from tradeshock.core.tables import count_text

    assert count_text(1, "event session") == "1 event session"
    assert count_text(0, "event") == "0 events" and count_text(38, "session") == "38 sessions"
    assert count_text(2, "series", "series") == "2 series"
