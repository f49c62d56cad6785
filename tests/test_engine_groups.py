"""Per-observation and per-group tests on one event-study panel (tradeshock.engine.groups),
checked against independent computations: statsmodels OLS forecast variances, hand formulas, and
the engine run separately on each group. All data SYNTHETIC (tests/calendar_synthetic.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from tradeshock.engine.groups import group_car_tests, security_car_t
from tradeshock.engine.study import event_study
from tradeshock.errors import StudyError

sys.path.insert(0, str(Path(__file__).resolve().parent))
import calendar_synthetic as syn

EST = (-120, -11)
EVENT = (-1, 2)


@pytest.fixture(scope="module")
def panel():
    """SYNTHETIC: 4 securities, market factor, 3 day-0 dates -> 12 observations in one call."""
    r = syn.returns(["A", "B", "C", "D", "M"], seed=11)
    r[["A", "B", "C", "D"]] = r[["A", "B", "C", "D"]].add(0.8 * r["M"], axis=0)
    days = syn.spaced_sessions(3, step=15)
    obs = {f"{c}@{d:%Y-%m-%d}": (c, d) for d in days for c in "ABCD"}
    return r, days, obs


def _ols_t(y_est, x_est, y_ev, x_ev, rows):
    """Independent: statsmodels fit, CAR of forecast errors and its variance."""
    X = sm.add_constant(x_est) if x_est is not None else np.ones((len(y_est), 1))
    fit = sm.OLS(y_est, X).fit()
    Xe = sm.add_constant(x_ev, has_constant="add") if x_est is not None else np.ones((len(y_ev), 1))
    err = y_ev - fit.predict(Xe)
    xs = Xe[rows].sum(axis=0)
    var = rows.sum() * fit.scale + xs @ fit.cov_params() @ xs
    car = err[rows].sum()
    t = car / np.sqrt(var)
    return car, t, fit.df_resid, 2 * stats.t.sf(abs(t), fit.df_resid)


@pytest.mark.parametrize("model", ["market", "mean"])
def test_security_car_t_matches_statsmodels(panel, model):
    r, days, obs = panel
    kw = {"market": r["M"]} if model == "market" else {}
    res = event_study(r[["A", "B", "C", "D"]], obs, model=model, estimation=EST, event=EVENT, **kw)
    wins = {i: ((-1, 0) if i.startswith(("A", "C")) else (0, 2)) for i in res.securities}
    out = security_car_t(res, wins).set_index("security")
    idx = r.index
    for oid, (col, d0) in obs.items():
        p0 = idx.get_loc(d0)
        est_rows = np.arange(p0 + EST[0], p0 + EST[1] + 1)
        ev_rows = np.arange(p0 + EVENT[0], p0 + EVENT[1] + 1)
        a, b = wins[oid]
        rows = (np.arange(EVENT[0], EVENT[1] + 1) >= a) & (np.arange(EVENT[0], EVENT[1] + 1) <= b)
        xm = r["M"].to_numpy()
        car, t, dof, p = _ols_t(r[col].to_numpy()[est_rows],
                                xm[est_rows] if model == "market" else None,
                                r[col].to_numpy()[ev_rows],
                                xm[ev_rows] if model == "market" else None, rows)
        got = out.loc[oid]
        assert got["car"] == pytest.approx(car, rel=1e-9)
        assert got["statistic"] == pytest.approx(t, rel=1e-9)
        assert got["dof"] == dof
        assert got["p_value"] == pytest.approx(p, rel=1e-8)
        assert got["n_days"] == rows.sum()


def test_security_car_t_mean_model_by_hand(panel):
    """Constant mean: se = s sqrt(L + L^2 / T), s the sample sd of the estimation returns."""
    r, days, obs = panel
    res = event_study(r[["A"]], {"x": ("A", days[0])}, model="mean", estimation=EST, event=EVENT)
    out = security_car_t(res, (0, 1)).iloc[0]
    p0 = r.index.get_loc(days[0])
    est = r["A"].iloc[p0 + EST[0]:p0 + EST[1] + 1]
    ev = r["A"].iloc[p0:p0 + 2]
    T = len(est)
    car = (ev - est.mean()).sum()
    se = est.std(ddof=1) * np.sqrt(2 + 4 / T)
    assert out["car"] == pytest.approx(car, rel=1e-10)
    assert out["statistic"] == pytest.approx(car / se, rel=1e-10)
    assert out["dof"] == T - 1


def test_security_car_t_market_adjusted_by_hand(panel):
    r, days, _ = panel
    res = event_study(r[["B"]], {"x": ("B", days[1])}, model="market_adjusted", market=r["M"],
                      estimation=EST, event=EVENT)
    out = security_car_t(res, (-1, 1)).iloc[0]
    p0 = r.index.get_loc(days[1])
    resid = (r["B"] - r["M"]).iloc[p0 + EST[0]:p0 + EST[1] + 1]
    car = (r["B"] - r["M"]).iloc[p0 - 1:p0 + 2].sum()
    s = np.sqrt((resid ** 2).sum() / len(resid))      # nothing estimated: SSR / T
    assert out["statistic"] == pytest.approx(car / (s * np.sqrt(3)), rel=1e-10)


def test_security_car_t_rejects_bad_windows(panel):
    r, days, obs = panel
    res = event_study(r[["A", "B", "C", "D"]], obs, model="mean", estimation=EST, event=EVENT)
    with pytest.raises(StudyError, match="outside the event window"):
        security_car_t(res, (-2, 0))
    with pytest.raises(StudyError, match="starts after"):
        security_car_t(res, (1, 0))
    with pytest.raises(StudyError, match="no window"):
        security_car_t(res, {res.securities[0]: (0, 0)})
    with pytest.raises(StudyError, match="shape"):
        security_car_t(res, np.zeros((3, 2)))


@pytest.mark.parametrize("model", ["market", "mean"])
def test_group_tests_equal_separate_studies(panel, model):
    """Tests per group from one panel = the engine run on that group alone (full battery)."""
    r, days, obs = panel
    kw = {"market": r["M"]} if model == "market" else {}
    res = event_study(r[["A", "B", "C", "D"]], obs, model=model, estimation=EST, event=EVENT, **kw)
    groups = {d: [f"{c}@{d:%Y-%m-%d}" for c in "ABCD"] for d in days}
    got = group_car_tests(res, groups, [(-1, 0), (0, 2)])
    for d in days:
        alone = event_study(r[["A", "B", "C", "D"]], d, model=model, estimation=EST,
                            event=EVENT, car_windows=[(-1, 0), (0, 2)], **kw).car_tests
        mine = got[got["group"] == d].reset_index(drop=True)
        assert list(mine["test"]) == list(alone["test"])
        np.testing.assert_allclose(mine["statistic"], alone["statistic"], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(mine["p_value"], alone["p_value"], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(mine["caar"], alone["caar"], rtol=1e-12)
        assert (mine["n"].to_numpy() == alone["n"].to_numpy()).all()
        assert mine["rbar"].between(-1, 1).all()


def test_group_tests_skip_small_groups_and_map_windows(panel):
    r, days, obs = panel
    res = event_study(r[["A", "B", "C", "D"]], obs, model="mean", estimation=EST, event=EVENT)
    ids = res.securities
    out = group_car_tests(res, {"one": ids[:1], "two": ids[:2], "ghost": ["Z@x", "Y@x"]},
                          {"one": [(0, 0)], "two": [(0, 1)], "ghost": [(0, 0)]},
                          ["boehmer"], rbar=False)
    assert set(out["group"]) == {"two"} and "rbar" not in out.columns
    assert (out["window_end"] == 1).all()
    with pytest.raises(StudyError, match="two or more"):
        group_car_tests(res, {"one": ids[:1]}, [(0, 0)])


def test_result_methods_are_the_engine_functions(panel):
    """EventStudyResult.security_car_t / group_car_tests are the functions of engine.groups, with
    the study's bootstrap settings by default."""
    r, _, obs = panel
    res = event_study(r[["A", "B", "C", "D"]], obs, model="market", market=r["M"],
                      estimation=EST, event=EVENT, n_boot=200, seed=5)
    ids = res.securities
    a = res.security_car_t((0, 1))
    b = security_car_t(res, (0, 1))
    assert a.equals(b)
    groups = {"x": ids[:3], "y": ids[3:6]}
    g1 = res.group_car_tests(groups, [(0, 0)], ["boehmer", "kolari_pynnonen"])
    g2 = group_car_tests(res, groups, [(0, 0)], ["boehmer", "kolari_pynnonen"],
                         n_boot=res.settings["n_boot"], seed=res.settings["seed"])
    assert g1.equals(g2)


def test_security_car_t_is_the_engine_per_security_test(panel):
    """One window for all: identical to EventStudyResult.car_by_security (the one test)."""
    r, _, obs = panel
    res = event_study(r[["A", "B", "C", "D"]], obs, model="market", market=r["M"],
                      estimation=EST, event=EVENT)
    a = security_car_t(res, (-1, 2)).set_index("security")
    b = res.car_by_security([(-1, 2)]).set_index("security")
    np.testing.assert_allclose(a.loc[b.index, "statistic"], b["statistic"], rtol=1e-12)
    np.testing.assert_allclose(a.loc[b.index, "p_value"], b["p_value"], rtol=1e-12)


@pytest.mark.parametrize("model", ["market", "mean", "market_adjusted"])
def test_panel_in_blocks_equals_one_block_and_the_loop(panel, model, monkeypatch):
    """SYNTHETIC. A panel larger than the engine's block size is run block by block: the same
    numbers, bit for bit, as one block, and as the engine run on each day 0 alone (the loop),
    also when an observation of a block is excluded (its selection keeps the row order)."""
    import tradeshock.engine.study as study_mod

    r, days, obs = panel
    r = r.copy()
    r.loc[days[1], "B"] = np.nan  # B@day1 excluded: no return on day 0
    kw = {"market": r["M"]} if model != "mean" else {}
    args = dict(model=model, estimation=EST, event=EVENT, car_windows=[(-1, 0), (0, 2)], **kw)
    whole = event_study(r[["A", "B", "C", "D"]], obs, **args)
    monkeypatch.setattr(study_mod, "BLOCK_SIZE", 5)  # 12 observations -> blocks of 5, 5, 2
    blocks = event_study(r[["A", "B", "C", "D"]], obs, **args)
    assert blocks.securities == whole.securities and len(blocks.securities) == 11
    assert blocks.excluded.equals(whole.excluded)
    for name in ("abnormal_returns", "car", "estimates"):
        pd.testing.assert_frame_equal(getattr(blocks, name), getattr(whole, name), check_exact=True)
    groups = {d: [f"{c}@{d:%Y-%m-%d}" for c in "ABCD"] for d in days}
    got = group_car_tests(blocks, groups, [(-1, 0), (0, 2)], rbar=False)
    for d in days:
        alone = event_study(r[["A", "B", "C", "D"]], d, **args).car_tests
        mine = got[got["group"] == d].reset_index(drop=True)
        np.testing.assert_array_equal(mine["statistic"], alone["statistic"])
        np.testing.assert_array_equal(mine["p_value"], alone["p_value"])
