"""The firm panel as one event study, tested per session (tradeshock.analyses.firm_panel).

SYNTHETIC firms (tests/calendar_synthetic.py): the per-session battery from the one call must
equal the engine run session by session, a planted CAAR must be found and a null session not;
then the real pinned S&P 500 members (TRADESHOCK_SNAPSHOT unset)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tradeshock.analyses import firm_panel as fp
from tradeshock.analyses.sessions import event_sessions
from tradeshock.engine.study import event_study
from tradeshock.errors import StudyError

sys.path.insert(0, str(Path(__file__).resolve().parent))
import calendar_synthetic as syn

FIRMS = [f"F{i:02d}" for i in range(30)]
SECTORS = {f: ("Alpha", "Beta", "Gamma")[i % 3] for i, f in enumerate(FIRMS)}


@pytest.fixture(scope="module")
def synthetic_panel():
    """SYNTHETIC: 30 firms, 3 escalation and 3 de-escalation sessions; -2% on escalation day 0s,
    and an untimed escalation (two-session window) with -1% on each of its two sessions."""
    ev, by_kind = syn.timed_calendar(3, 3, step=10)
    extra = syn.events([("2025-09-09", None, "escalation")])          # Tue: window 9..10 Sep
    ses = event_sessions(pd.concat([ev, extra], ignore_index=True))
    r = syn.returns(FIRMS, seed=21)
    r = syn.plant(r, by_kind["escalation"], FIRMS, -0.02)
    r = syn.plant(r, ["2025-09-09", "2025-09-10"], FIRMS, -0.01)
    res = fp.firm_panel(r, ses, sectors=SECTORS, n_boot=500, seed=7)
    return res, r, ses, by_kind


def test_one_call_covers_every_firm_and_session(synthetic_panel):
    res, r, ses, _ = synthetic_panel
    assert res.study.n_securities == len(FIRMS) * len(ses)
    assert res.settings["n_observations"] == len(FIRMS) * len(ses)
    assert set(res.cars["session_id"]) == set(ses.sessions["session_id"])
    assert len(res.not_covered) == 0


def test_per_session_battery_equals_separate_studies(synthetic_panel):
    res, r, ses, _ = synthetic_panel
    s = ses.sessions.set_index("session_id")
    for sid in ["2025-09-10", s.index[0], s.index[3]]:
        win = (int(s.loc[sid, "start_offset"]), 0)
        alone = event_study(r, s.loc[sid, "day0"], model="mean", estimation=(-260, -11),
                            event=(-1, 1), car_windows=[win, (-1, 1)], min_estimation_obs=100,
                            n_boot=500, seed=7).car_tests
        mine = res.session_tests[res.session_tests["session_id"] == sid].reset_index(drop=True)
        assert list(mine["test"]) == list(alone["test"])
        np.testing.assert_allclose(mine["statistic"], alone["statistic"], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(mine["p_value"], alone["p_value"], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(mine["caar"], alone["caar"], rtol=1e-12)


def _hand_caar(r, d0, a):
    p0 = r.index.get_loc(d0)
    est = r.iloc[p0 - 260:p0 - 10]
    return float((r.iloc[p0 + a:p0 + 1] - est.mean()).sum().mean())


def test_planted_caar_found_null_not(synthetic_panel):
    res, r, _, by_kind = synthetic_panel
    c = res.caar().set_index("session_id")
    for d in by_kind["escalation"]:
        row = c.loc[f"{d:%Y-%m-%d}"]
        assert row["caar"] == pytest.approx(_hand_caar(r, d, 0), rel=1e-10)
        assert row["caar"] < -0.005 and row["boehmer_p"] < 0.001
    two = c.loc["2025-09-10"]                                      # -1% on each of two sessions
    assert two["caar"] == pytest.approx(_hand_caar(r, pd.Timestamp("2025-09-10"), -1), rel=1e-10)
    assert two["boehmer_p"] < 0.001
    # KP never more significant than BMP when rbar > 0
    pos = c["rbar"] > 0
    assert (c.loc[pos, "kolari_pynnonen"].abs() <= c.loc[pos, "boehmer"].abs() + 1e-12).all()


def test_null_sessions_keep_their_size_with_kp_not_bmp():
    """SYNTHETIC null: 40 sessions, nothing planted, firms share a common factor (correlation
    about 0.2). Kolari-Pynnönen keeps about its 5% size; BMP, assuming independence, rejects far
    more often. Binomial bounds: P(>= 9 of 40 | 5%) < 0.001."""
    ev, _ = syn.timed_calendar(20, 20, step=5)
    r = syn.returns(FIRMS, seed=8)
    res = fp.firm_panel(r, event_sessions(ev), tests=["boehmer", "kolari_pynnonen"],
                        sector_tests=())
    c = res.caar()
    assert len(c) == 40
    assert (c["kolari_pynnonen_p"] < 0.05).sum() <= 8
    assert (c["boehmer_p"] < 0.05).sum() >= 12


def test_by_sector_by_hand(synthetic_panel):
    res, _, ses, _ = synthetic_panel
    bs = res.by_sector().set_index(["direction", "sector"])
    direc = ses.sessions.set_index("session_id")["direction"]
    c = res.cars.assign(direction=res.cars["session_id"].map(direc))
    g = c[(c["direction"] == "escalation") & (c["sector"] == "Beta")]
    per = g.groupby("session_id")["car_reaction"].mean()
    row = bs.loc[("escalation", "Beta")]
    assert row["n"] == len(per) == 4
    assert row["mean"] == pytest.approx(per.mean())
    assert row["se"] == pytest.approx(per.std(ddof=1) / 2)
    assert row["mean_firms"] == pytest.approx(10)
    ss = res.sector_session
    assert set(ss["test"]) == {"boehmer", "kolari_pynnonen"} and set(ss["sector"]) == set(
        SECTORS.values())
    assert "Alpha" in res.summary() or "session" in res.summary()


def test_sessions_past_the_data_are_listed_and_errors():
    ev, by_kind = syn.timed_calendar(3, 3, step=10)
    ses = event_sessions(ev)
    r = syn.returns(FIRMS[:5], seed=3, index=syn.xnys("2024-01-02", "2025-03-20"))
    res = fp.firm_panel(r, ses, tests=["boehmer"])
    assert len(res.not_covered) >= 1
    assert res.not_covered["reason"].str.contains("not in the firm data|firm data end").all()
    with pytest.raises(StudyError, match="needs market"):
        fp.firm_panel(r, ses, model="market")
    early = syn.returns(FIRMS[:5], seed=3, index=syn.xnys("2024-01-02", "2024-12-31"))
    with pytest.raises(StudyError, match="no session"):
        fp.firm_panel(early, ses)
    with pytest.raises(StudyError, match="window"):
        res.caar("post")


@pytest.mark.slow
def test_pinned_sp500_members():
    mp = pytest.MonkeyPatch()
    mp.delenv("TRADESHOCK_SNAPSHOT", raising=False)
    mp.setenv("TRADESHOCK_OFFLINE", "1")
    try:
        inp = fp.load_firm_inputs()
    finally:
        mp.undo()
    assert "pinned" in inp.source and inp.as_of == pd.Timestamp("2025-09-08")
    assert 480 <= inp.returns.shape[1] <= 500
    res = fp.firm_panel(inp, event_sessions(), tests=["t_test", "boehmer", "kolari_pynnonen"])
    c = res.caar().set_index("session_id")
    assert c.loc["2025-04-04", "caar"] < -0.03 and c.loc["2025-04-04", "boehmer_p"] < 0.001
    assert c.loc["2025-04-09", "caar"] > 0.05
    assert {"2025-10-13", "2025-10-30"} <= set(res.not_covered["session_id"])
    assert c["rbar"].between(0, 1).all()
    assert (c["kolari_pynnonen_p"] >= c["boehmer_p"]).all()
    assert res.by_sector()["sector"].nunique() == 11
