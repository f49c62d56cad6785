"""Tests of tradeshock.crosssection: hand checks of the helpers on synthetic data, and the key
facts of notebooks/04_global.ipynb on the pinned snapshot (CARs in percent)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from tradeshock.analyses import crosssection as cs
from tradeshock import events
from tradeshock.data.prices import load_prices
from tradeshock.data.returns import wide_returns
from tradeshock.errors import StudyError
from tradeshock.data.universe import load_universe


# ------------------------------------------------------------------------------ synthetic
def test_slope_scaling_and_hc3_match_statsmodels():
    rng = np.random.default_rng(3)
    x = rng.uniform(10, 50, 25)
    y = 1.0 - 0.2 * x + rng.normal(0, 2, 25) * (x / 25)      # heteroskedastic noise
    car = pd.Series(y, index=[f"S{i}" for i in range(25)])
    rates = pd.DataFrame({"announced": x, "formula_unfloored": 2 * x, "formula_aei": x},
                         index=car.index)
    rates.iloc[0, 1] = np.nan                                   # one NaN in one measure only
    tab = cs.tariff_slopes(car, rates)
    direct = sm.OLS(y, sm.add_constant(x)).fit(cov_type="HC3")
    row = tab.loc["announced"]
    assert row["slope (pp per 10 pts)"] == pytest.approx(10 * direct.params[1])
    assert row["se"] == pytest.approx(10 * direct.bse[1])
    assert row["p"] == pytest.approx(direct.pvalues[1])
    assert row["n"] == 25 and row["n_dropped"] == 0
    # HC3, not the classical errors
    classical = sm.OLS(y, sm.add_constant(x)).fit()
    assert row["se"] != pytest.approx(10 * classical.bse[1])
    # doubling x halves the slope; the NaN row is dropped and counted
    assert tab.loc["formula_unfloored", "n"] == 24
    assert tab.loc["formula_unfloored", "n_dropped"] == 1
    d = sm.OLS(y[1:], sm.add_constant(2 * x[1:])).fit(cov_type="HC3")
    assert tab.loc["formula_unfloored", "slope (pp per 10 pts)"] == pytest.approx(10 * d.params[1])
    # per=1 gives the raw slope
    raw = cs.tariff_slopes(car, rates, ["announced"], per=1)
    assert raw.iloc[0, 0] == pytest.approx(direct.params[1])


def test_slopes_without_variation_are_nan_not_errors():
    car = pd.Series([-1.0, -2.0, -3.0], index=list("abc"))
    rates = pd.DataFrame({"announced": [10.0, 10.0, 10.0]}, index=list("abc"))
    tab = cs.tariff_slopes(car, rates, ["announced"])
    assert math.isnan(tab.iloc[0, 0]) and tab.loc["announced", "n"] == 3


def test_welch_matches_scipy():
    a, b = [1.0, 2.0, 4.0, np.nan], [5.0, 9.0]
    out = cs.welch_test(a, b)
    t, p = stats.ttest_ind([1.0, 2.0, 4.0], b, equal_var=False)
    assert out["n_a"] == 3 and out["n_b"] == 2
    assert out["t"] == pytest.approx(t) and out["p"] == pytest.approx(p)
    assert out["diff"] == pytest.approx(7 / 3 - 7)
    assert math.isnan(cs.welch_test([1.0], [2.0, 3.0])["p"])


def test_country_rates_maps_eu_and_hong_kong():
    m = pd.DataFrame({"announced": [20.0, 34.0, 24.0]}, index=["EU", "CN", "JP"])
    r = cs.country_rates({"EWG": "DE", "EWH": "HK", "EWJ": "JP", "EWW": "MX"}, m)
    assert r.loc["EWG", "rate_of"] == "EU" and r.loc["EWG", "announced"] == 20.0
    assert r.loc["EWH", "rate_of"] == "CN" and r.loc["EWH", "announced"] == 34.0
    assert r.loc["EWJ", "announced"] == 24.0
    assert math.isnan(r.loc["EWW", "announced"])


def test_market_cars_own_day0_and_hand_car():
    idx = pd.bdate_range("2024-01-01", "2025-05-30")
    rng = np.random.default_rng(1)
    r = pd.DataFrame({"A": rng.normal(0.001, 0.01, len(idx)),
                      "B": rng.normal(0, 0.01, len(idx))}, index=idx)
    d0 = {"A": pd.Timestamp("2025-04-03"), "B": pd.Timestamp("2025-04-04")}
    tab, excl = cs.market_cars(r, d0, [(0, 3)])
    assert excl.empty
    for s, d in d0.items():
        pos = idx.get_loc(d)
        mu = r[s].iloc[pos - 260: pos - 10].mean()               # estimation -260..-11
        car = (r[s].iloc[pos: pos + 4] - mu).sum()
        assert tab.loc[s, "CAR 0..3 (%)"] == pytest.approx(100 * car)
        # independent: statsmodels OLS on a constant; the CAR of 4 prediction errors has
        # variance 4 s^2 + var(4 mu_hat) = s^2 (4 + 16 / 250); t with 249 degrees of freedom
        fit = sm.OLS(r[s].iloc[pos - 260: pos - 10].to_numpy(), np.ones(250)).fit()
        se = np.sqrt(4 * fit.scale + fit.get_prediction(np.array([[4.0]])).se_mean[0] ** 2)
        sd = (r[s].iloc[pos - 260: pos - 10] - mu).std(ddof=1)
        assert se == pytest.approx(sd * np.sqrt(4 + 16 / 250), rel=1e-12)
        assert tab.loc[s, "t 0..3"] == pytest.approx(car / se, rel=1e-10)
        assert tab.loc[s, "p 0..3"] == pytest.approx(2 * stats.t.sf(abs(car / se), 249), rel=1e-8)
    with pytest.raises(StudyError, match="not in the returns"):
        cs.market_cars(r, {"Z": pd.Timestamp("2025-04-03")}, [(0, 3)])


# ------------------------------------------------------------------------------ snapshot facts
@pytest.fixture(scope="module")
def etf_facts():
    u = load_universe().set_index("symbol")
    etfs = u.index[u["group"] == "country_etf"].tolist()
    prices = load_prices(etfs, start="2023-10-01")
    rets = wide_returns(prices)
    day0 = events.align("liberation_day", "XNYS").day0
    tab, excl = cs.market_cars(rets, {s: day0 for s in etfs}, [(0, 3)])
    rates = cs.country_rates(u.loc[etfs, "country"], events.tariff_measures())
    return tab, excl, rates


def test_ewj_selloff_car_is_negative(etf_facts):
    tab, excl, _ = etf_facts
    assert excl.empty
    assert tab.loc["EWJ", "CAR 0..3 (%)"] < 0


def test_announced_slope_and_se_are_finite(etf_facts):
    tab, _, rates = etf_facts
    slopes = cs.tariff_slopes(tab["CAR 0..3 (%)"], rates)
    row = slopes.loc["announced"]
    assert np.isfinite(row["slope (pp per 10 pts)"]) and np.isfinite(row["se"]) and row["se"] > 0
    assert row["slope (pp per 10 pts)"] < 0                     # higher tariff, larger selloff
    assert row["n"] + row["n_dropped"] == len(tab)
