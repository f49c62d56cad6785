"""The timeline analysis (analyses/timeline.py, notebook 01) on non-default inputs.

Levels are SYNTHETIC (made up in the test, on real XNYS sessions); events come from the bundled
calendar, and day 0 is checked against what the exchange calendars and the events' local times
imply, worked out by hand in the comments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradeshock.analyses import timeline as T
from tradeshock.analyses.contract import EventRef
from tradeshock.data.calendars import get_calendar
from tradeshock.errors import ValidationError
from tradeshock.events.align import align
from tradeshock.events.calendar import get_event, load_events


def _ref(name: str, events: pd.DataFrame | None = None) -> EventRef:
    r = get_event(name, events)
    return EventRef(str(r["event_id"]), str(r["title"]), pd.Timestamp(r["date"]), str(r["kind"]),
                    bool(r["timed"]))


def _levels(start="2025-03-01", end="2025-06-30", path=(100.0, 80.0, 120.0)) -> pd.Series:
    """Synthetic: linear legs through the points of ``path`` on XNYS sessions."""
    sess = pd.DatetimeIndex(get_calendar("XNYS").sessions)
    idx = sess[(sess >= start) & (sess <= end)]
    knots = np.linspace(0, len(idx) - 1, len(path))
    return pd.Series(np.interp(np.arange(len(idx)), knots, path), index=idx)


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return load_events()


def test_day0_per_market_follows_local_time_and_holidays(events):
    # China's 34% (4 Apr, by 18:40 Shanghai = 10:40 UTC): New York had not opened (06:40 ET), so
    # day 0 is 4 Apr there; Hong Kong was closed on 4 Apr (Ching Ming) and Tokyo had closed, so
    # both first trade it on Monday 7 Apr. Geneva (12 May, by 09:37 Zurich = 07:37 UTC = 15:37
    # HKT) lands inside Hong Kong's session (to 16:00) but after Tokyo's close (15:30 JST).
    tl = T.build_timeline(_levels(), "SYN", "Synthetic index", "points", events,
                          pd.Timestamp("2025-03-01"), pd.Timestamp("2025-06-30"),
                          ["retaliation"], [_ref("china_34"), _ref("geneva")],
                          ["XHKG", "XTKS", "XNYS"])
    f = tl.day0_frame()
    c34, gen = _ref("china_34").label, _ref("geneva").label
    assert f.loc[c34, "XHKG"] == pd.Timestamp("2025-04-07")
    assert f.loc[c34, "XTKS"] == pd.Timestamp("2025-04-07")
    assert f.loc[c34, "XNYS"] == pd.Timestamp("2025-04-04")
    assert f.loc[gen, "XHKG"] == pd.Timestamp("2025-05-12")
    assert f.loc[gen, "XTKS"] == pd.Timestamp("2025-05-13")
    cells = tl.day0_table().to_frame()
    assert cells.loc[gen, "Hong Kong (XHKG)"] == "2025-05-12 (intraday)"
    assert cells.loc[gen, "Tokyo (XTKS)"] == "2025-05-13"
    # only events dated in the span, and only the chosen kinds are marked
    assert tl.events["date"].between("2025-03-01", "2025-06-30").all()
    assert set(tl.shown["kind"]) == {"retaliation"}
    text = T.describe(tl)
    assert "Hong Kong on 4 Apr (after China announces 34%" in text
    assert "first traded 4 Apr on New York; 7 Apr on Hong Kong, Tokyo" in text
    assert "It landed during the session on Hong Kong" in text
    assert "Liberation" not in text and "S&P 500" not in text


def test_closed_weekdays_are_holidays_between_announcement_and_day0(events):
    lib = _ref("liberation_day")
    taipei = align(lib.event_id, "XTAI", events=events)
    assert taipei.day0 == pd.Timestamp("2025-04-07")
    assert T.closed_weekdays(taipei, lib.date) == [pd.Timestamp("2025-04-03"),
                                                   pd.Timestamp("2025-04-04")]
    assert T.closed_weekdays(align(lib.event_id, "XNYS", events=events), lib.date) == []


def test_move_and_span_counts_are_computed_from_the_inputs(events):
    tl = T.build_timeline(_levels(path=(200.0, 150.0, 240.0)), "SYN", "Synthetic", "points",
                          events, pd.Timestamp("2025-03-01"), pd.Timestamp("2025-06-30"),
                          ["deal", "legal"], [_ref("uk_deal")], ["XLON"])
    text = T.describe(tl)
    assert "closed at 200.00" in text and "at 240.00" in text and "(+20.0%)" in text
    assert "(-25.0%)" in text  # 200 -> 150
    n = int(events["date"].between("2025-03-01", "2025-06-30").sum())
    k = int((events["date"].between("2025-03-01", "2025-06-30")
             & events["kind"].isin(["deal", "legal"])).sum())
    assert f"holds {n} events" in text and f"marks the {k} of kind deal, legal" in text
    # an untimed event placed by the end-of-day rule says so
    assert "unknown time of day" in text
    assert tl.event_table().to_frame().shape[0] == n


def test_an_empty_span_and_a_series_without_data_in_it(events):
    lv = _levels("2025-03-01", "2025-03-31")
    tl = T.build_timeline(lv, "SYN", "Synthetic", "points", events, pd.Timestamp("2025-03-13"),
                          pd.Timestamp("2025-03-25"), ["deal"], [_ref("autos")], ["XNYS"])
    assert tl.events.empty or set(tl.events["date"].dt.strftime("%Y-%m-%d")) <= {
        f"2025-03-{d}" for d in range(13, 26)}
    with pytest.raises(ValidationError, match="no value from 2025-05-01 to 2025-05-31"):
        T.build_timeline(lv, "SYN", "Synthetic", "points", events, pd.Timestamp("2025-05-01"),
                         pd.Timestamp("2025-05-31"), ["deal"], [_ref("geneva")], ["XNYS"])


def test_an_event_a_calendar_cannot_place_gets_a_note(events):
    # an ad-hoc event of 1985: before the first XTKS session of the registry (1997)
    row = events[events["event_id"] == _ref("geneva").event_id].iloc[0].copy()
    row["event_id"], row["date"] = "E1985-01-07-old", pd.Timestamp("1985-01-07")
    row["timestamp"] = pd.Timestamp("1985-01-07 10:00", tz="UTC")
    ev = pd.concat([events, row.to_frame().T], ignore_index=True)
    old = EventRef("E1985-01-07-old", "An old event", pd.Timestamp("1985-01-07"), "deal", True)
    tl = T.build_timeline(_levels(), "SYN", "Synthetic", "points", ev,
                          pd.Timestamp("2025-03-01"), pd.Timestamp("2025-06-30"), ["deal"],
                          [old], ["XTKS"])
    assert ("E1985-01-07-old", "XTKS") in tl.notes
    assert tl.day0_table().to_frame().iloc[0, 0].startswith("not placed")
    text = T.describe(tl)
    assert "no chosen market could place it" in text and "Not placed" in text


def test_contract_refuses_bad_values_at_once():
    with pytest.raises(ValidationError) as err:
        T.PARAMETERS.check({"index_symbol": "^NOPE", "start": "2025-08-15", "end": "2025-01-15",
                            "kinds": ["tariff"], "key_events": [], "calendars": ["XXXX"]})
    text = str(err.value)
    for piece in ("'index_symbol'", "'kinds'", "'key_events' is empty", "'calendars'",
                  "start 2025-08-15 is not before end 2025-01-15"):
        assert piece in text
    p = T.PARAMETERS.check({"index_symbol": "^N225", "start": "2025-04-20", "end": "2025-08-15",
                            "kinds": ["deal"], "key_events": ["geneva"], "calendars": ["XTKS"]})
    # the chart's dates are history needs: the data must reach back to start
    needs = T.PARAMETERS.needs(p)
    assert {(n.symbol, n.first) for n in needs} >= {("^N225", pd.Timestamp("2025-04-20"))}


def test_a_yield_moves_in_percentage_points_and_a_one_month_title(events):
    # a series quoted in percent (a yield): 4.50 -> 3.90 -> 4.20; relative % would mislead
    lv = _levels(path=(4.5, 3.9, 4.2))
    tl = T.build_timeline(lv, "YLD", "Synthetic yield", "percent", events,
                          pd.Timestamp("2025-03-01"), pd.Timestamp("2025-06-30"), ["deal"],
                          [_ref("uk_deal")], ["XNYS"])
    text = T.describe(tl)
    assert "(-0.30 percentage points)" in text and "(-0.60 percentage points)" in text
    assert "%)" not in text.split("\n")[1]
    one = T.build_timeline(_levels(), "SYN", "Synthetic", "points", events,
                           pd.Timestamp("2025-04-01"), pd.Timestamp("2025-04-30"), ["deal"],
                           [_ref("pause")], ["XNYS"])
    fig, ax = T.plot_timeline(one)
    assert ax.get_title("left") == "Tariff events, Apr 2025, over the Synthetic"


def test_a_weekend_span_is_refused_before_any_work():
    good = {"index_symbol": "^GSPC", "start": "2025-04-05", "end": "2025-04-07", "kinds": ["deal"],
            "key_events": ["geneva"], "calendars": ["XNYS"]}
    assert T.PARAMETERS.check(good).end == pd.Timestamp("2025-04-07")   # Monday 7 Apr
    with pytest.raises(ValidationError, match="the span from 2025-04-05 holds no weekday"):
        T.PARAMETERS.check(dict(good, end="2025-04-06"))               # Sat-Sun
