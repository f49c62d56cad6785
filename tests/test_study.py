"""Tests of the event-study engine (``tradeshock.study`` and ``tradeshock.models``).

* Against R's estudy2 (``tests/results/estudy2``, synthetic cross-section): market-model alpha and
  beta, the daily AAR of all three models, the CAR-window mean, and (when the battery is present)
  every daily statistic estudy2 computes, end to end through the engine, to 1e-8 relative.
* Against a plain per-security reference (:func:`reference_study`: one statsmodels OLS per
  security, windows cut by hand from each security's own sessions), with and without missing data.
* Hand computations on tiny frames (AR, CAR, BHAR, AAR, CAAR).
* Known traps, one test each: variance over the wrong window, estimation window off by one, close
  vs adjusted close, a security counted twice with two events. (The Kolari-Pynnönen diagonal trap
  is tested with the battery, in the inference tests.)
* Synthetic simulations with fixed seeds (planted abnormal returns).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from tradeshock.errors import StudyError
from tradeshock.engine import inference as inf
from tradeshock.engine.models import MODELS, fit_ols, get_model
from tradeshock.engine.study import EXCLUSION_REASONS, EventStudyResult, event_study

REF = Path(__file__).resolve().parent / "results" / "estudy2"
EST = ("2023-01-02", "2023-09-08")  # first 180 rows, inclusive
EV = ("2023-10-06", "2023-10-24")  # 13 rows, inclusive
CARW = ("2023-10-06", "2023-10-17")  # 8 rows
ESTUDY2_NAME = {"market": "sim", "mean": "mean_adj", "market_adjusted": "mrkt_adj"}
RTOL = 1e-8


@pytest.fixture(scope="module")
def e2() -> pd.DataFrame:
    return pd.read_csv(REF / "returns.csv", parse_dates=["date"], index_col="date")


def run_e2(e2: pd.DataFrame, model: str, **kw) -> EventStudyResult:
    return event_study(
        e2, model=model, market="MKT", estimation=EST, event=EV, car_windows=[CARW], **kw
    )


# ------------------------------------------------------------------------ plain reference (slow)
def reference_study(
    returns: pd.DataFrame,
    market: pd.Series | None,
    events: dict[str, tuple[str, pd.Timestamp]],
    estimation: tuple[int, int],
    event: tuple[int, int],
    model: str,
    factors: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-security reference: windows cut from each security's own sessions, statsmodels OLS.

    Returns (estimates indexed by id: alpha, beta…, resid_var, r2, n_obs, est_start, est_end;
    ARs indexed by (id, day)).
    """
    est_rows, ar_rows = {}, []
    for ident, (col, d0) in events.items():
        s = returns[col].dropna()  # the security's own sessions
        pos = s.index.get_loc(d0)
        lo, hi = pos + estimation[0], pos + estimation[1]
        est = s.iloc[max(lo, 0) : hi + 1]
        ev = s.iloc[pos + event[0] : pos + event[1] + 1]
        if model in ("market", "market_adjusted"):
            X_est = pd.DataFrame({"const": 1.0, "mkt": market.reindex(est.index)})
            X_ev = pd.DataFrame({"const": 1.0, "mkt": market.reindex(ev.index)})
        elif model == "factor":
            X_est = pd.concat(
                [pd.Series(1.0, est.index, name="const"), factors.reindex(est.index)], axis=1
            )
            X_ev = pd.concat(
                [pd.Series(1.0, ev.index, name="const"), factors.reindex(ev.index)], axis=1
            )
        else:
            X_est = pd.DataFrame({"const": 1.0}, index=est.index)
            X_ev = pd.DataFrame({"const": 1.0}, index=ev.index)
        ok = X_est.notna().all(axis=1)
        y, X = est[ok], X_est[ok]
        if model == "market_adjusted":
            resid = y - X["mkt"]
            row = {
                "alpha": 0.0,
                "beta": 1.0,
                "resid_var": float((resid**2).sum() / len(resid)),
                "r2": np.nan,
            }
            normal = X_ev["mkt"]
        else:
            fit = sm.OLS(y.to_numpy(), X.to_numpy()).fit()
            names = ["alpha"] + (["beta"] if model == "market" else [])
            if model == "factor":
                names = ["alpha"] + [f"beta_{c}" for c in factors.columns]
            row = dict(zip(names, fit.params))
            row["resid_var"] = fit.scale  # SSR / (n - k)
            row["r2"] = fit.rsquared if model != "mean" else 0.0
            normal = pd.Series(X_ev.to_numpy() @ fit.params, index=ev.index)
        row.update(n_obs=len(y), est_start=y.index[0], est_end=y.index[-1])
        est_rows[ident] = row
        for day, (dt, r) in zip(range(event[0], event[1] + 1), ev.items()):
            ar_rows.append({"security": ident, "day": day, "date": dt, "ar": r - normal[dt]})
    return pd.DataFrame(est_rows).T, pd.DataFrame(ar_rows).set_index(["security", "day"])


def synthetic(
    n_sec: int = 8, n_days: int = 400, seed: int = 1, holes: float = 0.0, market_holes: float = 0.0
) -> tuple[pd.DataFrame, pd.Series]:
    """Synthetic returns (not market data): market-model securities with optional NaN holes."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2022-01-03", periods=n_days)
    m = rng.normal(0.0003, 0.01, n_days)
    beta = rng.uniform(0.5, 1.5, n_sec)
    alpha = rng.normal(0, 0.0005, n_sec)
    r = alpha + m[:, None] * beta + rng.normal(0, 0.015, (n_days, n_sec))
    if holes:
        r[rng.random(r.shape) < holes] = np.nan
    mk = pd.Series(m, idx, name="MKT")
    if market_holes:
        mk[rng.random(n_days) < market_holes] = np.nan
    return pd.DataFrame(r, idx, columns=[f"S{i}" for i in range(n_sec)]), mk


# ---------------------------------------------------------------------------------- estudy2
def test_market_model_coefficients_match_estudy2(e2):
    res = run_e2(e2, "market")
    ref = pd.read_csv(REF / "market_model_coefficients.csv", index_col="security")
    est = res.estimates.set_index("security").loc[ref.index]
    np.testing.assert_allclose(est["alpha"], ref["alpha"], rtol=RTOL, atol=0)
    np.testing.assert_allclose(est["beta"], ref["beta"], rtol=RTOL, atol=0)
    assert (est["n_obs"] == 180).all()


@pytest.mark.parametrize("model", ["market", "mean", "market_adjusted"])
def test_daily_aar_matches_estudy2(e2, model):
    res = run_e2(e2, model)
    ref = pd.read_csv(REF / f"daily_parametric_{ESTUDY2_NAME[model]}.csv", parse_dates=["date"])
    aar = res.aar
    assert list(aar["date"]) == list(ref["date"])
    assert list(aar["day"]) == list(range(13))
    np.testing.assert_allclose(aar["aar"], ref["mean"], rtol=RTOL, atol=0)
    assert (aar["n"] == 25).all()


def test_car_mean_matches_estudy2(e2):
    res = run_e2(e2, "market")
    ref = pd.read_csv(REF / "car_tests_sim.csv")
    caar = res.caar.iloc[0]
    assert (caar.window_start, caar.window_end) == (0, 7)
    assert str(caar.date_start.date()) == "2023-10-06" and str(caar.date_end.date()) == "2023-10-17"
    # estudy2's car_mean is the mean AAR over the window's 8 days, i.e. CAAR / 8
    for v in ref["car_mean"].dropna():
        np.testing.assert_allclose(caar.caar / 8, v, rtol=RTOL)
    np.testing.assert_allclose(caar.caar, res.aar["aar"].iloc[:8].sum(), rtol=1e-12)
    np.testing.assert_allclose(caar.caar, res.car["car"].mean(), rtol=1e-12)


@pytest.mark.parametrize("model", ["market", "mean", "market_adjusted"])
def test_daily_statistics_match_estudy2_end_to_end(e2, model):
    """Engine + battery reproduce every daily statistic estudy2 computes (to 1e-8 relative)."""
    res = run_e2(e2, model)
    stat = res.tests.pivot(index="date", columns="test", values="statistic")
    par = pd.read_csv(
        REF / f"daily_parametric_{ESTUDY2_NAME[model]}.csv", parse_dates=["date"]
    ).set_index("date")
    non = pd.read_csv(
        REF / f"daily_nonparametric_{ESTUDY2_NAME[model]}.csv", parse_dates=["date"]
    ).set_index("date")
    pairs = {
        "bw_1980_stat": "brown_warner_1980",
        "bw_1985_stat": "brown_warner_1985",
        "t_test_stat": "t_test",
        "pt_stat": "patell",
        "bh_stat": "boehmer",
        "lmb_stat": "lamb",
        "sign_stat": "sign",
        "gsign_stat": "generalized_sign",
        "csign_stat": "corrado_sign",
        "rank_stat": "rank",
        "mrank_stat": "modified_rank",
        "wlcx_stat": "wilcoxon",
    }
    ref = pd.concat([par, non.drop(columns=["weekday", "percentage"])], axis=1)
    checked = 0
    for col, name in pairs.items():
        if col in ref.columns:
            np.testing.assert_allclose(
                stat.loc[ref.index, name], ref[col], rtol=RTOL, atol=1e-12, err_msg=name
            )
            checked += 1
    assert checked == (12 if model == "market" else 9)


def test_car_statistics_match_estudy2_end_to_end(e2):
    res = run_e2(e2, "market")
    ct = res.car_tests.set_index("test")
    ref = pd.read_csv(REF / "car_tests_sim.csv").set_index("name")
    for rname, name in [
        ("car_lamb", "lamb"),
        ("car_brown_warner_1985", "brown_warner_1985"),
        ("car_rank_test", "rank"),
    ]:
        np.testing.assert_allclose(
            ct.loc[name, "statistic"], ref.loc[rname, "statistic"], rtol=RTOL
        )
    assert (ct["date_start"] == pd.Timestamp("2023-10-06")).all()


# ------------------------------------------------------------------- against statsmodels OLS
@pytest.mark.parametrize("model", ["market", "mean", "market_adjusted"])
def test_estimates_match_statsmodels_on_estudy2_input(e2, model):
    res = run_e2(e2, model)
    secs = [c for c in e2.columns if c != "MKT"]
    d0 = pd.Timestamp(EV[0])
    events = {s: (s, d0) for s in secs}
    # date windows on complete data are the relative windows -124..-5 / 0..12 around 2023-10-06
    pos = e2.index.get_loc(d0)
    est_w = (0 - pos, e2.index.get_loc(pd.Timestamp(EST[1])) - pos)
    ref_est, ref_ar = reference_study(e2[secs], e2["MKT"], events, est_w, (0, 12), model)
    est = res.estimates.set_index("security")
    for name in ["alpha", "beta"] if model != "mean" else ["alpha"]:
        np.testing.assert_allclose(
            est[name], ref_est.loc[est.index, name].astype(float), rtol=1e-9, atol=1e-15
        )
    np.testing.assert_allclose(
        est["resid_sd"] ** 2, ref_est.loc[est.index, "resid_var"].astype(float), rtol=1e-9
    )
    if model == "market":
        np.testing.assert_allclose(est["r2"], ref_est.loc[est.index, "r2"].astype(float), rtol=1e-9)
    ar = res.abnormal_returns.set_index(["security", "day"])
    np.testing.assert_allclose(
        ar["ar"], ref_ar.loc[ar.index, "ar"].astype(float), rtol=1e-9, atol=1e-15
    )


@pytest.mark.parametrize("model", ["market", "mean", "market_adjusted"])
def test_fast_engine_matches_reference_with_missing_values(model):
    """NaN holes in returns and market, a different day 0 per security: masked per security."""
    r, m = synthetic(n_sec=12, n_days=420, seed=7, holes=0.05, market_holes=0.02)
    rng = np.random.default_rng(3)
    events = {}
    for c in r.columns:
        s = r[c].dropna()
        events[c] = (c, s.index[rng.integers(330, len(s) - 10)])
    # keep day 0 and the event window clear of market holes so no security is excluded
    for c, (_, d0) in events.items():
        s = r[c].dropna()
        p = s.index.get_loc(d0)
        m.loc[s.index[p - 1 : p + 6]] = m.loc[s.index[p - 1 : p + 6]].fillna(0.001)
    res = event_study(r, events, model=model, market=m, estimation=(-260, -11), event=(-1, 5))
    assert res.excluded.empty
    ref_est, ref_ar = reference_study(r, m, events, (-260, -11), (-1, 5), model)
    est = res.estimates.set_index("security")
    cols = ["alpha", "beta"] if model != "mean" else ["alpha"]
    for name in cols:
        np.testing.assert_allclose(
            est[name], ref_est.loc[est.index, name].astype(float), rtol=1e-9, atol=1e-14
        )
    np.testing.assert_allclose(
        est["resid_sd"] ** 2, ref_est.loc[est.index, "resid_var"].astype(float), rtol=1e-9
    )
    assert (est["n_obs"] == ref_est.loc[est.index, "n_obs"]).all()
    assert (est["est_start"] == ref_est.loc[est.index, "est_start"]).all()
    assert (est["est_end"] == ref_est.loc[est.index, "est_end"]).all()
    ar = res.abnormal_returns.set_index(["security", "day"])
    np.testing.assert_allclose(
        ar["ar"], ref_ar.loc[ar.index, "ar"].astype(float), rtol=1e-9, atol=1e-14
    )
    assert (ar["date"] == ref_ar.loc[ar.index, "date"]).all()
    if model == "market":  # market holes reduce n below 250 for some securities
        assert (est["n_obs"] < 250).any()


def test_factor_model_matches_statsmodels():
    rng = np.random.default_rng(11)
    r, _ = synthetic(n_sec=6, n_days=330, seed=5, holes=0.03)
    f = pd.DataFrame(rng.normal(0, 0.008, (len(r), 3)), r.index, columns=["MKT_RF", "SMB", "HML"])
    f.iloc[rng.integers(0, 250, 6), 1] = np.nan  # missing factor values are masked
    r = r.add(f @ np.array([0.9, 0.3, -0.2]), axis=0)
    d0 = r.index[300]
    r.loc[d0] = r.loc[d0].fillna(0.0)
    events = {c: (c, d0) for c in r.columns}
    res = event_study(r, d0, model="factor", factors=f, estimation=(-250, -11), event=(-1, 5))
    ref_est, ref_ar = reference_study(r, None, events, (-250, -11), (-1, 5), "factor", factors=f)
    est = res.estimates.set_index("security")
    for name in ["alpha", "beta_MKT_RF", "beta_SMB", "beta_HML"]:
        np.testing.assert_allclose(
            est[name], ref_est.loc[est.index, name].astype(float), rtol=1e-9, atol=1e-14
        )
    np.testing.assert_allclose(
        est["resid_sd"] ** 2, ref_est.loc[est.index, "resid_var"].astype(float), rtol=1e-9
    )
    np.testing.assert_allclose(est["r2"], ref_est.loc[est.index, "r2"].astype(float), rtol=1e-9)
    ar = res.abnormal_returns.set_index(["security", "day"])
    np.testing.assert_allclose(
        ar["ar"], ref_ar.loc[ar.index, "ar"].astype(float), rtol=1e-9, atol=1e-14
    )


def test_fit_ols_flags_collinear_regressors_and_matches_lstsq():
    rng = np.random.default_rng(0)
    L, N = 50, 4
    y = rng.normal(size=(L, N))
    x = np.ones((L, N, 3))
    x[:, :, 1] = rng.normal(size=(L, N))
    x[:, :, 2] = rng.normal(size=(L, N))
    x[:, 3, 2] = 2 * x[:, 3, 1]  # security 3: collinear
    y[5, 0] = np.nan
    params, resid, n, singular = fit_ols(y, x)
    assert list(singular) == [False, False, False, True]
    assert n[0] == 49 and np.isnan(resid[5, 0])
    for i in range(3):
        ok = np.isfinite(y[:, i])
        b = np.linalg.lstsq(x[ok, i], y[ok, i], rcond=None)[0]
        np.testing.assert_allclose(params[i], b, rtol=1e-10)
    assert np.isnan(params[3, 1:]).all()


# -------------------------------------------------------------------------- hand computation
@pytest.fixture
def tiny() -> pd.DataFrame:
    idx = pd.bdate_range("2024-03-04", periods=8)
    return pd.DataFrame(
        {
            #      est (-6..-3)              gap  event (-1, 0, +1)
            "A": [0.01, 0.03, -0.01, 0.01, 0.50, 0.02, 0.05, -0.01],
            "B": [0.00, 0.02, 0.02, 0.00, -0.40, 0.01, -0.03, 0.03],
        },
        index=idx,
    )


def test_hand_computed_mean_model(tiny):
    d0 = tiny.index[6]
    res = event_study(
        tiny,
        d0,
        model="mean",
        estimation=(-6, -3),
        event=(-1, 1),
        car_windows=[(-1, 1), (0, 0)],
        min_estimation_obs=4,
    )
    est = res.estimates.set_index("security")
    np.testing.assert_allclose(est["alpha"], [0.01, 0.01], rtol=1e-12)
    # A: deviations 0, .02, -.02, 0 -> SSR .0008 / (4 - 1); B: -.01, .01, .01, -.01 -> .0004 / 3
    np.testing.assert_allclose(est["resid_sd"], np.sqrt([0.0008 / 3, 0.0004 / 3]), rtol=1e-12)
    assert list(est["n_obs"]) == [4, 4]
    ar = res.ar_matrix
    np.testing.assert_allclose(ar["A"], [0.01, 0.04, -0.02], atol=1e-15)
    np.testing.assert_allclose(ar["B"], [0.00, -0.04, 0.02], atol=1e-15)
    car = res.car.set_index(["security", "window_start", "window_end"])
    np.testing.assert_allclose(car.loc[("A", -1, 1), "car"], 0.03, atol=1e-15)
    np.testing.assert_allclose(car.loc[("A", 0, 0), "car"], 0.04, atol=1e-15)
    np.testing.assert_allclose(car.loc[("B", -1, 1), "car"], -0.02, atol=1e-15)
    # BHAR = prod(1 + R) - prod(1 + E[R]) with E[R] the constant mean 0.01
    np.testing.assert_allclose(
        car.loc[("A", -1, 1), "bhar"], 1.02 * 1.05 * 0.99 - 1.01**3, atol=1e-15
    )
    np.testing.assert_allclose(
        car.loc[("B", -1, 1), "bhar"], 1.01 * 0.97 * 1.03 - 1.01**3, atol=1e-15
    )
    np.testing.assert_allclose(car.loc[("B", 0, 0), "bhar"], -0.04, atol=1e-15)
    np.testing.assert_allclose(res.aar["aar"], [0.005, 0.0, -0.0], atol=1e-15)
    assert list(res.aar["n"]) == [2, 2, 2]
    caar = res.caar.set_index(["window_start", "window_end"])
    np.testing.assert_allclose(caar.loc[(-1, 1), "caar"], 0.005, atol=1e-15)
    np.testing.assert_allclose(caar.loc[(0, 0), "caar"], 0.0, atol=1e-15)


def test_hand_computed_market_adjusted_and_market_model(tiny):
    m = pd.Series([0.0, 0.01, 0.02, 0.03, 0.0, 0.01, -0.02, 0.005], tiny.index)
    d0 = tiny.index[6]
    r = tiny.copy()
    r["A"] = 0.001 + 2.0 * m  # exactly on the market line ...
    r.loc[d0, "A"] += 0.03  # ... except day 0
    # estimation residuals orthogonal to (1, m): alpha and beta stay 0.001 and 2, and A is not a
    # zero-variance security (exactly on the line it would be excluded as zero_variance)
    r.iloc[0:4, r.columns.get_loc("A")] += 1e-4 * np.array([1.0, -1.0, -1.0, 1.0])
    res = event_study(
        r,
        d0,
        model="market_adjusted",
        market=m,
        estimation=(-6, -3),
        event=(-1, 1),
        min_estimation_obs=4,
    )
    ar = res.ar_matrix
    np.testing.assert_allclose(ar["B"], [0.01 - 0.01, -0.03 + 0.02, 0.03 - 0.005], atol=1e-15)
    res = event_study(
        r, d0, model="market", market=m, estimation=(-6, -3), event=(-1, 1), min_estimation_obs=4
    )
    est = res.estimates.set_index("security")
    np.testing.assert_allclose(
        [est.at["A", "alpha"], est.at["A", "beta"]], [0.001, 2.0], rtol=1e-10
    )
    np.testing.assert_allclose(res.ar_matrix["A"], [0.0, 0.03, 0.0], atol=1e-14)
    # BHAR over -1..1 for A: prod(1 + R) - prod(1 + alpha + beta m)
    ra = r["A"].iloc[5:8].to_numpy()
    na = 0.001 + 2.0 * m.iloc[5:8].to_numpy()
    car = res.car.set_index("security")
    np.testing.assert_allclose(car.at["A", "bhar"], np.prod(1 + ra) - np.prod(1 + na), atol=1e-14)


# ------------------------------------------------------------------------------- known traps
def test_trap_variance_uses_the_estimation_window_only(e2):
    """Shocks in the gap or event window must not change alpha, beta, resid_sd (estudy2 input)."""
    base = run_e2(e2, "market")
    shocked = e2.copy()
    secs = [c for c in e2.columns if c != "MKT"]
    shocked.loc["2023-09-11":"2023-10-24", secs] *= 7.0  # gap and event window
    res = run_e2(shocked, "market")
    cols = ["alpha", "beta", "resid_sd", "r2", "n_obs"]
    pd.testing.assert_frame_equal(base.estimates[cols], res.estimates[cols])
    # and resid_sd is that of the 180 estimation rows, not of estimation + event rows
    y, x = e2.loc[EST[0] : EST[1], "F01"], sm.add_constant(e2.loc[EST[0] : EST[1], "MKT"])
    s_est = np.sqrt(sm.OLS(y, x).fit().scale)
    np.testing.assert_allclose(
        base.estimates.set_index("security").at["F01", "resid_sd"], s_est, rtol=1e-10
    )
    y2, x2 = shocked.loc[EST[0] : EV[1], "F01"], sm.add_constant(shocked.loc[EST[0] : EV[1], "MKT"])
    assert np.sqrt(sm.OLS(y2, x2).fit().scale) / s_est > 1.2  # the wrong window would show
    data = base.data
    assert data.ar_est.shape == (180, 25) and data.ar_event.shape == (13, 25)
    np.testing.assert_array_equal(data.ar_est, res.data.ar_est)


def test_trap_estimation_window_off_by_one():
    r, m = synthetic(n_sec=3, n_days=400, seed=2)
    idx = r.index
    d0 = idx[300]
    r.iloc[295, 1] = np.nan  # a hole in the gap ...
    r.iloc[100, 1] = np.nan  # ... and one in the estimation window, for security S1
    res = event_study(r, d0, market=m, estimation=(-260, -11), event=(-1, 5))
    est = res.estimates.set_index("security")
    assert list(est["n_obs"]) == [250, 250, 250]  # both ends inclusive: 260 - 11 + 1
    assert est.at["S0", "est_start"] == idx[40] and est.at["S0", "est_end"] == idx[289]
    # S1 counts its own sessions: two skipped rows move its window two rows back
    assert est.at["S1", "est_start"] == idx[38] and est.at["S1", "est_end"] == idx[288]
    ar = res.abnormal_returns
    assert list(ar.loc[ar.security == "S0", "day"]) == list(range(-1, 6))
    assert list(ar.loc[ar.security == "S0", "date"]) == list(idx[299:306])
    assert list(res.aar["date"]) == list(idx[299:306])
    # date windows: both ends inclusive as well
    res2 = event_study(
        r, market=m, estimation=(idx[40], idx[289]), event=(idx[299], idx[305]), missing="keep"
    )
    assert res2.estimates.set_index("security").at["S0", "n_obs"] == 250
    assert list(res2.days) == list(range(7))
    res3 = event_study(r, d0, market=m, estimation=(idx[40], idx[289]), event=(idx[299], idx[305]))
    assert list(res3.days) == list(range(-1, 6))  # day 0 given: days count from it


def test_close_vs_adjusted_close():
    """The engine takes returns as given: returns from the raw close carry -D/P on the ex-date.

    Total returns from adjusted close are the right input (the market layer builds them from
    ``adj_close``); this shows the size of the error the other choice makes.
    """
    rng = np.random.default_rng(4)
    idx = pd.bdate_range("2023-01-02", periods=300)
    m = pd.Series(rng.normal(0, 0.01, 300), idx)
    total = 0.0002 + 1.1 * m + rng.normal(0, 0.01, 300)  # total (dividend-inclusive) return
    close = 50.0 * np.cumprod(1 + total.to_numpy())
    ex = 280  # ex-dividend date = day 0
    D = 1.25
    close[ex:] -= D * np.cumprod(1 + total.to_numpy())[ex:] / np.cumprod(1 + total.to_numpy())[ex]
    close = pd.Series(close, idx)
    adj_ret = total  # what adj_close.pct_change() gives
    close_ret = close.pct_change()
    r = pd.DataFrame({"ADJ": adj_ret, "CLOSE": close_ret}).iloc[1:]
    res = event_study(r, idx[ex], market=m, estimation=(-250, -11), event=(0, 0))
    ar = res.ar_matrix.iloc[0]
    np.testing.assert_allclose(ar["CLOSE"] - ar["ADJ"], -D / close.iloc[ex - 1], rtol=1e-10)
    # prices passed as returns are refused, not silently studied
    with pytest.raises(StudyError, match="look like prices or percent"):
        event_study(
            pd.DataFrame({"P": close}), idx[ex], model="mean", estimation=(-250, -11), event=(0, 0)
        )


def test_trap_security_with_two_events_counted_once_per_event():
    r, m = synthetic(n_sec=3, n_days=420, seed=9)
    d1, d2 = r.index[300], r.index[380]
    events = {"S0@E1": ("S0", d1), "S0@E2": ("S0", d2), "S1": d1, "S2": d1}
    res = event_study(r, events, market=m, estimation=(-250, -11), event=(-1, 5))
    assert res.securities == ["S0@E1", "S0@E2", "S1", "S2"]
    assert list(res.aar["n"]) == [4] * 7
    assert res.car["security"].tolist() == ["S0@E1", "S0@E2", "S1", "S2"]
    est = res.estimates.set_index("security")
    assert est.at["S0@E1", "day0"] == d1 and est.at["S0@E2", "day0"] == d2
    assert est.at["S0@E1", "column"] == "S0"
    # each id equals a study of that event alone
    alone = event_study(r[["S0"]], d2, market=m, estimation=(-250, -11), event=(-1, 5))
    np.testing.assert_allclose(res.ar_matrix["S0@E2"], alone.ar_matrix["S0"], rtol=1e-12)
    assert res.aar["date"].isna().all()  # rows are event-time positions, dates differ
    # the same security and day 0 listed twice is refused, never double counted
    with pytest.raises(StudyError, match="listed twice"):
        event_study(r, {"a": ("S0", d1), "b": ("S0", d1)}, market=m)
    frame = pd.DataFrame({"security": ["S0", "S0", "S1"], "day0": [d1, d2, d1]})
    res2 = event_study(r, frame, market=m, estimation=(-250, -11), event=(-1, 5))
    assert res2.securities == [f"S0@{d1:%Y-%m-%d}", f"S0@{d2:%Y-%m-%d}", "S1"]
    with pytest.raises(StudyError, match="listed twice"):
        event_study(r, pd.DataFrame({"security": ["S0", "S0"], "day0": [d1, d1]}), market=m)


# ---------------------------------------------------------------------------------- simulation
def test_planted_abnormal_return_recovered_exactly_without_noise():
    """Synthetic, seed 123: returns exactly on each security's market line, plus a planted AR."""
    rng = np.random.default_rng(123)
    idx = pd.bdate_range("2021-01-04", periods=320)
    m = pd.Series(rng.normal(0, 0.01, 320), idx)
    alpha, beta = rng.normal(0, 0.001, 20), rng.uniform(0.3, 1.7, 20)
    r = pd.DataFrame(alpha + np.outer(m, beta), idx, columns=[f"X{i}" for i in range(20)])
    planted = rng.uniform(-0.05, 0.05, 20)
    d0 = idx[300]
    r.loc[d0] += planted
    # estimation residuals orthogonal to (1, m) (rows 40..289): alpha and beta unchanged, and no
    # security is exactly on its line (that one would be excluded as zero_variance)
    x = np.column_stack([np.ones(250), m.iloc[40:290].to_numpy()])
    e = np.random.default_rng(124).normal(0, 1e-4, (250, 20))
    r.iloc[40:290] += e - x @ np.linalg.lstsq(x, e, rcond=None)[0]
    res = event_study(
        r, d0, market=m, estimation=(-260, -11), event=(-2, 3), car_windows=[(0, 0), (-2, 3)]
    )
    ar = res.ar_matrix
    np.testing.assert_allclose(ar.loc[0].to_numpy(), planted, atol=1e-13)
    np.testing.assert_allclose(ar.drop(index=0).to_numpy(), 0.0, atol=1e-13)
    car = res.car.set_index(["security", "window_start"])
    np.testing.assert_allclose(car.xs(-2, level=1)["car"].to_numpy(), planted, atol=1e-13)
    np.testing.assert_allclose(
        res.caar.set_index("window_start").at[0, "caar"], planted.mean(), atol=1e-13
    )
    est = res.estimates
    np.testing.assert_allclose(est["alpha"], alpha, atol=1e-13)
    np.testing.assert_allclose(est["beta"], beta, rtol=1e-10)


def test_planted_abnormal_return_detected_with_noise():
    """Synthetic, seed 42: 60 securities with noise sd 1.5 %, +3 % planted on day 0 only."""
    r, m = synthetic(n_sec=60, n_days=320, seed=42)
    d0 = r.index[300]
    r.loc[d0] += 0.03
    res = event_study(r, d0, market=m, estimation=(-260, -11), event=(-2, 3))
    t = res.tests
    day0 = t[t.day == 0].set_index("test")
    assert set(day0.index) == set(inf.DAILY_TESTS)
    for name in [
        "t_test",
        "patell",
        "boehmer",
        "kolari_pynnonen",
        "rank",
        "generalized_sign",
        "wilcoxon",
    ]:
        assert day0.at[name, "p_value"] < 1e-4, name
    assert abs(res.aar.set_index("day").at[0, "aar"] - 0.03) < 0.01


# ---------------------------------------------------------------------------------- exclusions
def test_exclusions_carry_reasons_and_no_silent_nan():
    r, m = synthetic(n_sec=6, n_days=330, seed=8)
    d0 = r.index[300]
    r.iloc[:270, 0] = np.nan  # S0: history starts 30 rows before day 0: 20 estimation rows
    r.loc[d0, "S1"] = np.nan  # S1: no return on day 0
    r.iloc[303:, 2] = np.nan  # S2: data end at day +2, event window needs +5
    m2 = m.copy()
    m2.iloc[301] = np.nan  # day +1 has no market return: every security misses it ...
    res = event_study(r, d0, market=m2, estimation=(-260, -11), event=(-1, 5))
    exc = res.excluded.set_index("security")
    assert (
        exc.at["S0", "reason"] == "missing_event_data"
    )  # event data is checked before the estimation window
    assert exc.at["S1", "reason"] == "no_data_day0"
    assert exc.at["S2", "reason"] == "missing_event_data"
    assert "no market/factor value" in exc.at["S3", "detail"]
    assert res.n_securities == 0 and set(exc.reason) <= set(EXCLUSION_REASONS)
    # ... with the market complete: S0 too few obs, S2 beyond the data, S3..S5 kept
    res = event_study(r, d0, market=m, estimation=(-260, -11), event=(-1, 5))
    exc = res.excluded.set_index("security")
    assert exc.at["S0", "reason"] == "too_few_estimation_obs"
    assert "20 usable rows" in exc.at["S0", "detail"] and "at least 30" in exc.at["S0", "detail"]
    assert (
        exc.at["S2", "reason"] == "missing_event_data"
        and "beyond the data" in exc.at["S2", "detail"]
    )
    assert res.securities == ["S3", "S4", "S5"]
    assert len(res.excluded) + res.n_securities == 6
    for frame in (res.abnormal_returns, res.car, res.aar, res.caar):
        assert not frame.select_dtypes("number").isna().any().any()
    assert not res.estimates[["alpha", "beta", "resid_sd", "r2"]].isna().any().any()
    # a fraction: 0.5 of 250 rows = 125 needed
    r.iloc[:200, 3] = np.nan  # S3: 90 rows before -11
    res = event_study(
        r, d0, market=m, estimation=(-260, -11), event=(-1, 5), min_estimation_obs=0.5
    )
    assert "at least 125" in res.excluded.set_index("security").at["S3", "detail"]


def test_missing_event_day_exclude_or_keep():
    r, m = synthetic(n_sec=4, n_days=300, seed=12)
    idx = r.index
    r.loc[idx[282], "S1"] = np.nan  # a halt inside the date event window
    kw = {"market": m, "estimation": (idx[10], idx[260]), "event": (idx[280], idx[286])}
    res = event_study(r, **kw)
    assert res.excluded.security.tolist() == ["S1"]
    assert str(idx[282].date()) in res.excluded.detail.iloc[0]
    keep = event_study(r, missing="keep", **kw)
    assert keep.excluded.empty and keep.n_securities == 4
    assert keep.aar.set_index("day").at[2, "n"] == 3
    car = keep.car.set_index("security")
    assert car.at["S1", "n_days"] == 6 and car.at["S0", "n_days"] == 7
    ar = keep.abnormal_returns
    assert not ((ar.security == "S1") & (ar.day == 2)).any()
    np.testing.assert_allclose(
        car.at["S1", "car"], ar.loc[ar.security == "S1", "ar"].sum(), rtol=1e-12
    )


def test_singular_design_is_excluded():
    r, m = synthetic(n_sec=2, n_days=300, seed=1)
    m.iloc[:270] = 0.001  # constant market over the estimation window
    res = event_study(r, r.index[290], market=m, estimation=(-250, -21), event=(-1, 1))
    assert res.excluded.reason.tolist() == ["singular_design", "singular_design"]
    assert res.n_securities == 0
    assert res.abnormal_returns.empty and res.car.empty
    assert "Securities:" in str(res.summary(tests=False))


# ---------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"estimation": (-100, -1), "event": (-1, 5)}, "overlaps"),
        ({"estimation": (10, 100), "event": (-1, 5)}, "before the event window"),
        (
            {"estimation": ("2022-01-03", "2022-06-01"), "event": (-1, 5)},
            "both be day offsets or both be dates",
        ),
        ({"model": "capm"}, "unknown normal-return model"),
        ({"market": None}, "needs the market"),
        ({"car_windows": [(0, 9)]}, "not inside the event window"),
        ({"estimation": "-100", "event": (-1, 5)}, "START:END"),
        ({"estimation": (-11, -260)}, "after end"),
        ({"missing": "drop"}, "missing must be"),
        ({"model": "factor"}, "needs factors"),
        ({"min_estimation_obs": 0}, "min_estimation_obs"),
    ],
)
def test_bad_arguments_raise_study_error(kwargs, match):
    r, m = synthetic(n_sec=2, n_days=300, seed=3)
    args = {"market": m, "estimation": (-250, -11), "event": (-1, 5)}
    args.update(kwargs)
    with pytest.raises(StudyError, match=match):
        event_study(r, r.index[280], **args)


def test_bad_inputs_raise_study_error():
    r, m = synthetic(n_sec=2, n_days=300, seed=3)
    with pytest.raises(StudyError, match="not a row of returns"):
        event_study(r, "2022-01-01", market=m)  # a Saturday before the data
    with pytest.raises(StudyError, match="not a column of returns"):
        event_study(r, {"XYZ": r.index[280]}, market=m)
    with pytest.raises(StudyError, match="below -1"):
        event_study(r * 100, r.index[280], market=m)  # percent
    bad = r.copy()
    bad.iloc[5, 0] = -1.5
    with pytest.raises(StudyError, match=r"'S0' on 2022-01-10 is -1.5"):
        event_study(bad, r.index[280], market=m)
    dup = pd.concat([r.iloc[:3], r.iloc[2:]])
    with pytest.raises(StudyError, match="more than once"):
        event_study(dup, r.index[280], market=m)
    with pytest.raises(StudyError, match="starts before the data"):
        event_study(
            r, market=m, estimation=("2021-01-01", "2022-03-01"), event=("2022-06-01", "2022-06-10")
        )
    with pytest.raises(StudyError, match="need events"):
        event_study(r, market=m)
    with pytest.raises(StudyError, match="tz-aware"):
        event_study(r, pd.Timestamp("2023-01-02", tz="UTC"), market=m)


# -------------------------------------------------------------------------- result and options
def test_result_is_read_only(e2):
    res = run_e2(e2, "market")
    with pytest.raises(AttributeError):
        res.model = "mean"
    ar = res.abnormal_returns
    ar.loc[0, "ar"] = 99.0
    assert res.abnormal_returns.loc[0, "ar"] != 99.0
    assert not res.data.ar_event.flags.writeable


def test_event_data_contract(e2):
    res = run_e2(e2, "market")
    d = res.data
    assert isinstance(d, inf.EventData)
    assert d.ar_est.shape == (180, 25) and d.ar_event.shape == (13, 25)
    assert d.x_est.shape == (180, 25, 2) and d.x_event.shape == (13, 25, 2)
    assert (d.x_est[:, :, 0] == 1).all()
    np.testing.assert_array_equal(d.x_est[:, 0, 1], e2["MKT"].iloc[:180].to_numpy())
    assert list(d.n_params) == [2] * 25 and list(d.days) == list(range(13))
    assert pd.Timestamp(d.dates[0]) == pd.Timestamp(EV[0])
    ma = run_e2(e2, "market_adjusted").data
    assert ma.x_est is None and list(ma.n_params) == [0] * 25
    mean = run_e2(e2, "mean").data
    assert mean.x_est.shape == (180, 25, 1) and list(mean.n_params) == [1] * 25


def test_tests_adjusted_pvalues_and_summary(e2):
    res = run_e2(e2, "market", adjust="holm")
    t = res.tests
    assert {"day", "date", "test", "statistic", "p_value", "n", "p_adjusted"} <= set(t.columns)
    assert len(t) == 13 * 13
    assert (t.p_adjusted >= t.p_value - 1e-15).all()
    s = str(res.summary())
    assert "Event study results" in s and "market" in s and "2023-01-02..2023-09-08" in s
    assert "CAAR over" in s and "Kolari–Pynnönen (2010)" in s and "<0.001" in s
    html = res.summary().as_html()
    assert "<caption>Average abnormal return by event day, percent</caption>" in html
    tidy = res.to_frame(percent=True)
    np.testing.assert_allclose(tidy["car_pct"], 100 * res.car["car"])


def test_several_car_windows_in_one_call():
    r, m = synthetic(n_sec=5, n_days=320, seed=21)
    res = event_study(r, r.index[300], market=m, car_windows=[(0, 0), (0, 3), (-1, 5)])
    assert res.caar[["window_start", "window_end"]].values.tolist() == [[0, 0], [0, 3], [-1, 5]]
    car = res.car.pivot(index="security", columns="window_end", values="car")
    ar = res.ar_matrix
    np.testing.assert_allclose(car[3], ar.loc[0:3].sum(), rtol=1e-12)
    np.testing.assert_allclose(car[5], ar.sum(), rtol=1e-12)
    ct = res.car_tests
    assert ct.groupby(["window_start", "window_end"]).ngroups == 3


def test_all_models_available():
    assert set(MODELS) == {"mean", "market_adjusted", "market", "factor"}
    assert get_model("factor", ["A", "B"]).param_names == ("alpha", "beta_A", "beta_B")
    assert get_model("market_adjusted").n_params == 0


def test_garch_standardization_matches_arch():
    arch = pytest.importorskip("arch")
    rng = np.random.default_rng(5)
    n = 620
    idx = pd.bdate_range("2020-01-01", periods=n)
    m = pd.Series(rng.normal(0, 0.01, n), idx)
    e = np.zeros(n)
    s2 = np.full(n, 1e-4)
    z = rng.standard_normal(n)
    for t in range(1, n):  # GARCH(1,1) disturbances
        s2[t] = 2e-6 + 0.08 * e[t - 1] ** 2 + 0.9 * s2[t - 1]
        e[t] = np.sqrt(s2[t]) * z[t]
    r = pd.DataFrame({"G": 0.0001 + 0.9 * m + e}, idx)
    d0 = idx[600]
    res = event_study(r, d0, market=m, estimation=(-500, -11), event=(-1, 3), garch=True)
    ar = res.abnormal_returns
    resid = res.data.ar_est[:, 0]
    est = res.estimates.iloc[0]
    assert bool(est["garch_converged"])
    # direct arch fit on the same residuals, horizons 10..14 from the last estimation row
    y = r["G"].iloc[100:590]
    x = sm.add_constant(m.iloc[100:590])
    u = sm.OLS(y, x).fit().resid.to_numpy()
    np.testing.assert_allclose(resid, u, rtol=1e-9, atol=1e-14)
    g = arch.arch_model(u * 100, mean="Zero", vol="GARCH", p=1, q=1, rescale=False).fit(disp="off")
    var = g.forecast(horizon=14, reindex=False).variance.to_numpy()[-1]
    np.testing.assert_allclose(ar["garch_sd"], np.sqrt(var[9:14]) / 100, rtol=1e-5)
    np.testing.assert_allclose(ar["sar"], ar["ar"] / ar["garch_sd"], rtol=1e-12)

