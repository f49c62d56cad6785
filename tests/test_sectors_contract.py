"""The 03_sectors notebook's analysis layer with non-default parameters: its contract, the
SectorStudy tables and the parameter-driven narrative (issue 16)."""

from __future__ import annotations

import pandas as pd
import pytest

from tradeshock.analyses import sectors
from tradeshock.errors import ValidationError

DEFAULTS = dict(etfs=["XLK", "XLF", "XLE", "XLU"], broad=["SPY"], market_symbol="^GSPC",
                selloff_event="liberation_day", rebound_event="pause",
                estimation_window="-260:-11", selloff_window="0:3", rebound_window="0:0",
                alpha=0.05, firm_level=False, n_movers=5)


def _study(**changes):
    from tradeshock.pipeline.preamble import start

    s = start(sectors.PARAMETERS, {**DEFAULTS, **changes}, show=False)
    return sectors.SectorStudy(s.returns, s.p, s.events, s.names)


def test_contract_refuses_bad_values_at_once():
    with pytest.raises(ValidationError) as err:
        sectors.PARAMETERS.check({**DEFAULTS, "etfs": [], "alpha": 1.5,
                                  "selloff_window": "-20:3"})
    text = str(err.value)
    assert "parameter 'etfs' is empty" in text
    assert "parameter 'alpha' = 1.5 is out of range" in text
    assert "estimation_window -260:-11 does not end before selloff_window -20:3" in text


def test_describe_sectors_names_the_rebound_it_was_given():
    sell = pd.DataFrame({"security": ["A", "B"], "car": [-0.05, 0.01], "p": [0.01, 0.5]})
    reb = pd.DataFrame({"security": ["A", "B"], "car": [0.02, -0.01], "p": [0.1, 0.5]})
    rev = pd.DataFrame({"series": ["A", "B"], "net_car": [-0.03, 0.0], "p": [0.01, 0.9]})
    text = sectors.describe_sectors(sell, reb, rev, {"A": "Alpha"}, rebound_title="the truce day")
    assert "Over the truce day the abnormal return runs from -1.00% (B)" in text
    assert "pause" not in text
    assert "fell short for Alpha (A)" in text


def test_other_events_windows_and_market(shared_snapshot):
    st = _study(selloff_event="china_34", rebound_event="geneva", selloff_window="0:2",
                rebound_window="0:1", market_symbol="SPY", broad=["IWM"],
                estimation_window="-200:-6")
    assert st.day0 == {"selloff": pd.Timestamp("2025-04-04"),
                       "rebound": pd.Timestamp("2025-05-12")}
    assert [d.strftime("%Y-%m-%d") for d in st.reb_dates] == ["2025-05-12", "2025-05-13"]
    assert st.res_sell.estimates["n_obs"].eq(195).all()
    text = st.describe()
    assert "days 0..+1 from 12 May 2025" in text and "pause" not in text.lower()
    cars = st.cars_table("selloff").as_text()
    assert "days 0..+2 from 4 Apr 2025" in cars and "IWM Russell 2000" in cars
    raw = st.raw_table()
    assert list(raw.to_frame().columns)[0] == "Thu 3 Apr"    # the session before day 0
    assert "np.float64" not in st.reversal_frame().as_text()


def test_no_broad_etf(shared_snapshot):
    st = _study(broad=[])
    assert set(st.car_sell["security"]) == {"XLK", "XLF", "XLE", "XLU"}


# ---- issue 16, other combinations (helper fb): refusals before any work, true text
def _problems(**changes) -> str:
    with pytest.raises(ValidationError) as err:
        sectors.PARAMETERS.check({**DEFAULTS, **changes})
    return str(err.value)


def test_market_proxy_listed_as_a_studied_series_is_refused():
    text = _problems(etfs=["XLK", "SPY"], broad=[], market_symbol="SPY")
    assert "'market_symbol' = 'SPY' is also listed in etfs" in text


def test_series_of_another_exchange_are_refused():
    text = _problems(etfs=["EWJ", "^N225"], market_symbol="^N225")
    assert "'etfs' lists series that do not trade on XNYS: ^N225 (XTKS)" in text
    assert "'market_symbol' = '^N225' trades on XTKS, not XNYS" in text
    # a market proxy without an exchange calendar (a future) stays allowed
    sectors.PARAMETERS.check({**DEFAULTS, "market_symbol": "GC=F"})


@pytest.mark.parametrize("changes", [
    {"rebound_event": "liberation_day"},                          # the selloff's own event
    {"selloff_window": "0:5"},                                    # runs into 9 Apr
    {"selloff_event": "geneva", "rebound_event": "pause"},       # rebound before selloff
])
def test_rebound_sessions_must_follow_the_selloff_sessions(changes):
    text = _problems(**changes)
    assert "parameter 'rebound_event'" in text and "runs to" in text


def test_firm_level_windows_the_firm_data_cannot_fill_are_refused():
    text = _problems(firm_level=True, estimation_window="-500:-11")
    assert "firm data cover 2023-10-02 to" in text and "set firm_level False" in text
    sectors.PARAMETERS.check({**DEFAULTS, "estimation_window": "-500:-11"})  # firms off: fine


def test_one_session_window_reads_its_date_and_joint_test_is_a_sentence(shared_snapshot):
    st = _study(rebound_window="1:1", alpha=0.025)
    assert st.window_text("rebound") == "day +1 (10 Apr 2025)"
    assert st.window_text("selloff") == "days 0..+3 from 3 Apr 2025"
    note = st.reversal_frame().notes[0]
    assert note.startswith("Joint test of full reversal for all 5 series at once")
    assert "Wald chi2(5) = " in note and "at 0.025" in note
    assert "03_apr_2025" not in st.reversal_frame().as_text()
    assert "not rejected at 2.5% for" in st.describe()  # alpha not rounded to 2% or 3%


def test_describe_sectors_with_one_series_gives_its_car_not_a_range():
    sell = pd.DataFrame({"security": ["EWJ"], "car": [0.0102], "p": [0.6]})
    reb = pd.DataFrame({"security": ["EWJ"], "car": [-0.0037], "p": [0.73]})
    rev = pd.DataFrame({"series": ["EWJ"], "net_car": [0.006], "p": [0.7]})
    text = sectors.describe_sectors(sell, reb, rev, {"EWJ": "iShares MSCI Japan ETF"})
    assert "CAR of iShares MSCI Japan ETF (EWJ) is +1.02% (p = 0.6" in text
    assert "ranges from" not in text and "1 of 1" not in text


def test_an_estimation_window_shorter_than_the_engine_minimum_is_refused():
    assert "holds 24 sessions, fewer than the 30" in _problems(estimation_window="-25:-2")


def test_raw_table_shows_every_session_of_the_windows(shared_snapshot):
    st = _study(selloff_window="-2:3", rebound_window="0:2", estimation_window="-260:-12")
    cols = list(st.raw_table().to_frame().columns)
    assert cols[0] == "Tue 1 Apr" and cols[-2] == "Fri 11 Apr"   # window ends, not day 0 -1/+1
