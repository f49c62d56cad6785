"""The selloff/rebound analysis (notebook 05): dates from events, tables, narrative, refusals.

Real data (the shared offline snapshot); statistics checked against independent computations
from the levels and returns.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tradeshock.analyses import selloff
from tradeshock.errors import ValidationError
from tradeshock.pipeline.preamble import coverage, start

DEFAULTS = {
    "indices": ["^GSPC", "^IXIC", "^DJI", "^RUT"],
    "cross_assets": ["^GSPC", "DX-Y.NYB", "DTWEXBGS", "DGS10", "GC=F", "CL=F", "DCOILWTICO"],
    "selloff_event": "liberation_day", "rebound_event": "pause", "selloff_sessions": None,
    "rebound_sessions": 1, "trough_within": 18, "checkpoints": ["rebound", 18, "end"],
    "table_window": "-1:6", "post_window": "0:18", "estimation_sessions": 250, "model": "mean",
    "market_symbol": "ACWI", "reference_date": None, "selloff_days": None, "rebound_days": None,
}


def _study(**changes):
    s = start(selloff.PARAMETERS, {**DEFAULTS, **changes}, show=False)
    plan = selloff.make_plan(s.p, s.events, s.universe)
    return s, plan, selloff.run(plan, s.p, s.levels, s.returns, s.names, s.universe)


def test_default_plan_is_the_april_2025_dates(shared_snapshot):
    s = start(selloff.PARAMETERS, DEFAULTS, show=False)
    plan = selloff.make_plan(s.p, s.events, s.universe)
    ts = pd.Timestamp
    assert plan.calendar == "XNYS"
    assert plan.reference == ts("2025-04-02")
    assert plan.selloff_days == [ts(d) for d in ("2025-04-03", "2025-04-04", "2025-04-07",
                                                 "2025-04-08")]
    assert plan.rebound_days == [ts("2025-04-09")]
    assert plan.trough_by == ts("2025-04-30")
    assert plan.checkpoints == {"9 Apr": ts("2025-04-09"), "30 Apr": ts("2025-04-30"),
                                "end of data": None}
    assert plan.table == (ts("2025-04-02"), ts("2025-04-11"))
    assert plan.post == (ts("2025-04-03"), ts("2025-04-30")) and plan.post_label == "3 Apr–30 Apr"
    assert plan.estimation == (ts("2024-04-04"), ts("2025-04-02"))


def test_other_events_one_index_no_yield_and_a_checkpoint_before_the_trough(shared_snapshot):
    s, plan, study = _study(
        indices=["^RUT"], cross_assets=["^RUT", "GC=F", "CL=F"], selloff_event="china_34",
        rebound_event="geneva", selloff_sessions=3, rebound_sessions=2, trough_within=10,
        checkpoints=[1, "2025-05-30", "end"], table_window="-2:3", post_window="0:10",
        estimation_sessions=120)
    # china_34 (4 Apr 2025, during US trading hours or untimed) -> day 0 on XNYS; geneva 12 May
    assert plan.selloff_day0 in (pd.Timestamp("2025-04-04"), pd.Timestamp("2025-04-07"))
    assert plan.rebound_days[0] == pd.Timestamp("2025-05-12") and len(plan.rebound_days) == 2
    assert len(plan.selloff_days) == 3
    row = study.drawdowns.loc["^RUT"]
    lv = s.levels["^RUT"].dropna()
    ref = lv.loc[:plan.selloff_day0].index[-2]
    seg = lv.loc[(lv.index > ref) & (lv.index <= plan.trough_by)]
    assert row["trough date"] == seg.idxmin()
    assert row["drawdown (%)"] == pytest.approx(100 * (seg.min() / lv[ref] - 1))
    close = lv.loc[:pd.Timestamp("2025-05-30")].iloc[-1]
    assert row["recovered by 30 May (% of loss)"] == pytest.approx(
        100 * (close - seg.min()) / (lv[ref] - seg.min()))
    text = selloff.describe(study)
    early = [k for k in plan.checkpoints if pd.isna(row[f"recovered by {k} (% of loss)"])]
    assert early, "day +1 comes before the Russell 2000's trough in this window"
    assert f"No recovered share at {early[0]}" in text
    assert "No yield is among the cross-asset series" in text
    assert "With one index there is no system test" in text
    assert study.sur is None and study.sur_tables() == []
    assert "deepest" not in text and "Liberation" not in text and "9 April" not in text
    assert "S&P 500" not in text
    # selloff sums: the sum of the daily moves, recomputed from the returns
    r = s.returns["GC=F"].loc[plan.selloff_days[0]:plan.selloff_days[-1]].sum() * 100
    assert f"Gold fut. {r:+.1f}%" in text


def test_describe_counts_sell_america_days_and_reversal(shared_snapshot):
    s, plan, study = _study()
    text = selloff.describe(study)
    r = s.returns.loc[plan.table[0]:plan.table[1]]
    y = s.returns["DGS10"].loc[plan.table[0]:plan.table[1]]
    hits = r.index[(r["^GSPC"] < 0) & (r["DX-Y.NYB"] < 0) & (y > 0)]
    assert f"rose on {len(hits)} day(s)" in text
    assert "from 2 April close" not in text and "From the 2 April close the S&P 500" in text
    assert "full reversal is not rejected (p = 0.099)" in text
    assert "3 Apr–30 Apr" in text
    w = study.wald.loc["S&P 500"]
    # constant-mean model: the net CAR is the sum of the selloff and rebound gammas
    assert w["net CAR (%)"] == pytest.approx(study.gammas.loc["S&P 500", "γ (%)"].sum())


def test_checkpoints_parse_and_refuse():
    cp = selloff.Checkpoints("checkpoints")
    from tradeshock.analyses.contract import _Bad, _Context

    got = cp.parse(["rebound", "+5", 7, "2025-05-01", "end", "geneva"], _Context())
    assert [c.kind for c in got] == ["event", "offset", "offset", "date", "end", "event"]
    with pytest.raises(_Bad, match="item 2"):
        cp.parse(["end", "nonsense-event"], _Context())
    with pytest.raises(_Bad, match="is empty"):
        cp.parse([], _Context())


def test_contract_refuses_bad_orders_and_too_much_history(shared_snapshot):
    with pytest.raises(ValidationError, match="rebound_event.*not after the selloff"):
        selloff.PARAMETERS.check({**DEFAULTS, "selloff_event": "geneva",
                                  "rebound_event": "pause"})
    with pytest.raises(ValidationError, match="into the rebound sessions"):
        selloff.PARAMETERS.check({**DEFAULTS, "selloff_sessions": 6})
    with pytest.raises(ValidationError, match="also one of the indices"):
        selloff.PARAMETERS.check({**DEFAULTS, "model": "market", "market_symbol": "^GSPC"})
    with pytest.raises(ValidationError, match="estimation_sessions") as err:
        selloff.PARAMETERS.check({**DEFAULTS, "estimation_sessions": 100000}, coverage=coverage)
    assert "calendar runs from 1990-01-02" in str(err.value) and "nothing was run" in str(err.value)
    with pytest.raises(ValidationError, match=r"estimation_sessions .* its data cover \d{4}-"):
        selloff.PARAMETERS.check({**DEFAULTS, "estimation_sessions": 4000}, coverage=coverage)


def test_render_refuses_estimation_sessions_beyond_the_calendar_before_a_kernel(
        shared_snapshot, tmp_path, monkeypatch):
    from pathlib import Path

    import tradeshock.pipeline.render as R
    from tradeshock.pipeline.render import render_notebooks

    def no_kernel(*a, **k):  # a kernel start would fail the test
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(R, "_check_kernel", no_kernel)
    nb = Path(__file__).resolve().parents[1] / "notebooks" / "05_selloff_rebound.ipynb"
    with pytest.raises(ValidationError) as err:
        render_notebooks([nb], tmp_path, params={"05_selloff_rebound": {
            "estimation_sessions": 100000, "indices": ["^RUT"]}})
    text = str(err.value)
    assert "report 05_selloff_rebound" in text and "estimation_sessions' = 100000" in text
    assert "1990-01-02" in text
    assert not list(tmp_path.glob("*.html"))


def test_raw_date_overrides_reproduce_the_event_dates(shared_snapshot):
    _, plan, study = _study()
    _, plan2, study2 = _study(reference_date="2025-04-02",
                              selloff_days=["2025-04-03", "2025-04-04", "2025-04-07",
                                            "2025-04-08"],
                              rebound_days="2025-04-09", checkpoints="2025-04-09,2025-04-30,end")
    assert plan2.selloff_days == plan.selloff_days and plan2.rebound_days == plan.rebound_days
    assert plan2.estimation == plan.estimation and plan2.checkpoints == plan.checkpoints
    pd.testing.assert_frame_equal(study2.wald, study.wald)
    pd.testing.assert_frame_equal(study2.drawdowns, study.drawdowns, check_dtype=False)
    # an override earlier than the selloff's sessions moves the estimation period with it
    _, plan3, _ = _study(reference_date="2025-03-31")
    assert plan3.estimation[1] == pd.Timestamp("2025-03-31")


# ---- other parameter combinations (helper fc): each once a crash, a mislabel or a silent cut
def test_checkpoints_after_the_data_end_are_noted_not_replaced_by_the_last_close(shared_snapshot):
    s, plan, study = _study(indices=["^RUT"], cross_assets=["^RUT", "GLD"],
                            checkpoints=["2027-01-04", 600, "end"])
    row = study.drawdowns.loc["^RUT"]
    last = s.levels["^RUT"].dropna().index[-1]
    assert row["data end"] == last
    for label in ("4 Jan 2027",):
        assert pd.isna(row[f"recovered by {label} (% of loss)"])
        assert pd.isna(row[f"{label} date"])
    assert "after the data end" in row["note"]
    # 'end' still gets the last close, computed independently
    lv = s.levels["^RUT"].dropna()
    trough = lv.loc[pd.Timestamp("2025-04-03"):plan.trough_by].min()
    ref = lv[pd.Timestamp("2025-04-02")]
    assert row["recovered by end of data (% of loss)"] == pytest.approx(
        100 * (lv.iloc[-1] - trough) / (ref - trough))
    text = selloff.describe(study)
    assert f"after the Russell 2000's data end, {last:%-d %B %Y}" in text
    assert text.count(f"by the {last:%-d %B}") == 0  # never 'by the <last close>' for 2027


def test_a_selloff_without_a_loss_is_said_so(shared_snapshot):
    """10 Oct -> 30 Oct 2025: the S&P 500 never closed below its 10 October close by 6 Nov."""
    s, plan, study = _study(selloff_event="E2025-10-10-china-100-threat",
                            rebound_event="E2025-10-30-busan")
    lv = s.levels["^GSPC"].dropna()
    seg = lv.loc[pd.Timestamp("2025-10-11"):plan.trough_by]
    assert seg.min() > lv[pd.Timestamp("2025-10-10")]  # the premise, from the levels
    row = study.drawdowns.loc["^GSPC"]
    assert row["drawdown (%)"] > 0 and row["note"].startswith("no loss")
    first = selloff.describe(study).splitlines()[0]
    assert "never closed below its 10 October 2025 close" in first and "fell" not in first
    assert "before the" not in selloff.describe(study)


def test_contract_refuses_mixed_day0_exchanges_and_a_too_short_post_window(shared_snapshot):
    with pytest.raises(ValidationError, match=r"'indices' mix exchanges.*\^N225 \(XTKS\) day 0 "
                       r"2025-04-10.*\^GSPC \(XNYS\) day 0 2025-04-09") as err:
        selloff.PARAMETERS.check({**DEFAULTS, "indices": ["^N225", "^GSPC"]})
    assert "selloff_sessions" not in str(err.value)
    # exchanges that share both days 0 are fine (Tokyo and Seoul)
    p = selloff.PARAMETERS.check({**DEFAULTS, "indices": ["^N225", "^KS11"],
                                  "cross_assets": ["^N225", "GLD"]})
    assert p["indices"] == ["^N225", "^KS11"]
    with pytest.raises(ValidationError, match="post_window' = 0:1 has 2 session"):
        selloff.PARAMETERS.check({**DEFAULTS, "post_window": "0:1"})
    # a reversed pair gives one problem, not a second derived one
    with pytest.raises(ValidationError, match="1 parameter problem"):
        selloff.PARAMETERS.check({**DEFAULTS, "selloff_event": "pause",
                                  "rebound_event": "liberation_day"})


def test_lists_written_as_text_as_papermill_passes_them(shared_snapshot):
    p = selloff.PARAMETERS.check({**DEFAULTS, "checkpoints": '["geneva", 30, "end"]',
                                  "selloff_days": '["2025-04-03", "2025-04-04"]',
                                  "indices": '["^RUT"]', "cross_assets": '["^RUT", "DGS10"]'})
    assert [c.kind for c in p["checkpoints"]] == ["event", "offset", "end"]
    assert p["checkpoints"][1].value == 30
    assert p["selloff_days"] == [pd.Timestamp("2025-04-03"), pd.Timestamp("2025-04-04")]


def test_the_market_proxy_is_loaded_only_for_the_market_model(shared_snapshot):
    s = start(selloff.PARAMETERS, {**DEFAULTS, "indices": ["^RUT"],
                                   "cross_assets": ["^RUT", "GLD"]}, show=False)
    assert "ACWI" not in set(s.prices["symbol"]) and "ACWI" not in s.source_line()
    s2 = start(selloff.PARAMETERS, {**DEFAULTS, "indices": ["^RUT"], "model": "market",
                                    "cross_assets": ["^RUT", "GLD"]}, show=False)
    assert "ACWI" in set(s2.prices["symbol"])
    assert any(n.symbol == "ACWI" for n in s2.needs)


def test_a_yield_cannot_lead_the_cross_asset_set(shared_snapshot):
    with pytest.raises(ValidationError, match=r"cross_assets' starts with 'DGS10', a bp_change "
                       r"series.*\['\^GSPC', 'DGS10'"):
        selloff.PARAMETERS.check({**DEFAULTS, "cross_assets": ["DGS10", "^GSPC", "DX-Y.NYB"]})
    p = selloff.PARAMETERS.check({**DEFAULTS, "cross_assets": ["GLD", "DGS10"]})
    assert p["cross_assets"][0] == "GLD"


def test_two_checkpoints_on_one_date_are_refused_not_merged(shared_snapshot):
    # the pause's day 0 (9 April) is session +4 from Liberation Day's day 0 (3 April) on XNYS
    with pytest.raises(ValidationError, match=r"checkpoints' name a date twice: 4 \(9 Apr\)"):
        selloff.PARAMETERS.check({**DEFAULTS, "checkpoints": ["rebound", 4, "end"]})
    with pytest.raises(ValidationError, match=r"a date twice: 2025-04-30 \(30 Apr\)"):
        selloff.PARAMETERS.check({**DEFAULTS, "checkpoints": [18, "2025-04-30"]})


def test_a_trough_search_past_the_data_end_is_refused_not_cut(shared_snapshot):
    late = {**DEFAULTS, "selloff_event": "E2025-10-10-china-100-threat",
            "rebound_event": "E2025-10-30-busan"}
    with pytest.raises(ValidationError, match=r"trough_within 0:500 .* needs \^GSPC from "
                       r"2025-10-13 to 2027-"):
        selloff.PARAMETERS.check({**late, "trough_within": 500}, coverage=coverage)
    selloff.PARAMETERS.check({**late, "trough_within": 18}, coverage=coverage)  # fits the data
