"""Tests of tradeshock.regression: event-dummy regressions (Karafiath 1988) and the multivariate
regression model (Binder 1985) via linearmodels' SUR.

All data are synthetic, generated with fixed seeds (numpy.random.default_rng(SEED)), on a synthetic
business-day calendar that ends with the April 2025 episode as traded in New York: selloff sessions
3, 4, 7, 8 April, rebound 9 April. Returns are simple returns as fractions.

Distribution convention tested here: Wald statistics are chi-squared with df = number of
restrictions by default (``use_f=False``); ``use_f=True`` gives the F form, stat / df ~ F(df,
df_resid). Individual p-values are Student t(df_resid) for the classical covariance.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from tradeshock.errors import StudyError
from tradeshock.engine.regression import (
    EventDummyCovarianceWarning,
    WaldTest,
    default_hac_lags,
    event_dummy_regression,
    sur_event_regression,
    wald_test,
)

SELLOFF = ["2025-04-03", "2025-04-04", "2025-04-07", "2025-04-08"]
REBOUND = ["2025-04-09"]
EVENTS = SELLOFF + REBOUND
EST_END = pd.Timestamp("2025-04-02")
# Market returns on the event sessions, roughly as in April 2025 (fractions).
MARKET_EVENT = np.array([-0.048, -0.060, -0.002, -0.016, 0.095])


def _calendar() -> pd.DatetimeIndex:
    # 270 business days up to 9 April 2025 (a synthetic calendar: holidays are not removed).
    return pd.bdate_range(end="2025-04-09", periods=270)


def _market(rng: np.random.Generator, idx: pd.DatetimeIndex) -> pd.Series:
    m = rng.normal(0.0003, 0.01, len(idx))
    m[-5:] = MARKET_EVENT
    return pd.Series(m, index=idx, name="SPY")


def _series(
    rng: np.random.Generator,
    market: pd.Series,
    *,
    alpha: float = 0.0002,
    beta: float = 1.1,
    sd: float = 0.01,
    planted: dict[str, float] | None = None,
    name: str = "XLK",
) -> pd.Series:
    y = alpha + beta * market.to_numpy() + rng.normal(0.0, sd, len(market))
    y = pd.Series(y, index=market.index, name=name)
    for day, ar in (planted or {}).items():
        y[pd.Timestamp(day)] += ar
    return y


@pytest.fixture(scope="module")
def data() -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(20250403)
    m = _market(rng, _calendar())
    return _series(rng, m), m


def _ols_estimation_only(y: pd.Series, m: pd.Series | None, end: pd.Timestamp = EST_END):
    """a, b by OLS on the estimation sample alone (no event days), with numpy, independently."""
    mask = y.index <= end
    cols = [np.ones(mask.sum())] + ([m.to_numpy()[mask]] if m is not None else [])
    X = np.column_stack(cols)
    coef, *_ = np.linalg.lstsq(X, y.to_numpy()[mask], rcond=None)
    return coef, X


def _design(y: pd.Series, m: pd.Series | None, days=EVENTS) -> pd.DataFrame:
    """The regression design built by hand: const, market, one dummy per event day."""
    X = pd.DataFrame({"const": 1.0}, index=y.index)
    if m is not None:
        X["market"] = m
    for d in days:
        X[d] = (y.index == pd.Timestamp(d)).astype(float)
    return X


# ---------------------------------------------------------------------------------------------
# The identity (Karafiath 1988): dummy coefficient = market-model abnormal return
# ---------------------------------------------------------------------------------------------


def test_dummy_coefficient_equals_market_model_abnormal_return(data):
    y, m = data
    res = event_dummy_regression(y, m, EVENTS)
    (a, b), _ = _ols_estimation_only(y, m)
    ar = y[pd.DatetimeIndex(EVENTS)].to_numpy() - a - b * m[pd.DatetimeIndex(EVENTS)].to_numpy()
    np.testing.assert_allclose(res.gammas["gamma"].to_numpy(), ar, rtol=0, atol=1e-10)
    np.testing.assert_allclose(
        res.params[["const", "market"]].to_numpy(), [a, b], rtol=0, atol=1e-10
    )
    assert list(res.gammas["day"]) == EVENTS
    assert list(res.gammas.columns) == ["day", "date", "gamma", "se", "t", "p"]
    assert res.nobs == 265 + 5 and res.nobs_estimation == 265
    assert res.model == "market" and res.cov_type == "nonrobust"


def test_identity_constant_mean_model_and_named_days(data):
    y, _ = data
    named = {"liberation_day": "2025-04-03", "day2": "2025-04-04", "pause": "2025-04-09"}
    res = event_dummy_regression(y, None, named)
    mean = y[y.index <= EST_END].mean()
    expected = y[pd.DatetimeIndex(list(named.values()))].to_numpy() - mean
    np.testing.assert_allclose(res.gammas["gamma"].to_numpy(), expected, rtol=0, atol=1e-10)
    assert list(res.params.index) == ["const", "liberation_day", "day2", "pause"]
    assert res.model == "mean"
    # 7 and 8 April are neither estimation nor event rows here: not in the regression.
    assert res.nobs == 265 + 3


def test_identity_with_explicit_estimation_window(data):
    y, m = data
    start, end = pd.Timestamp("2024-06-03"), pd.Timestamp("2025-03-14")
    res = event_dummy_regression(y, m, EVENTS, estimation_start=start, estimation_end=end)
    mask = (y.index >= start) & (y.index <= end)
    X = np.column_stack([np.ones(mask.sum()), m.to_numpy()[mask]])
    (a, b), *_ = np.linalg.lstsq(X, y.to_numpy()[mask], rcond=None)
    ar = y[pd.DatetimeIndex(EVENTS)].to_numpy() - a - b * m[pd.DatetimeIndex(EVENTS)].to_numpy()
    np.testing.assert_allclose(res.gammas["gamma"].to_numpy(), ar, rtol=0, atol=1e-10)
    assert res.nobs_estimation == int(mask.sum())
    assert res.estimation_range == (start, end)


def test_classical_se_is_the_forecast_error_se(data):
    """Karafiath (1988): var(g_k) = s^2 (1 + x_k'(X_e'X_e)^-1 x_k); t has df T_est - 2."""
    y, m = data
    res = event_dummy_regression(y, m, EVENTS)
    coef, X = _ols_estimation_only(y, m)
    resid = y.to_numpy()[y.index <= EST_END] - X @ coef
    s2 = resid @ resid / (len(resid) - 2)
    xtx_inv = np.linalg.inv(X.T @ X)
    xk = np.column_stack([np.ones(5), MARKET_EVENT])
    se = np.sqrt(s2 * (1 + np.einsum("ij,jk,ik->i", xk, xtx_inv, xk)))
    g = res.gammas
    np.testing.assert_allclose(g["se"].to_numpy(), se, rtol=1e-10)
    np.testing.assert_allclose(
        g["p"].to_numpy(), 2 * stats.t.sf(np.abs(g["gamma"] / se), len(resid) - 2), rtol=1e-8
    )
    assert res.df_resid == len(resid) - 2
    assert res.resid_sd == pytest.approx(math.sqrt(s2), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# HAC (Newey-West) errors and Wald tests
# ---------------------------------------------------------------------------------------------


def test_default_hac_lag_rule():
    assert default_hac_lags(100) == 4
    assert default_hac_lags(270) == math.floor(4 * 2.7 ** (2 / 9)) == 4
    assert default_hac_lags(1000) == math.floor(4 * 10 ** (2 / 9)) == 6


@pytest.mark.parametrize("lags", [None, 3])
def test_hac_standard_errors_equal_statsmodels(data, lags):
    y, m = data
    with pytest.warns(EventDummyCovarianceWarning, match="fits its day exactly"):
        res = event_dummy_regression(y, m, EVENTS, cov_type="HAC", hac_lags=lags)
    L = default_hac_lags(len(y)) if lags is None else lags
    ref = sm.OLS(y, _design(y, m)).fit(cov_type="HAC", cov_kwds={"maxlags": L})
    assert res.hac_lags == L and res.cov_type == "HAC"
    np.testing.assert_allclose(res.bse.to_numpy(), ref.bse.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(
        res.cov.to_numpy(), ref.cov_params().to_numpy(), rtol=1e-12, atol=1e-20
    )
    # HAC p-values are normal (statsmodels' default for a robust covariance)
    np.testing.assert_allclose(
        res.pvalues.to_numpy(), 2 * stats.norm.sf(np.abs(ref.tvalues)), rtol=1e-10
    )


def test_hac_variance_of_a_dummy_omits_the_event_day_variance(data):
    """Why HAC is not the default: var_HAC(g_k) = x_k' V_HAC(a, b) x_k exactly; the event day's own
    variance (s^2, the bulk of the forecast-error variance) is missing, since its residual is 0."""
    y, m = data
    with pytest.warns(EventDummyCovarianceWarning):
        hac = event_dummy_regression(y, m, EVENTS, cov_type="HAC")
    V = hac.cov.to_numpy()
    xk = np.column_stack([np.ones(5), MARKET_EVENT])
    np.testing.assert_allclose(
        hac.bse[EVENTS].to_numpy() ** 2, np.einsum("ij,jk,ik->i", xk, V[:2, :2], xk), rtol=1e-8
    )
    classical = event_dummy_regression(y, m, EVENTS)
    assert (hac.bse[EVENTS] < 0.5 * classical.bse[EVENTS]).all()


def test_wald_joint_zero_equals_hand_computation(data):
    y, m = data
    res = event_dummy_regression(y, m, EVENTS)
    w = res.wald_joint_zero(SELLOFF)
    g = res.params[SELLOFF].to_numpy()
    V = res.cov.loc[SELLOFF, SELLOFF].to_numpy()
    stat = float(g @ np.linalg.inv(V) @ g)
    assert isinstance(w, WaldTest)
    assert w.stat == pytest.approx(stat, rel=1e-10)
    assert (w.df, w.dist_name) == (4, "chi2(4)")
    assert w.pval == pytest.approx(stats.chi2.sf(stat, 4), rel=1e-8)
    assert "2025-04-03" in w.restriction and w.estimate is None
    # F form: stat / df against F(df, df_resid)
    wf = res.wald_joint_zero(SELLOFF, use_f=True)
    assert wf.stat == pytest.approx(stat / 4, rel=1e-10)
    assert wf.dist_name == f"F(4, {res.df_resid:g})"
    assert wf.pval == pytest.approx(stats.f.sf(stat / 4, 4, res.df_resid), rel=1e-8)
    # days given as dates resolve to the same labels; the generic wald agrees
    w2 = res.wald_joint_zero([pd.Timestamp(d) for d in SELLOFF])
    w3 = res.wald([{d: 1} for d in SELLOFF])
    assert w2.stat == pytest.approx(stat, rel=1e-12) and w3.stat == pytest.approx(stat, rel=1e-12)


def test_wald_test_matches_statsmodels_wald_test(data):
    """The project's Wald test (scipy.stats) against statsmodels' wald_test on the same fit."""
    y, m = data
    for cov_type, days in (("nonrobust", SELLOFF), ("HAC", SELLOFF[:2])):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EventDummyCovarianceWarning)
            res = event_dummy_regression(y, m, EVENTS, cov_type=cov_type)
        fit = res.statsmodels_result
        names = list(fit.params.index)
        R = np.zeros((len(days), len(names)))
        for i, d in enumerate(days):
            R[i, names.index(d)] = 1.0
        q = np.full(len(days), 0.001)
        for use_f in (False, True):
            ours = res.wald(R, q, use_f=use_f)
            ref = fit.wald_test((R, q), use_f=use_f, scalar=True)
            assert ours.stat == pytest.approx(float(np.squeeze(ref.statistic)), rel=1e-9)
            assert ours.pval == pytest.approx(float(np.squeeze(ref.pvalue)), rel=1e-7)
            assert ours.df == len(days) and ours.dist_name.startswith(ref.distribution)
            if use_f:
                assert (ours.df, ours.df_denom) == (int(ref.df_num), float(ref.df_denom))
            else:
                assert ours.df == int(ref.df_denom)  # statsmodels keeps the chi2 df there
    # one restriction: estimate and se are statsmodels' t_test effect and sd
    r = np.zeros(len(names))
    r[[names.index(d) for d in EVENTS]] = 1.0
    tt = event_dummy_regression(y, m, EVENTS).statsmodels_result.t_test(r)
    w = event_dummy_regression(y, m, EVENTS).wald_full_reversal(SELLOFF, REBOUND)
    assert w.estimate == pytest.approx(float(np.squeeze(tt.effect)), rel=1e-10)
    assert w.se == pytest.approx(float(np.squeeze(tt.sd)), rel=1e-10)


def test_wald_test_matches_linearmodels_public_wald_test(data):
    """The same params and covariance through linearmodels' public IVResults.wald_test."""
    from linearmodels.iv import IV2SLS

    y, m = data
    X = sm.add_constant(m.rename("market"))
    for d in SELLOFF[:2]:
        X[d] = (X.index == pd.Timestamp(d)).astype(float)
    fit = IV2SLS(y, X, None, None).fit(cov_type="unadjusted")
    R = np.zeros((2, X.shape[1]))
    R[0, 1], R[1, 2], R[1, 3] = 1.0, 1.0, -1.0  # beta = 1 and g1 = g2
    ref = fit.wald_test(R, np.array([1.0, 0.0]))
    ours = wald_test(fit.params, fit.cov, R, [1.0, 0.0])
    assert ours.stat == pytest.approx(ref.stat, rel=1e-9)
    assert ours.pval == pytest.approx(ref.pval, rel=1e-7)
    assert ours.df == ref.df == 2 and ours.dist_name == "chi2(2)"


def test_wald_with_hac_covariance_hand_computation_and_rank(data):
    """With HAC, a joint test of 2 days is defined (hand g'V^-1 g, chi2(2)); with 4 it is not:
    the HAC covariance of the g's has rank 2 (see the module docs), and the test raises."""
    y, m = data
    with pytest.warns(EventDummyCovarianceWarning):
        res = event_dummy_regression(y, m, EVENTS, cov_type="HAC")
    two = SELLOFF[:2]
    g = res.params[two].to_numpy()
    V = res.cov.loc[two, two].to_numpy()
    w = res.wald_joint_zero(two)
    assert w.stat == pytest.approx(float(g @ np.linalg.inv(V) @ g), rel=1e-8)
    assert w.df == 2 and w.pval == pytest.approx(stats.chi2.sf(w.stat, 2), rel=1e-8)
    with pytest.raises(StudyError, match="rank 2"):
        res.wald_joint_zero(SELLOFF)


def test_full_reversal_estimate_and_se(data):
    y, m = data
    res = event_dummy_regression(y, m, EVENTS)
    w = res.wald_full_reversal(SELLOFF, REBOUND)
    r = np.ones(5)
    V = res.cov.loc[EVENTS, EVENTS].to_numpy()
    est = res.params[EVENTS].sum()
    assert w.estimate == pytest.approx(est, rel=1e-12)
    assert w.se == pytest.approx(math.sqrt(r @ V @ r), rel=1e-10)
    assert w.stat == pytest.approx(est**2 / (r @ V @ r), rel=1e-10)
    assert w.df == 1 and "full reversal" in w.restriction


# ---------------------------------------------------------------------------------------------
# Planted selloff and rebound
# ---------------------------------------------------------------------------------------------


def _planted(rebound: float) -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(7)
    m = _market(rng, _calendar())
    planted = {d: -0.05 for d in SELLOFF} | {REBOUND[0]: rebound}
    return _series(rng, m, planted=planted), m


def test_planted_selloff_and_full_rebound():
    y, m = _planted(rebound=0.20)  # -5 % on 4 days, +20 % on 1: sum of planted ARs is 0
    res = event_dummy_regression(y, m, EVENTS)
    assert res.wald_joint_zero(SELLOFF).pval < 1e-6
    rev = res.wald_full_reversal(SELLOFF, REBOUND)
    assert rev.pval > 0.05
    assert abs(rev.estimate) < 2 * rev.se


def test_planted_selloff_and_partial_rebound():
    y, m = _planted(rebound=0.05)  # net planted CAR -15 %
    res = event_dummy_regression(y, m, EVENTS)
    assert res.wald_joint_zero(SELLOFF).pval < 1e-6
    rev = res.wald_full_reversal(SELLOFF, REBOUND)
    assert rev.pval < 1e-4
    assert rev.estimate == pytest.approx(-0.15, abs=0.05)


# ---------------------------------------------------------------------------------------------
# Multivariate regression model (Binder 1985) via linearmodels SUR
# ---------------------------------------------------------------------------------------------


def _panel(seed: int, n: int, rho: float, planted: dict[str, float] | None = None):
    """n series with equicorrelated residuals (correlation rho), betas 0.6..1.4."""
    rng = np.random.default_rng(seed)
    idx = _calendar()
    m = _market(rng, idx)
    cov = 0.01**2 * (rho * np.ones((n, n)) + (1 - rho) * np.eye(n))
    e = rng.multivariate_normal(np.zeros(n), cov, size=len(idx))
    betas = np.linspace(0.6, 1.4, n)
    Y = pd.DataFrame(
        0.0002 + np.outer(m.to_numpy(), betas) + e, index=idx, columns=[f"S{i}" for i in range(n)]
    )
    for day, ar in (planted or {}).items():
        Y.loc[pd.Timestamp(day)] += ar
    return Y, m


def test_sur_coefficients_and_errors_equal_per_equation_ols():
    Y, m = _panel(11, 4, 0.5)
    res = sur_event_regression(Y, m, EVENTS)
    assert res.cov_type == "unadjusted" and res.debiased
    for s in Y.columns:
        ols = sm.OLS(Y[s], _design(Y[s], m)).fit()
        np.testing.assert_allclose(
            res.params[s].to_numpy(), ols.params.to_numpy(), rtol=0, atol=1e-12
        )
        np.testing.assert_allclose(res.bse[s].to_numpy(), ols.bse.to_numpy(), rtol=1e-10)
        single = event_dummy_regression(Y[s], m, EVENTS)
        np.testing.assert_allclose(
            res.gammas.query("series == @s")["gamma"].to_numpy(),
            single.gammas["gamma"].to_numpy(),
            atol=1e-12,
        )
        # per-equation joint test from the system equals the single-equation one
        assert res.wald_joint_zero(SELLOFF, series=s).stat == pytest.approx(
            single.wald_joint_zero(SELLOFF).stat, rel=1e-10
        )
    g = res.gammas
    assert list(g.columns) == ["series", "day", "date", "gamma", "se", "t", "p"]
    assert len(g) == 4 * 5


def test_sur_system_covariance_and_joint_test_by_hand():
    """Binder (1985): cov = Sigma (x) (X'X)^-1; the joint test is g'V^-1 g over all equations."""
    Y, m = _panel(12, 4, 0.6)
    res = sur_event_regression(Y, m, EVENTS)
    X = _design(Y["S0"], m).to_numpy()
    B, *_ = np.linalg.lstsq(X, Y.to_numpy(), rcond=None)
    E = Y.to_numpy() - X @ B
    sigma = (
        E.T @ E / (len(X) - X.shape[1])
    )  # = estimation SSR / (T_est - 2): event rows fit exactly
    V = np.kron(sigma, np.linalg.inv(X.T @ X))
    np.testing.assert_allclose(res.cov.to_numpy(), V, rtol=1e-9, atol=1e-18)

    names = [f"{s}_{d}" for s in Y.columns for d in SELLOFF]
    g = res.params.loc[SELLOFF].to_numpy().T.ravel()  # series-major, like names
    Vg = res.cov.loc[names, names].to_numpy()
    stat = float(g @ np.linalg.inv(Vg) @ g)
    w = res.wald_joint_zero(SELLOFF)
    assert w.stat == pytest.approx(stat, rel=1e-9)
    assert (w.df, w.dist_name) == (16, "chi2(16)")
    assert w.pval == pytest.approx(stats.chi2.sf(stat, 16), rel=1e-8)

    # full reversal across all equations: one restriction per series
    R = np.zeros((4, res.cov.shape[0]))
    cols = list(res.cov.columns)
    for i, s in enumerate(Y.columns):
        for d in EVENTS:
            R[i, cols.index(f"{s}_{d}")] = 1.0
    b = res.linearmodels_result.params.to_numpy()
    Rb = R @ b
    stat_rev = float(Rb @ np.linalg.inv(R @ res.cov.to_numpy() @ R.T) @ Rb)
    wr = res.wald_full_reversal(SELLOFF, REBOUND)
    assert wr.stat == pytest.approx(stat_rev, rel=1e-9) and wr.df == 4
    by = res.wald_full_reversal_by_series(SELLOFF, REBOUND)
    np.testing.assert_allclose(
        by["net_car"].to_numpy(), res.params.loc[EVENTS].sum().to_numpy(), atol=1e-14
    )


def test_sur_planted_selloff_and_rebound_by_series():
    planted = {d: -0.05 for d in SELLOFF} | {REBOUND[0]: 0.20}
    Y, m = _panel(13, 3, 0.5, planted)
    Y.loc[pd.Timestamp(REBOUND[0]), "S2"] -= 0.15  # S2 rebounds only +5 %
    res = sur_event_regression(Y, m, EVENTS)
    assert res.wald_joint_zero(SELLOFF).pval < 1e-10
    by = res.wald_full_reversal_by_series(SELLOFF, REBOUND).set_index("series")
    assert by.loc["S0", "p"] > 0.05 and by.loc["S1", "p"] > 0.05
    assert by.loc["S2", "p"] < 1e-4 and by.loc["S2", "net_car"] < -0.1
    assert res.wald_full_reversal(SELLOFF, REBOUND).pval < 1e-4
    assert res.wald_full_reversal(SELLOFF, REBOUND, series=["S0", "S1"]).pval > 0.01


@pytest.mark.slow
def test_sur_joint_test_respects_cross_correlation():
    """With strongly cross-correlated residuals (rho = 0.9) the SUR joint test differs from the one
    that assumes independent series (the sum of the per-series statistics, i.e. a block-diagonal
    covariance, against chi2(days x series)). Under the null (no event effect; 6 series, 3 days,
    200 replications with fixed seeds) the independence test rejects about 15 % of the time at the
    5 % level (its statistic has the right mean but about 5 times the chi2 variance: a common
    residual shock on an event day looks like an event in every series at once), while the SUR
    test keeps about its nominal 5 % (4.5 % here)."""
    n, days, reps = 6, SELLOFF[:3], 200
    crit = stats.chi2.ppf(0.95, n * len(days))
    sur_stat, ind_stat, sur_p = [], [], []
    for seed in range(1000, 1000 + reps):
        Y, m = _panel(seed, n, 0.9)
        r = sur_event_regression(Y, m, days)
        w = r.wald_joint_zero()
        assert w.df == n * len(days)
        sur_stat.append(w.stat)
        sur_p.append(w.pval)
        ind_stat.append(r.wald_joint_zero_by_series()["stat"].sum())
    sur_stat, ind_stat = np.array(sur_stat), np.array(ind_stat)
    # the two statistics differ draw by draw, with the same mean (about the df) ...
    assert np.median(np.abs(sur_stat - ind_stat) / sur_stat) > 0.2
    assert abs(ind_stat.mean() / sur_stat.mean() - 1) < 0.25
    # ... but the independence statistic is far more dispersed than chi2(18)
    assert ind_stat.var() > 3 * sur_stat.var()
    rej_sur = np.mean(np.array(sur_p) < 0.05)
    rej_ind = np.mean(ind_stat > crit)
    assert rej_sur < 0.10
    assert rej_ind > 0.10 and rej_ind > 2 * rej_sur


def test_sur_kernel_covariance_equals_statsmodels_hac_and_warns():
    Y, m = _panel(14, 2, 0.5)
    with pytest.warns(EventDummyCovarianceWarning):
        res = sur_event_regression(Y, m, EVENTS, cov_type="kernel", hac_lags=3, debiased=False)
    assert res.cov_type == "kernel" and res.hac_lags == 3
    for s in Y.columns:
        ref = sm.OLS(Y[s], _design(Y[s], m)).fit(cov_type="HAC", cov_kwds={"maxlags": 3})
        np.testing.assert_allclose(res.bse[s].to_numpy(), ref.bse.to_numpy(), rtol=1e-10)
    with pytest.raises(StudyError, match="rank"):
        res.wald_joint_zero()


def test_summaries_state_units_and_sample():
    y, m = _planted(rebound=0.20)
    text = event_dummy_regression(y, m, EVENTS).summary()
    assert "fraction" in text and "2025-04-03" in text and "nonrobust" in text
    Y, m = _panel(15, 3, 0.5)
    text = sur_event_regression(Y, m, EVENTS).summary()
    assert "Binder" in text and "fraction" in text and "S2" in text


# ---------------------------------------------------------------------------------------------
# Missing data and bad input
# ---------------------------------------------------------------------------------------------


def test_missing_rows_are_dropped_and_reported(data):
    y, m = data
    y = y.copy()
    gaps = pd.DatetimeIndex(["2024-08-05", "2024-11-28"])
    y[gaps] = np.nan
    m2 = m.drop(pd.Timestamp("2025-01-09"))
    res = event_dummy_regression(y, m2, EVENTS)
    assert set(res.dropped_dates) == set(gaps) | {pd.Timestamp("2025-01-09")}
    assert res.nobs_estimation == 265 - 3
    assert "Dropped for missing values in the estimation range: 3" in res.summary()
    Y, mm = _panel(16, 3, 0.3)
    Y.loc[pd.Timestamp("2024-12-02"), "S1"] = np.nan
    r = sur_event_regression(Y, mm, EVENTS)
    assert r.dropped_dates == (pd.Timestamp("2024-12-02"),) and r.nobs_estimation == 264


def test_errors_event_day_not_in_sample(data):
    y, m = data
    with pytest.raises(StudyError, match=r"2025-04-05.*not in the sample.*2025-04-04, 2025-04-07"):
        event_dummy_regression(y, m, ["2025-04-05"])  # a Saturday
    y2 = y.copy()
    y2[pd.Timestamp("2025-04-07")] = np.nan
    with pytest.raises(StudyError, match="2025-04-07.*no return for.*XLK"):
        event_dummy_regression(y2, m, EVENTS)
    Y, mm = _panel(17, 3, 0.3)
    Y.loc[pd.Timestamp("2025-04-08"), "S2"] = np.nan
    with pytest.raises(StudyError, match="2025-04-08.*'S2'"):
        sur_event_regression(Y, mm, EVENTS)


def test_errors_too_few_estimation_observations(data):
    y, m = data
    with pytest.raises(StudyError, match="too few estimation observations.*need at least 30"):
        event_dummy_regression(y, m, EVENTS, estimation_start="2025-03-10")
    with pytest.raises(StudyError, match="too few estimation observations"):
        event_dummy_regression(y, m, EVENTS, estimation_start="2025-03-10", min_estimation_obs=100)
    with pytest.raises(StudyError, match="after estimation_end"):
        event_dummy_regression(
            y, m, EVENTS, estimation_start="2025-03-10", estimation_end="2025-01-02"
        )
    Y, mm = _panel(18, 8, 0.3)
    with pytest.raises(StudyError, match="cross-series covariance"):
        sur_event_regression(Y, mm, EVENTS, estimation_start="2025-03-24", min_estimation_obs=5)


def test_errors_duplicate_dummies(data):
    y, m = data
    with pytest.raises(StudyError, match="duplicate dummies"):
        event_dummy_regression(y, m, ["2025-04-03", "2025-04-04", pd.Timestamp("2025-04-03")])
    with pytest.raises(StudyError, match="duplicate dummies.*'a'.*'b'"):
        event_dummy_regression(y, m, {"a": "2025-04-03", "b": "2025-04-03"})
    with pytest.raises(StudyError, match="reserved"):
        event_dummy_regression(y, m, {"market": "2025-04-03"})
    with pytest.raises(StudyError, match="empty"):
        event_dummy_regression(y, m, [])


def test_errors_misaligned_input(data):
    y, m = data
    with pytest.raises(StudyError, match="share no dates"):
        event_dummy_regression(y, m.set_axis(m.index - pd.Timedelta(days=3650)), EVENTS)
    with pytest.raises(StudyError, match="not a DatetimeIndex"):
        event_dummy_regression(y.reset_index(drop=True), m, EVENTS)
    with pytest.raises(StudyError, match="duplicate dates"):
        event_dummy_regression(pd.concat([y, y.iloc[:1]]), m, EVENTS)
    with pytest.raises(StudyError, match="timezone-aware"):
        event_dummy_regression(y.tz_localize("America/New_York"), m, EVENTS)
    with pytest.raises(StudyError, match="time of day"):
        event_dummy_regression(y.set_axis(y.index + pd.Timedelta(hours=16)), m, EVENTS)
    with pytest.raises(StudyError, match="below -1"):
        event_dummy_regression(y * 100, m, EVENTS)
    with pytest.raises(StudyError, match="time of day"):
        event_dummy_regression(y, m, [pd.Timestamp("2025-04-02 16:15")])
    with pytest.raises(StudyError, match="Series"):
        event_dummy_regression(y.to_frame(), m, EVENTS)
    with pytest.raises(StudyError, match="DataFrame"):
        sur_event_regression(y, m, EVENTS)
    with pytest.raises(StudyError, match="duplicate series"):
        sur_event_regression(pd.concat([y, y], axis=1), m, EVENTS)


def test_errors_bad_options_and_test_arguments(data):
    y, m = data
    with pytest.raises(StudyError, match="hac_lags applies only"):
        event_dummy_regression(y, m, EVENTS, hac_lags=4)
    with pytest.raises(StudyError, match="cov_type"):
        event_dummy_regression(y, m, EVENTS, cov_type="HC3")
    res = event_dummy_regression(y, m, EVENTS)
    with pytest.raises(StudyError, match="not one of the event days"):
        res.wald_joint_zero(["2025-04-10"])
    with pytest.raises(StudyError, match="both selloff and rebound"):
        res.wald_full_reversal(SELLOFF, ["2025-04-08"])
    with pytest.raises(StudyError, match="not a parameter"):
        res.wald({"nope": 1.0})
    with pytest.raises(StudyError, match="linearly dependent"):
        res.wald([{SELLOFF[0]: 1.0}, {SELLOFF[0]: 2.0}])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default (classical) covariance warns about nothing
        event_dummy_regression(y, m, EVENTS)
