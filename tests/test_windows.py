"""Tests of tradeshock.core.windows: the one window parser of events, the engine and the checks."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from tradeshock.core.windows import Window, check_window_order, parse_window
from tradeshock.errors import StudyError, ValidationError, WindowError


def test_day_offsets_from_pairs_and_strings():
    assert parse_window("-250:-11") == Window("days", -250, -11)
    assert parse_window(" -5 : +10 ") == Window("days", -5, 10)
    assert parse_window((0, 0)) == Window("days", 0, 0)
    assert parse_window([-1, 5]) == Window("days", -1, 5)
    assert parse_window(np.array([-3, 3])) == Window("days", -3, 3)
    assert parse_window((np.int64(-2), 4.0)) == Window("days", -2, 4)
    w = parse_window((-250, -11))
    a, b = w
    assert (a, b) == w.bounds == (-250, -11) and str(w) == "-250..-11"
    assert isinstance(w.start, int) and isinstance(w.end, int)
    assert parse_window(w) is w


def test_dates_from_pairs_and_strings():
    w = parse_window("2023-01-02:2023-09-08")
    assert w.kind == "dates"
    assert w.bounds == (pd.Timestamp("2023-01-02"), pd.Timestamp("2023-09-08"))
    assert str(w) == "2023-01-02..2023-09-08"
    w2 = parse_window((dt.date(2023, 1, 2), pd.Timestamp("2023-09-08 15:30")))
    assert w2 == w  # dates are normalized to midnight
    assert parse_window((np.datetime64("2023-01-02"), "2023-01-02")).kind == "dates"


@pytest.mark.parametrize(
    "value, kind, match",
    [
        ("-100", None, "START:END"),
        ("-5..10", "days", "START:END"),
        ("abc", None, "START:END"),
        ("1:2:3", None, "START:END"),
        (5, None, "not a window: expected a pair"),
        ((1, 2, 3), None, "expected a pair"),
        (
            (3, -3),
            "days",
            (
                r"start 3 is after end -3 \(the window starts after it ends\); write the earlier "
                "offset first: -3:3"
            ),
        ),
        ("2023-09-08:2023-01-02", None, "start 2023-09-08 is after end 2023-01-02"),
        ("2023-01-02:5", None, "mixes a date and a day offset"),
        ((1.5, 3), None, "whole numbers"),
        (("x", None), None, "mixes a date and a day offset"),
        ("2023-01-02:2023-02-01", "days", "gives dates; this window takes trading-day offsets"),
        ((-5, 5), "dates", "gives day offsets; this window takes dates"),
        (("2023-13-45", "2023-01-01"), None, "cannot read '2023-13-45' as a date"),
        ((pd.Timestamp("2023-01-02", tz="UTC"), "2023-02-01"), None, "tz-aware"),
    ],
)
def test_bad_windows_say_what_where_and_how(value, kind, match):
    with pytest.raises(WindowError, match=match) as err:
        parse_window(value, "parameter 'event_window'", kind=kind)
    assert str(err.value).startswith("parameter 'event_window'")


def test_window_error_is_both_a_validation_and_a_study_error():
    # events and the notebook checks promise ValidationError, the engine StudyError
    with pytest.raises(ValidationError):
        parse_window("5:-1")
    with pytest.raises(StudyError):
        parse_window("5:-1")


def test_order_of_estimation_and_event_windows():
    check_window_order(Window("days", -260, -11), Window("days", -1, 5))
    with pytest.raises(WindowError, match="-100..-1 overlaps event window -1..5"):
        check_window_order(Window("days", -100, -1), Window("days", -1, 5))
    with pytest.raises(WindowError, match="must come before the event window"):
        check_window_order(Window("days", 10, 100), Window("days", -1, 5))
    with pytest.raises(WindowError, match="both be day offsets or both be dates"):
        check_window_order(parse_window("2022-01-03:2022-06-01"), Window("days", -1, 5))
    d = parse_window("2023-01-02:2023-09-08")
    with pytest.raises(WindowError, match="overlaps"):
        check_window_order(d, parse_window("2023-09-08:2023-09-20"))
    check_window_order(d, parse_window("2023-09-11:2023-09-20"))
