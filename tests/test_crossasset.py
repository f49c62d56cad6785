"""crossasset: hand checks of the helpers, and key April 2025 facts through the library."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradeshock.analyses import anatomy, crossasset
from tradeshock.data.prices import load_prices
from tradeshock.data.returns import price_levels, wide_returns
from tradeshock.engine import regression
from tradeshock.errors import StudyError

D = pd.to_datetime(["2025-04-02", "2025-04-03", "2025-04-04", "2025-04-07", "2025-04-08",
                    "2025-04-09", "2025-04-30", "2025-05-02"])


def _levels():
    # A: 100 -> trough 80 on 04-04 -> 90 (9 Apr) -> 95 (30 Apr) -> 110 (end)
    # B: 50, no value on 04-09 (NaN), trough 40 on 04-08, 45 on 04-30, 50 at the end
    return pd.DataFrame({
        "A": [100, 90, 80, 85, 82, 90, 95, 110],
        "B": [50, 45, 44, 42, 40, np.nan, 45, 50],
    }, index=D, dtype=float)


def test_recovery_by_hand_one_drawdown_rule():
    t = anatomy.drawdown_table(_levels(), "2025-04-02", "2025-04-30",
                               checkpoints={"9 Apr": "2025-04-09", "30 Apr": "2025-04-30",
                                            "end": None})
    a, b = t.loc["A"], t.loc["B"]
    assert a["trough date"] == pd.Timestamp("2025-04-04") and a["trough close"] == 80
    assert a["drawdown (%)"] == pytest.approx(-20.0)
    assert a["recovered by 9 Apr (% of loss)"] == pytest.approx(50.0)       # (90-80)/20
    assert a["recovered by 30 Apr (% of loss)"] == pytest.approx(75.0)      # (95-80)/20
    assert a["recovered by end (% of loss)"] == pytest.approx(150.0)        # (110-80)/20
    assert a["end date"] == pd.Timestamp("2025-05-02")
    assert a["regained reference"] == pd.Timestamp("2025-05-02")           # 110 >= 100
    # B has no 9 April value: the last close on or before it (8 April, the trough) is used
    assert b["drawdown (%)"] == pytest.approx(-20.0)
    assert b["9 Apr date"] == pd.Timestamp("2025-04-08")
    assert b["recovered by 9 Apr (% of loss)"] == pytest.approx(0.0)
    assert b["recovered by 30 Apr (% of loss)"] == pytest.approx(50.0)      # (45-40)/10
    assert b["recovered by end (% of loss)"] == pytest.approx(100.0)


def test_trough_from_an_event_day_ignores_an_earlier_low():
    # synthetic levels (see _levels): A's low of 80 on 04-04 comes before an event on 04-07;
    # from the event on, the low is 82 on 04-08 (a loss of 18% from the 100 reference)
    t = anatomy.drawdown_table(_levels(), "2025-04-02", "2025-04-30", trough_from="2025-04-07")
    assert t.loc["A", "trough date"] == pd.Timestamp("2025-04-08")
    assert t.loc["A", "drawdown (%)"] == pytest.approx(-18.0)
    assert t.loc["B", "trough date"] == pd.Timestamp("2025-04-08")  # its low is after the event
    # without trough_from the rule is unchanged
    t0 = anatomy.drawdown_table(_levels(), "2025-04-02", "2025-04-30")
    assert t0.loc["A", "trough date"] == pd.Timestamp("2025-04-04")


def test_drawdown_rule_reports_what_it_cannot_measure():
    # a series without a close on the reference date keeps its row with a note ...
    lv = _levels().assign(C=np.nan)
    t = anatomy.drawdown_table(lv, "2025-04-02", "2025-04-30")
    assert t.loc["C", "note"] == "no close on 2025-04-02" and pd.isna(t.loc["C", "drawdown (%)"])
    assert t.loc["A", "note"] == ""
    # ... a checkpoint before the trough is NaN with a note, not an error ...
    t = anatomy.drawdown_table(_levels(), "2025-04-02", "2025-04-30", checkpoints={"x": "2025-04-03"})
    assert pd.isna(t.loc["A", "recovered by x (% of loss)"])
    assert "checkpoint x (2025-04-03) is before the trough (2025-04-04)" in t.loc["A", "note"]
    # ... and a table where nothing can be measured is an error that says why and how to fix it
    with pytest.raises(StudyError, match="no series can be measured.*no close on 2025-04-05"):
        anatomy.drawdown_table(_levels(), "2025-04-05", "2025-04-30")
    with pytest.raises(StudyError, match="trough_by .* is not after the reference"):
        anatomy.drawdown_table(_levels(), "2025-04-30", "2025-04-02")


def test_daily_moves_units_and_common_dates():
    r = pd.DataFrame({"eq": [0.01, -0.02, np.nan], "y": [5.0, np.nan, -3.0]},
                     index=pd.to_datetime(["2025-04-01", "2025-04-02", "2025-04-03"]))
    m = crossasset.daily_moves(r, {"eq": "simple_return", "y": "bp_change"},
                               names={"eq": "Stocks", "y": "10y yield"})
    assert list(m.columns) == ["Stocks (%)", "10y yield (bp)"]
    assert m.iloc[0].tolist() == pytest.approx([1.0, 5.0])
    aligned, dropped = crossasset.common_dates(m)
    assert list(aligned.index) == [pd.Timestamp("2025-04-01")]
    assert list(dropped) == list(pd.to_datetime(["2025-04-02", "2025-04-03"]))
    with pytest.raises(StudyError, match="no measure"):
        crossasset.daily_moves(r, {"eq": "simple_return"})


def test_pairwise_correlations_by_hand():
    idx = pd.bdate_range("2025-01-01", periods=8)
    x = np.array([1, 2, 3, 4, 1, 2, 3, 4], float)
    m = pd.DataFrame({"x": x, "y": np.r_[2 * x[:4], -x[4:]],
                      "z": np.r_[x[:4] ** 2, np.nan, 1, 5, 2]}, index=idx)
    t = crossasset.pairwise_correlations(m, {"before": (idx[0], idx[3]), "after": (idx[4], idx[7])})
    assert t.loc[("x", "y"), "corr (before)"] == pytest.approx(1.0)
    assert t.loc[("x", "y"), "corr (after)"] == pytest.approx(-1.0)        # on 3 common dates
    assert t.loc[("x", "y"), "change"] == pytest.approx(-2.0)
    assert t["n (before)"].iloc[0] == 4 and t["n (after)"].iloc[0] == 3    # NaN row dropped for all
    assert t.loc[("x", "z"), "corr (before)"] == pytest.approx(np.corrcoef(x[:4], x[:4] ** 2)[0, 1])
    mats = crossasset.correlation_comparison(m, {"after": (idx[4], idx[7])})
    assert mats["after"].attrs["n"] == 3
    assert mats["after"].loc["x", "y"] == pytest.approx(-1.0)


# ----------------------------------------------------------------------------- key facts


@pytest.fixture(scope="module")
def april():
    p = load_prices(["^GSPC", "^IXIC", "^DJI", "^RUT", "DGS10"], start="2023-10-01")
    return price_levels(p), wide_returns(p)


SELLOFF = ["2025-04-03", "2025-04-04", "2025-04-07", "2025-04-08"]


def test_key_facts(april):
    levels, rets = april
    assert round(100 * rets.loc["2025-04-09", "^GSPC"], 2) == 9.52
    assert rets.attrs["measures"]["DGS10"] == "bp_change"
    assert levels.loc["2025-04-08", "DGS10"] == pytest.approx(4.26)
    assert levels.loc["2025-04-09", "DGS10"] == pytest.approx(4.34)
    assert rets.loc["2025-04-09", "DGS10"] == pytest.approx(8.0)
    t = anatomy.drawdown_table(levels[["^GSPC"]], "2025-04-02", "2025-04-30",
                               checkpoints={"9 Apr": "2025-04-09"})
    assert t.loc["^GSPC", "trough date"] == pd.Timestamp("2025-04-08")
    assert t.loc["^GSPC", "drawdown (%)"] == pytest.approx(
        100 * (4982.77 / 5670.97 - 1), abs=1e-3)
    assert t.loc["^GSPC", "recovered by 9 Apr (% of loss)"] == pytest.approx(
        100 * (5456.90 - 4982.77) / (5670.97 - 4982.77), abs=1e-3)


def test_selloff_joint_test_rejects_for_sp500(april):
    _, rets = april
    y = rets["^GSPC"].loc["2024-01-01":"2025-04-30"]
    res = regression.event_dummy_regression(
        y, None, SELLOFF + ["2025-04-09"],
        estimation_start="2024-04-01", estimation_end="2025-04-02")
    assert res.wald_joint_zero(SELLOFF).pval < 0.001
    assert res.gammas.set_index("day").loc["2025-04-09", "gamma"] > 0.08


def test_sur_selloff_joint_test_rejects_across_indices(april):
    _, rets = april
    eq = rets[["^GSPC", "^IXIC", "^DJI", "^RUT"]].dropna(how="all")
    eq = eq.loc["2024-01-01":"2025-04-30"]
    sur = regression.sur_event_regression(
        eq, None, SELLOFF + ["2025-04-09"],
        estimation_start="2024-04-04", estimation_end="2025-04-02")
    jz = sur.wald_joint_zero(SELLOFF)
    assert jz.df == 16 and jz.pval < 0.001
    g = sur.gammas.set_index(["series", "day"])["gamma"]
    assert all(g[(s, "2025-04-09")] > 0.07 for s in sur.series)
