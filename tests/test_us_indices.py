"""The US-indices analysis (analyses/us_indices.py, notebook 02) on non-default inputs.

Returns and levels are SYNTHETIC (made up in the test, on real XNYS sessions); the statistics are
checked against independent computations written out here (AR = R - mean of R over the
estimation rows; CAAR = mean over series of the summed ARs), the dates against the calendar.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradeshock.analyses import us_indices as U
from tradeshock.analyses.contract import EventRef
from tradeshock.data.calendars import get_calendar
from tradeshock.errors import StudyError, TradeshockError, ValidationError
from tradeshock.events.calendar import get_event, load_events

SESSIONS = pd.DatetimeIndex(get_calendar("XNYS").sessions)
IDX = SESSIONS[(SESSIONS >= "2024-06-03") & (SESSIONS <= "2025-07-31")]
NAMES = {"AAA": "Index A", "BBB": "Index B", "CCC": "Index C", "VVV": "Vol index"}


def _ref(name: str) -> EventRef:
    r = get_event(name)
    return EventRef(str(r["event_id"]), str(r["title"]), pd.Timestamp(r["date"]), str(r["kind"]),
                    bool(r["timed"]))


def _returns(shock_day: str = "2025-04-04", shock=(-0.05, -0.03, -0.04)) -> pd.DataFrame:
    """Synthetic: small noise plus a shock on one session."""
    rng = np.random.default_rng(7)
    r = pd.DataFrame(rng.normal(0.0003, 0.008, (len(IDX), 3)), index=IDX,
                     columns=["AAA", "BBB", "CCC"])
    r.loc[pd.Timestamp(shock_day)] += np.array(shock)
    return r


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return load_events()


def _study(r, symbols=("AAA", "BBB", "CCC"), evs=("china_34", "geneva"), events=None, **kw):
    args = dict(model="mean", estimation=(-120, -11), event=(-1, 3),
                car_windows=[(0, 0), (0, 1)])
    args.update(kw)
    return U.study_indices(r, list(symbols), NAMES, "XNYS", [_ref(e) for e in evs],
                           calendar_frame=events, **args)


def test_caar_matches_an_independent_computation(events):
    r = _returns()
    st = _study(r, events=events)
    # china_34: by 18:40 Shanghai = 06:40 New York, before the open -> day 0 is 4 Apr 2025
    assert st.alignments[_ref("china_34").event_id].day0 == pd.Timestamp("2025-04-04")
    pos = IDX.get_loc(pd.Timestamp("2025-04-04"))
    est = r.iloc[pos - 120: pos - 10]          # offsets -120..-11
    ar = r - est.mean()
    car01 = ar.iloc[pos: pos + 2].sum()
    cf = st.caar_frame().set_index(["event_id", "window"])
    got = cf.loc[(_ref("china_34").event_id, (0, 1)), "caar"]
    assert got == pytest.approx(car01.mean(), abs=1e-12)
    assert cf.loc[(_ref("china_34").event_id, (0, 0)), "caar"] == pytest.approx(
        ar.iloc[pos].mean(), abs=1e-12)
    text = U.describe(st)
    assert f"CAAR {100 * car01.mean():+.2f}% over days 0..+1" in text
    assert "The largest day-0 move: Index A" in text      # the -5% shock
    assert "Liberation" not in text and "S&P 500" not in text
    # compact battery: one table per CAR window, test x (statistic, p-value, n)
    tabs = U.test_tables(st, _ref("geneva").event_id)
    assert len(tabs) == 3 and all(t.caption.startswith(_ref("geneva").label) for t in tabs)
    assert list(tabs[1].to_frame().columns) == ["statistic", "p_value", "n"]
    assert "days 0..+1" in tabs[2].caption


def test_one_index_and_an_event_with_no_trading_on_day0(events):
    r = _returns()[["BBB"]]
    r.loc[pd.Timestamp("2025-05-12")] = np.nan      # no close on Geneva's day 0
    st = _study(r, symbols=("BBB",), events=events)
    gid = _ref("geneva").event_id
    assert gid not in st.results and "no return on day 0 (2025-05-12)" in st.notes[gid]
    assert st.day0_table().to_frame().loc[_ref("geneva").label, "note"].startswith("no return")
    text = U.describe(st)
    assert f"{_ref('geneva').label}: not studied (no return on day 0" in text
    assert "With 1 series, the cross-sectional tests have almost no power" in text
    assert _ref("china_34").event_id in st.results
    daily, *battery = U.test_tables(st, _ref("china_34").event_id)   # tests of one series
    assert daily.to_frame()["p t_test"].isna().all() and "–" in daily.as_text()
    assert len(battery) == 2


def test_daily_table_spans_first_to_last_event_with_a_level_column(events):
    r = _returns()
    levels = 100 * (1 + r).cumprod()
    levels["VVV"] = 20.0
    st = _study(r, events=events)
    t = U.daily_table(r, levels, st, (-1, 1), "VVV").to_frame()
    # day -1 of china_34 (3 Apr) to day +1 of geneva (13 May)
    assert t.index[0] == pd.Timestamp("2025-04-03") and t.index[-1] == pd.Timestamp("2025-05-13")
    assert list(t.columns) == ["Index A", "Index B", "Index C", "Vol index (level)"]
    assert t.loc["2025-04-04", "Index A"] == pytest.approx(r.loc["2025-04-04", "AAA"])
    t0 = U.daily_table(r, levels, st, (0, 0)).to_frame()
    assert t0.index[0] == pd.Timestamp("2025-04-04") and "Vol index (level)" not in t0


def _levels() -> pd.DataFrame:
    """Synthetic levels: peak 120 on 19 Feb 2025, 100 before, low 60 on 8 Apr, back to 130."""
    lv = pd.DataFrame(100.0, index=IDX, columns=["AAA", "BBB"])
    lv.loc["2025-02-19"] = 120.0
    lv.loc["2025-02-14"] = 110.0
    lv.loc["2025-04-03":"2025-04-07"] = 90.0
    lv.loc["2025-04-08"] = [60.0, 75.0]
    lv.loc["2025-06-02":] = 130.0
    return lv


def test_drawdown_from_the_peak_window_and_from_a_sunday_record_date(events):
    lv = _levels()
    lv.loc["2025-03-10", "AAA"] = 50.0   # a lower close before day 0 is not the sell-off's low
    dd = U.drawdown(lv, ["AAA", "BBB"], NAMES, "XNYS", _ref("liberation_day"), (-60, -1), 10,
                    calendar_frame=events)
    assert dd.table.loc["AAA", "trough date"] == pd.Timestamp("2025-04-08")
    assert dd.table.loc["AAA", "regained pre-shock close"] == pd.Timestamp("2025-04-09")
    assert dd.reference == pd.Timestamp("2025-02-19")
    assert dd.pre_shock == pd.Timestamp("2025-04-02")       # day -1 of Liberation Day (3 Apr)
    assert dd.table.loc["AAA", "drawdown (%)"] == pytest.approx(100 * (60 / 120 - 1))
    assert dd.table.loc["BBB", "drawdown (%)"] == pytest.approx(100 * (75 / 120 - 1))
    assert dd.table.loc["AAA", "regained reference"] == pd.Timestamp("2025-06-02")
    assert "highest close of the Index A" in dd.how
    # 16 Feb 2025 is a Sunday: the last session on or before it is Friday 14 Feb
    sun = U.drawdown(lv, ["AAA", "BBB"], NAMES, "XNYS", _ref("china_34"), (-40, -1), 5,
                     pd.Timestamp("2025-02-16"), calendar_frame=events)
    assert sun.reference == pd.Timestamp("2025-02-14")
    assert "record_date 2025-02-16 is not a session" in sun.how
    assert sun.pre_shock == pd.Timestamp("2025-04-03")      # day -1 of China's 34% (4 Apr)
    assert sun.table.loc["AAA", "drawdown (%)"] == pytest.approx(100 * (60 / 110 - 1))
    text = U._drawdown_sentence(sun)
    assert "14 Feb 2025" in text and "19 Feb" not in text
    assert "Index A regained its 3 Apr close on 9 Apr 2025 and the reference close on 2 Jun" in text
    one = U.drawdown(lv, ["BBB"], NAMES, "XNYS", _ref("china_34"), (-40, -1), 5,
                     pd.Timestamp("2025-02-16"), calendar_frame=events)
    assert "the Index B fell 31.8% to its low" in U._drawdown_sentence(one)   # 75 / 110 - 1
    with pytest.raises(ValidationError, match="before the first close"):
        U.drawdown(lv, ["AAA"], NAMES, "XNYS", _ref("china_34"), (-40, -1), 5,
                   pd.Timestamp("2020-01-05"), calendar_frame=events)


def test_rebased_chart_states_its_date_and_ends_after_the_recoveries(events):
    lv = _levels()
    dd = U.drawdown(lv, ["AAA", "BBB"], NAMES, "XNYS", _ref("liberation_day"), (-60, -1), 10,
                    calendar_frame=events)
    lv.loc["2025-05-26", "AAA"] = np.nan   # a holiday of one series leaves no gap in the others
    fig, ax = U.plot_rebased(lv, dd, U.event_marks([_ref("liberation_day"), _ref("pause")]))
    assert "19 February 2025" in ax.get_title("left")
    assert ax.get_title("left").endswith("2 July 2025")    # last regain 2 Jun + 1 month
    lines = [ln for ln in ax.lines if ln.get_label() in ("Index A", "Index B")]
    assert all(np.isfinite(np.asarray(ln.get_ydata(), dtype=float)).all() for ln in lines)
    assert float(lines[0].get_ydata()[0]) == pytest.approx(100.0)


def test_contract_refuses_mixed_calendars_missing_market_and_peak_after_day0():
    base = dict(symbols=["^GSPC", "^IXIC"], vix_symbol=None, events_studied=["geneva"],
                model="mean", market_symbol=None, estimation_window="-200:-11",
                event_window="-1:3", car_windows=["0:1"], daily_window="0:0",
                selloff_event="china_34", peak_window="-30:-1", record_date=None,
                trough_sessions=5)
    p = U.PARAMETERS.check(base)
    assert p.vix_symbol is None and p.selloff_event.event_id == "E2025-04-04-china-34"
    with pytest.raises(ValidationError, match="different exchange calendars"):
        U.PARAMETERS.check(dict(base, symbols=["^GSPC", "^N225"]))
    with pytest.raises(ValidationError, match="'market_symbol' is None, but model 'market'"):
        U.PARAMETERS.check(dict(base, model="market"))
    with pytest.raises(ValidationError, match="record_date' = 2025-04-05 is not before"):
        U.PARAMETERS.check(dict(base, record_date="2025-04-05"))
    with pytest.raises(ValidationError, match="does not end before day 0"):
        U.PARAMETERS.check(dict(base, peak_window="-30:0"))
    with pytest.raises(ValidationError, match="car_windows 0:9 not inside"):
        U.PARAMETERS.check(dict(base, car_windows=["0:9"]))
    # an optional record_date is a history need: the data must reach back to it
    needs = U.PARAMETERS.needs(U.PARAMETERS.check(dict(base, record_date="2024-12-15")))
    assert [n.symbol for n in needs if n.first == pd.Timestamp("2024-12-15")
            and n.why.startswith("record_date")] == ["^GSPC", "^IXIC"]


def test_explore_runs_shows_one_line_on_a_bad_window(events, capsys):
    r = _returns()
    st = _study(r, events=events)
    day0 = st.alignments[_ref("china_34").event_id].day0
    with pytest.raises(ValidationError):
        U.explore_car(r["AAA"], "Index A", day0, "-20", "-1:3", "t", "XNYS")   # half-typed
    with pytest.raises(ValidationError, match=r"cover days -\d+\.\.\d+ around day 0"):
        U.explore_car(r["AAA"], "Index A", day0, "-100000:-11", "-1:3", "t", "XNYS")
    with pytest.raises(StudyError, match="no return on day 0"):
        U.explore_car(r["AAA"].drop(day0), "Index A", day0, "-100:-11", "-1:3", "t", "XNYS")
    fig, ax = U.explore_car(r["AAA"], "Index A", day0, "-100:-11", "-1:3", "China", "XNYS")
    assert ax.get_title("left") == "CAR of Index A around: China"
    try:
        U.parse_window("-20", "estimation window", kind="days")
    except TradeshockError as exc:
        msg = U.explore_message(exc)
    assert msg.startswith("Cannot run: ") and "\n" not in msg
    pytest.importorskip("ipywidgets")
    panel = U.explore_panel(r, st, "-100:-11", "-1:3")
    est_box = panel.children[1].children[0]
    ev_dd = panel.children[0].children[1]
    assert [o[0] for o in ev_dd.options] == [_ref("china_34").label, _ref("geneva").label]
    assert est_box.continuous_update is False        # no run on every keystroke
    capsys.readouterr()
    est_box.value = "-20"                            # Enter on a half-typed window
    out = capsys.readouterr().out.split("\r")[-1]   # after the panel's clear_output codes
    assert out.startswith("Cannot run: estimation window = '-20'") and out.count("\n") == 1
    assert "Traceback" not in out


def test_bad_02_values_are_refused_before_a_kernel_starts(tmp_path, monkeypatch):
    from pathlib import Path

    import tradeshock.pipeline.render as R

    def no_kernel(*a, **k):  # a kernel start would fail the test
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(R, "_check_kernel", no_kernel)
    nb = Path(__file__).resolve().parents[1] / "notebooks" / "02_us_indices.ipynb"
    with pytest.raises(ValidationError) as err:
        R.render_notebooks([nb], tmp_path, params={"02_us_indices": {
            "selloff_event": "liberation", "record_date": "2025-02-30", "symbols": ["^GSPC", "EWG"],
            "model": "market", "peak_window": "-20:3"}})
    text = str(err.value)
    assert "parameter 'selloff_event' = 'liberation' is not an event of the calendar" in text
    assert "parameter 'record_date' = '2025-02-30' is not an ISO date" in text
    assert not list(tmp_path.glob("*.html"))
    with pytest.raises(ValidationError, match="different exchange calendars|market_symbol"):
        R.render_notebooks([nb], tmp_path, params={"02_us_indices": {
            "symbols": ["^GSPC", "^N225"]}})


# ---- other parameters, as an analyst would try them (helper fa)
def test_daily_table_of_events_months_apart_is_one_block_per_event(events):
    r = _returns()
    levels = 100 * (1 + r).cumprod()
    st = _study(r, evs=("china_34", "geneva"), events=events)
    # day 0: 4 Apr and 12 May 2025 (XNYS): 25 sessions apart, so two blocks, not the month between
    assert U.daily_spans(st, (-1, 1)) == [
        (pd.Timestamp("2025-04-03"), pd.Timestamp("2025-04-07")),
        (pd.Timestamp("2025-05-09"), pd.Timestamp("2025-05-13"))]
    table = U.daily_table(r, levels, st, (-1, 1))
    t = table.to_frame()
    assert list(t.index.strftime("%Y-%m-%d")) == ["2025-04-03", "2025-04-04", "2025-04-07",
                                                  "2025-05-09", "2025-05-12", "2025-05-13"]
    assert "days -1..+1 around each event (3 Apr 2025–7 Apr 2025, 9 May 2025–13 May 2025)" in (
        table.caption)
    # events a few sessions apart (Liberation Day 3 Apr, the pause 9 Apr) stay one span
    near = _study(r, evs=("liberation_day", "pause"), events=events)
    assert U.daily_spans(near, (-1, 1)) == [(pd.Timestamp("2025-04-02"),
                                             pd.Timestamp("2025-04-10"))]
    assert U.daily_table(r, levels, near, (-1, 1)).caption.startswith(
        "Daily returns from 2 Apr to 10 Apr 2025")
    assert "day 0 around each event (4 Apr 2025, 12 May 2025)" in U.daily_table(
        r, levels, st, (0, 0)).caption


def test_drawdown_sentence_when_no_series_fell_below_the_reference(events):
    lv = _levels()
    # reference on a low close long before: every later close is above it (a "drawdown" > 0)
    lv.loc["2024-12-20"] = 40.0
    dd = U.drawdown(lv, ["AAA", "BBB"], NAMES, "XNYS", _ref("liberation_day"), (-60, -1), 10,
                    pd.Timestamp("2024-12-20"), calendar_frame=events)
    assert (dd.table["drawdown (%)"] > 0).all()
    text = U._drawdown_sentence(dd)
    assert "fell" not in text and "falls" not in text and "regained" not in text
    assert "no series closed below it" in text
    assert "+50.0% (Index A) to +87.5% (Index B)" in text          # 60/40 - 1, 75/40 - 1
    assert "Index A stayed at or above the reference close from day 0 on" in text
    one = U.drawdown(lv, ["BBB"], NAMES, "XNYS", _ref("liberation_day"), (-60, -1), 10,
                     pd.Timestamp("2024-12-20"), calendar_frame=events)
    assert "the Index B never closed below it; its lowest close was +87.5%" in (
        U._drawdown_sentence(one))
    # one fell, one did not: signs shown, nothing called a fall that was not
    lv2 = _levels()
    lv2.loc["2024-12-20"] = [70.0, 70.0]
    mixed = U.drawdown(lv2, ["AAA", "BBB"], NAMES, "XNYS", _ref("liberation_day"), (-60, -1), 10,
                       pd.Timestamp("2024-12-20"), calendar_frame=events)
    text = U._drawdown_sentence(mixed)
    assert "from +7.1% (Index B, which never closed below it) to -14.3% (Index A)" in text
    assert "Index B stayed at or above" in text and "Index A regained" in text


def test_level_sentence_when_the_first_close_is_the_highest(events):
    r = _returns()
    lv = pd.DataFrame({"VVV": np.linspace(50.0, 20.0, len(IDX))}, index=IDX)  # falls throughout
    st = _study(r, evs=("pause",), events=events)
    text = U._level_sentence(lv, "VVV", "Vol index", st)
    assert "peaked" not in text
    assert "its highest close from day -1 of the first to day 0 of the last event" in text
    assert "on 8 Apr 2025" in text and "on 9 Apr 2025" in text


def test_contract_refuses_a_market_proxy_that_is_studied_and_a_short_estimation():
    base = dict(symbols=["^GSPC", "^IXIC"], vix_symbol=None, events_studied=["geneva"],
                model="market_adjusted", market_symbol="^GSPC", estimation_window="-200:-11",
                event_window="-1:3", car_windows=["0:1"], daily_window="0:0",
                selloff_event="china_34", peak_window="-30:-1", record_date=None,
                trough_sessions=5)
    with pytest.raises(ValidationError, match="'market_symbol' = '\\^GSPC' is also in symbols"):
        U.PARAMETERS.check(base)
    assert U.PARAMETERS.check(dict(base, market_symbol="ACWI")).market_symbol == "ACWI"
    assert U.PARAMETERS.check(dict(base, model="mean")).model == "mean"  # mean: no proxy used
    with pytest.raises(ValidationError, match="holds 29 sessions, fewer than the 30 needed"):
        U.PARAMETERS.check(dict(base, market_symbol="ACWI", estimation_window="-30:-2"))


def test_events_sharing_day0_are_named_as_indistinguishable(events):
    # China's 104% (8 Apr, untimed: end of day) and the pause (9 Apr, intraday): day 0 = 9 Apr
    r = _returns()
    st = _study(r, evs=("china_104", "pause", "china_34"), events=events)
    text = U.describe(st)
    assert (f"- {_ref('china_104').label} and {_ref('pause').label} share day 0 (9 Apr 2025 on "
            "XNYS)") in text
    assert _ref("china_34").label + " and" not in text
    assert "share day 0" not in U.describe(_study(r, evs=("china_34", "geneva"), events=events))


def test_a_trough_search_past_the_data_is_refused_not_cut():
    base = dict(symbols=["^GSPC"], vix_symbol=None, events_studied=["geneva"], model="mean",
                market_symbol=None, estimation_window="-200:-11", event_window="-1:3",
                car_windows=["0:1"], daily_window="0:0",
                selloff_event="E2025-10-10-china-100-threat", peak_window="-30:-1",
                record_date=None, trough_sessions=200)
    p = U.PARAMETERS.check(base)
    need = [n for n in U.PARAMETERS.needs(p) if "trough_sessions" in n.why]
    assert need and need[0].last > pd.Timestamp("2026-07-01")   # 200 sessions after 13 Oct 2025
    fake = {"^GSPC": (pd.Timestamp("1985-01-02"), pd.Timestamp("2026-06-24"))}
    with pytest.raises(ValidationError, match=r"peak_window, trough_sessions -30:200 .* needs "
                       r"\^GSPC from .* to 2026-\d\d-\d\d, but its data cover 1985-01-02 to "
                       "2026-06-24"):
        U.PARAMETERS.check(base, coverage=lambda syms: {s: fake[s] for s in syms})


def test_contract_refuses_a_market_proxy_of_another_exchange():
    # ACWI closes in New York hours; the Nikkei's 3 Apr close came before New York opened
    base = dict(symbols=["^N225"], vix_symbol=None, events_studied=["liberation_day"],
                model="market_adjusted", market_symbol="ACWI", estimation_window="-200:-11",
                event_window="-1:3", car_windows=["0:0"], daily_window="0:0",
                selloff_event="liberation_day", peak_window="-30:-1", record_date=None,
                trough_sessions=5)
    with pytest.raises(ValidationError, match="'market_symbol' = 'ACWI' trades on XNYS, the "
                       "studied series on XTKS"):
        U.PARAMETERS.check(base)
    assert U.PARAMETERS.check(dict(base, model="mean")).model == "mean"
    us = U.PARAMETERS.check(dict(base, symbols=["^GSPC", "^RUT"], selloff_event="china_34"))
    assert us.market_symbol == "ACWI"


def test_an_untimed_event_placed_in_the_session_is_not_said_announced_in_it(events):
    idx = SESSIONS[(SESSIONS >= "2024-06-03") & (SESSIONS <= "2025-12-31")]   # to Busan (Oct)
    r = pd.DataFrame(np.random.default_rng(3).normal(0, 0.01, (len(idx), 1)), index=idx,
                     columns=["AAA"])   # synthetic
    st = _study(r, symbols=("AAA",), evs=("E2025-10-30-busan", "pause"), events=events)
    busan, pause = (line for line in U.describe(st).splitlines()[:2])
    assert "no time of day known: placed at the end of its local day" in busan
    assert "announced during the session" not in busan
    assert "announced during the session, so day 0 only partly reflects it" in pause


def test_a_market_model_names_its_proxy_in_the_table_and_the_text(events):
    r = _returns()
    mkt = pd.Series(np.random.default_rng(5).normal(0, 0.01, len(IDX)), index=IDX, name="MMM")
    names = dict(NAMES, MMM="Market proxy")
    st = U.study_indices(r, ["AAA", "BBB"], names, "XNYS", [_ref("geneva")], model="market",
                         estimation=(-120, -11), event=(-1, 3), car_windows=[(0, 1)], market=mkt,
                         calendar_frame=events)
    assert st.market == "MMM"
    assert "Normal returns: model market against Market proxy (MMM)." in st.day0_table().as_text()
    assert "- Abnormal returns are measured with the model market against Market proxy (MMM)." in (
        U.describe(st))
    plain = _study(r, events=events)
    assert plain.market is None and "against" not in U.describe(plain)


def test_explore_uses_the_studys_model_and_takes_windows_given_as_pairs(events, capsys):
    pytest.importorskip("ipywidgets")
    r = _returns()
    mkt = pd.Series(np.random.default_rng(5).normal(0, 0.01, len(IDX)), index=IDX, name="MMM")
    r["MMM"] = mkt
    names = dict(NAMES, MMM="Market proxy")
    st = U.study_indices(r, ["AAA", "BBB"], names, "XNYS", [_ref("china_34")],
                         model="market_adjusted", estimation=(-120, -11), event=(-1, 3),
                         car_windows=[(0, 1)], market=mkt, calendar_frame=events)
    day0 = st.alignments[_ref("china_34").event_id].day0
    fig, ax = U.explore_car(r["AAA"], "Index A", day0, "-120:-11", "-1:3", "China", "XNYS",
                            model="market_adjusted", market=mkt, model_text=st.model_text())
    # market-adjusted: the CAR over -1..+3 is the sum of (R - R_market), not of (R - mean R)
    want = 100 * (r["AAA"] - mkt).loc[:day0].iloc[-2:].sum() + 100 * (r["AAA"] - mkt).loc[
        day0:].iloc[1:4].sum()
    car_line = next(ln for ln in ax.lines if ln.get_label() == "Index A")
    assert float(car_line.get_ydata()[-1]) == pytest.approx(want)
    assert ax.get_title("left").endswith("(model market_adjusted against Market proxy (MMM))")
    panel = U.explore_panel(r, st, (-120, -11), [-1, 3])     # a JupyterLab user's pairs
    assert panel.children[1].children[0].value == "-120:-11"
    assert panel.children[1].children[1].value == "-1:3"
    capsys.readouterr()
    panel.run()
    assert "Cannot run" not in capsys.readouterr().out
