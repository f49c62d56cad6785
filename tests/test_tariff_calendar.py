"""The calendar notebook's parameters and orchestration (tradeshock.analyses.tariff_calendar).

Real market data (the snapshot the suite uses), run with NON-default parameters: other kinds,
markets without the S&P 500, another lead market, CAR window, model and untimed rule; the
negative cases (kinds with no timed event, no escalation session, firm data that end before every
session, a kind the calendar does not have) give a clear error or an empty result with a note.
The day-0 AR is checked against an independent computation from the prices.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tradeshock.analyses import tariff_calendar as tc
from tradeshock.analyses.contract import load_contract
from tradeshock.analyses.firm_panel import FirmInputs
from tradeshock.errors import ValidationError
from tradeshock.pipeline.preamble import start

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "07_tariff_calendar.ipynb"


def _defaults() -> dict:
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    ns: dict = {}
    exec("".join(cell["source"]), {}, ns)
    return ns


def _params(**changes) -> dict:
    return _defaults() | {"firms": False} | changes


def _run(**changes):
    s = start(tc.PARAMETERS, _params(**changes), show=False)
    return tc.study_calendar(s.p, s.prices, s.universe, s.events, s.names, as_of=s.as_of), s


# ------------------------------------------------------------------------------ contract
def test_notebook_names_this_contract_and_its_defaults_pass():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    ref = nb["metadata"]["tradeshock"]["contract"]
    assert load_contract(ref) is tc.PARAMETERS
    p = tc.PARAMETERS.check(_defaults())
    assert set(p) == set(tc.PARAMETERS.names())
    assert len(p.markets) == 3 + 11 + 28  # indices, sector ETFs, country ETFs of the universe
    assert p.markets[:3] == ["^GSPC", "^IXIC", "^RUT"]
    assert all(not o["outputs"] for o in nb["cells"] if o["cell_type"] == "code")


def test_markets_mix_symbols_and_groups_once_each():
    p = tc.PARAMETERS.check(_params(markets="XLK, sectors", lead_market="XLK"))
    assert p.markets[0] == "XLK" and len(p.markets) == 11 and p.markets.count("XLK") == 1


@pytest.mark.parametrize("changes, expected", [
    ({"markets": ["^N225"], "lead_market": "^N225"}, "does not trade on XNYS"),
    ({"markets": ["sectorz"]}, "'sectorz' is not in data/universe.csv"),
    ({"directions": ["sideways"]}, "unknown direction(s) 'sideways'"),
    ({"kinds": []}, "parameter 'kinds' is empty"),
    ({"lead_market": "^RUT", "markets": ["sectors"]}, "'^RUT' is not among the markets"),
    ({"model": "market", "market_proxy": "XLK"}, "'XLK' is also a studied market"),
    ({"estimation_window": "-260:-1"}, "ends on day -1, inside the event window -1:1"),
    ({"untimed": "whenever"}, "'untimed' = 'whenever' is not allowed"),
])
def test_bad_values_are_refused_with_the_parameter_named(changes, expected):
    with pytest.raises(ValidationError) as err:
        tc.PARAMETERS.check(_params(**changes))
    assert expected in str(err.value)


def test_after_close_rule_lets_the_estimation_window_reach_day_minus_one():
    p = tc.PARAMETERS.check(_params(untimed="after_close", car_window="0:2",
                                    estimation_window="-200:-1"))
    assert p.estimation_window == (-200, -1)


def test_kinds_the_calendar_does_not_have_are_refused(monkeypatch):
    import tradeshock.events.calendar as cal

    ev = cal.load_events()
    monkeypatch.setattr(cal, "load_events", lambda *a, **k: ev[ev["kind"] != "rumor"])
    with pytest.raises(ValidationError, match=r"'kinds' = \['rumor'\] matches no event"):
        tc.PARAMETERS.check(_params(kinds=["rumor"]))


# ------------------------------------------------------------------------------ orchestration
@pytest.fixture(scope="module")
def other():
    """NON-default run: directional kinds only (no effective dates), four US markets without the
    S&P 500, the Nasdaq as lead, CAR window 0..+2, the market model against ACWI, untimed events
    after the close, estimation -200..-6."""
    return _run(kinds=["announcement", "escalation", "retaliation", "de-escalation", "deal"],
                directions=["escalation", "de-escalation"], markets=["^IXIC", "XLK", "XLF", "XLE"],
                lead_market="^IXIC", car_window="0:2", model="market", untimed="after_close",
                estimation_window="-200:-6")


def test_other_parameters_reach_every_part(other):
    study, _ = other
    t = study.table.to_frame()
    eq = t[t["group"] != "cross_asset"]
    assert list(dict.fromkeys(eq["market"])) == ["^IXIC", "XLK", "XLF", "XLE"]
    assert set(eq["model"]) == {"market"} and set(eq["proxy"]) == {"ACWI"}
    assert set(t["car_window"]) == {"0..2"}
    assert (study.sessions.sessions["n_window"] == 1).all()  # after the close: day 0 alone
    assert not set(study.sessions.sessions["direction"]) & {"effective", "legal"}
    assert set(study.taco.regressions["market"]) == {"^IXIC", "XLK", "XLF", "XLE"}
    pooled = study.pooled_table().to_frame()
    assert set(pooled.index.get_level_values("direction")) == {"escalation", "de-escalation"}
    assert set(pooled.index.get_level_values("series")) == {"Nasdaq Composite",
                                                           "sector ETFs (mean)"}
    text = study.describe()
    assert "Nasdaq Composite" in text and "S&P 500" not in text
    assert "No session consists only of effective dates" in study.placebo_text()
    assert "days 0..+2" in study.header() and "days -200..-6" in study.header()
    assert "firm panel not run (firms = False)" in study.firm_session_table().as_text()


def test_csv_has_the_columns_the_issue_asks_for(other):
    study, _ = other
    f = pd.read_csv(io.StringIO(study.csv_text()))
    for col in ("event_session", "event_ids", "market", "day0", "raw_day0_return", "ar_day0",
                "car", "statistic_car", "p_value_car", "model", "estimation_window", "est_start",
                "est_end", "data_source", "as_of"):
        assert col in f.columns, col
    assert f["event_session"].str.fullmatch(r"\d{4}-\d\d-\d\d").all()
    assert set(f["units"]) == {"fraction", "points", "bp"}
    assert f.loc[f["market"] == "DGS10", "ar_day0"].isna().all()  # raw moves only
    assert "0..+2" in study.csv_description() and "model market" in study.csv_description()


def test_day0_ar_against_an_independent_computation():
    """Constant-mean model: AR on day 0 = return on day 0 - mean return over the estimation
    window (sessions -120..-11 of the New York calendar), from the prices directly."""
    study, s = _run(kinds=["escalation"], markets=["XLK", "XLF"], lead_market="XLK",
                    estimation_window="-120:-11", timed_robustness=False)
    t = study.table.to_frame().set_index(["session_id", "market"])
    lv = s.prices[s.prices["symbol"] == "XLK"].set_index("date")
    col = "adj_close" if lv["adj_close"].notna().any() else "close"
    r = lv[col].sort_index().pct_change().dropna()
    for sid, d0 in study.sessions.sessions[["session_id", "day0"]].itertuples(index=False):
        i = r.index.get_loc(d0)
        expected = r.iloc[i] - r.iloc[i - 120:i - 10].mean()
        assert t.at[(sid, "XLK"), "ar0"] == pytest.approx(expected, abs=1e-12)
        assert t.at[(sid, "XLK"), "raw0"] == pytest.approx(r.iloc[i], abs=1e-12)


def test_no_timed_and_no_escalation_session_give_notes_not_errors():
    study, _ = _run(kinds=["legal", "clarification"], directions=["legal"],
                    markets=["indices"], lead_market="^RUT")
    assert study.timed is None and "not run" in study.notes["timed"]
    assert "Timed events alone: not run" in study.timed_table().caption
    assert np.isnan(study.taco.get("^RUT")["slope"])
    text = study.describe()
    assert "a trend cannot be estimated" in text and "legal-like sessions" in text
    assert "Timed events alone: not run" in text and "Firm panel not run" in text
    assert "too few de-escalation (0) or escalation (0) sessions" in text
    assert study.unclassified_table().caption.endswith(": none")
    assert "no ETF group" in study.cross_section_table().as_text()


def test_firm_panel_orchestration_on_a_subset(monkeypatch):
    """The firm part with 25 real members (monkeypatched loader), then with firm data that end
    before every session: a note, not an error."""
    from tradeshock.analyses.firm_panel import load_firm_inputs

    full = load_firm_inputs()
    cols = list(full.returns.columns[:25])
    sub = FirmInputs(full.returns[cols], {c: full.sectors[c] for c in cols}, full.names, [],
                     full.source, full.as_of)
    monkeypatch.setattr(tc, "load_firm_inputs", lambda: sub)
    study, _ = _run(kinds=["escalation", "de-escalation"], markets=["XLK", "XLF"],
                    directions=["escalation", "de-escalation"],
                    lead_market="XLK", firms=True, timed_robustness=False)
    tab = study.firm_session_table().to_frame()
    assert (tab["n"] == 25).all() and {"boehmer_p", "kolari_pynnonen_p"} <= set(tab.columns)
    sec = study.firm_sector_table().to_frame()
    assert set(sec.index.get_level_values("direction")) <= {"escalation", "de-escalation"}
    assert "25 S&P 500 members" in study.describe()
    early = FirmInputs(full.returns.loc[:"2024-12-31", cols], sub.sectors, full.names, [],
                       full.source, pd.Timestamp("2024-12-31"))
    monkeypatch.setattr(tc, "load_firm_inputs", lambda: early)
    study2, _ = _run(kinds=["escalation"], markets=["XLK"], lead_market="XLK", firms=True,
                     timed_robustness=False)
    assert study2.firms is None and "firm panel not run" in study2.notes["firms"]
    assert "not run" in study2.firm_session_table().caption


def test_non_index_markets_are_named_not_tickered():
    """A sector ETF as the lead: every paragraph names it (display name), never by ticker."""
    study, s = _run(kinds=["escalation", "de-escalation", "deal"], markets=["XLK", "XLF", "QQQ"],
                    directions=["escalation", "de-escalation"], lead_market="XLK",
                    timed_robustness=False)
    text = study.describe()
    assert s.names["XLK"] in text
    for ticker in ("XLK", "XLF", "QQQ"):
        assert ticker not in text, ticker
    assert "XLK" not in study.placebo_text() + study.taco_text()


def test_taco_text_never_calls_a_significant_mean_indistinguishable():
    """The post-break mean: significantly up -> 'significantly up days', down -> contradicts,
    otherwise 'not distinguishable' (all three branches, on a result built here)."""
    from tradeshock.analyses import calendar_text as text

    study, _ = _run(kinds=["escalation", "de-escalation"], markets=["XLK", "XLF"],
                    directions=["escalation", "de-escalation"], lead_market="XLK",
                    timed_robustness=False)
    taco = study.taco
    ba = taco.before_after.copy()
    i = ba.index[ba["market"] == "XLK"][0]
    for p, mean, expect in ((0.01, 0.01, "significantly up days"),
                            (0.01, -0.01, "contradict the claim"),
                            (0.40, 0.01, "not distinguishable from zero")):
        ba.loc[i, ["p_after_zero", "mean_after", "n_after", "n_before"]] = [p, mean, 4, 2]
        taco.before_after = ba
        out = text.describe_taco(taco, "XLK", names=study.names)
        assert expect in out, (p, mean)
        assert ("not distinguishable" in out) == (p >= 0.05)


def test_firm_table_states_the_model_and_provenance_the_firm_source(monkeypatch):
    """Firm note names the model actually used (not 'constant-mean or market'); the firm data's
    source and last date are recorded for the provenance, or why they were not used."""
    from tradeshock.analyses.firm_panel import load_firm_inputs

    full = load_firm_inputs()
    cols = list(full.returns.columns[:12])
    sub = FirmInputs(full.returns[cols], {c: full.sectors[c] for c in cols}, full.names, [],
                     full.source, full.as_of)
    monkeypatch.setattr(tc, "load_firm_inputs", lambda: sub)
    study, _ = _run(kinds=["escalation", "de-escalation"], markets=["XLK", "XLF"],
                    directions=["escalation"], lead_market="XLK", firms=True,
                    model="market_adjusted", market_proxy="SPY", estimation_window="-200:-21",
                    timed_robustness=False)
    note = " ".join(study.firm_session_table().notes)
    assert "model market_adjusted against" in note and "days -200..-21" in note
    assert "Constant-mean or market" not in note
    prov = study.provenance()
    assert prov["firm_prices"] == full.source.rstrip(". ")
    assert prov["firm_prices_as_of"] == f"{full.as_of:%Y-%m-%d}"
    off, _ = _run(kinds=["escalation"], markets=["XLK"], lead_market="XLK",
                  timed_robustness=False)
    assert off.provenance()["firm_prices"].startswith("not used")


def test_heatmap_of_one_market_keeps_room_for_its_axes():
    """One market (the S&P 500 alone): the heat map is wide enough for title, ticks and colour
    bar (at 4.3 in matplotlib warned 'axes sizes collapsed to zero' in the notebook)."""
    import matplotlib.pyplot as plt

    study, _ = _run(markets=["^GSPC"], lead_market="^GSPC", cross_asset=[],
                    timed_robustness=False)
    fig = study.heatmap()
    assert fig.get_size_inches()[0] >= 7.0
    assert fig.axes[0].get_position().width > 0.2
    plt.close(fig)
