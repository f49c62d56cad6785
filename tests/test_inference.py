"""Tests of the event-study test battery (tradeshock.inference).

* Against R's estudy2 (tests/results/estudy2, synthetic returns): every statistic estudy2 computes,
  to 1e-8 relative. The abnormal returns are computed here with plain numpy/statsmodels.
* Hand computations on a tiny frame for every statistic.
* The fast array code against a slow per-security reference (tests/inference_reference.py) on
  random data with missing values.
* Simulations with fixed seeds on SYNTHETIC returns (normal disturbances, a market factor): size
  under the null, power against a planted day-0 abnormal return, and Kolari-Pynnönen's
  correction of BMP's over-rejection under cross-correlation.
* Known traps: the Kolari-Pynnönen average correlation including the diagonal; the variance taken
  over the wrong window.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests

from tradeshock.errors import StudyError
from tradeshock.engine.inference import (
    CAR_TESTS,
    DAILY_TESTS,
    EventData,
    InferenceError,
    adjust_pvalues,
    average_cross_correlation,
    car_by_security,
    car_tests,
    daily_tests,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inference_reference import Reference  # noqa: E402

ESTUDY2 = Path(__file__).resolve().parent / "results" / "estudy2"
RTOL = 1e-8


# ------------------------------------------------------------------------------------------------
# estudy2 fixture
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def returns() -> pd.DataFrame:
    return pd.read_csv(ESTUDY2 / "returns.csv", parse_dates=["date"]).set_index("date")


def _estudy2_data(returns: pd.DataFrame, model: str) -> EventData:
    """Abnormal returns as estudy2 computes them, by plain numpy/statsmodels.

    Estimation window: the first 180 rows (2023-01-02..2023-09-08); event rows 2023-10-06..
    2023-10-24 (13 days, day 0 = 2023-10-06).
    """
    mkt = returns["MKT"].to_numpy()
    sec = returns.drop(columns="MKT")
    R = sec.to_numpy()
    est = np.arange(len(returns)) < 180
    assert returns.index[est][-1] == pd.Timestamp("2023-09-08")
    ev = (returns.index >= "2023-10-06") & (returns.index <= "2023-10-24")
    n_sec = R.shape[1]
    days = np.arange(int(ev.sum()))
    dates = returns.index[ev].to_numpy()
    if model == "mean_adj":
        mu = R[est].mean(axis=0)
        return EventData(R[est] - mu, R[ev] - mu, days, np.ones(n_sec, dtype=int), dates=dates)
    if model == "mrkt_adj":
        return EventData(
            R[est] - mkt[est, None],
            R[ev] - mkt[ev, None],
            days,
            np.zeros(n_sec, dtype=int),
            dates=dates,
        )
    assert model == "sim"
    X = sm.add_constant(mkt)
    ar_est, ar_ev = np.empty((est.sum(), n_sec)), np.empty((ev.sum(), n_sec))
    for j in range(n_sec):  # one OLS per security, the plain way
        fit = sm.OLS(R[est, j], X[est]).fit()
        ar_est[:, j] = fit.resid
        ar_ev[:, j] = R[ev, j] - X[ev] @ fit.params
    x_est = np.repeat(X[est][:, None, :], n_sec, axis=1)
    x_ev = np.repeat(X[ev][:, None, :], n_sec, axis=1)
    return EventData(ar_est, ar_ev, days, np.full(n_sec, 2), x_est, x_ev, dates)


def _assert_rel(got, expected, rtol=RTOL):
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-12)


def test_market_model_coefficients_match_estudy2(returns):
    coef = pd.read_csv(ESTUDY2 / "market_model_coefficients.csv")
    mkt = sm.add_constant(returns["MKT"].to_numpy()[:180])
    for _, row in coef.iterrows():
        params = sm.OLS(returns[row["security"]].to_numpy()[:180], mkt).fit().params
        _assert_rel(params, [row["alpha"], row["beta"]])


PARAMETRIC = {
    "brown_warner_1980": "bw_1980_stat",
    "brown_warner_1985": "bw_1985_stat",
    "t_test": "t_test_stat",
    "patell": "pt_stat",
    "boehmer": "bh_stat",
    "lamb": "lmb_stat",
}
NONPARAMETRIC = {
    "sign": "sign_stat",
    "generalized_sign": "gsign_stat",
    "corrado_sign": "csign_stat",
    "rank": "rank_stat",
    "modified_rank": "mrank_stat",
    "wilcoxon": "wlcx_stat",
}


@pytest.mark.parametrize("model", ["sim", "mean_adj", "mrkt_adj"])
def test_daily_statistics_match_estudy2(returns, model):
    data = _estudy2_data(returns, model)
    table = daily_tests(data)
    wide = table.pivot(index="date", columns="test", values="statistic")
    par = pd.read_csv(ESTUDY2 / f"daily_parametric_{model}.csv", parse_dates=["date"])
    npar = pd.read_csv(ESTUDY2 / f"daily_nonparametric_{model}.csv", parse_dates=["date"])
    assert list(wide.index) == list(par["date"]) == list(npar["date"])
    # Patell, BMP and Lamb exist in estudy2 for the market model only
    cols = {k: v for k, v in PARAMETRIC.items() if v in par.columns}
    assert (model == "sim") == ("pt_stat" in par.columns)
    for ours, theirs in cols.items():
        _assert_rel(wide[ours].to_numpy(), par[theirs].to_numpy())
    for ours, theirs in NONPARAMETRIC.items():
        _assert_rel(wide[ours].to_numpy(), npar[theirs].to_numpy())
    # the average abnormal return estudy2 reports, and n = 25 everywhere
    aar = data.ar_event.mean(axis=1)
    _assert_rel(aar, par["mean"].to_numpy())
    assert (table["n"][table["test"] != "wilcoxon"] == 25).all()


def test_car_statistics_match_estudy2(returns):
    data = _estudy2_data(returns, "sim")
    ref = pd.read_csv(ESTUDY2 / "car_tests_sim.csv").set_index("name")
    # CAR window 2023-10-06..2023-10-17 = days 0..7
    assert pd.Timestamp(data.dates[7]) == pd.Timestamp("2023-10-17")
    out = car_tests(data, [(0, 7)], ["lamb", "brown_warner_1985", "rank"]).set_index("test")
    _assert_rel(out.loc["lamb", "statistic"], ref.loc["car_lamb", "statistic"])
    _assert_rel(
        out.loc["brown_warner_1985", "statistic"], ref.loc["car_brown_warner_1985", "statistic"]
    )
    _assert_rel(out.loc["rank", "statistic"], ref.loc["car_rank_test", "statistic"])
    # estudy2's car_mean is the mean daily AAR; our caar is the CAAR over the 8 days
    _assert_rel(out["caar"].iloc[0], 8 * ref.loc["car_lamb", "car_mean"])
    assert (ref["number_of_days"] == 8).all()


def test_patell_differs_from_the_papers_variance_estimator_as_documented(returns):
    """estudy2 (and tradeshock) scale by sd with T-1; Patell's s^2 = SSR/(T-2) for the market model.

    The documented difference is a factor sqrt((T-1)/(T-2)) on the statistic.
    """
    data = _estudy2_data(returns, "sim")
    ours = daily_tests(data, ["patell"])["statistic"].to_numpy()
    E, A = data.ar_est, data.ar_event
    T = E.shape[0]
    s_paper = np.sqrt((E**2).sum(axis=0) / (T - 2))
    X = data.x_est[:, 0, :]
    m, mbar = X[:, 1], X[:, 1].mean()
    c = 1 + 1 / T + (data.x_event[:, 0, 1] - mbar) ** 2 / ((m - mbar) ** 2).sum()
    sar = A / s_paper / np.sqrt(c)[:, None]
    paper = sar.sum(axis=1) / np.sqrt(E.shape[1] * (T - 2) / (T - 4))
    _assert_rel(ours, paper * math.sqrt((T - 1) / (T - 2)))
    assert not np.allclose(ours, paper, rtol=1e-3)


# ------------------------------------------------------------------------------------------------
# hand computations on a tiny frame
# ------------------------------------------------------------------------------------------------
# Three securities, market-adjusted returns (nothing estimated, so C_it = 1), 4 estimation rows,
# event days 0 and 1:
#   a: estimation [1, -1, 1, -1]  var 4/3   event [ 2, -1]
#   b: estimation [2, -2, 2, -2]  var 16/3  event [ 4,  2]
#   c: estimation [2, -1, -1, 0]  var 2     event [ 1,  0]
TINY_E = np.array([[1.0, 2, 2], [-1, -2, -1], [1, 2, -1], [-1, -2, 0]])
TINY_A = np.array([[2.0, 4, 1], [-1, 2, 0]])


@pytest.fixture
def tiny() -> EventData:
    return EventData(TINY_E, TINY_A, np.array([0, 1]), np.zeros(3, dtype=int))


def _daily(data, name):
    t = daily_tests(data, [name])
    return t["statistic"].to_numpy(), t["p_value"].to_numpy(), t["n"].to_numpy()


def test_tiny_brown_warner_1980(tiny):
    stat, p, n = _daily(tiny, "brown_warner_1980")
    sd = math.sqrt(4 / 3 + 16 / 3 + 2) / 3  # sqrt(sum of variances) / n
    _assert_rel(stat, [(7 / 3) / sd, (1 / 3) / sd])
    _assert_rel(p, 2 * stats.t.sf(np.abs(stat), 4 - 1))  # t with mean(T_i) - 1 dof
    assert list(n) == [3, 3]


def test_tiny_brown_warner_1985_and_lamb(tiny):
    # estimation AARs 5/3, -4/3, 2/3, -1 -> mean 0, sample variance 6/3 = 2
    stat, p, _ = _daily(tiny, "brown_warner_1985")
    _assert_rel(stat, [(7 / 3) / math.sqrt(2), (1 / 3) / math.sqrt(2)])
    _assert_rel(p, 2 * stats.t.sf(np.abs(stat), 3))  # T - 1 = 3 dof
    lamb, lp, _ = _daily(tiny, "lamb")  # C = 1 for market-adjusted returns: Lamb = BW 1985
    _assert_rel(lamb, stat)
    _assert_rel(lp, 2 * stats.norm.sf(np.abs(stat)))


def test_tiny_t_test(tiny):
    # day 0: 2, 4, 1 -> mean 7/3, variance 7/3 -> t = sqrt(7); day 1: -1, 2, 0 -> 1/sqrt(7)
    stat, p, n = _daily(tiny, "t_test")
    _assert_rel(stat, [math.sqrt(7), 1 / math.sqrt(7)])
    _assert_rel(p, 2 * stats.t.sf(np.abs(stat), 2))
    assert list(n) == [3, 3]


SAR0 = np.array(
    [math.sqrt(3), math.sqrt(3), 1 / math.sqrt(2)]
)  # 2/sqrt(4/3), 4/sqrt(16/3), 1/sqrt(2)
SAR1 = np.array([-math.sqrt(3) / 2, math.sqrt(3) / 2, 0.0])
RBAR = (1 + 2 / math.sqrt(6)) / 3  # corr(a,b) = 1, corr(a,c) = corr(b,c) = 1/sqrt(6)


def test_tiny_patell_boehmer_kolari_pynnonen(tiny):
    stat, p, _ = _daily(tiny, "patell")
    # variance of each SAR: T/(T-2) = 2 (k = 0)
    _assert_rel(stat, [SAR0.sum() / math.sqrt(3 * 2), 0.0])
    _assert_rel(p, 2 * stats.norm.sf(np.abs(stat)))
    bmp, bp, _ = _daily(tiny, "boehmer")
    m0 = SAR0.mean()
    sd0 = math.sqrt(((SAR0 - m0) ** 2).sum() / 2)
    _assert_rel(bmp, [m0 / (sd0 / math.sqrt(3)), 0.0])
    _assert_rel(bp, 2 * stats.t.sf(np.abs(bmp), 2))
    kp, kpp, _ = _daily(tiny, "kolari_pynnonen")
    _assert_rel(kp, bmp * math.sqrt((1 - RBAR) / (1 + 2 * RBAR)))
    _assert_rel(kpp, 2 * stats.t.sf(np.abs(kp), 2))


def test_tiny_sign_and_generalized_sign(tiny):
    stat, p, _ = _daily(tiny, "sign")
    _assert_rel(
        stat, [(3 - 1.5) / math.sqrt(0.75), (1 - 1.5) / math.sqrt(0.75)]
    )  # 0 is not positive
    _assert_rel(p, 2 * stats.norm.sf(np.abs(stat)))
    # p-hat = mean(2/4, 2/4, 1/4) = 5/12
    g, _, _ = _daily(tiny, "generalized_sign")
    ph = 5 / 12
    sd = math.sqrt(3 * ph * (1 - ph))
    _assert_rel(g, [(3 - 3 * ph) / sd, (1 - 3 * ph) / sd])


def test_tiny_corrado_sign(tiny):
    # medians over the 6 rows: a 0, b 2, c 0; G rows sum to 2, -3, 0, -2 | 3, -1
    stat, _, _ = _daily(tiny, "corrado_sign")
    sums = np.array([2, -3, 0, -2, 3, -1.0])
    sg = math.sqrt(((sums / math.sqrt(3)) ** 2).sum() / 6)
    _assert_rel(stat, [3 / math.sqrt(3) / sg, -1 / math.sqrt(3) / sg])
    _assert_rel(stat, [math.sqrt(2), -math.sqrt(2) / 3])


def test_tiny_rank_and_modified_rank(tiny):
    # average ranks over the 6 rows of each security (ties share the mean rank):
    K = np.array(
        [
            [4.5, 2, 4.5, 2, 6, 2],  # a:  1 -1  1 -1  2 -1
            [4, 1.5, 4, 1.5, 6, 4],  # b:  2 -2  2 -2  4  2
            [6, 1.5, 1.5, 3.5, 5, 3.5],  # c:  2 -1 -1  0  1  0
        ]
    ).T
    D = (K - 3.5).mean(axis=1)
    sk = math.sqrt((D**2).sum() / 6)
    stat, p, _ = _daily(tiny, "rank")
    _assert_rel(stat, D[4:] / sk)
    _assert_rel(stat, [6.5 / math.sqrt(17), -1 / math.sqrt(17)])
    _assert_rel(p, 2 * stats.norm.sf(np.abs(stat)))
    mrank, _, _ = _daily(tiny, "modified_rank")  # U = K/7 - 1/2: the same with complete data
    _assert_rel(mrank, stat)


def test_tiny_wilcoxon(tiny):
    stat, p, n = _daily(tiny, "wilcoxon")
    # day 0: 2, 4, 1 all positive -> W = 1 + 2 + 3; day 1: -1, 2 (the 0 is dropped) -> W = 2
    _assert_rel(stat, [6, 2])
    assert list(n) == [3, 2]
    _assert_rel(p, [0.25, 1.0])  # exact: 2 * 1/8; n = 2, min(W+, W-) = 1 -> 2 * 2/4


def test_tiny_average_correlation_excludes_the_diagonal():
    assert average_cross_correlation(TINY_E) == pytest.approx(RBAR, rel=1e-12)
    with_diagonal = (3 + 6 * RBAR) / 9  # the known trap
    assert average_cross_correlation(TINY_E) != pytest.approx(with_diagonal, rel=1e-3)


def _car(data, name, window=(0, 1), **kw):
    row = car_tests(data, [window], [name], **kw).iloc[0]
    return row


def test_tiny_car_tests(tiny):
    # CARs over days 0..1: a = 1, b = 6, c = 1; CAAR 8/3
    cars = np.array([1.0, 6.0, 1.0])
    row = _car(tiny, "t_test")
    _assert_rel(row["statistic"], 1.6)  # (8/3) / ((5 sqrt3 / 3) / sqrt3)
    _assert_rel(row["caar"], 8 / 3)
    assert row["n"] == 3
    # Brown-Warner 1985 and Lamb: (AAR0 + AAR1) / (sqrt(2) sqrt(L)) = (8/3) / 2
    for name in ("brown_warner_1985", "lamb"):
        _assert_rel(_car(tiny, name)["statistic"], 4 / 3)
    _assert_rel(_car(tiny, "brown_warner_1985")["p_value"], 2 * stats.t.sf(4 / 3, 3))
    _assert_rel(_car(tiny, "lamb")["p_value"], 2 * stats.norm.sf(4 / 3))
    # standardized CARs: CAR / (s sqrt(L)), L = 2 and no estimated parameters
    scar = cars / (np.sqrt([4 / 3, 16 / 3, 2]) * math.sqrt(2))
    _assert_rel(_car(tiny, "patell")["statistic"], scar.sum() / math.sqrt(3 * 2))
    bmp = scar.mean() / (scar.std(ddof=1) / math.sqrt(3))
    _assert_rel(_car(tiny, "boehmer")["statistic"], bmp)
    _assert_rel(
        _car(tiny, "kolari_pynnonen")["statistic"], bmp * math.sqrt((1 - RBAR) / (1 + 2 * RBAR))
    )
    # rank: window deviations 6.5 and -1 over 6 cells, S(K) = sqrt(17)/3
    _assert_rel(_car(tiny, "rank")["statistic"], math.sqrt(2) * (5.5 / 6) / (math.sqrt(17) / 3))
    # signs: every CAR positive
    ph = 5 / 12
    _assert_rel(
        _car(tiny, "generalized_sign")["statistic"], (3 - 3 * ph) / math.sqrt(3 * ph * (1 - ph))
    )
    _assert_rel(_car(tiny, "sign")["statistic"], math.sqrt(3))
    w = _car(tiny, "wilcoxon")
    _assert_rel(w["statistic"], 6)  # |1|,|6|,|1| -> ranks 1.5, 3, 1.5, all positive
    _assert_rel(w["p_value"], stats.wilcoxon(cars).pvalue)


def test_tiny_grank(tiny):
    scar = np.array([1.0, 6.0, 1.0]) / (np.sqrt([4 / 3, 16 / 3, 2]) * math.sqrt(2))
    zstar = scar / scar.std(ddof=1)  # 0.826, 2.477, 0.674
    sar_a = np.array([1, -1, 1, -1]) / math.sqrt(4 / 3)  # +-0.866; b has the same
    assert zstar[0] < sar_a[0] and zstar[1] > sar_a[0] and 0 < zstar[2] < math.sqrt(2)
    # ranks among [4 estimation SARs, SCAR*] per security, U = K/6 - 1/2
    U = (
        np.array(
            [
                [4.5, 1.5, 4.5, 1.5, 3],  # a
                [3.5, 1.5, 3.5, 1.5, 5],  # b
                [5, 1.5, 1.5, 3, 4],  # c: 1.414, -0.707, -0.707, 0, SCAR* 0.674
            ]
        ).T
        / 6
        - 0.5
    )
    ubar = U.mean(axis=1)
    _assert_rel(ubar, [2 / 9, -1 / 4, 1 / 36, -1 / 6, 1 / 6])
    su = math.sqrt((ubar**2).sum() / 5)
    z = ubar[-1] / su
    _assert_rel(z * z, 180 / 218)
    t = z * math.sqrt((5 - 2) / (5 - 1 - z * z))
    row = _car(tiny, "grank")
    _assert_rel(row["statistic"], t)
    _assert_rel(row["p_value"], 2 * stats.t.sf(abs(t), 3))


def test_tiny_bootstrap(tiny):
    cars = np.array([1.0, 6.0, 1.0])
    row = _car(tiny, "bootstrap", n_boot=1000, seed=3)
    rng = np.random.default_rng(3)
    means = cars[rng.integers(0, 3, size=(1000, 3))].mean(axis=1)
    _assert_rel([row["ci_low"], row["ci_high"]], np.percentile(means, [2.5, 97.5]))
    _assert_rel(row["statistic"], (8 / 3) / means.std(ddof=1))
    _assert_rel(row["p_value"], (1 + np.sum(np.abs(means - 8 / 3) >= 8 / 3)) / 1001)


def test_forecast_error_correction_of_the_market_model():
    """C_it = 1 + x'(X'X)^-1 x equals 1 + 1/T + (m_t - mbar)^2 / Sxx, per security."""
    rng = np.random.default_rng(11)
    T, N = 40, 3
    m = rng.normal(size=(T + 1, N))  # a different regressor per security
    E, A = rng.normal(size=(T, N)), rng.normal(size=(1, N))
    X = np.stack([np.ones_like(m), m], axis=2)
    data = EventData(E, A, np.array([0]), np.full(N, 2), X[:T], X[T:])
    mbar = m[:T].mean(axis=0)
    c = 1 + 1 / T + (m[T] - mbar) ** 2 / ((m[:T] - mbar) ** 2).sum(axis=0)
    sar = A[0] / E.std(axis=0, ddof=1) / np.sqrt(c)
    stat = daily_tests(data, ["patell"])["statistic"].iloc[0]
    _assert_rel(stat, sar.sum() / math.sqrt(N * (T - 2) / (T - 4)))
    # constant-mean model without regressors: C = 1 + 1/T, variance (T-1)/(T-3)
    d1 = EventData(E, A, np.array([0]), np.ones(N, dtype=int))
    sar1 = A[0] / E.std(axis=0, ddof=1) / math.sqrt(1 + 1 / T)
    _assert_rel(
        daily_tests(d1, ["patell"])["statistic"].iloc[0],
        sar1.sum() / math.sqrt(N * (T - 1) / (T - 3)),
    )


# ------------------------------------------------------------------------------------------------
# per-security CAR test (car_by_security) against statsmodels, security by security
# ------------------------------------------------------------------------------------------------


def _panel_with_holes(seed: int = 4):
    """SYNTHETIC returns of 6 securities on 3 factors, with missing returns and factor values."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2023-01-02", periods=140)
    f = pd.DataFrame(rng.normal(0, 0.01, (140, 3)), idx, columns=["mkt", "smb", "hml"])
    betas = rng.uniform(0.2, 1.5, (3, 6))
    r = pd.DataFrame(
        f.to_numpy() @ betas + rng.normal(0, 0.006, (140, 6)), idx, [f"S{i}" for i in range(6)]
    )
    r.iloc[rng.random(r.shape) < 0.06] = np.nan
    f.iloc[[10, 55], 1] = np.nan  # missing factor values inside the estimation window
    d0 = idx[120]
    for c in r.columns:
        r.loc[d0, c] = 0.01 if pd.isna(r.loc[d0, c]) else r.loc[d0, c]  # every one has day 0
    return r, f, d0


def _statsmodels_car(y, X, est, ev, window_rows):
    """CAR, its se (sqrt(L s^2 + se_mean(xs)^2)) and df for one security, by statsmodels."""
    ok = est & y.notna() & X.notna().all(axis=1)
    fit = sm.OLS(y[ok], X[ok]).fit()
    okw = window_rows & y.notna() & X.notna().all(axis=1)
    pe = y[okw] - fit.predict(X[okw])
    xs = X[okw].sum().to_numpy()[None, :]
    se = math.sqrt(len(pe) * fit.scale + fit.get_prediction(xs).se_mean[0] ** 2)
    return float(pe.sum()), se, fit.df_resid, len(pe)


@pytest.mark.parametrize("model", ["factor", "market", "mean"])
def test_car_by_security_matches_statsmodels_prediction_errors(model):
    from tradeshock.engine.study import event_study

    r, f, d0 = _panel_with_holes()
    kw = {"factors": f} if model == "factor" else {"market": f["mkt"]} if model == "market" else {}
    res = event_study(r, d0, model=model, estimation="2023-01-02:2023-06-01",
                      event="2023-06-14:2023-07-03", missing="keep", min_estimation_obs=20, **kw)
    tab = res.car_by_security([(0, 0), (-2, 3), (0, 8)], level=0.9)
    assert list(tab.columns) == ["security", "window_start", "window_end", "car", "se",
                                 "statistic", "df", "p_value", "ci_low", "ci_high", "n_days"]
    cols = {"factor": ["mkt", "smb", "hml"], "market": ["mkt"], "mean": []}[model]
    X = sm.add_constant(f[cols], has_constant="add") if cols else pd.DataFrame(
        {"const": 1.0}, index=r.index)
    est = (r.index >= "2023-01-02") & (r.index <= "2023-06-01")
    day = pd.Series(np.arange(len(r)) - r.index.get_loc(d0), index=r.index)
    checked = 0
    for _, row in tab.iterrows():
        rows = (day >= row["window_start"]) & (day <= row["window_end"])
        car, se, dof, n = _statsmodels_car(r[row["security"]], X, est, rows, rows)
        assert row["n_days"] == n
        assert row["car"] == pytest.approx(car, rel=1e-9, abs=1e-15)
        assert row["se"] == pytest.approx(se, rel=1e-9)
        assert row["df"] == dof
        assert row["statistic"] == pytest.approx(car / se, rel=1e-9, abs=1e-12)
        assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(car / se), dof), rel=1e-8)
        q = stats.t.ppf(0.95, dof)
        assert row["ci_low"] == pytest.approx(car - q * se, rel=1e-9)
        assert row["ci_high"] == pytest.approx(car + q * se, rel=1e-9)
        checked += 1
    assert checked >= 15
    # s_i is the OLS standard error of the regression: the study's resid_sd
    one = res.car_by_security((0, 0)).set_index("security")
    sd = res.estimates.set_index("security")["resid_sd"]
    fac = (one["se"] / sd.reindex(one.index)) ** 2  # 1 + x'(X'X)^-1 x for one day
    assert (fac > 1).all() and (fac < 1.5).all()


def test_car_by_security_market_adjusted_has_no_estimation_error():
    """Nothing estimated: se = sqrt(L * mean(AR_est^2)), t with T degrees of freedom."""
    rng = np.random.default_rng(2)
    E, A = rng.normal(0, 0.01, (50, 3)), rng.normal(0, 0.01, (4, 3))
    tab = car_by_security(EventData(E, A, np.arange(4), np.zeros(3, dtype=int)), [(1, 3)])
    s = np.sqrt((E**2).mean(axis=0))
    np.testing.assert_allclose(tab["se"], s * math.sqrt(3), rtol=1e-12)
    np.testing.assert_allclose(tab["car"], A[1:].sum(axis=0), rtol=1e-12)
    assert (tab["df"] == 50).all() and list(tab["security"]) == [0, 1, 2]


def test_car_by_security_size_is_exact_under_normal_errors():
    """SYNTHETIC: 8000 securities, market model, 20 estimation rows, 5-day CAR, no event.

    The CAR over its forecast-error se is t(18): a 5 % test rejects 5 % of the time. Reading it
    against N(0, 1) instead would reject about 6.6 %; dropping the estimation-error term more.
    """
    rng = np.random.default_rng(2024)
    n, T, L = 8000, 20, 5
    m = rng.normal(0, 0.01, (T + L, n))
    y = 0.5 * m + rng.normal(0, 0.01, (T + L, n))
    X = np.stack([np.ones_like(m), m], axis=2)
    Xe, ye = X[:T], y[:T]
    b = np.linalg.solve(np.einsum("tni,tnj->nij", Xe, Xe), np.einsum("tni,tn->ni", Xe, ye)[..., None])[..., 0]
    resid = y - np.einsum("tnk,nk->tn", X, b)
    data = EventData(resid[:T], resid[T:], np.arange(L), np.full(n, 2), X[:T], X[T:])
    tab = car_by_security(data, [(0, L - 1)])
    rate = float((tab["p_value"] < 0.05).mean())
    assert abs(rate - 0.05) < 0.0075  # 3 binomial sd
    normal = float((2 * stats.norm.sf(tab["statistic"].abs()) < 0.05).mean())
    assert normal > 0.058
    s = np.sqrt((resid[:T] ** 2).sum(axis=0) / (T - 2))  # se without the estimation error
    crude = tab["car"] / (s * math.sqrt(L))
    assert float((2 * stats.t.sf(crude.abs(), T - 2) < 0.05).mean()) > 0.07


def test_car_by_security_rows_and_errors():
    data = _random_data(3, "market")
    tab = car_by_security(data, [(-1, 1)])
    assert 3 not in set(tab["security"])  # no event data: no row, as EventStudyResult.car
    assert np.isnan(tab.set_index("security").loc[1, "se"])  # no estimation data: NaN, kept
    with pytest.raises(InferenceError, match="level must be a coverage"):
        car_by_security(data, [(0, 1)], level=95)
    with pytest.raises(InferenceError, match="reaches outside the event rows"):
        car_by_security(data, [(0, 9)])


# ------------------------------------------------------------------------------------------------
# fast array code against the slow per-security reference, with missing data
# ------------------------------------------------------------------------------------------------


def _random_data(seed: int, model: str, n_sec=12, l1=30, l2=6, miss=0.08) -> EventData:
    rng = np.random.default_rng(seed)
    E = rng.standard_normal((l1, n_sec))
    A = rng.standard_normal((l2, n_sec)) + 0.3
    E[rng.random(E.shape) < miss] = np.nan
    A[rng.random(A.shape) < miss] = np.nan
    A[0, 0] = 0.0  # a zero abnormal return (sign and Wilcoxon conventions)
    E[:, 1] = np.nan  # a security without estimation data
    E[:5, 2] = np.nan
    A[:, 3] = np.nan  # a security without event data
    days = np.arange(-2, l2 - 2)
    if model == "market":
        m = rng.standard_normal((l1 + l2, n_sec))  # a different regressor per security
        X = np.stack([np.ones_like(m), m], axis=2)
        X[rng.random((l1 + l2, n_sec)) < 0.03] = np.nan
        return EventData(E, A, days, np.full(n_sec, 2), X[:l1], X[l1:])
    if model == "factor":
        f = rng.standard_normal((l1 + l2, 3))
        X = np.concatenate([np.ones((l1 + l2, 1)), f], axis=1)
        X = np.repeat(X[:, None, :], n_sec, axis=1)
        return EventData(E, A, days, np.full(n_sec, 4), X[:l1], X[l1:])
    if model == "mean":
        return EventData(E, A, days, np.ones(n_sec, dtype=int))
    return EventData(E, A, days, np.zeros(n_sec, dtype=int))


def _close(a, b):
    if (isinstance(a, float) and math.isnan(a)) or (isinstance(b, float) and math.isnan(b)):
        return (isinstance(a, float) and math.isnan(a)) and math.isnan(b)
    return abs(a - b) <= 1e-10 * max(abs(b), 1.0)


@pytest.mark.parametrize("model", ["market", "factor", "mean", "market_adjusted"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_daily_tests_match_the_slow_reference(model, seed):
    data = _random_data(seed, model)
    ref = Reference(data).daily()
    table = daily_tests(data)
    for name in DAILY_TESTS:
        sub = table[table["test"] == name].reset_index(drop=True)
        for t, (st, pv, n) in enumerate(ref[name]):
            assert _close(float(sub.loc[t, "statistic"]), st), (name, t)
            assert _close(float(sub.loc[t, "p_value"]), pv), (name, t)
            assert sub.loc[t, "n"] == n, (name, t)


@pytest.mark.parametrize("model", ["market", "mean", "market_adjusted"])
@pytest.mark.parametrize("window", [(-2, -2), (-1, 1), (0, 3)])
def test_car_tests_match_the_slow_reference(model, window):
    data = _random_data(7, model)
    ref = Reference(data).car(*window, n_boot=300, seed=5)
    table = car_tests(data, [window], n_boot=300, seed=5).set_index("test")
    for name in CAR_TESTS:
        got = table.loc[name]
        exp = ref[name]
        assert _close(float(got["statistic"]), exp[0]), name
        assert _close(float(got["p_value"]), exp[1]), name
        assert got["n"] == exp[2], name
        if name == "bootstrap":
            assert _close(float(got["ci_low"]), float(exp[3]))
            assert _close(float(got["ci_high"]), float(exp[4]))
        else:
            assert np.isnan(got["ci_low"]) and np.isnan(got["ci_high"])
    assert _close(float(table["caar"].iloc[0]), ref["caar"])


def test_average_correlation_with_missing_data_is_pairwise_and_off_diagonal():
    rng = np.random.default_rng(3)
    f = rng.normal(size=(60, 1))
    x = 0.6 * f + rng.normal(size=(60, 30))
    x[rng.random(x.shape) < 0.1] = np.nan
    x[:, :10] = np.where(np.isnan(x[:, :10]), 0.0, x[:, :10])  # some complete columns
    c = pd.DataFrame(x).corr(min_periods=3).to_numpy()
    off = c[~np.eye(30, dtype=bool)]
    assert average_cross_correlation(x) == pytest.approx(off.mean(), rel=1e-10)
    assert average_cross_correlation(x) != pytest.approx(c.mean(), rel=1e-3)  # diagonal included
    full = np.where(np.isnan(x), 0.0, x)
    assert average_cross_correlation(full) == pytest.approx(
        np.corrcoef(full.T)[~np.eye(30, dtype=bool)].mean(), rel=1e-12
    )


# ------------------------------------------------------------------------------------------------
# known traps and structural properties
# ------------------------------------------------------------------------------------------------


def test_variance_comes_from_the_estimation_window_not_the_event_window(tiny):
    """Trap: variance taken over the wrong window. Scaling event ARs scales BW/Patell; scaling
    estimation residuals scales them inversely; the cross-sectional t test ignores both."""
    base = daily_tests(tiny).set_index(["day", "test"])["statistic"]
    ev = daily_tests(EventData(TINY_E, 10 * TINY_A, np.array([0, 1]), np.zeros(3, dtype=int)))
    ev = ev.set_index(["day", "test"])["statistic"]
    est = daily_tests(EventData(10 * TINY_E, TINY_A, np.array([0, 1]), np.zeros(3, dtype=int)))
    est = est.set_index(["day", "test"])["statistic"]
    for name in ("brown_warner_1980", "brown_warner_1985", "patell", "lamb"):
        _assert_rel(ev.xs(name, level="test"), 10 * base.xs(name, level="test"))
        _assert_rel(est.xs(name, level="test"), base.xs(name, level="test") / 10)
    for name in ("t_test", "boehmer", "sign", "wilcoxon"):
        _assert_rel(ev.xs(name, level="test"), base.xs(name, level="test"))


def test_daily_table_layout(tiny, returns):
    t = daily_tests(tiny)
    assert list(t.columns) == ["day", "test", "statistic", "p_value", "n"]
    assert len(t) == 2 * len(DAILY_TESTS)
    assert list(t["test"][: len(DAILY_TESTS)]) == list(DAILY_TESTS)
    assert list(t["day"].unique()) == [0, 1]
    d = daily_tests(_estudy2_data(returns, "sim"), ["t_test", "sign"])
    assert list(d.columns) == ["day", "date", "test", "statistic", "p_value", "n"]
    assert d["date"].iloc[0] == pd.Timestamp("2023-10-06")
    assert list(d["test"][:2]) == ["t_test", "sign"]
    assert d["p_value"].between(0, 1).all()


def test_car_table_layout_and_several_windows(returns):
    data = _estudy2_data(returns, "sim")
    t = car_tests(data, [(0, 0), (0, 7), (3, 12)])
    assert list(t.columns) == [
        "window_start",
        "window_end",
        "test",
        "statistic",
        "p_value",
        "n",
        "caar",
        "ci_low",
        "ci_high",
    ]
    assert len(t) == 3 * len(CAR_TESTS)
    assert list(t["test"][: len(CAR_TESTS)]) == list(CAR_TESTS)
    boot = t[t["test"] == "bootstrap"]
    assert (boot["ci_low"] < boot["caar"]).all() and (boot["caar"] < boot["ci_high"]).all()
    # a one-day window: the CAR tests reduce to the daily tests of that day
    day0 = daily_tests(data).query("day == 0").set_index("test")["statistic"]
    w0 = t[(t["window_start"] == 0) & (t["window_end"] == 0)].set_index("test")["statistic"]
    for name in (
        "brown_warner_1985",
        "t_test",
        "patell",
        "boehmer",
        "kolari_pynnonen",
        "lamb",
        "sign",
        "generalized_sign",
        "wilcoxon",
    ):
        _assert_rel(w0[name], day0[name])
    # the rank test over a one-day window ranks within estimation + that day only
    assert t["p_value"].between(0, 1).all()


def test_bootstrap_is_reproducible_with_a_seed(tiny):
    a = car_tests(tiny, [(0, 1), (0, 0)], ["bootstrap"], n_boot=500, seed=42)
    b = car_tests(tiny, [(0, 1), (0, 0)], ["bootstrap"], n_boot=500, seed=42)
    c = car_tests(tiny, [(0, 1), (0, 0)], ["bootstrap"], n_boot=500, seed=43)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["statistic"], c["statistic"])  # another seed, other draws


def test_missing_values_are_masked_per_security():
    """A security with a missing AR on a day drops out of that day only (n reports it)."""
    rng = np.random.default_rng(5)
    E, A = rng.normal(size=(50, 8)), rng.normal(size=(3, 8))
    A[1, 2] = np.nan
    data = EventData(E, A, np.array([-1, 0, 1]), np.zeros(8, dtype=int))
    t = daily_tests(data, ["t_test", "patell", "sign"])
    assert list(t.query("day == 0")["n"]) == [7, 7, 7]
    assert list(t.query("day == 1")["n"]) == [8, 8, 8]
    x = np.delete(A[1], 2)
    _assert_rel(
        t.query("day == 0 and test == 't_test'")["statistic"],
        x.mean() / (x.std(ddof=1) / math.sqrt(7)),
    )
    assert t["statistic"].notna().all()


def test_input_errors_are_clear(tiny):
    with pytest.raises(InferenceError, match="unknown daily test"):
        daily_tests(tiny, ["nope"])
    with pytest.raises(InferenceError, match="unknown CAR test"):
        car_tests(tiny, [(0, 1)], ["modified_rank"])
    with pytest.raises(InferenceError, match="outside the event rows"):
        car_tests(tiny, [(0, 5)])
    with pytest.raises(InferenceError, match="starts after it ends"):
        car_tests(tiny, [(1, 0)])
    with pytest.raises(InferenceError, match="same securities"):
        daily_tests(EventData(TINY_E, TINY_A[:, :2], np.array([0, 1]), np.zeros(3, dtype=int)))
    with pytest.raises(InferenceError, match="one entry per event row"):
        daily_tests(EventData(TINY_E, TINY_A, np.array([0]), np.zeros(3, dtype=int)))
    with pytest.raises(InferenceError, match="regressors"):
        daily_tests(EventData(TINY_E, TINY_A, np.array([0, 1]), np.full(3, 2)))
    # the error is a StudyError (tradeshock's hierarchy) and a ValueError
    with pytest.raises(StudyError):
        daily_tests(tiny, ["nope"])
    with pytest.raises(ValueError):
        daily_tests(tiny, ["nope"])


# ------------------------------------------------------------------------------------------------
# multiple testing
# ------------------------------------------------------------------------------------------------


def test_adjust_pvalues_holm_and_bh_per_test_across_days_and_windows(returns):
    data = _estudy2_data(returns, "sim")
    daily = daily_tests(data)
    holm = adjust_pvalues(daily)  # default: each test is a family over its days
    for _name, grp in holm.groupby("test"):
        _assert_rel(grp["p_adjusted"], multipletests(grp["p_value"], method="holm")[1])
    bh = adjust_pvalues(daily, "fdr_bh", by=["test"])
    for _name, grp in bh.groupby("test"):
        _assert_rel(grp["p_adjusted"], multipletests(grp["p_value"], method="fdr_bh")[1])
    # days and windows together, one family per test
    cars = car_tests(data, [(0, 2), (0, 7)], ["t_test", "patell"])
    both = pd.concat([daily, cars], ignore_index=True)
    adj = adjust_pvalues(both, "holm", by=["test"])
    sub = adj[adj["test"] == "patell"]
    assert len(sub) == 13 + 2
    _assert_rel(sub["p_adjusted"], multipletests(sub["p_value"], method="holm")[1])
    # the whole table as one family
    one = adjust_pvalues(daily, "bh", by=[])
    _assert_rel(one["p_adjusted"], multipletests(daily["p_value"], method="fdr_bh")[1])
    assert (holm["p_adjusted"] >= holm["p_value"] - 1e-15).all()
    assert "p_adjusted" not in daily.columns  # a copy, the input is untouched


def test_holm_equals_statsmodels_with_ties_and_large_values():
    rng = np.random.default_rng(4)
    p = np.concatenate([rng.uniform(size=40), [0.01, 0.01, 0.5, 0.5, 1.0, 0.0]])
    rng.shuffle(p)
    t = pd.DataFrame({"test": "x", "p_value": p})
    _assert_rel(adjust_pvalues(t)["p_adjusted"], multipletests(p, method="holm")[1])
    _assert_rel(
        adjust_pvalues(t, "bonferroni")["p_adjusted"], multipletests(p, method="bonferroni")[1]
    )


def test_adjust_pvalues_keeps_nan_and_rejects_unknown_methods():
    t = pd.DataFrame({"test": ["a", "a", "a"], "p_value": [0.01, np.nan, 0.04]})
    out = adjust_pvalues(t)
    assert np.isnan(out["p_adjusted"].iloc[1])
    _assert_rel(out["p_adjusted"].iloc[[0, 2]], multipletests([0.01, 0.04], method="holm")[1])
    with pytest.raises(InferenceError, match="unknown p-value adjustment"):
        adjust_pvalues(t, "nope")
    with pytest.raises(InferenceError, match="p_value"):
        adjust_pvalues(t.drop(columns="p_value"))


# ------------------------------------------------------------------------------------------------
# simulations (SYNTHETIC returns, fixed seeds)
# ------------------------------------------------------------------------------------------------

SIM_DAYS = np.arange(-2, 3)


def _simulate(rng, n_sec=50, l1=120, rho=0.0, shift=0.0) -> EventData:
    """Synthetic market-model returns; market-model ARs estimated here by OLS (plain numpy).

    Disturbances are normal with security-specific volatility; ``rho`` is their pairwise
    correlation through a common non-market factor (on every day, estimation and event window);
    ``shift`` plants an abnormal return of ``shift`` standard deviations on day 0.
    """
    L = l1 + len(SIM_DAYS)
    m = rng.normal(0.0, 0.01, L)
    alpha = rng.normal(0.0, 5e-4, n_sec)
    beta = rng.uniform(0.5, 1.5, n_sec)
    sigma = rng.uniform(0.01, 0.03, n_sec)
    eps = math.sqrt(rho) * rng.standard_normal((L, 1)) + math.sqrt(1 - rho) * rng.standard_normal(
        (L, n_sec)
    )
    r = alpha + np.outer(m, beta) + eps * sigma
    r[l1 + int(np.flatnonzero(SIM_DAYS == 0)[0])] += shift * sigma
    X = np.column_stack([np.ones(L), m])
    B = np.linalg.lstsq(X[:l1], r[:l1], rcond=None)[0]
    ar = r - X @ B
    x = np.repeat(X[:, None, :], n_sec, axis=1)
    return EventData(ar[:l1], ar[l1:], SIM_DAYS, np.full(n_sec, 2), x[:l1], x[l1:])


SIM_WINDOWS = [(0, 0), (-1, 1), (-2, 2)]


def _rejections(rng, reps, alpha=0.05, n_boot=400, **kw):
    daily_hits = {name: [] for name in DAILY_TESTS}
    car_hits = {name: [] for name in CAR_TESTS}
    day0 = {name: [] for name in DAILY_TESTS}
    for _ in range(reps):
        data = _simulate(rng, **kw)
        d = daily_tests(data)
        for name, grp in d.groupby("test", sort=False):
            rej = (grp["p_value"] < alpha).to_numpy()
            daily_hits[name].extend(rej)
            day0[name].append(bool(rej[grp["day"].to_numpy() == 0][0]))
        c = car_tests(data, SIM_WINDOWS, n_boot=n_boot, seed=int(rng.integers(1 << 31)))
        for name, grp in c.groupby("test", sort=False):
            car_hits[name].append((grp["p_value"] < alpha).to_numpy())
    rate = lambda v: float(np.mean(v))  # noqa: E731
    return (
        {k: rate(v) for k, v in daily_hits.items()},
        {k: rate(np.concatenate(v)) for k, v in car_hits.items()},
        {k: rate(v) for k, v in day0.items()},
        {k: np.mean(np.vstack(v), axis=0) for k, v in car_hits.items()},
    )


def _report(record_property, label, rates):
    text = ", ".join(f"{k}={v:.3f}" for k, v in rates.items())
    print(f"{label}: {text}")
    for k, v in rates.items():
        record_property(f"{label}.{k}", round(float(v), 4))


@pytest.mark.slow
def test_simulation_size_under_the_null(record_property):
    """SYNTHETIC: 300 replications x 5 days (daily) and x 3 windows (CAR), N = 50, T = 120.

    Every test should reject a true null at about 5%. Band: [2.5%, 8.5%] for the daily tests (1500
    decisions each, s.e. about 0.6 points) and [2%, 9.5%] for the CAR tests (900 decisions).
    """
    rng = np.random.default_rng(20250402)
    daily, car, _, _ = _rejections(rng, 300)
    _report(record_property, "null_daily", daily)
    _report(record_property, "null_car", car)
    for name, r in daily.items():
        assert 0.025 <= r <= 0.085, (name, r)
    for name, r in car.items():
        assert 0.02 <= r <= 0.095, (name, r)


@pytest.mark.slow
def test_simulation_detects_a_planted_day0_abnormal_return(record_property):
    """SYNTHETIC: an abnormal return of 1.5 sd on day 0 for every security, 20 replications.

    Every daily test rejects on day 0 in at least 90% of the replications, and every CAR test
    rejects for the windows that contain day 0.
    """
    rng = np.random.default_rng(7)
    _, _, day0, car_by_window = _rejections(rng, 20, shift=1.5, n_boot=400)
    _report(record_property, "power_day0", day0)
    per_window = {f"{k}{SIM_WINDOWS[1]}": v[1] for k, v in car_by_window.items()}
    _report(record_property, "power_car", per_window)
    for name, r in day0.items():
        assert r >= 0.9, (name, r)
    for name, v in car_by_window.items():
        assert v[0] >= 0.9 and v[1] >= 0.9, (name, v)


@pytest.mark.slow
def test_simulation_kolari_pynnonen_corrects_bmp_under_cross_correlation(record_property):
    """SYNTHETIC: disturbances with pairwise correlation 0.1 (a common non-market factor), one
    shared event date, N = 50, 160 replications. Unadjusted BMP over-rejects (its variance is off
    by a factor (1 + (N-1) rho)/(1 - rho), about 6.5); the Kolari-Pynnönen adjustment brings the
    rejection rate back to about 5%, daily and for CARs."""
    rng = np.random.default_rng(99)
    daily, car, _, _ = _rejections(rng, 160, rho=0.1, n_boot=50)
    rates = {
        "boehmer_daily": daily["boehmer"],
        "kolari_pynnonen_daily": daily["kolari_pynnonen"],
        "boehmer_car": car["boehmer"],
        "kolari_pynnonen_car": car["kolari_pynnonen"],
        "brown_warner_1985_daily": daily["brown_warner_1985"],
    }
    _report(record_property, "crosscorr", rates)
    assert daily["boehmer"] > 0.25
    assert car["boehmer"] > 0.25
    assert 0.02 <= daily["kolari_pynnonen"] <= 0.09
    assert 0.015 <= car["kolari_pynnonen"] <= 0.10
    # Brown-Warner 1985's crude dependence adjustment is also robust to this correlation
    assert 0.02 <= daily["brown_warner_1985"] <= 0.10
