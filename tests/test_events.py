"""Tests for tradeshock.events (calendar, validation, day-0 alignment) and `tradeshock events`."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from tradeshock import events as ev
from tradeshock.cli import main
from tradeshock.errors import ValidationError

BAD = Path(__file__).parent / "data" / "events"
NY = "America/New_York"


def at(stamp: str, tz: str) -> pd.Timestamp:
    return pd.Timestamp(stamp, tz=tz)


def day(s: str) -> pd.Timestamp:
    return pd.Timestamp(s)


# ---------------------------------------------------------------------------------------------
# the bundled calendar
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return ev.load_events()


def test_bundled_calendar_loads_and_validates(events):
    assert len(events) == 61
    assert events["event_id"].is_unique
    assert list(events.columns[: len(ev.COLUMNS)]) == list(ev.COLUMNS)
    assert {"timestamp", "timed", "origin"} <= set(events.columns)
    assert str(events["timestamp"].dt.tz) == "UTC"
    assert events["timed"].dtype == bool
    assert set(events["kind"]) <= set(ev.KINDS)
    assert events["source_url"].notna().all()
    # time_basis is blank if and only if the time is blank; NaT iff untimed
    assert (events["time_local"].isna() == events["time_basis"].isna()).all()
    assert (events["timestamp"].isna() == ~events["timed"]).all()
    assert set(events["time_basis"].dropna()) <= set(ev.TIME_BASES)
    assert events["date"].is_monotonic_increasing


def test_key_events_resolve_with_expected_times(events):
    for name, eid in ev.KEY_EVENTS.items():
        assert eid in set(events["event_id"]), name
    lib = ev.get_event("liberation_day", events)
    assert lib["timestamp"] == at("2025-04-02 16:00", NY)
    assert lib["time_basis"] == "approx"
    pause = ev.get_event("pause", events)
    assert pause["timestamp"] == at("2025-04-09 13:18", NY)
    china = ev.get_event("china_34", events)
    assert china["timestamp"] == at("2025-04-04 18:40", "Asia/Shanghai")
    assert china["time_basis"] == "by"
    geneva = ev.get_event("geneva", events)
    assert geneva["date"] == day("2025-05-12")
    assert geneva["timestamp"] == at("2025-05-12 03:37", NY)


def test_calendars_have_an_explicit_start():
    """One registry (tradeshock.data.calendars) for events and price validation: the same
    calendar object, from 1990-01-01 whatever today's date is."""
    from tradeshock.data.calendars import CALENDAR_START, get_calendar

    cal = ev.get_calendar("XNYS")
    assert cal.sessions[0] == day("1990-01-02")  # 1990-01-01 was a holiday
    assert cal is get_calendar("XNYS") and ev.CALENDAR_START == CALENDAR_START == "1990-01-01"


# ---------------------------------------------------------------------------------------------
# day 0: the cases
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["XNYS", "XTKS", "XHKG", "XETR", "XLON"])
def test_liberation_day_day0_is_3_april(code):
    a = ev.align("liberation_day", code)
    assert a.day0 == day("2025-04-03")
    assert not a.intraday and not a.untimed
    assert a.event_id == "E2025-04-02-liberation-day" and a.calendar == code


def test_liberation_day_timing_labels():
    assert ev.align("liberation_day", "XNYS").timing == "after_close"  # 16:00 is the close
    assert ev.align("liberation_day", "XETR").timing == "after_close"
    assert ev.align("liberation_day", "XTKS").timing == "before_open"  # 05:00 JST on 3 Apr


@pytest.mark.parametrize("code", ["XNYS", "XTSE"])
def test_pause_is_intraday_9_april_in_north_america(code):
    a = ev.align("pause", code)
    assert (a.day0, a.timing, a.untimed) == (day("2025-04-09"), "intraday", False)
    assert "intraday" in a.rule


@pytest.mark.parametrize("code", ["XTKS", "XHKG", "XETR", "XLON"])
def test_pause_is_10_april_where_sessions_had_closed(code):
    a = ev.align("pause", code)
    assert a.day0 == day("2025-04-10")
    assert not a.intraday


def test_china_34_on_qingming():
    # Hong Kong was closed on Fri 4 Apr 2025 (Qingming): day 0 is Mon 7 Apr
    hk = ev.align("china_34", "XHKG")
    assert (hk.day0, hk.timing) == (day("2025-04-07"), "non_session")
    assert (ev.align("china_34", "XNYS").day0, ev.align("china_34", "XNYS").timing) == (
        day("2025-04-04"), "before_open")
    assert ev.align("china_34", "XTKS").day0 == day("2025-04-07")  # Tokyo had closed
    assert ev.align("china_34", "XETR").timing == "intraday"
    assert ev.align("china_34", "XETR").day0 == day("2025-04-04")


def test_geneva_by_stamp():
    assert ev.align("geneva", "XHKG").timing == "intraday"  # 15:37 HKT
    assert ev.align("geneva", "XHKG").day0 == day("2025-05-12")
    assert ev.align("geneva", "XTKS").day0 == day("2025-05-13")
    assert ev.align("geneva", "XNYS").timing == "before_open"


def test_weekend_announcement_goes_to_monday():
    a = ev.align("E2025-02-01-ieepa-orders", "XNYS")  # Saturday 1 Feb, untimed
    assert a.day0 == day("2025-02-03")
    assert a.timing == "non_session"
    # a timed Saturday instant does the same
    b = ev.align(at("2025-02-01 18:00", NY), "XNYS")
    assert (b.day0, b.timing, b.untimed) == (day("2025-02-03"), "non_session", False)


def test_untimed_event_is_flagged_and_placed_at_end_of_local_day():
    a = ev.align("E2025-03-26-autos", "XNYS")
    assert a.untimed is True
    assert a.instant == at("2025-03-26 23:59:59", NY)
    assert a.day0 == day("2025-03-27")
    assert a.timing == "after_close"
    assert "no time of day" in a.rule and "23:59:59" in a.rule
    assert a.time_basis is None


def test_untimed_asian_event_lands_in_the_us_session():
    # end of 4 Mar in Beijing is 10:59:59 ET on 4 Mar: inside the NYSE session (documented rule)
    a = ev.align("E2025-03-04-china-retaliation", "XNYS")
    assert (a.day0, a.timing, a.untimed) == (day("2025-03-04"), "intraday", True)


def test_event_before_first_session_raises():
    with pytest.raises(ValidationError, match="before the first XNYS session"):
        ev.align(at("1989-06-01 12:00", NY), "XNYS")  # calendars start 1990-01-01


def test_event_after_last_session_raises():
    with pytest.raises(ValidationError, match="after the last XNYS session"):
        ev.align(at("2200-01-01 12:00", NY), "XNYS")


def test_naive_instant_and_unknown_inputs_raise():
    with pytest.raises(ValidationError, match="no time zone"):
        ev.align(pd.Timestamp("2025-04-09 13:18"), "XNYS")
    with pytest.raises(ValidationError, match="unknown exchange calendar 'XNYZ'.*XNYS"):
        ev.align("pause", "XNYZ")
    with pytest.raises(ValidationError, match="unknown event 'no-such-event'"):
        ev.align("no-such-event", "XNYS")


def test_session_boundaries_lunch_and_half_day():
    # the open itself is inside; the close itself is not
    assert ev.align(at("2025-04-09 09:30", NY), "XNYS").timing == "intraday"
    c = ev.align(at("2025-04-09 16:00", NY), "XNYS")
    assert (c.day0, c.timing) == (day("2025-04-10"), "after_close")
    # lunch breaks count as inside the session
    hk = ev.align(at("2025-04-09 12:30", "Asia/Hong_Kong"), "XHKG")
    assert (hk.day0, hk.timing) == (day("2025-04-09"), "intraday")
    tk = ev.align(at("2025-04-09 11:45", "Asia/Tokyo"), "XTKS")
    assert (tk.day0, tk.timing) == (day("2025-04-09"), "intraday")
    # Tokyo closes at 15:30 (since Nov 2024)
    assert ev.align(at("2025-04-09 15:20", "Asia/Tokyo"), "XTKS").intraday
    # 3 Jul 2025: NYSE half day (13:00 close), 4 Jul closed
    h = ev.align(at("2025-07-03 13:30", NY), "XNYS")
    assert (h.day0, h.timing) == (day("2025-07-07"), "after_close")
    assert ev.align(at("2025-07-03 12:30", NY), "XNYS").intraday


def test_by_time_used_as_given_vietnam_and_japan_deals():
    assert ev.align("E2025-07-02-vietnam-deal", "XNYS").intraday
    jp = ev.align("japan_deal", "XTKS")
    assert (jp.day0, jp.timing) == (day("2025-07-23"), "before_open")
    assert "upper bound" in jp.rule


def test_holidays_memorial_day_spring_bank_holiday_labor_day():
    delay = "E2025-05-25-eu-delay"  # Sunday 25 May
    assert ev.align(delay, "XNYS").day0 == day("2025-05-27")  # Memorial Day 26 May
    assert ev.align(delay, "XETR").day0 == day("2025-05-26")
    assert ev.align(delay, "XLON").day0 == day("2025-05-27")  # Spring Bank Holiday 26 May
    assert ev.align("E2025-08-29-cafc-ruling", "XNYS").day0 == day("2025-09-02")  # Labor Day


# ---------------------------------------------------------------------------------------------
# event windows and holidays
# ---------------------------------------------------------------------------------------------


def sessions(code, day0, window):
    return list(ev.event_window(day0, code, window)["session"].dt.strftime("%Y-%m-%d"))


def test_window_crossing_good_friday_skips_it_for_xnys():
    win = ev.event_window("2025-04-16", "XNYS", (-2, 3))
    assert list(win["offset"]) == [-2, -1, 0, 1, 2, 3]
    assert list(win["session"].dt.strftime("%Y-%m-%d")) == [
        "2025-04-14", "2025-04-15", "2025-04-16", "2025-04-17", "2025-04-21", "2025-04-22"]
    # Tokyo was open on Good Friday
    assert "2025-04-18" in sessions("XTKS", "2025-04-16", (0, 2))


def test_pause_window_on_xnys_skips_good_friday():
    win = ev.event_window("pause", "XNYS", (-5, 10))
    assert len(win) == 16 and list(win["offset"]) == list(range(-5, 11))
    days = set(win["session"].dt.strftime("%Y-%m-%d"))
    assert "2025-04-18" not in days
    assert win.loc[win["offset"] == 0, "session"].item() == day("2025-04-09")
    assert win.loc[win["offset"] == 7, "session"].item() == day("2025-04-21")


@pytest.mark.parametrize("code", ["XHKG", "XLON", "XETR"])
def test_easter_monday_skipped_in_hong_kong_and_europe(code):
    s = sessions(code, "2025-04-17", (0, 1))
    assert s == ["2025-04-17", "2025-04-22"]  # Good Friday 18 Apr and Easter Monday 21 Apr closed


def test_easter_monday_open_in_new_york():
    assert sessions("XNYS", "2025-04-17", (0, 1)) == ["2025-04-17", "2025-04-21"]


def test_golden_week_in_japan():
    s = sessions("XTKS", "2025-04-28", (0, 4))
    assert s == ["2025-04-28", "2025-04-30", "2025-05-01", "2025-05-02", "2025-05-07"]
    # an announcement after the Tokyo close on Fri 2 May first trades on Wed 7 May
    a = ev.align(at("2025-05-02 16:00", "Asia/Tokyo"), "XTKS")
    assert (a.day0, a.timing) == (day("2025-05-07"), "after_close")


def test_window_inputs():
    # windows are read by tradeshock.core.windows.parse_window (tests/test_windows.py)
    assert list(ev.event_window("2025-04-03", "XNYS", "-1:1")["offset"]) == [-1, 0, 1]
    with pytest.raises(ValidationError, match="START:END"):
        ev.event_window("2025-04-03", "XNYS", "-5..10")
    with pytest.raises(ValidationError, match="starts after it ends"):
        ev.event_window("2025-04-03", "XNYS", (3, -3))
    with pytest.raises(ValidationError, match="2025-04-18 is not a XNYS session"):
        ev.event_window("2025-04-18", "XNYS")
    with pytest.raises(ValidationError, match="starts before the first XNYS session"):
        ev.event_window("1990-01-04", "XNYS", (-5, 0))  # the third session of the calendar
    a = ev.align("pause", "XNYS")
    assert ev.event_window(a, "XNYS", (0, 0))["session"].item() == day("2025-04-09")
    with pytest.raises(ValidationError, match="for XNYS, not XTKS"):
        ev.event_window(a, "XTKS")


def test_events_in_window_are_reported_not_merged(events):
    inside = ev.events_in_window(events, "pause", "XNYS", (-1, 1))
    assert "E2025-04-09-pause" not in set(inside["event_id"])
    same_post = inside.loc[inside["event_id"] == "E2025-04-09-china-125"]
    assert same_post["offset"].item() == 0 and same_post["timing"].item() == "intraday"
    assert set(inside.columns) >= {"event_id", "day0", "offset", "timing", "untimed", "kind"}
    assert inside["offset"].between(-1, 1).all()
    lib = ev.events_in_window(events, "liberation_day", "XNYS", (0, 1))
    assert lib.loc[lib["event_id"] == "E2025-04-04-china-34", "offset"].item() == 1


# ---------------------------------------------------------------------------------------------
# many events, tables
# ---------------------------------------------------------------------------------------------


def test_align_many_is_tidy(events):
    out = ev.align_many(["liberation_day", "pause"], ["XNYS", "XTKS"])
    assert list(out.columns[:5]) == ["event_id", "calendar", "day0", "timing", "untimed"]
    assert len(out) == 4
    row = out[(out["event_id"] == "E2025-04-09-pause") & (out["calendar"] == "XNYS")].iloc[0]
    assert row["day0"] == day("2025-04-09") and row["timing"] == "intraday"
    whole = ev.align_many(events, "XNYS,XHKG")
    assert len(whole) == 2 * len(events)
    assert whole["untimed"].sum() == 2 * (~events["timed"]).sum()


def test_day0_table_cells(events):
    t = ev.day0_table(events, ["liberation_day", "pause", "ieepa_orders"], ["XNYS", "XTKS"])
    assert t.loc["liberation_day", "XNYS"] == "2025-04-03"
    assert t.loc["pause", "XNYS"] == "2025-04-09 (intraday)"
    assert t.loc["pause", "XTKS"] == "2025-04-10"
    assert t.loc["ieepa_orders", "XNYS"] == "2025-02-03 (untimed)"
    plain = ev.day0_table(events, ["ieepa_orders"], ["XNYS"], flag_untimed=False)
    assert plain.loc["ieepa_orders", "XNYS"] == "2025-02-03"


# ---------------------------------------------------------------------------------------------
# malformed calendars: each names file, row, event_id and column
# ---------------------------------------------------------------------------------------------

BAD_CASES = [
    ("bad_kind.csv", 2, "U-2", "kind", "not a known kind"),
    ("bad_date.csv", 2, "U-2", "date", "not a valid date"),
    ("bad_date.csv", 3, "U-3", "date", "not a valid date"),
    ("bad_time.csv", 1, "U-1", "time_local", "not a time of day"),
    ("bad_time.csv", 2, "U-2", "time_local", "not a time of day"),
    ("bad_timezone.csv", 2, "U-2", "timezone", "not a known IANA time zone"),
    ("duplicate_id.csv", 3, "U-1", "event_id", "duplicate event_id 'U-1', first used in row 1"),
    ("missing_source.csv", 2, "U-2", "source_url", "no usable source"),
    ("missing_source.csv", 3, "U-3", "source_url", "no usable source"),
    ("time_without_basis.csv", 1, "U-1", "time_basis", "time_local '16:00', time_basis ''"),
    ("basis_without_time.csv", 1, "U-1", "time_basis", "time_local '', time_basis 'by'"),
    ("bad_time_basis.csv", 1, "U-1", "time_basis", "not a known time_basis"),
    ("nonexistent_local_time.csv", 1, "U-1", "time_local", "does not exist in America/New_York"),
]


@pytest.mark.parametrize("name,row,eid,column,what", BAD_CASES)
def test_malformed_calendar_names_row_and_column(name, row, eid, column, what):
    with pytest.raises(ValidationError) as info:
        ev.load_events(BAD / name)
    msg = str(info.value)
    line = next(ln for ln in msg.splitlines() if f"row {row} " in ln)
    assert name in line
    assert f"row {row} (event_id {eid!r})" in line
    assert f"column {column!r}" in line
    assert what in line
    assert "Fix:" in line
    assert any(name in p for p in info.value.problems)


def test_malformed_extra_file_is_checked_the_same_way():
    where = r"bad_kind.csv, row 2 \(event_id 'U-2'\), column 'kind'"
    with pytest.raises(ValidationError, match=where):
        ev.load_events(extra=BAD / "bad_kind.csv")


def test_valid_rows_of_a_bad_file_are_not_reported():
    with pytest.raises(ValidationError) as info:
        ev.load_events(BAD / "bad_kind.csv")
    assert "row 1 " not in str(info.value)
    assert str(info.value).startswith("1 problem in the event calendar")


def test_unknown_and_missing_columns():
    with pytest.raises(ValidationError) as info:
        ev.load_events(BAD / "bad_column.csv")
    msg = str(info.value)
    assert "column 'time_zone': unknown column (did you mean 'timezone'?)" in msg
    assert "column 'timezone': missing" in msg


def test_missing_file():
    with pytest.raises(ValidationError, match="file not found"):
        ev.load_events(BAD / "no_such_file.csv")


def test_user_events_merge_with_bundled_calendar(events):
    merged = ev.load_events(extra=BAD / "user_events.csv")
    assert len(merged) == len(events) + 2
    mine = merged.set_index("event_id").loc["U2025-04-03-my-event"]
    assert mine["timestamp"] == at("2025-04-03 10:15", "Europe/Berlin")
    assert mine["origin"].endswith("user_events.csv")
    assert pd.isna(mine["confidence"])  # optional columns may be left out
    a = ev.align("U2025-04-05-weekend", "XTKS", events=merged)
    assert (a.day0, a.untimed) == (day("2025-04-07"), True)


def test_user_events_from_a_notebook_list():
    mine = [{"event_id": "NB-1", "date": "2025-04-09", "time_local": "13:18",
             "time_basis": "approx", "timezone": NY, "kind": "de-escalation", "title": "my copy",
             "source_url": "https://example.org/x"}]
    merged = ev.load_events(extra=mine)
    assert "NB-1" in set(merged["event_id"])
    assert ev.align("NB-1", "XNYS", events=merged).intraday
    bad = [dict(mine[0], kind="pause")]
    with pytest.raises(ValidationError,
                       match=r"<extra events list>, row 1 \(event_id 'NB-1'\), column 'kind'"):
        ev.load_events(extra=bad)


def test_duplicate_ids_across_files_are_rejected():
    with pytest.raises(ValidationError) as info:
        ev.load_events(extra=BAD / "duplicate_of_bundled.csv")
    msg = str(info.value)
    where = "duplicate_of_bundled.csv, row 1 (event_id 'E2025-04-09-pause'), column 'event_id'"
    assert where in msg
    assert "duplicate of tariff_events_2025.csv row 28" in msg


def test_alternative_calendar_path(tmp_path):
    copy = tmp_path / "cal.csv"
    shutil.copy(ev.EVENTS_PATH, copy)
    assert len(ev.load_events(copy)) == 61


# ---------------------------------------------------------------------------------------------
# reciprocal rates
# ---------------------------------------------------------------------------------------------


def test_reciprocal_rates_load():
    r = ev.load_reciprocal_rates()
    assert len(r) == 97 and r["iso2"].is_unique
    assert r["in_annex_I"].sum() == 57
    assert r["in_annex_I"].dtype == bool
    vn = r.set_index("iso2").loc["VN"]
    assert (vn["reciprocal_rate_pct"], vn["us_claimed_tariffs_charged_pct"]) == (46, 90)
    assert r.set_index("iso2").loc["IN", "annex_I_first_version_pct"] == 27
    assert r.set_index("iso2").loc["NA", "country"] == "Namibia"  # 'NA' is not a missing value


def test_tariff_measures():
    m = ev.tariff_measures(with_notes=True)
    assert list(m.columns) == ["announced", "formula_unfloored", "formula_aei", "note"]
    vn = m.loc["VN"]
    assert (vn["announced"], vn["formula_unfloored"]) == (46, 90)
    assert vn["formula_aei"] == pytest.approx(0.5 * 90 * 0.25 / 0.945)  # 11.9 (AEI: about 12)
    assert m.loc["KH", "formula_aei"] == pytest.approx(12.83, abs=0.01)  # AEI: about 13
    assert m.loc["CN", "formula_aei"] == 10  # floored
    # chart printed the 10% floor: the ratio is not in the data
    assert math.isnan(m.loc["GB", "formula_unfloored"]) and m.loc["GB", "formula_aei"] == 10
    assert "floor" in m.loc["GB", "note"]
    assert m.loc["NZ", "formula_unfloored"] == 20  # a real ratio above 10 but under 20
    assert m.loc["CA"].iloc[:3].isna().all()
    # formula check: announced is half the ratio rounded up, floored at 10
    known = m.dropna(subset=["formula_unfloored"])
    half = known["formula_unfloored"] / 2
    assert (known["announced"] >= half.clip(lower=10) - 1e-9).all()
    assert (known["announced"] <= half.clip(lower=10) + 1).all()
    assert list(ev.tariff_measures().columns) == ["announced", "formula_unfloored", "formula_aei"]


def test_malformed_rates_name_row_and_column():
    with pytest.raises(ValidationError) as info:
        ev.load_reciprocal_rates(BAD / "bad_rates.csv")
    msg = str(info.value)
    assert "bad_rates.csv, row 2 (iso2 'EU'), column 'reciprocal_rate_pct'" in msg
    assert "bad_rates.csv, row 3 (iso2 'VN'), column 'in_annex_I'" in msg
    assert "bad_rates.csv, row 4 (iso2 'CN'), column 'iso2': duplicate iso2" in msg


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


def run(runner, *args):
    return runner.invoke(main, ["events", *args])


@pytest.mark.parametrize("code", ["XNYS", "XTKS", "XHKG", "XETR", "XLON"])
def test_cli_align_liberation_day(runner, code):
    res = run(runner, "align", "E2025-04-02-liberation-day", "--calendar", code)
    assert res.exit_code == 0, res.output
    assert res.stdout == "2025-04-03\n"


@pytest.mark.parametrize("code,expected", [
    ("XNYS", "2025-04-09 intraday\n"), ("XTSE", "2025-04-09 intraday\n"),
    ("XTKS", "2025-04-10\n"), ("XHKG", "2025-04-10\n"), ("XETR", "2025-04-10\n"),
    ("XLON", "2025-04-10\n"),
])
def test_cli_align_pause(runner, code, expected):
    res = run(runner, "align", "E2025-04-09-pause", "--calendar", code)
    assert res.exit_code == 0, res.output
    assert res.stdout == expected


def test_cli_align_several_calendars_prints_exact_lines(runner):
    res = run(runner, "align", "pause", "-c", "XNYS,XTKS", "-c", "XLON")
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines() == ["XNYS 2025-04-09 intraday", "XTKS 2025-04-10",
                                       "XLON 2025-04-10"]


def test_cli_align_all_key(runner):
    res = run(runner, "align", "--all-key", "--calendar", "XHKG")
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert len(lines) == len(ev.KEY_EVENTS)
    assert "china_34 2025-04-07" in lines and "geneva 2025-05-12 intraday" in lines


def test_cli_align_untimed_note_on_stderr(runner):
    res = run(runner, "align", "E2025-02-01-ieepa-orders", "--calendar", "XNYS")
    assert res.exit_code == 0
    assert res.stdout == "2025-02-03\n"
    assert "no time of day" in res.stderr


def test_cli_align_explain(runner):
    res = run(runner, "align", "pause", "-c", "XNYS", "--explain")
    assert res.stdout == "2025-04-09 intraday\n"
    assert "inside the session of 2025-04-09" in res.stderr


def test_cli_window_skips_good_friday(runner):
    res = run(runner, "window", "E2025-04-09-pause", "--calendar", "XNYS", "--window", "-5:10")
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert len(lines) == 16
    assert lines[0] == "-5 2025-04-02" and lines[5] == "0 2025-04-09"
    assert "6 2025-04-17" in lines and "7 2025-04-21" in lines
    assert not any("2025-04-18" in ln for ln in lines)
    assert "E2025-04-09-china-125" in res.stderr  # reported, not merged


def test_cli_window_from_a_date(runner):
    res = run(runner, "window", "2025-04-17", "-c", "XHKG", "-w", "0:1")
    assert res.stdout.splitlines() == ["0 2025-04-17", "1 2025-04-22"]


def test_cli_list_filters(runner):
    res = run(runner, "list", "--kind", "retaliation", "--actor", "china", "--since", "2025-04-01",
              "--until", "2025-04-10")
    assert res.exit_code == 0, res.output
    body = res.stdout.splitlines()[1:]
    assert [ln.split()[0] for ln in body] == ["E2025-04-04-china-34", "E2025-04-09-china-84"]
    res = run(runner, "list", "--kind", "legal", "--csv")
    frame = pd.read_csv(pd.io.common.StringIO(res.stdout))
    assert set(frame["kind"]) == {"legal"} and len(frame) == 4


def test_cli_extra_file_and_errors(runner):
    res = run(runner, "--extra", str(BAD / "user_events.csv"), "align", "U2025-04-03-my-event",
              "-c", "XETR")
    assert res.stdout == "2025-04-03 intraday\n"
    res = run(runner, "--extra", str(BAD / "bad_kind.csv"), "list")
    assert res.exit_code == 2
    assert "row 2 (event_id 'U-2'), column 'kind'" in res.stderr
    res = run(runner, "align", "nope", "-c", "XNYS")
    assert res.exit_code == 2 and "unknown event 'nope'" in res.stderr
    res = run(runner, "check")
    assert res.exit_code == 0 and res.stdout.startswith("ok: 61 events")


@pytest.mark.parametrize("cmd", [[], ["list"], ["align"], ["window"], ["kinds"], ["check"]])
def test_cli_help(runner, cmd):
    res = run(runner, *cmd, "--help")
    assert res.exit_code == 0
    assert "Usage:" in res.stdout


def test_user_events_as_a_frame_and_plain_mappings(events):
    frame = pd.DataFrame([{"event_id": "D-1", "date": pd.Timestamp("2025-04-09"),
                           "time_local": None, "timezone": "UTC", "kind": "statement",
                           "title": "t", "source_url": "https://example.org/d"}])
    merged = ev.load_events(extra=frame)
    assert len(merged) == len(events) + 1
    assert len(ev.load_events(extra=[])) == len(events)
    # a plain mapping with a local time is aligned on that time, not as untimed
    a = ev.align({"event_id": "x", "date": "2025-04-09", "time_local": "13:18",
                  "timezone": NY}, "XNYS")
    assert (a.day0, a.timing, a.untimed) == (day("2025-04-09"), "intraday", False)
    with pytest.raises(ValidationError, match="is not HH:MM"):
        ev.align({"event_id": "x", "date": "2025-04-09", "time_local": "1pm",
                  "timezone": NY}, "XNYS")
    with pytest.raises(ValidationError, match="cannot read events from a int"):
        ev.load_events(extra=42)
