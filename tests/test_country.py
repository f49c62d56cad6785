"""The one-market analysis (analyses/country.py, notebook country_report) on non-default inputs.

Returns are SYNTHETIC (made up in the test, on real XNYS sessions); AR and CAR are checked
against an independent computation (AR = R - mean of R over the estimation rows; CAR = sum of
ARs over the window), the narrative against what the numbers are (a rise is never a "fall").
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest
from tradeshock.analyses import country as C
from tradeshock.analyses.contract import EventRef
from tradeshock.data.calendars import get_calendar
from tradeshock.engine.study import event_study
from tradeshock.errors import ValidationError
from tradeshock.events.calendar import get_event, load_events

SESSIONS = pd.DatetimeIndex(get_calendar("XNYS").sessions)
IDX = SESSIONS[(SESSIONS >= "2024-06-03") & (SESSIONS <= "2025-12-31")]


def _ref(name: str) -> EventRef:
    r = get_event(name)
    return EventRef(str(r["event_id"]), str(r["title"]), pd.Timestamp(r["date"]), str(r["kind"]),
                    bool(r["timed"]))


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return load_events()


def _returns(shocks: dict[str, float]) -> pd.Series:
    """Synthetic: small noise plus a shock on some sessions."""
    rng = np.random.default_rng(11)
    r = pd.Series(rng.normal(0.0002, 0.006, len(IDX)), index=IDX)
    for day, x in shocks.items():
        r.loc[pd.Timestamp(day)] += x
    return r


def _study(r, evs, car=(0, 3), events=None, est=(-120, -11), ev=(-1, 5)):
    return C.study_market(r, "SYN", "Synthetic", "XNYS", [_ref(e) for e in evs], est, ev, car,
                          calendar_frame=events)


def test_a_car_window_of_day_0_alone_and_one_event(events):
    r = _returns({"2025-04-09": 0.05})
    st = _study(r, ["pause"], car=(0, 0), events=events)
    f = st.to_frame()
    assert len(f) == 1
    pos = IDX.get_loc(pd.Timestamp("2025-04-09"))
    ar0 = r.iloc[pos] - r.iloc[pos - 120: pos - 10].mean()
    assert f.loc[0, "ar0"] == pytest.approx(ar0) and f.loc[0, "car"] == pytest.approx(ar0)
    assert "CAR day 0 (%)" in st.car_table().as_text()
    text = C.describe(st)
    assert "largest" not in text          # one event: neither "largest fall" nor "largest rise"
    assert f"Over day 0, Synthetic moved by CAR {100 * ar0:+.2f}%" in text


def test_narrative_when_every_car_has_one_sign(events):
    down = _returns({"2025-04-04": -0.06, "2025-05-12": -0.02})
    st = _study(down, ["china_34", "geneva"], car=(0, 1), events=events)
    f = st.to_frame().set_index("event_id")
    assert (f["car"] < 0).all()
    text = C.describe(st)
    assert "largest rise" not in text
    assert "Every studied event was followed by a fall of Synthetic over days 0..+1" in text
    assert f"the smallest after {_ref('geneva').label}" in text
    up = _returns({"2025-04-04": 0.06, "2025-05-12": 0.02})
    text = C.describe(_study(up, ["china_34", "geneva"], car=(0, 1), events=events))
    assert "largest fall" not in text and "followed by a rise" in text
    # mixed signs keep the fall / rise sentence
    mixed = _returns({"2025-04-04": -0.06, "2025-05-12": 0.04})
    text = C.describe(_study(mixed, ["china_34", "geneva"], car=(0, 1), events=events))
    assert text.startswith("- The largest fall of Synthetic over days 0..+1 came after "
                           + _ref("china_34").label)


def test_an_untimed_event_placed_in_the_session_is_not_called_announced_in_it(events):
    # Busan (30 Oct 2025) has no time of day: the end of its day in Seoul falls in the NYSE session
    r = _returns({})
    st = _study(r, ["E2025-10-30-busan", "pause"], events=events)
    assert st.alignments["E2025-10-30-busan"].intraday and st.alignments[
        "E2025-10-30-busan"].untimed
    text = C.describe(st)
    busan = get_event("E2025-10-30-busan")["title"]
    assert f"No time of day is known for {busan}" in text
    said = next(line for line in text.splitlines() if line.startswith("- Announced during"))
    assert busan not in said and _ref("pause").title in said


def test_minimum_estimation_length_is_the_engines_and_is_refused_before_any_work():
    default = inspect.signature(event_study).parameters["min_estimation_obs"].default
    assert C.MIN_ESTIMATION_SESSIONS == default
    base = dict(symbol="^N225", events_studied=["liberation_day"], estimation_window="-30:-2",
                event_window="-1:0", car_window="0:0")
    with pytest.raises(ValidationError) as err:
        C.PARAMETERS.check(base)
    assert ("parameter 'estimation_window' = '-30:-2' holds 29 sessions, fewer than the 30 "
            "needed. Fix: give at least 30 sessions, e.g. -31:-2 or longer.") in str(err.value)
    assert C.PARAMETERS.check(dict(base, estimation_window="-31:-2")).estimation_window == (-31,
                                                                                            -2)


def test_two_events_with_one_day0_are_not_two_results(events):
    r = _returns({"2025-04-09": 0.05})
    st = _study(r, ["china_104", "pause"], events=events)
    f = st.to_frame()
    assert f["car"].iloc[0] == pytest.approx(f["car"].iloc[1])   # the same sessions
    assert (f"{_ref('china_104').label} and {_ref('pause').label} share day 0 (9 Apr 2025 on "
            "XNYS)") in C.describe(st)


def test_no_event_studied_gives_a_said_empty_chart_and_a_narrative(events):
    from tradeshock.analyses.figures import plot_paths

    r = _returns({}).drop(pd.Timestamp("2025-04-09"))   # no close on the pause's day 0
    st = _study(r, ["pause"], events=events)
    assert not st.results and "no return on day 0 (2025-04-09)" in st.notes[_ref("pause").event_id]
    assert C.describe(st).startswith("- No event could be studied on Synthetic")
    _, ax = plot_paths(C.car_paths(st), title="t", xlabel="x")
    assert ax.get_legend() is None
    assert any("no event could be studied" in t.get_text() for t in ax.texts)


def test_legend_labels_keep_the_date_of_a_long_title(events):
    r = _returns({})
    st = _study(r, ["china_34", "E2025-10-10-china-100-threat"], events=events)
    keys = list(C.car_paths(st))
    assert keys[0].endswith(" (4 Apr 2025)") and keys[1].endswith(" (10 Oct 2025)")
    assert all(len(k) <= 60 for k in keys) and "…" in keys[0]


def test_news_on_a_weekend_reads_as_a_day_without_a_session(events):
    # the 10% baseline took effect on Saturday 5 Apr 2025 at 00:01 New York: day 0 Monday 7 Apr
    st = _study(_returns({}), ["E2025-04-05-baseline-effective"], events=events)
    row = st.day0_table().to_frame().iloc[0]
    assert row["day0"] == pd.Timestamp("2025-04-07")
    assert row["timing"] == "on a day without a session"
