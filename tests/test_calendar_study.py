"""The event x market table and the pooled study (tradeshock.analyses.calendar_study).

SYNTHETIC returns (tests/calendar_synthetic.py) with abnormal returns planted on known sessions
check that the pooled test finds them and stays quiet without them, every column against a hand
computation, the CSV writer and the heat map; then the real pinned data (TRADESHOCK_SNAPSHOT unset)
for the published S&P 500 closes and reproducibility, and the shared snapshot for independence of
the source.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from tradeshock.analyses import calendar_study as cs
from tradeshock.analyses.figures import check_figure
from tradeshock.analyses.sessions import event_sessions
from tradeshock.errors import StudyError, TradeshockError

sys.path.insert(0, str(Path(__file__).resolve().parent))
import calendar_synthetic as syn
from conftest import SP500_CLOSES

MARKETS = ["^GSPC", "S1", "S2", "S3", "C1", "C2"]
GROUPS = {"^GSPC": "us_index", "S1": "us_sector", "S2": "us_sector", "S3": "us_sector",
          "C1": "country_etf", "C2": "country_etf"}


def _table(effect_esc=0.0, effect_de=0.0, seed=3, **kw):
    """SYNTHETIC: 10 escalation and 10 de-escalation timed sessions; effects planted on day 0."""
    ev, by_kind = syn.timed_calendar(10, 10, n_eff=3)
    ses = event_sessions(ev)
    r = syn.returns(MARKETS + ["W"], seed=seed)
    r = syn.plant(r, by_kind["escalation"], MARKETS, effect_esc)
    r = syn.plant(r, by_kind["de-escalation"], MARKETS, effect_de)
    return cs.market_table(r, ses, markets=MARKETS, groups=GROUPS, **kw), r, by_kind, ses


@pytest.fixture(scope="module")
def planted():
    return _table(effect_esc=-0.03)


@pytest.fixture(scope="module")
def null():
    return _table()


# ------------------------------------------------------------------------------ the table
def test_table_columns_and_hand_values(planted):
    tab, r, by_kind, ses = planted
    t = tab.to_frame()
    for col in ("session_id", "market", "day0", "raw0", "ar0", "ar_reaction", "car", "t_reaction",
                "p_reaction", "t_car", "p_car", "model", "estimation", "direction", "units"):
        assert col in t.columns
    assert len(t) == len(ses) * len(MARKETS)
    d0 = by_kind["escalation"][2]
    row = t[(t["market"] == "S2") & (t["day0"] == d0)].iloc[0]
    p0 = r.index.get_loc(d0)
    est = r["S2"].iloc[p0 - 260:p0 - 10]               # -260..-11, the default
    assert row["raw0"] == pytest.approx(r["S2"].iloc[p0], rel=1e-12)
    assert row["ar0"] == pytest.approx(r["S2"].iloc[p0] - est.mean(), rel=1e-10)
    assert row["ar_reaction"] == pytest.approx(row["ar0"], rel=1e-12)   # timed: day 0 alone
    assert row["car"] == pytest.approx((r["S2"].iloc[p0 - 1:p0 + 2] - est.mean()).sum(), rel=1e-10)
    assert row["raw_car"] == pytest.approx(np.prod(1 + r["S2"].iloc[p0 - 1:p0 + 2]) - 1, rel=1e-10)
    se = est.std(ddof=1) * math.sqrt(1 + 1 / len(est))
    assert row["t_reaction"] == pytest.approx(row["ar0"] / se, rel=1e-10)
    assert row["p_reaction"] == pytest.approx(2 * stats.t.sf(abs(row["t_reaction"]), 249), rel=1e-8)
    assert row["model"] == "mean" and row["estimation"] == "-260..-11"
    assert row["car_window"] == "-1..1" and row["units"] == "fraction"


def test_cross_sections_have_kp_beside_bmp(planted):
    tab = planted[0]
    cx = tab.cross_sections
    assert set(cx["group"]) == {"us_sector", "country_etf"}
    assert set(cx["test"]) == {"t_test", "boehmer", "kolari_pynnonen"}
    assert set(cx["window"]) == {"reaction", "car"}
    assert (cx.groupby(["session_id", "group", "window"]).size() == 3).all()


def test_pooled_finds_planted_effect_and_not_the_null(planted, null):
    """SYNTHETIC: -3% planted on the 10 escalation sessions; nothing on de-escalation."""
    pe = cs.pool_sessions(planted[0], market="^GSPC")
    esc = pe.get("escalation")
    assert esc["n"] == 10 and esc["p_t"] < 0.001 and esc["ci_high"] < 0
    assert esc["ci_low"] < -0.03 < esc["ci_high"]
    assert esc["n_neg"] == 10 and esc["p_sign"] == pytest.approx(2 * 0.5 ** 10)
    assert pe.get("de-escalation")["p_t"] > 0.05
    pn = cs.pool_sessions(null[0], market="^GSPC")
    assert pn.get("escalation")["p_t"] > 0.05 and pn.get("effective")["n"] == 3
    g = cs.pool_sessions(planted[0], group="us_sector").get("escalation",
                                                           series="us_sector (mean)")
    assert g["p_t"] < 0.001 and g["series"] == "us_sector (mean)"


def test_pooled_moments_by_hand(planted):
    tab = planted[0]
    res = cs.pool_sessions(tab, market="S1", measure="car")
    t = tab.to_frame()
    x = t[(t["market"] == "S1") & (t["direction"] == "de-escalation")]["car"].to_numpy()
    row = res.get("de-escalation", series="S1", measure="car")
    n = len(x)
    se = x.std(ddof=1) / math.sqrt(n)
    assert row["mean"] == pytest.approx(x.mean()) and row["t"] == pytest.approx(x.mean() / se)
    assert row["p_t"] == pytest.approx(2 * stats.t.sf(abs(x.mean() / se), n - 1))
    q = stats.t.ppf(0.975, n - 1)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((x.mean() - q * se, x.mean() + q * se))
    k, m = int((x > 0).sum()), int((x != 0).sum())
    tail = sum(math.comb(m, j) for j in range(m + 1) if math.comb(m, j) <= math.comb(m, k)) / 2 ** m
    assert row["p_sign"] == pytest.approx(min(1.0, tail))


def test_pooled_variants_and_errors(planted):
    tab = planted[0]
    full = cs.pooled_study(tab, markets=["^GSPC", "S1"], groups=["country_etf"])
    assert set(full.to_frame()["variant"]) == set(cs.VARIANTS)
    timed = full.get("escalation", variant="all_timed")
    assert timed["n"] == 10                       # all synthetic events are timed
    assert "escalation" in full.summary() and len(full.values) > 0
    with pytest.raises(StudyError, match="exactly one"):
        cs.pool_sessions(tab, market="^GSPC", group="us_sector")
    with pytest.raises(StudyError, match="measure"):
        cs.pool_sessions(tab, measure="bhar")
    with pytest.raises(StudyError, match="variant"):
        cs.pool_sessions(tab, variant="clean")
    with pytest.raises(StudyError, match="no rows"):
        cs.pool_sessions(tab, market="XYZ")
    with pytest.raises(StudyError, match="no pooled row"):
        full.get("legal")


def test_untimed_two_session_window_is_summed():
    """SYNTHETIC: an untimed US event on a Tuesday: reaction = AR Tue + AR Wed."""
    ev = syn.events([("2025-03-11", None, "escalation"), ("2025-05-06", "11:00", "deal")])
    ses = event_sessions(ev)
    r = syn.returns(["^GSPC", "ACWI"], seed=5)
    tab = cs.market_table(r, ses, markets=["^GSPC"], model="market", proxy="ACWI")
    row = tab.to_frame().set_index("session_id").loc["2025-03-12"]
    assert row["window_start"] == pd.Timestamp("2025-03-11") and row["n_window"] == 2
    ar = tab.study.ar_matrix["^GSPC@2025-03-12"]
    assert row["ar_reaction"] == pytest.approx(ar.loc[-1] + ar.loc[0], rel=1e-12)
    assert row["raw_reaction"] == pytest.approx(
        (1 + r.loc["2025-03-11", "^GSPC"]) * (1 + r.loc["2025-03-12", "^GSPC"]) - 1)
    assert row["proxy"] == "ACWI" and row["model"] == "market"


@pytest.mark.parametrize("kw, msg", [
    ({"model": "market", "proxy": "^GSPC"}, "identically zero"),
    ({"model": "market_adjusted", "proxy": "S1"}, "degenerate"),
    ({"model": "factor"}, "choose one of"),
    ({"model": "market", "proxy": "NOPE"}, "not a column"),
    ({"markets": ["^GSPC", "ZZZ"]}, "not columns"),
    ({"estimation": (-100, -1)}, "must end before"),
])
def test_market_table_refuses_bad_setups(kw, msg):
    ev, _ = syn.timed_calendar(2, 2)
    r = syn.returns(MARKETS, seed=2)
    kw = {"markets": MARKETS, **kw}
    with pytest.raises(TradeshockError, match=msg):
        cs.market_table(r, event_sessions(ev), **kw)


def test_sessions_outside_the_data_are_listed():
    ev, by_kind = syn.timed_calendar(3, 3)
    r = syn.returns(["^GSPC"], seed=2, index=syn.xnys("2024-01-02", "2025-03-10"))
    tab = cs.market_table(r, event_sessions(ev), markets=["^GSPC"])
    nc = tab.not_covered
    assert len(nc) > 0 and nc["reason"].str.contains("not a row|data end").all()
    assert set(tab.to_frame()["session_id"]).isdisjoint(nc["session_id"])


def test_raw_moves_by_hand():
    """SYNTHETIC levels: VIX points, yield bp (closed on the end date -> NaN), dollar fraction."""
    ev = syn.events([("2025-03-12", "10:00", "escalation"), ("2025-10-13", "10:00", "deal")])
    ses = event_sessions(ev)
    r = syn.returns(["^GSPC"], seed=4)
    idx = r.index
    lv = pd.DataFrame({"VIX": 20 + np.arange(len(idx)) * 0.1, "Y": 4 + np.arange(len(idx)) * 0.01,
                       "DXY": 100 * 1.001 ** np.arange(len(idx))}, index=idx)
    lv.loc[pd.Timestamp("2025-10-13"), "Y"] = np.nan        # bond market closed (Columbus Day)
    tab = cs.market_table(r, ses, markets=["^GSPC"], levels=lv,
                          raw_units={"VIX": "points", "Y": "bp", "DXY": "fraction"})
    t = tab.to_frame().set_index(["session_id", "market"])
    assert t.loc[("2025-03-12", "VIX"), "raw0"] == pytest.approx(0.1)
    assert t.loc[("2025-03-12", "VIX"), "raw_car"] == pytest.approx(0.3)
    assert t.loc[("2025-03-12", "Y"), "raw0"] == pytest.approx(1.0)          # 0.01 pp = 1 bp
    assert t.loc[("2025-03-12", "Y"), "units"] == "bp"
    assert t.loc[("2025-03-12", "DXY"), "raw0"] == pytest.approx(0.001)
    assert np.isnan(t.loc[("2025-10-13", "Y"), "raw0"])
    assert t.loc[("2025-10-13", "Y"), "raw_car"] == pytest.approx(
        100 * (lv["Y"].loc["2025-10-14"] - lv["Y"].loc["2025-10-09"]))
    assert np.isnan(t.loc[("2025-03-12", "VIX"), "ar0"])
    with pytest.raises(StudyError, match="not in the levels"):
        cs.market_table(r, ses, markets=["^GSPC"], levels=lv, raw_units={"OIL": "fraction"})


def test_csv_writer_is_tidy_and_atomic(planted, tmp_path):
    tab = planted[0]
    path = tab.write_csv(tmp_path / "out" / "calendar.csv")
    back = pd.read_csv(path)
    assert len(back) == len(tab.to_frame())
    for col in ("session_id", "market", "day0", "raw0", "ar0", "car", "t_car", "p_car", "model",
                "estimation"):
        assert col in back.columns
    assert back["day0"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert not list(path.parent.glob(".*tmp"))
    with pytest.raises(StudyError, match="CSV"):
        cs.write_table_csv(tab, tmp_path / "x.txt")


def test_heatmap_follows_house_style(planted):
    import matplotlib.pyplot as plt

    fig = cs.heatmap_figure(planted[0], value="car")
    assert check_figure(fig) == []
    assert "CAR" in fig.axes[0].get_title("left")
    plt.close(fig)
    with pytest.raises(StudyError, match="not a return column"):
        cs.heatmap_figure(planted[0], value="t_car")


def test_summary_and_repr(planted):
    tab = planted[0]
    assert "Largest reactions of ^GSPC" in tab.summary()
    assert "MarketTable" in repr(tab)
    w = tab.wide("ar0", ["S1", "^GSPC"])
    assert list(w.columns) == ["S1", "^GSPC"] and len(w) == len(tab.sessions)


# ------------------------------------------------------------------------ real pinned data
@pytest.fixture(scope="module")
def pinned_table():
    mp = pytest.MonkeyPatch()
    mp.delenv("TRADESHOCK_SNAPSHOT", raising=False)
    mp.setenv("TRADESHOCK_OFFLINE", "1")
    try:
        inp = cs.load_calendar_inputs()
        yield cs.market_table(inp, event_sessions()), inp
    finally:
        mp.undo()


def test_pinned_data_sp500_closes(pinned_table):
    tab, inp = pinned_table
    assert "pinned" in inp.source
    t = tab.to_frame().set_index(["session_id", "market"])
    c = SP500_CLOSES
    assert t.loc[("2025-04-03", "^GSPC"), "raw0"] == pytest.approx(
        c["2025-04-03"] / c["2025-04-02"] - 1, abs=2e-6)
    assert t.loc[("2025-04-09", "^GSPC"), "raw0"] == pytest.approx(
        c["2025-04-09"] / c["2025-04-08"] - 1, abs=2e-6)
    assert len(tab.not_covered) == 0 and len(tab.excluded) == 0
    assert set(cs.default_markets()) <= set(t.index.get_level_values("market"))
    pooled = cs.pool_sessions(tab)
    esc = pooled.get("escalation")
    assert esc["n"] == 13 and esc["mean"] < 0


def test_pinned_results_are_reproducible(pinned_table, monkeypatch):
    tab, inp = pinned_table
    again = cs.market_table(inp, event_sessions()).to_frame()
    pd.testing.assert_frame_equal(tab.to_frame(), again)


def _shared_folder() -> Path | None:
    import os

    env = os.environ.get("TRADESHOCK_SNAPSHOT", "").strip()
    root = Path(__file__).resolve().parents[1]
    for cand in ([Path(env)] if env else []) + [root.parent / "shared" / "data" / "market"]:
        if (cand / "GSPC.csv").is_file():
            return cand
    return None


SHARED = _shared_folder()   # read at import, before fixtures change the environment


@pytest.mark.snapshot
def test_results_do_not_depend_on_the_snapshot_source(pinned_table, monkeypatch):
    """The shared offline folder serves the same 2023-2025 values as the pinned snapshot; the
    table says which source served it."""
    folder = SHARED
    if folder is None:
        pytest.skip("no shared offline snapshot folder (TRADESHOCK_SNAPSHOT) with GSPC.csv")
    monkeypatch.setenv("TRADESHOCK_OFFLINE", "1")
    tab, _ = pinned_table
    inp = cs.load_calendar_inputs(source="snapshot", snapshot=folder)
    other = cs.market_table(inp, event_sessions())
    assert other.source != tab.source and "pinned" not in other.source
    cols = ["raw0", "raw_reaction", "ar0", "ar_reaction", "car", "t_reaction", "p_reaction"]
    a = tab.to_frame().set_index(["session_id", "market"])[cols]
    b = other.to_frame().set_index(["session_id", "market"])[cols]
    pd.testing.assert_frame_equal(a.sort_index(), b.sort_index(), rtol=1e-9)
