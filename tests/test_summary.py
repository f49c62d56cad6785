"""The one-page summary (notebook 06) and its whole-calendar headline (issue 18).

Real data (the shared offline snapshot); headline numbers checked against independent
computations from the levels and the session table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradeshock.analyses import summary
from tradeshock.errors import ValidationError
from tradeshock.events import load_events
from tradeshock.pipeline.preamble import start

SECTORS = ["XLK", "XLF", "XLV", "XLY", "XLP", "XLE", "XLI", "XLB", "XLU", "XLRE", "XLC"]
DEFAULTS = {
    "index_symbol": "^GSPC", "selloff_event": "liberation_day", "rebound_event": "pause",
    "selloff_sessions": None, "estimation_window": "-260:-11", "event_window": "-1:5",
    "record_lookback": 250, "trough_within": 18, "sector_etfs": SECTORS,
    "timeline_events": ["liberation_day", "china_34", "pause", "uk_deal", "geneva",
                        "japan_deal", "eu_deal"],
    "calendar_car_window": "-1:1",
}


def _study(**changes):
    s = start(summary.PARAMETERS, {**DEFAULTS, **changes}, show=False)
    return s, summary.summarize(s.p, s.returns, s.levels, s.names, s.events, s.universe)


def test_default_headlines_match_independent_computations(shared_snapshot):
    s, st = _study()
    lv = s.levels["^GSPC"].dropna()
    f = st.headline_frame()
    assert st.n_selloff == 4 and st.selloff_day0 == pd.Timestamp("2025-04-03")
    assert f["value"].iloc[0] == pytest.approx(100 * (lv["2025-04-03"] / lv["2025-04-02"] - 1))
    assert f["value"].iloc[2] == pytest.approx(100 * (lv["2025-04-09"] / lv["2025-04-08"] - 1))
    # the high of the 250 sessions before day 0 is the 19 February 2025 record
    assert st.record_date == pd.Timestamp("2025-02-19")
    trough = lv.loc["2025-02-20":"2025-04-30"]
    assert f["value"].iloc[3] == pytest.approx(100 * (trough.min() / lv["2025-02-19"] - 1))
    assert "high regained on 2025-06-27" in f["note"].iloc[3]
    # the pause is day +4 of Liberation Day on XNYS: the annotation sits there
    day, car, label = summary.path_annotation(st)
    paths = st.paths().set_index("day")
    assert day == 4 and car == pytest.approx(100 * paths.loc[4, "car"])
    assert "(9 Apr)" in label
    assert st.sector_line().startswith("Lowest: XLE")


def test_other_events_no_sectors_and_a_rebound_outside_the_path(shared_snapshot):
    s, st = _study(index_symbol="^RUT", selloff_event="china_34", rebound_event="geneva",
                   sector_etfs=[], event_window="-2:6", record_lookback=60)
    assert st.n_selloff == len(pd.bdate_range("2025-04-04", "2025-05-09")) - 1  # Good Friday
    assert summary.path_annotation(st) is None  # 12 May is far beyond day +6
    assert st.sector_line() == "No sector ETF was studied."
    text = st.headline_frame().to_string()
    assert "Liberation" not in text and "90-day pause" not in text and "Geneva" in text
    lv = s.levels["^RUT"].dropna()
    look = lv.loc[:"2025-04-03"].iloc[-60:]
    assert st.record_date == look.idxmax()


def test_calendar_headline_pools_sessions_and_states_taco(shared_snapshot):
    r = summary.calendar_returns("^GSPC", "XNYS")
    h = summary.calendar_headline(r, "^GSPC", "S&P 500", "XNYS", load_events(), (-260, -11),
                                  (-1, 1))
    t = h.table.to_frame()
    esc = t[(t["market"] == "^GSPC") & (t["direction"] == "escalation")]["ar_reaction"].dropna()
    row = h.pooled.get("escalation", series="^GSPC")
    assert row["n"] == len(esc) and row["mean"] == pytest.approx(esc.mean())
    f = h.frame()
    assert f.loc["mean reaction, escalation-like sessions", "value"] == pytest.approx(
        100 * esc.mean())
    assert "mean CAR days -1..+1, de-escalation-like sessions" in f.index
    text = summary.describe_calendar(h)
    assert f"on the {len(esc)} escalation-like sessions it averaged {100 * esc.mean():+.2f}%" \
        in text
    assert "TACO, tested" in text and "Notebook 07" in text


def test_calendar_headline_negative_cases(shared_snapshot):
    """Only a few retaliations: no de-escalation session, too few for a TACO slope."""
    ev = load_events()
    few = ev[ev["kind"] == "retaliation"].head(3)
    r = summary.calendar_returns("^GSPC", "XNYS")
    h = summary.calendar_headline(r, "^GSPC", "S&P 500", "XNYS", few, (-260, -11), (0, 2))
    text = summary.describe_calendar(h)
    assert "there is no de-escalation-like session" in text
    assert "too few for a slope" in text or "TACO was not tested" in text
    assert "TACO, tested" not in text
    f = h.frame()
    assert f.loc["mean reaction, de-escalation-like sessions", "n"] == 0
    assert np.isnan(f.loc["mean reaction, de-escalation-like sessions", "value"])
    assert "mean CAR days 0..+2, escalation-like sessions" in f.index


def test_contract_refusals():
    with pytest.raises(ValidationError, match="rebound_event.*not after the selloff"):
        summary.PARAMETERS.check({**DEFAULTS, "selloff_event": "geneva"})
    with pytest.raises(ValidationError, match="selloff_sessions.*into the rebound"):
        summary.PARAMETERS.check({**DEFAULTS, "selloff_sessions": 5})
    with pytest.raises(ValidationError, match="sector_etfs.*the index"):
        summary.PARAMETERS.check({**DEFAULTS, "index_symbol": "XLK"})
    with pytest.raises(ValidationError, match="timeline_events' is empty"):
        summary.PARAMETERS.check({**DEFAULTS, "timeline_events": []})


def test_calendar_returns_reach_back_for_a_long_estimation_window(shared_snapshot):
    ev = load_events()
    r = summary.calendar_returns("^GSPC", "XNYS", (-400, -11), ev)
    first = pd.Timestamp(ev["date"].min())
    assert (r.loc[:first].dropna().size) >= 400
    h = summary.calendar_headline(r, "^GSPC", "S&P 500", "XNYS", ev, (-400, -11), (-1, 1))
    assert len(h.table.not_covered) + len(h.table.excluded) == 0
    assert "could not be studied" not in summary.describe_calendar(h)


# ---- other parameter combinations (helper fc)
def test_one_sector_etf_and_an_etf_as_the_headline_index(shared_snapshot):
    s, st = _study(index_symbol="SPY", sector_etfs=["XLK"])
    assert len(st.sectors) == 1
    line = st.sector_line()
    assert line.startswith("One sector ETF: XLK") and "highest" not in line
    assert f"{100 * st.sectors['car'].iloc[0]:.2f}%" in line
    # the selloff CAR of the index itself, independently: constant mean over -260..-11
    r = s.returns["SPY"].dropna()
    d0 = r.index.get_loc(pd.Timestamp("2025-04-03"))
    mu = r.iloc[d0 - 260:d0 - 10].mean()
    car = (r.iloc[d0:d0 + 4] - mu).sum()
    assert st.headline_frame()["value"].iloc[1] == pytest.approx(100 * car)


def test_sector_etfs_of_another_exchange_are_refused_and_need_no_path_history(shared_snapshot):
    with pytest.raises(ValidationError, match=r"sector_etfs' lists XLK \(XNYS\).*'\^FTSE' "
                       r"\(XLON\)"):
        summary.PARAMETERS.check({**DEFAULTS, "index_symbol": "^FTSE", "sector_etfs": ["XLK"]})
    p = summary.PARAMETERS.check({**DEFAULTS, "index_symbol": "^FTSE", "sector_etfs": []})
    assert p["sector_etfs"] == []
    # a long CAR path of the index does not demand the sector ETFs' data that far
    p = summary.PARAMETERS.check({**DEFAULTS, "event_window": "-1:300"})
    needs = summary.PARAMETERS.needs(p)
    last: dict = {}
    for n in needs:
        last[n.symbol] = max(last.get(n.symbol, n.last), n.last)
    assert last["^GSPC"] > pd.Timestamp("2026-06-01")
    assert last["XLK"] < pd.Timestamp("2025-04-09")


def test_the_whole_calendar_load_is_recorded_in_the_source_line(shared_snapshot):
    s, st = _study(index_symbol="^RUT", sector_etfs=[])
    r = summary.calendar_returns("^RUT", st.calendar, (-260, -11), s.events)
    assert "Russell 2000" in r.attrs["what"] and "XNYS" in r.attrs["what"]
    before = s.source_line()
    s.also_loaded(r.attrs["what"], r, r.attrs["source"], show=False)
    after = s.source_line()
    first = r.dropna().index[0]
    assert after.startswith(before.rstrip("."))
    assert f"{first:%Y-%m-%d} to {r.dropna().index[-1]:%Y-%m-%d}" in after
    assert "whole-calendar returns of Russell 2000" in after


def test_path_title_and_annotation_cut_on_word_boundaries(shared_snapshot):
    s, st = _study(index_symbol="SPY", sector_etfs=[], selloff_event="china_34",
                   rebound_event="geneva", event_window="-1:30")
    first, second = st.path_title().split("\n")
    assert first == "SPDR S&P 500 ETF: cumulative abnormal return around day 0 of"
    assert len(second) <= 70 and second.endswith("…")
    assert st.selloff.title.startswith(second[:-1])
    assert st.selloff.title[len(second) - 1] in " ,"  # cut between words
    _, _, label = summary.path_annotation(st)  # Geneva is day +25 of 4 April on XNYS
    assert label.endswith("(12 May)")
    text = label.rsplit(" (", 1)[0]
    assert len(text) <= 40 and text.endswith("…")
    assert st.rebound.title[len(text) - 1] in " ,:"
    assert summary._shorten("short", 40) == "short"


def test_a_trough_search_past_the_data_end_is_refused_not_cut(shared_snapshot):
    from tradeshock.pipeline.preamble import coverage

    late = {**DEFAULTS, "selloff_event": "E2025-10-10-china-100-threat",
            "rebound_event": "E2025-10-30-busan", "sector_etfs": []}
    with pytest.raises(ValidationError, match=r"trough_within -250:500 .* needs \^GSPC"):
        summary.PARAMETERS.check({**late, "trough_within": 500}, coverage=coverage)
    summary.PARAMETERS.check({**late, "trough_within": 18}, coverage=coverage)
