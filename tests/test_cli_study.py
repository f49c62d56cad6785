"""Tests of ``tradeshock study``: the four result files, their content, and input errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tradeshock.cli import main
from tradeshock.engine.inference import DAILY_TESTS

REF = Path(__file__).resolve().parent / "results" / "estudy2"
ARGS = [
    "--market",
    "MKT",
    "--estimation",
    "2023-01-02:2023-09-08",
    "--event",
    "2023-10-06:2023-10-24",
]
DAILY = DAILY_TESTS


def run(*args: str):
    return CliRunner().invoke(main, ["study", *args], catch_exceptions=False)


@pytest.fixture
def returns_csv(tmp_path: Path) -> Path:
    dst = tmp_path / "R.csv"
    shutil.copy(REF / "returns.csv", dst)
    return dst


def test_study_writes_the_four_files(returns_csv, tmp_path):
    out = tmp_path / "out"
    res = run(
        "--returns",
        str(returns_csv),
        *ARGS,
        "--model",
        "market",
        "--out",
        str(out),
        "--car-window",
        "2023-10-06:2023-10-17",
        "--car-window",
        "2023-10-06:2023-10-06",
    )
    assert res.exit_code == 0, res.output
    names = {
        "daily_tests.csv",
        "car_tests.csv",
        "abnormal_returns.csv",
        "estimates.csv",
        "excluded.csv",
    }
    assert {p.name for p in out.iterdir()} == names  # and no temporary file left behind
    daily = pd.read_csv(out / "daily_tests.csv")
    assert list(daily.columns) == ["date", "test", "statistic", "p_value"]
    assert len(daily) == 13 * 13 and set(daily.test) == set(DAILY)
    assert daily.date.iloc[0] == "2023-10-06" and daily.date.iloc[-1] == "2023-10-24"
    assert daily.p_value.between(0, 1).all()
    # statistics as estudy2 defines them
    ref = pd.read_csv(REF / "daily_parametric_sim.csv").set_index("date")
    piv = daily.pivot(index="date", columns="test", values="statistic")
    np.testing.assert_allclose(piv.loc[ref.index, "patell"], ref["pt_stat"], rtol=1e-8)
    refn = pd.read_csv(REF / "daily_nonparametric_sim.csv").set_index("date")
    np.testing.assert_allclose(piv.loc[refn.index, "wilcoxon"], refn["wlcx_stat"], rtol=1e-8)
    car = pd.read_csv(out / "car_tests.csv")
    assert {
        "window_start",
        "window_end",
        "date_start",
        "date_end",
        "test",
        "statistic",
        "p_value",
    } <= set(car.columns)
    assert sorted(set(zip(car.date_start, car.date_end))) == [
        ("2023-10-06", "2023-10-06"),
        ("2023-10-06", "2023-10-17"),
    ]
    lamb = car[(car.test == "lamb") & (car.date_end == "2023-10-17")].statistic.iloc[0]
    ref_car = pd.read_csv(REF / "car_tests_sim.csv").set_index("name")
    np.testing.assert_allclose(lamb, ref_car.at["car_lamb", "statistic"], rtol=1e-8)
    ar = pd.read_csv(out / "abnormal_returns.csv")
    assert list(ar.columns[:4]) == ["security", "date", "day", "ar"] and len(ar) == 25 * 13
    est = pd.read_csv(out / "estimates.csv").set_index("security")
    coef = pd.read_csv(REF / "market_model_coefficients.csv", index_col="security")
    np.testing.assert_allclose(est.loc[coef.index, "beta"], coef["beta"], rtol=1e-8)
    assert (
        (est.n_obs == 180).all()
        and (est.est_start == "2023-01-02").all()
        and (est.est_end == "2023-09-08").all()
    )
    assert "MKT" not in set(est.index)
    assert "25 securities, 0 excluded" in res.output


@pytest.mark.parametrize("model, ref", [("mean", "mean_adj"), ("market_adjusted", "mrkt_adj")])
def test_study_other_models(returns_csv, tmp_path, model, ref):
    out = tmp_path / model
    res = run("--returns", str(returns_csv), *ARGS, "--model", model, "--out", str(out))
    assert res.exit_code == 0, res.output
    daily = pd.read_csv(out / "daily_tests.csv")
    piv = daily.pivot(index="date", columns="test", values="statistic")
    par = pd.read_csv(REF / f"daily_parametric_{ref}.csv").set_index("date")
    np.testing.assert_allclose(piv.loc[par.index, "t_test"], par["t_test_stat"], rtol=1e-8)
    ar = pd.read_csv(out / "abnormal_returns.csv")
    aar = ar.groupby("date")["ar"].mean()
    np.testing.assert_allclose(aar.loc[par.index], par["mean"], rtol=1e-8)
    assert "MKT" not in set(ar.security)


def test_study_excluded_security_is_reported(returns_csv, tmp_path):
    df = pd.read_csv(returns_csv)
    df.loc[df.date == "2023-10-10", "F07"] = np.nan
    df.to_csv(returns_csv, index=False)
    out = tmp_path / "o"
    res = run("--returns", str(returns_csv), *ARGS, "--out", str(out))
    assert res.exit_code == 0
    exc = pd.read_csv(out / "excluded.csv")
    assert exc.security.tolist() == ["F07"] and exc.reason.tolist() == ["missing_event_data"]
    assert "excluded F07" in res.output  # CliRunner mixes stderr into output
    assert "F07" not in set(pd.read_csv(out / "estimates.csv").security)


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "bad.csv"
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    "text, extra, message",
    [
        ("day,MKT,A\n2023-01-02,0.01,0.02\n", [], "no 'date' column"),
        (
            "date,MKT,A\n2023-01-02,0.01,0.02\n2023-01-03,0.01,abc\n",
            [],
            "line 3, column 'A': 'abc' is not a number",
        ),
        ("date,MKT,A\n2023-01-02,0.01,0.02\n2023-13-03,0.01,0.01\n", [], "line 3, column 'date'"),
        ("date,MKT,A\n2023-01-02,0.01,0.02\n2023-01-02,0.01,0.01\n", [], "appears more than once"),
    ],
)
def test_study_bad_csv(tmp_path, text, extra, message):
    p = _write(tmp_path, text)
    res = run("--returns", str(p), *ARGS, "--out", str(tmp_path / "o"), *extra)
    assert res.exit_code == 2
    assert message in res.output and str(p) in res.output
    assert not (tmp_path / "o").exists()


def test_study_bad_arguments(returns_csv, tmp_path):
    out = str(tmp_path / "o")
    base = ["--returns", str(returns_csv), "--out", out]
    res = run(
        *base,
        "--market",
        "SPX",
        "--estimation",
        "2023-01-02:2023-09-08",
        "--event",
        "2023-10-06:2023-10-24",
    )
    assert (
        res.exit_code == 2 and "no column 'SPX' for --market" in res.output and "MKT" in res.output
    )
    res = run(*base, "--estimation", "2023-01-02:2023-09-08", "--event", "2023-10-06:2023-10-24")
    assert res.exit_code == 2 and "needs the market's returns: add --market COLUMN" in res.output
    res = run(*base, *ARGS, "--model", "capm")
    assert res.exit_code == 2 and "capm" in res.output
    res = run(
        *base,
        "--market",
        "MKT",
        "--estimation",
        "2022-01-03:2023-09-08",
        "--event",
        "2023-10-06:2023-10-24",
    )
    assert res.exit_code == 2 and "starts before the data (2023-01-02..2023-11-03)" in res.output
    assert str(returns_csv) in res.output
    res = run(
        *base,
        "--market",
        "MKT",
        "--estimation",
        "2023-01-02:2023-10-09",
        "--event",
        "2023-10-06:2023-10-24",
    )
    assert res.exit_code == 2 and "overlaps" in res.output
    res = run(*base, *ARGS, "--car-window", "2023-09-01:2023-10-10")
    assert res.exit_code == 2 and "not inside the event window" in res.output
    res = run(
        *base,
        "--market",
        "MKT",
        "--estimation",
        "2023-01-02-2023-09-08",
        "--event",
        "2023-10-06:2023-10-24",
    )
    assert res.exit_code == 2 and "START:END" in res.output
    res = run("--returns", str(tmp_path / "nope.csv"), *ARGS, "--out", out)
    assert res.exit_code == 2 and "no such file" in res.output
    assert not (tmp_path / "o").exists()


def test_study_day_offsets_with_day0(returns_csv, tmp_path):
    out = tmp_path / "o"
    res = run(
        "--returns",
        str(returns_csv),
        "--market",
        "MKT",
        "--estimation",
        "-180:-20",
        "--event",
        "-1:5",
        "--day0",
        "2023-10-09",
        "--car-window",
        "0:1",
        "--out",
        str(out),
    )
    assert res.exit_code == 0, res.output
    ar = pd.read_csv(out / "abnormal_returns.csv")
    assert sorted(set(ar.day)) == list(range(-1, 6))
    assert ar[ar.day == 0].date.unique().tolist() == ["2023-10-09"]
    est = pd.read_csv(out / "estimates.csv")
    assert (est.n_obs == 161).all()


def test_study_help_lists_the_outputs():
    res = CliRunner().invoke(main, ["study", "--help"])
    assert res.exit_code == 0
    for word in (
        "daily_tests.csv",
        "car_tests.csv",
        "abnormal_returns.csv",
        "estimates.csv",
        "--car-window",
    ):
        assert word in res.output
