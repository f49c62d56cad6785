"""The project notebooks render end to end (real kernel, real papermill) on the available data,
and the small library pieces they lean on (parameter checks, drawdowns, AR bands) are right."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradeshock.analyses import anatomy
from tradeshock.pipeline import checks
from tradeshock.data.prices import load_prices
from tradeshock.data.returns import price_levels, wide_returns
from tradeshock.errors import ValidationError
from tradeshock.pipeline.render import render_notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    summary = render_notebooks(NOTEBOOKS, out, jobs=2, timeout=600)
    return out, summary


def test_every_project_notebook_renders_with_figures_and_no_errors(rendered):
    out, summary = rendered
    assert {r.name for r in summary.records} == {p.stem for p in NOTEBOOKS}
    for rec in summary.records:
        assert rec.status == "ok", f"{rec.name}: {rec.error}"
        html = (out / f"{rec.name}.html").read_text()
        pngs = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
        assert pngs, f"{rec.name}: no embedded figure"
        assert all(base64.b64decode(p)[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
        assert "Traceback" not in html and 'class="output_error"' not in html
        assert not re.search(r'<script[^>]+src="https?://', html)
        assert rec.as_of is not None, f"{rec.name}: data as-of date not recorded"
    index = (out / "index.html").read_text()
    for p in NOTEBOOKS:
        assert f"{p.stem}.html" in index


def test_second_render_with_nothing_changed_executes_nothing(rendered):
    out, _ = rendered
    again = render_notebooks(NOTEBOOKS, out, jobs=1)
    assert [r.status for r in again.records] == ["up to date"] * len(NOTEBOOKS)


def test_bad_notebook_parameter_fails_before_execution(tmp_path):
    nb = ROOT / "notebooks" / "02_us_indices.ipynb"
    with pytest.raises(ValidationError, match="estimation_window"):
        render_notebooks([nb], tmp_path, params={"estimation_window": 5})
    with pytest.raises(ValidationError, match="no_such_parameter"):
        render_notebooks([nb], tmp_path, params={"no_such_parameter": 1})
    assert not (tmp_path / "02_us_indices.html").exists()


def test_parameter_checks_name_the_parameter_and_the_fix():
    assert checks.check_window("-260:-11") == (-260, -11)
    assert checks.check_window([-1, 5]) == (-1, 5)
    with pytest.raises(ValidationError, match="'event_window'.*start 5 is after end -1"):
        checks.check_window("5:-1", "event_window")
    with pytest.raises(ValidationError, match="START:END"):
        checks.check_window("abc", "w")
    with pytest.raises(ValidationError, match="overlaps"):
        checks.check_windows_order((-10, 0), (-1, 5))
    with pytest.raises(ValidationError, match="'symbols'.*\\^GSPX"):
        checks.check_symbols(["^GSPX"])
    assert checks.check_event("pause") == "E2025-04-09-pause"
    with pytest.raises(ValidationError, match="'event'"):
        checks.check_event("liberation-day-typo")
    with pytest.raises(ValidationError, match="ISO date"):
        checks.check_date("2025-13-45", "start")


def test_drawdown_table_by_hand():
    idx = pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-06", "2025-01-07"])
    lv = pd.DataFrame({"A": [100.0, 90.0, 80.0, 95.0, 101.0]}, index=idx)
    t = anatomy.drawdown_table(lv, "2025-01-01", "2025-01-06",
                               regain={"pre-shock close": "2025-01-02"}).loc["A"]
    assert t["trough date"] == pd.Timestamp("2025-01-03")
    assert t["drawdown (%)"] == pytest.approx(-20.0)
    assert t["regained pre-shock close"] == pd.Timestamp("2025-01-06")   # 95 >= 90
    assert t["regained reference"] == pd.Timestamp("2025-01-07")         # 101 >= 100


def test_sp500_drawdown_from_the_february_record_to_the_april_low():
    prices = load_prices(["^GSPC"], start="2025-01-02", end="2025-12-31")
    t = anatomy.drawdown_table(price_levels(prices), "2025-02-19", "2025-04-30").loc["^GSPC"]
    assert t["reference close"] == pytest.approx(6144.15)
    assert t["trough date"] == pd.Timestamp("2025-04-08")
    assert t["drawdown (%)"] == pytest.approx(100 * (4982.77 / 6144.15 - 1))
    assert round(t["drawdown (%)"], 1) == -18.9
    # first record close since 19 Feb: 27 Jun 2025 (6,173.07)
    assert t["regained reference"] == pd.Timestamp("2025-06-27")


def test_ar_paths_bands_are_prediction_intervals():
    """AR band: t quantile x statsmodels' se_obs of the day's prediction; CAR band after k days:
    t quantile x sqrt(k s^2 + var(k mu_hat)) (constant mean, 50 estimation rows, t(49))."""
    import statsmodels.api as sm
    from scipy import stats

    from tradeshock.engine.study import event_study

    rng = np.random.default_rng(7)  # synthetic returns, for the band arithmetic only
    idx = pd.bdate_range("2024-01-01", periods=120)
    r = pd.DataFrame(rng.normal(0, 0.01, (120, 2)), index=idx, columns=["A", "B"])
    res = event_study(r, idx[100], model="mean", estimation=(-60, -11), event=(-1, 3))
    p = anatomy.ar_paths(res)
    a = p[p["security"] == "A"]
    fit = sm.OLS(r["A"].iloc[40:90].to_numpy(), np.ones(50)).fit()
    q = stats.t.ppf(0.975, 49)
    se_day = fit.get_prediction(np.array([[1.0]])).se_obs[0]
    k = np.arange(1, len(a) + 1)
    se_car = np.sqrt(k * fit.scale + np.array(
        [fit.get_prediction(np.array([[float(j)]])).se_mean[0] ** 2 for j in k]))
    np.testing.assert_allclose(a["ar"], r["A"].iloc[99:104].to_numpy() - fit.params[0], rtol=1e-10)
    np.testing.assert_allclose(a["ar_high"] - a["ar"], q * se_day, rtol=1e-10)
    np.testing.assert_allclose(a["ar"] - a["ar_low"], q * se_day, rtol=1e-10)
    np.testing.assert_allclose(a["car_high"] - a["car"], q * se_car, rtol=1e-10)
    assert np.allclose(a["car"], a["ar"].cumsum())


def test_country_report_renders_for_another_market_on_its_own_calendar(tmp_path):
    nb = ROOT / "notebooks" / "country_report.ipynb"
    summary = render_notebooks([nb], tmp_path, params={"symbol": "^N225"})
    (rec,) = summary.records
    assert rec.status == "ok", rec.error
    html = (tmp_path / "country_report.html").read_text()
    assert "XTKS" in html and "2025-04-10" in html  # Tokyo first traded the pause on 10 April


def test_country_report_rejects_a_series_without_an_exchange(tmp_path):
    """Refused before any notebook runs: a yield is no price, a future has no exchange calendar."""
    nb = ROOT / "notebooks" / "country_report.ipynb"
    with pytest.raises(ValidationError, match="'DGS10'.*is a bp_change series, not a price"):
        render_notebooks([nb], tmp_path, params={"symbol": "DGS10"})
    with pytest.raises(ValidationError, match="'GC=F'.*trades on no exchange calendar"):
        render_notebooks([nb], tmp_path, params={"symbol": "GC=F"})
    assert not (tmp_path / "country_report.html").exists()


def test_summary_headlines_through_the_library():
    """The figures 06_summary states: S&P 500 -4.84% on 3 April, +9.52% on 9 April, and a
    selloff CAR (3-8 April, constant mean) that is negative and significant."""
    from tradeshock import events
    from tradeshock.engine.study import event_study

    prices = load_prices(["^GSPC"], start="2023-10-01")
    rets = wide_returns(prices)
    day0 = events.align("liberation_day", "XNYS").day0
    assert round(100 * rets.loc[day0, "^GSPC"], 2) == -4.84
    assert round(100 * rets.loc[events.align("pause", "XNYS").day0, "^GSPC"], 2) == 9.52
    res = event_study(rets[["^GSPC"]], day0, model="mean", estimation=(-260, -11), event=(0, 3))
    bw = res.car_tests.query("test == 'brown_warner_1985'").iloc[0]
    assert res.car["car"].iloc[0] < -0.10 and bw["p_value"] < 1e-3
