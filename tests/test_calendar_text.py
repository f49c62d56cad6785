""""What the data say" of the calendar study (tradeshock.analyses.calendar_text): every sentence
follows the numbers. SYNTHETIC tables (tests/calendar_synthetic.py) with planted effects, nulls,
opposite signs and too-small samples; non-default alpha and break dates."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from tradeshock.analyses import calendar_study as cs
from tradeshock.analyses import calendar_text as ct
from tradeshock.analyses import firm_panel as fp
from tradeshock.analyses import taco
from tradeshock.analyses.sessions import event_sessions

sys.path.insert(0, str(Path(__file__).resolve().parent))
import calendar_synthetic as syn

GROUPS = {"^GSPC": "us_index", "S1": "us_sector", "S2": "us_sector", "S3": "us_sector"}


def _build(esc=0.0, de=0.0, eff=0.0, trend=0.0, n_esc=10, n_de=8, n_eff=3, seed=6):
    """SYNTHETIC table: planted day-0 effects per direction and a trend on escalations."""
    ev, by_kind = syn.timed_calendar(n_esc, n_de, n_eff=n_eff, step=6)
    ses = event_sessions(ev)
    r = syn.returns(list(GROUPS), seed=seed)
    cols = list(GROUPS)
    e = by_kind.get("escalation", [])
    days = np.array([(d - min(ev["date"])).days for d in e], dtype=float)
    if e:
        r = syn.plant(r, e, cols, esc + trend * days / 30.0)
    if by_kind.get("de-escalation"):
        r = syn.plant(r, by_kind["de-escalation"], cols, de)
    if by_kind.get("effective"):
        r = syn.plant(r, by_kind["effective"], cols, eff)
    tab = cs.market_table(r, ses, markets=cols, groups=GROUPS)
    return ses, tab, cs.pooled_study(tab), r


@pytest.fixture(scope="module")
def planted():
    return _build(esc=-0.03, de=0.02)


def test_pooled_text_follows_significance(planted):
    ses, tab, pooled, _ = planted
    text = ct.describe_pooled(pooled)
    esc = pooled.get("escalation")
    assert f"averaged {100 * esc['mean']:+.2f}%" in text
    assert "different from zero at 5%" in text
    null = _build()[2]
    assert "not distinguishable from zero" in ct.describe_pooled(null)
    # a non-default alpha: the verdict follows the p-value against it
    p = null.get("escalation")["p_t"]
    loose = ct.describe_pooled(null, alpha=0.5)
    verdict = "different from zero at 50%" if p < 0.5 else "not distinguishable from zero at 50%"
    assert verdict in loose


def test_pooled_text_with_missing_or_single_direction():
    _, _, pooled, _ = _build(n_de=1, n_eff=0)
    text = ct.describe_pooled(pooled, directions=("escalation", "de-escalation", "legal"))
    assert "Only 1 de-escalation session: too few to test." in text
    assert "There is no legal session" in text


def test_placebo_verdicts():
    _, tab, pooled, _ = _build(eff=0.0)
    quiet = ct.describe_placebo(pooled, tab)
    assert "No evidence that effective dates moved the market" in quiet
    assert "3 sessions" in quiet
    _, tab2, pooled2, _ = _build(eff=-0.04, n_eff=6)
    loud = ct.describe_placebo(pooled2, tab2)
    assert "The placebo fails" in loud
    _, tab3, pooled3, _ = _build(n_eff=0)
    assert "cannot be run" in ct.describe_placebo(pooled3, tab3)


def test_taco_text_support_contradiction_and_power():
    up = taco.taco_test(_build(esc=-0.04, trend=0.008)[1], markets=["^GSPC", "S1"])
    assert "The data support it" in ct.describe_taco(up)
    down = taco.taco_test(_build(esc=-0.04, trend=-0.008)[1], markets=["^GSPC"])
    t = ct.describe_taco(down)
    assert "The pinned data contradict it" in t and "hurt more, not less" in t
    flat = taco.taco_test(_build(esc=-0.03)[1], markets=["^GSPC"], break_date="2025-04-01")
    t = ct.describe_taco(flat)
    r = flat.get("^GSPC")
    assert "neither confirm nor refute" in t
    assert f"{100 * r['mds']:+.2f} pp per 30 days" in t
    assert "1 April 2025" in t
    # a constant -3% on every escalation: still significant after the break -> contradiction
    assert "contradict the claim that markets shrugged them off" in t


def test_taco_text_too_few_sessions():
    res = taco.taco_test(_build(n_esc=3)[1], markets=["^GSPC"])
    assert "cannot be estimated" in ct.describe_taco(res)
    assert "Asymmetry" in ct.describe_asymmetry(res)


def test_asymmetry_text_numbers(planted):
    res = taco.taco_test(planted[1], markets=["^GSPC"])
    a = res.asymmetry.set_index("market").loc["^GSPC"]
    text = ct.describe_asymmetry(res, alpha=0.01)
    assert f"{100 * a['mean_deescalation']:+.2f}%" in text
    assert f"{abs(100 * a['diff']):.2f} pp" in text and "at 1%" in text
    assert ("less than a threat" in text) == (a["diff"] < 0)


def test_sessions_and_largest_and_cross_sections(planted):
    ses, tab, pooled, _ = planted
    s = ct.describe_sessions(ses)
    assert f"fall on {len(ses)} event sessions" in s and ses.untimed_rule in s
    real = event_sessions()
    assert "2025-04-07 (effective; negotiation; rumor) unclassified" in ct.describe_sessions(real)
    one = event_sessions(kinds=["rumor"])  # a single event: singular nouns, no "1 events"
    text = ct.describe_sessions(one)
    assert "The 1 calendar event falls on 1 event session of" in text and "1 events" not in text
    lg = ct.describe_largest(tab, n=2)
    assert lg.startswith("The 2 largest reactions of the S&P 500")
    assert "no reaction of XYZ" in ct.describe_largest(tab, "XYZ")
    cx = ct.describe_cross_sections(tab)
    assert "Kolari-Pynnönen adjustment on" in cx
    assert ct.describe_cross_sections(tab, group="country_etf") == ""


def test_firms_text_and_whole_section(planted):
    ses, tab, pooled, r = planted
    firms = fp.firm_panel(r[["S1", "S2", "S3"]], ses, tests=["boehmer", "kolari_pynnonen"],
                          sectors={"S1": "A", "S2": "A", "S3": "B"})
    f = ct.describe_firms(firms, tab, n=2)
    assert "one event study of" in f and "Kolari-Pynnönen on" in f
    assert "hardest-hit sector" in f
    whole = ct.what_the_data_say(sessions=ses, table=tab, pooled=pooled,
                                 taco=taco.taco_test(tab), firms=firms, alpha=0.1)
    paras = whole.split("\n\n")
    assert len(paras) >= 7
    assert any(p.startswith("TACO, tested") for p in paras)
    assert any(p.startswith("Placebo") for p in paras)
    no_optional = ct.what_the_data_say(sessions=ses, table=tab, pooled=pooled)
    assert "TACO" not in no_optional and "Firms:" not in no_optional
