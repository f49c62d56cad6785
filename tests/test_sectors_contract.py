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
