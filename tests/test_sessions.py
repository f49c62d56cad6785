"""Event sessions (tradeshock.analyses.sessions): the direction rule, reaction windows of untimed
events, overlaps; on the bundled calendar and SYNTHETIC calendars (tests/calendar_synthetic.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tradeshock.analyses import sessions as S
from tradeshock.errors import StudyError, TradeshockError
from tradeshock.events import load_events

sys.path.insert(0, str(Path(__file__).resolve().parent))
import calendar_synthetic as syn


# ------------------------------------------------------------------------------ direction rule
@pytest.mark.parametrize(
    "kinds, expected",
    [
        (["escalation"], "escalation"),
        (["announcement", "retaliation"], "escalation"),
        (["escalation", "effective", "negotiation"], "escalation"),
        (["deal"], "de-escalation"),
        (["de-escalation", "clarification"], "de-escalation"),
        (["retaliation", "deal"], "mixed"),
        (["escalation", "de-escalation", "statement", "effective"], "mixed"),
        (["effective"], "effective"),
        (["legal", "legal"], "legal"),
        (["rumor"], "rumor"),
        (["effective", "rumor"], "unclassified"),
        (["negotiation", "statement", "legal"], "unclassified"),
    ],
)
def test_session_direction(kinds, expected):
    assert S.session_direction(kinds) == expected


def test_session_direction_rejects_bad_input():
    with pytest.raises(StudyError, match="unknown kind"):
        S.session_direction(["escalation", "threat"])
    with pytest.raises(StudyError, match="at least one"):
        S.session_direction([])


def test_directions_cover_every_kind():
    from tradeshock.events import KINDS

    directional = set(S.ESCALATION_KINDS) | set(S.DEESCALATION_KINDS)
    assert not set(S.ESCALATION_KINDS) & set(S.DEESCALATION_KINDS)
    assert set(KINDS) - directional <= set(S.DIRECTIONS)
    assert {"escalation", "de-escalation", "mixed", "unclassified"} <= set(S.DIRECTIONS)


# ------------------------------------------------------------------------- bundled calendar
@pytest.fixture(scope="module")
def bundled():
    return S.event_sessions()


def test_every_event_in_exactly_one_session(bundled):
    ev, ses = bundled.events, bundled.sessions
    assert len(ev) == len(load_events()) == ses["n_events"].sum()
    assert ev["event_id"].is_unique and ses["session_id"].is_unique
    assert (ev["session_id"].notna()).all()
    # the session id is the day 0
    assert (pd.to_datetime(ses["session_id"]) == ses["day0"]).all()
    assert list(ses["order"]) == list(range(1, len(ses) + 1))


def test_april_9_is_one_mixed_session(bundled):
    ev = bundled.events.set_index("event_id")
    nine = ["E2025-04-09-reciprocal-effective", "E2025-04-09-great-time-to-buy",
            "E2025-04-09-pause", "E2025-04-09-china-125", "E2025-04-09-china-84"]
    assert set(ev.loc[nine, "session_id"]) == {"2025-04-09"}
    row = bundled.sessions.set_index("session_id").loc["2025-04-09"]
    assert row["direction"] == "mixed" and row["n_events"] >= 5


def test_untimed_windows_follow_the_local_day(bundled):
    ev = bundled.events.set_index("event_id")
    ses = bundled.sessions.set_index("session_id")
    # US event on a trading day, untimed: its own session and the next one
    assert ev.loc["E2025-03-26-autos", "earliest"] == pd.Timestamp("2025-03-26")
    assert ev.loc["E2025-03-26-autos", "day0"] == pd.Timestamp("2025-03-27")
    assert ses.loc["2025-03-27", "window_start"] == pd.Timestamp("2025-03-26")
    assert ses.loc["2025-03-27", "n_window"] == 2
    # Saturday: both cases land on Monday, a one-session window
    assert ev.loc["E2025-02-01-ieepa-orders", "earliest"] == pd.Timestamp("2025-02-03")
    assert ses.loc["2025-02-03", "n_window"] == 1
    # Beijing date 4 March starts at 11:00 New York on 3 March, during that session
    assert ev.loc["E2025-03-04-china-retaliation", "earliest"] == pd.Timestamp("2025-03-03")
    # timed (Liberation Day after the close): day 0 alone
    assert ses.loc["2025-04-03", "n_window"] == 1 and ses.loc["2025-04-03", "all_timed"]


def test_trim_gives_each_session_day_to_one_session(bundled):
    ses = bundled.sessions
    # the annex correction (untimed 3 April) would reach 3 April, Liberation Day's day 0
    ev = bundled.events.set_index("event_id")
    assert ev.loc["E2025-04-03-annex-correction", "earliest"] == pd.Timestamp("2025-04-03")
    assert ses.set_index("session_id").loc["2025-04-04", "window_start"] == pd.Timestamp(
        "2025-04-04")
    assert not ses["overlap_reaction"].any()
    # every reaction-window session belongs to one session only
    pos = bundled.positions()
    days = [p + k for sid, p in pos.items()
            for k in range(int(ses.set_index("session_id").loc[sid, "start_offset"]), 1)]
    assert len(days) == len(set(days))


def test_keep_flags_overlaps(bundled):
    keep = S.event_sessions(overlap="keep").sessions.set_index("session_id")
    assert keep.loc["2025-04-04", "window_start"] == pd.Timestamp("2025-04-03")
    assert keep.loc["2025-04-03", "overlap_reaction"] and keep.loc["2025-04-04", "overlap_reaction"]
    assert "2025-04-03" in keep.loc["2025-04-04", "overlaps_with"]
    assert S.event_sessions(overlap="keep").overlap_rule != bundled.overlap_rule


def test_overlaps_of_a_car_window(bundled):
    ov = bundled.overlaps((-1, 1)).set_index("session_id")
    assert ov.loc["2025-04-03", "overlap"] and "2025-04-04" in ov.loc["2025-04-03", "overlaps_with"]
    # 23 and 28 July are three sessions apart: windows 22-24 and 25-29 July do not meet
    assert "2025-07-28" not in ov.loc["2025-07-23", "overlaps_with"]
    assert not ov.loc["2025-07-23", "overlap"]
    # symmetric
    for sid, row in ov.iterrows():
        for other in filter(None, row["overlaps_with"].split("; ")):
            assert sid in ov.loc[other, "overlaps_with"]
    with pytest.raises(StudyError, match="starts after"):
        bundled.overlaps((2, 1))


def test_unclassified_table_and_summary(bundled):
    u = bundled.unclassified
    assert list(u["session_id"]) == ["2025-04-07"]
    assert {"session_id", "day0", "kinds", "event_ids", "reason"} <= set(u.columns)
    text = bundled.summary()
    assert f"{len(bundled)} sessions from {len(load_events())} events" in text
    assert "unclassified: 2025-04-07" in text
    assert bundled.to_frame().equals(bundled.sessions)
    assert bundled.counts().sum() == len(bundled)


def test_modes_and_filters():
    ac = S.event_sessions(untimed="after_close")
    assert (ac.sessions["n_window"] == 1).all()
    assert "after the close" in ac.untimed_rule
    timed = S.event_sessions(timed_only=True)
    assert timed.events["timed"].all() and (timed.sessions["n_window"] == 1).all()
    assert len(timed.events) == int(load_events()["timed"].sum())
    esc = S.event_sessions(kinds=["escalation", "retaliation"])
    assert set(esc.sessions["direction"]) == {"escalation"}


@pytest.mark.parametrize("kw, msg", [
    ({"untimed": "two_day"}, "untimed="),
    ({"overlap": "merge"}, "overlap="),
    ({"kinds": ["threat"]}, "unknown kind"),
])
def test_bad_options(kw, msg):
    with pytest.raises(StudyError, match=msg):
        S.event_sessions(**kw)


def test_empty_selection_is_an_error():
    ev = syn.events([("2025-03-03", None, "legal")])
    with pytest.raises(StudyError, match="no event left"):
        S.event_sessions(ev, timed_only=True)
    with pytest.raises(TradeshockError):
        S.event_sessions(ev, calendar="XXXX")


# ------------------------------------------------------------------------- synthetic calendar
def test_synthetic_calendar_groups_and_directions():
    """SYNTHETIC: two events on one day 0 make one session; an untimed Friday event has a window
    Friday..Monday; a timed Saturday event is Monday alone; a holiday is skipped."""
    ev = syn.events([
        ("2025-03-10", "10:00", "escalation"),        # Monday intraday
        ("2025-03-10", "15:00", "deal"),              # same day 0: one mixed session
        ("2025-03-14", None, "escalation"),           # Friday untimed -> Mon 17 window 14..17
        ("2025-03-22", "12:00", "effective"),         # Saturday timed -> Mon 24
        ("2025-07-03", None, "legal"),                # untimed before 4 July: window 3..7 Jul
    ])
    s = S.event_sessions(ev).sessions.set_index("session_id")
    assert list(s.index) == ["2025-03-10", "2025-03-17", "2025-03-24", "2025-07-07"]
    assert s.loc["2025-03-10", "direction"] == "mixed" and s.loc["2025-03-10", "n_events"] == 2
    assert s.loc["2025-03-17", "window_start"] == pd.Timestamp("2025-03-14")
    assert s.loc["2025-03-17", "start_offset"] == -1
    assert s.loc["2025-03-24", "n_window"] == 1 and s.loc["2025-03-24", "direction"] == "effective"
    assert s.loc["2025-07-07", "window_start"] == pd.Timestamp("2025-07-03")
    assert list(s["days_since_first"]) == [0, 7, 14, 119]
    assert not s["all_timed"].all() and s.loc["2025-03-24", "all_timed"]


def test_session_at_offsets(bundled):
    assert bundled.session_at("2025-04-03", 1) == pd.Timestamp("2025-04-04")
    assert bundled.session_at("2025-04-07", -1) == pd.Timestamp("2025-04-04")
    with pytest.raises(StudyError, match="unknown session"):
        bundled.session_at("2025-04-05", 0)
    assert np.issubdtype(bundled.positions().dtype, np.integer)
