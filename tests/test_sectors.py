"""Tests of tradeshock.sectors: helper functions on synthetic data, and the key facts of
notebooks/03_sectors.ipynb on the pinned snapshot (simple returns as fractions throughout)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from tradeshock import events
from tradeshock.data.firms import load_constituents, load_firms
from tradeshock.data.prices import load_prices
from tradeshock.data.returns import wide_returns
from tradeshock.engine import regression
from tradeshock.analyses import sectors
from tradeshock.errors import StudyError
from tradeshock.engine.study import event_study

SELLOFF_DAY0 = pd.Timestamp("2025-04-03")
REBOUND_DAY0 = pd.Timestamp("2025-04-09")
SERIES = list(sectors.SECTOR_ETFS) + list(sectors.BROAD_ETFS)


# ------------------------------------------------------------------------------ synthetic
@pytest.fixture(scope="module")
def synthetic():
    rng = np.random.default_rng(7)
    idx = pd.bdate_range("2024-01-01", "2025-04-30")
    m = pd.Series(rng.normal(0, 0.01, len(idx)), idx)
    betas = {"A": 0.5, "B": 1.0, "C": 1.5}
    r = pd.DataFrame({k: 0.0002 + b * m + rng.normal(0, 0.005, len(idx)) for k, b in betas.items()})
    r.loc["2025-04-03", "A"] -= 0.08      # a large negative shock for A on day 0
    r.loc["2025-04-09", "A"] += 0.08      # fully undone on the rebound day
    r.loc["2025-04-03", "C"] -= 0.08      # C never recovers
    return r, m


def test_offset_date(synthetic):
    r, _ = synthetic
    assert sectors.offset_date(r.index, "2025-04-03", 3) == pd.Timestamp("2025-04-08")
    assert sectors.offset_date(r.index, "2025-04-03", -1) == pd.Timestamp("2025-04-02")
    with pytest.raises(StudyError, match="not a row"):
        sectors.offset_date(r.index, "2025-04-05", 0)          # a Saturday
    with pytest.raises(StudyError, match="outside the data"):
        sectors.offset_date(r.index, "2025-04-03", 10_000)


def test_car_table_interval_and_order(synthetic):
    r, m = synthetic
    res = event_study(r, SELLOFF_DAY0, model="market", market=m, estimation=(-260, -11),
                      event=(0, 3), car_windows=[(0, 3), (0, 0)])
    t = sectors.car_table(res, (0, 3))
    assert list(t["car"]) == sorted(t["car"])
    assert t.iloc[0]["security"] in {"A", "C"}
    # independent: statsmodels OLS of B on the market over the 250 estimation rows; the CAR's
    # variance is 4 s^2 (four prediction errors) + var(xs' b_hat), xs the summed regressors
    pos = r.index.get_loc(SELLOFF_DAY0)
    est, ev = slice(pos - 260, pos - 10), slice(pos, pos + 4)
    fit = sm.OLS(r["B"].iloc[est], sm.add_constant(m.iloc[est])).fit()
    xe = sm.add_constant(m.iloc[ev], has_constant="add")
    car = float((r["B"].iloc[ev] - fit.predict(xe)).sum())
    se = np.sqrt(4 * fit.scale + fit.get_prediction(xe.sum().to_numpy()[None, :]).se_mean[0] ** 2)
    row = t.set_index("security").loc["B"]
    assert row["car"] == pytest.approx(car, rel=1e-10)
    assert row["se"] == pytest.approx(se, rel=1e-10)
    assert row["se"] > np.sqrt(fit.scale) * 2.0              # the estimation error adds to sqrt(4) s
    assert row["df"] == fit.df_resid == 248
    assert row["t"] == pytest.approx(car / se, rel=1e-10)
    assert row["ci_high"] - row["car"] == pytest.approx(stats.t.ppf(0.975, 248) * se, rel=1e-10)
    assert row["p"] == pytest.approx(2 * stats.t.sf(abs(car / se), 248), rel=1e-8)
    # the first window is the default; an unknown window says which exist
    assert len(sectors.car_table(res)) == 3
    with pytest.raises(StudyError, match="not a CAR window"):
        sectors.car_table(res, (1, 2))


def test_reversal_table_verdicts(synthetic):
    r, m = synthetic
    days = {d.strftime("%d_%b").lower(): d for d in pd.to_datetime(
        ["2025-04-03", "2025-04-04", "2025-04-07", "2025-04-08", "2025-04-09"])}
    sur = regression.sur_event_regression(r, m, days, estimation_end="2025-03-20")
    rev = sectors.reversal_table(sur, list(days)[:4], list(days)[4:]).set_index("series")
    g = sur.gammas.pivot(index="day", columns="series", values="gamma")
    assert rev.loc["A", "selloff_car"] == pytest.approx(g.loc[list(days)[:4], "A"].sum())
    assert rev.loc["A", "net_car"] == pytest.approx(rev.loc["A", "selloff_car"] + rev.loc["A", "rebound_car"])
    assert rev.loc["A", "verdict"] == "full reversal not rejected"
    assert rev.loc["C", "verdict"] == "fell short"
    with pytest.raises(StudyError, match="not dummies"):
        sectors.reversal_table(sur, ["01_jan"], ["09_apr"])


def test_firm_sectors_and_top_movers():
    cons = pd.DataFrame({"symbol": ["AAA", "BBB", "CCC"], "gics_sector": ["Energy", " ", "Utilities"]})
    sec = sectors.firm_sectors(cons, ["AAA", "BBB", "ZZZ"])
    assert sec.to_dict() == {"AAA": "Energy", "BBB": "Unknown", "ZZZ": "Unknown"}
    cars = pd.DataFrame({"security": list("abcde"), "car": [0.03, -0.2, 0.1, -0.05, 0.0]})
    losers, gainers = sectors.top_movers(cars, 2, names={"b": "Bee"}, sectors={"b": "X"})
    assert list(losers["security"]) == ["b", "d"] and losers.loc[0, "name"] == "Bee"
    assert list(gainers["security"]) == ["c", "a"]


def test_sector_caar_tests_synthetic(synthetic):
    r, m = synthetic
    tab = sectors.sector_caar_tests(r, m, SELLOFF_DAY0, {"A": "S1", "B": "S1", "C": "S2"},
                                    event=(0, 3))
    # S2 has one firm only: no cross-sectional test, so it is left out
    assert list(tab["sector"]) == ["S1"]
    assert {"n", "caar", "boehmer_stat", "boehmer_p", "kolari_pynnonen_stat",
            "kolari_pynnonen_p"} <= set(tab.columns)
    assert tab.loc[0, "n"] == 2


# ------------------------------------------------------------------------- real data (pinned)
@pytest.fixture(scope="module")
def etf():
    prices = load_prices(SERIES + ["^GSPC"], start="2023-10-01", source="pinned")
    rets = wide_returns(prices)
    d0 = events.align("liberation_day", "XNYS").day0
    d9 = events.align("pause", "XNYS").day0
    kw = dict(model="market", market=rets["^GSPC"], estimation=(-260, -11))
    sell = event_study(rets[SERIES], d0, event=(0, 3), car_windows=[(0, 3)], **kw)
    reb = event_study(rets[SERIES], d9, event=(0, 0), car_windows=[(0, 0)], **kw)
    dates = [sectors.offset_date(rets.index, d0, k) for k in range(4)] + [d9]
    dummy = {d.strftime("%d_%b").lower(): d for d in dates}
    sur = regression.sur_event_regression(
        rets[SERIES], rets["^GSPC"], dummy,
        estimation_start=sectors.offset_date(rets.index, d0, -260),
        estimation_end=sectors.offset_date(rets.index, d0, -11))
    rev = sectors.reversal_table(sur, list(dummy)[:4], list(dummy)[4:])
    return dict(rets=rets, d0=d0, d9=d9, sell=sell, reb=reb, rev=rev)


def test_event_days(etf):
    assert etf["d0"] == SELLOFF_DAY0 and etf["d9"] == REBOUND_DAY0
    assert 100 * etf["rets"].loc["2025-04-09", "^GSPC"] == pytest.approx(9.52, abs=0.005)


def test_every_etf_has_estimation_stats(etf):
    for res in (etf["sell"], etf["reb"]):
        assert res.excluded.empty
        est = res.estimates.set_index("security")
        assert set(est.index) == set(SERIES)
        assert (est["n_obs"] == 250).all()
        assert np.isfinite(est[["alpha", "beta", "resid_sd"]]).all().all()


def test_raw_returns_xlk(etf):
    r = etf["rets"]["XLK"]
    assert (1 + r.loc["2025-04-03":"2025-04-08"]).prod() - 1 < -0.10   # raw selloff: about -14 %
    assert r.loc["2025-04-09"] > 0.10                                   # raw rebound: about +13 %


def test_selloff_and_rebound_cars(etf):
    sell = sectors.car_table(etf["sell"]).set_index("security")
    reb = sectors.car_table(etf["reb"]).set_index("security")
    # Against the S&P 500, energy lost most and the selloff was significant for it ...
    assert sell["car"].idxmin() == "XLE" and sell.loc["XLE", "car"] < -0.10
    assert sell.loc["XLE", "p"] < 0.01
    # ... while tech (beta about 1.6) fell less than its beta implied: positive market-model CAR,
    # and on 9 April it rose less than its beta implied: negative market-model AR.
    assert sell.loc["XLK", "car"] > 0 and reb.loc["XLK", "car"] < 0
    assert reb.loc["XLE", "car"] > 0
    # SPY tracks its own index
    assert abs(sell.loc["SPY", "car"]) < 0.005 and abs(reb.loc["SPY", "car"]) < 0.02


def test_reversal_table_real(etf):
    rev = etf["rev"].set_index("series")
    assert set(rev.index) == set(SERIES)
    assert rev.loc["XLE", "verdict"] == "fell short"
    assert np.isfinite(rev[["net_car", "se", "stat", "p"]]).all().all()
    text = sectors.describe_sectors(sectors.car_table(etf["sell"]), sectors.car_table(etf["reb"]),
                                    etf["rev"], {**sectors.SECTOR_ETFS, **sectors.BROAD_ETFS})
    assert f"{100 * rev.loc['XLE', 'selloff_car']:+.2f}%" in text
    assert "Energy (XLE)" in text


def test_firm_level_kp_shrinks_bmp(etf):
    firms = load_firms(start="2023-10-01", source="pinned")
    cons = load_constituents(source="pinned")
    members = set(cons.loc[cons["in_sp500_2025-04-01"], "symbol"])
    fr = wide_returns(firms)
    cols = [c for c in fr.columns if c in members]
    assert len(cols) >= 480
    fm = etf["rets"]["^GSPC"].reindex(fr.index)
    res = event_study(fr[cols], SELLOFF_DAY0, model="market", market=fm, estimation=(-260, -11),
                      event=(0, 3), car_windows=[(0, 3)])
    ct = res.car_tests.set_index("test")
    assert ct.loc["boehmer", "caar"] < 0
    assert abs(ct.loc["kolari_pynnonen", "statistic"]) < abs(ct.loc["boehmer", "statistic"])
    energy = [c for c in cols if sectors.firm_sectors(cons, [c]).iloc[0] == "Energy"]
    tab = sectors.sector_caar_tests(fr[energy], fm, SELLOFF_DAY0,
                                    sectors.firm_sectors(cons, energy), event=(0, 3))
    assert tab.loc[0, "sector"] == "Energy" and tab.loc[0, "caar"] < -0.10
    text = sectors.describe_firms(res.car_tests, tab)
    assert f"{100 * ct.loc['boehmer', 'caar']:+.2f}%" in text
