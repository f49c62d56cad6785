"""TACO tested (tradeshock.analyses.taco): HC3 slope, minimum detectable slope, Welch comparisons,
each against an independent computation (hand formulas, statsmodels power); SYNTHETIC calendars
with a planted trend that must be found, the opposite trend, and a null; the pinned data."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.power import TTestPower
from tradeshock.analyses import calendar_study as cs
from tradeshock.analyses import taco
from tradeshock.analyses.figures import check_figure
from tradeshock.analyses.sessions import event_sessions
from tradeshock.errors import StudyError

sys.path.insert(0, str(Path(__file__).resolve().parent))
import calendar_synthetic as syn


# --------------------------------------------------------------------------- building blocks
def test_ols_hc3_by_hand():
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0, 9, 15))
    y = -0.03 + 0.002 * x + rng.normal(0, 0.01 + 0.002 * x)
    out = taco.ols_hc3_slope(x, y)
    X = np.column_stack([np.ones_like(x), x])
    xtx = np.linalg.inv(X.T @ X)
    b = xtx @ X.T @ y
    e = y - X @ b
    h = np.einsum("ij,jk,ik->i", X, xtx, X)
    V = xtx @ (X.T * (e / (1 - h)) ** 2) @ X @ xtx           # MacKinnon-White HC3
    se = np.sqrt(V[1, 1])
    q = stats.t.ppf(0.975, len(x) - 2)
    assert out["slope"] == pytest.approx(b[1], rel=1e-10)
    assert out["se"] == pytest.approx(se, rel=1e-10)
    assert out["p"] == pytest.approx(2 * stats.t.sf(abs(b[1] / se), len(x) - 2), rel=1e-8)
    assert (out["ci_low"], out["ci_high"]) == pytest.approx((b[1] - q * se, b[1] + q * se))
    assert out["var_intercept"] == pytest.approx(V[0, 0]) and out["n"] == 15
    s2 = e @ e / (len(x) - 2)
    assert out["se_classical"] == pytest.approx(np.sqrt(s2 * xtx[1, 1]))


def test_ols_hc3_too_few_points_gives_nan():
    assert np.isnan(taco.ols_hc3_slope([1, 2, 3], [0.1, 0.2, 0.1])["slope"])
    assert np.isnan(taco.ols_hc3_slope([1, 1, 1, 1], [0.1, 0.2, 0.1, 0.3])["slope"])
    assert taco.ols_hc3_slope([1, 2, np.nan, 4, 5], [1, 2, 3, np.nan, 5])["n"] == 3


@pytest.mark.parametrize("n", [8, 13, 30])
def test_min_detectable_effect_matches_statsmodels_power(n):
    """For a one-sample t test (df = n - 1, se = sd / sqrt(n)) the MDE is d * sd."""
    d = TTestPower().solve_power(effect_size=None, nobs=n, alpha=0.05, power=0.8,
                                 alternative="two-sided")
    sd = 0.02
    got = taco.min_detectable_effect(sd / np.sqrt(n), n - 1)
    assert got == pytest.approx(d * sd, rel=1e-5)


def test_min_detectable_effect_limits_and_errors():
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert taco.min_detectable_effect(1.0, 1e6) == pytest.approx(z, rel=1e-4)
    assert taco.min_detectable_effect(1.0, 5) > taco.min_detectable_effect(1.0, 50) > z
    assert np.isnan(taco.min_detectable_effect(0.0, 10))
    assert np.isnan(taco.min_detectable_effect(1.0, 0))
    with pytest.raises(StudyError, match="alpha"):
        taco.min_detectable_effect(1.0, 10, power=1.2)


def test_welch_by_hand():
    a = np.array([0.01, 0.03, -0.01, 0.02, 0.04])
    b = np.array([-0.02, -0.05, 0.00, -0.01])
    out = taco.welch_difference(a, b)
    va, vb = a.var(ddof=1) / 5, b.var(ddof=1) / 4
    df = (va + vb) ** 2 / (va ** 2 / 4 + vb ** 2 / 3)
    t = (a.mean() - b.mean()) / np.sqrt(va + vb)
    assert out["diff"] == pytest.approx(a.mean() - b.mean())
    assert out["t"] == pytest.approx(t) and out["df"] == pytest.approx(df)
    assert out["p"] == pytest.approx(2 * stats.t.sf(abs(t), df))
    q = stats.t.ppf(0.975, df)
    assert out["ci_low"] == pytest.approx(out["diff"] - q * np.sqrt(va + vb))
    assert np.isnan(taco.welch_difference([1.0], b)["p"])


# ------------------------------------------------------------------------------ synthetic
def _taco_table(trend: float, seed: int = 4):
    """SYNTHETIC: 12 escalation sessions with AR -4% + trend per 30 days on ^GSPC and S1."""
    ev, by_kind = syn.timed_calendar(12, 10, step=6)
    ses = event_sessions(ev)
    r = syn.returns(["^GSPC", "S1", "S2"], seed=seed)
    esc = by_kind["escalation"]
    days = np.array([(d - min(ev["date"])).days for d in esc], dtype=float)
    r = syn.plant(r, esc, ["^GSPC", "S1"], -0.04 + trend * days / 30.0)
    r = syn.plant(r, by_kind["de-escalation"], ["^GSPC", "S1"], 0.01)
    groups = {"^GSPC": "us_index", "S1": "us_sector", "S2": "us_sector"}
    return cs.market_table(r, ses, markets=list(groups), groups=groups)


def test_planted_shrinking_trend_is_found():
    res = taco.taco_test(_taco_table(0.008))
    r = res.get("^GSPC")
    assert r["n"] == 12 and r["p"] < 0.01 and r["ci_low"] < 0.008 < r["ci_high"]
    assert res.get("S1")["p"] < 0.01
    assert res.get("^GSPC", "absolute", "days")["slope"] < 0
    ba = res.before_after.set_index("market").loc["^GSPC"]
    assert ba["diff"] > 0
    assert set(res.regressions["market"]) == {"^GSPC", "S1", "S2"}      # default: index + sectors


def test_planted_growing_trend_and_null():
    grow = taco.taco_test(_taco_table(-0.008)).get("^GSPC")
    assert grow["slope"] < 0 and grow["p"] < 0.01
    null = taco.taco_test(_taco_table(0.0)).get("^GSPC")
    assert null["p"] > 0.05 and null["ci_low"] < 0 < null["ci_high"]
    assert null["mds"] > 0


def test_asymmetry_of_synthetic_reactions():
    res = taco.taco_test(_taco_table(0.0), markets=["^GSPC"])
    a = res.asymmetry.set_index("market").loc["^GSPC"]
    # de-escalations +1%, escalations -4%: the walk-back is worth about 3 pp less
    assert a["diff"] == pytest.approx(a["mean_deescalation"] - a["minus_mean_escalation"])
    assert a["diff"] < -0.02 and a["p"] < 0.01
    t = res.points[res.points["market"] == "^GSPC"]
    assert a["n_escalation"] == (t["direction"] == "escalation").sum()


def test_taco_options_and_errors():
    tab = _taco_table(0.0)
    res = taco.taco_test(tab, markets=["^GSPC"], specs=[("signed", "order")],
                         break_date="2025-04-01")
    assert list(res.regressions["x"]) == ["order"]
    assert res.settings["break_date"] == pd.Timestamp("2025-04-01")
    with pytest.raises(StudyError, match="specs"):
        taco.taco_test(tab, specs=[("log", "days")])
    with pytest.raises(StudyError, match="variant"):
        taco.taco_test(tab, variant="clean")
    with pytest.raises(StudyError, match="no market"):
        taco.taco_test(tab, markets=[])
    with pytest.raises(StudyError, match="no TACO regression"):
        res.get("S1")
    few = taco.taco_test(tab, variant="all_timed", markets=["^GSPC"])
    assert few.get("^GSPC")["n"] == 12          # all synthetic events are timed
    assert "HC3" in res.summary()


def test_taco_figure_house_style():
    import matplotlib.pyplot as plt

    res = taco.taco_test(_taco_table(0.008), markets=["^GSPC"])
    fig = res.figure("^GSPC", source="synthetic test data", as_of="2025-12-31")
    assert check_figure(fig) == []
    plt.close(fig)
    with pytest.raises(StudyError, match="no points"):
        res.figure("S2")


# ------------------------------------------------------------------------------ pinned data
def test_pinned_taco_numbers_are_reported_with_power():
    mp = pytest.MonkeyPatch()
    mp.delenv("TRADESHOCK_SNAPSHOT", raising=False)
    mp.setenv("TRADESHOCK_OFFLINE", "1")
    try:
        inp = cs.load_calendar_inputs(markets={"^GSPC": "us_index", "XLK": "us_sector"},
                                      raw_series={})
    finally:
        mp.undo()
    res = taco.taco_test(cs.market_table(inp, event_sessions()))
    r = res.get("^GSPC")
    assert r["n"] == 13
    assert r["ci_low"] < r["slope"] < r["ci_high"] and r["mds"] > 0
    # with 13 sessions the minimum detectable slope exceeds the estimate's standard error 2.5x
    assert r["mds"] > 2.5 * r["se"]
    timed = taco.taco_test(cs.market_table(inp, event_sessions()), variant="all_timed")
    assert np.isnan(timed.get("^GSPC")["slope"])           # one timed escalation session
