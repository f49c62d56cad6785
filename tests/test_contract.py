"""Parameter contracts (analyses/contract.py): every parameter checked once, every problem named."""

from __future__ import annotations

import pandas as pd
import pytest

from tradeshock.analyses.contract import (
    Choice, Contract, Date, Event, Events, Flag, History, Integer, Kinds, Number, Symbol, Symbols,
    Window, Windows, before, disjoint, inside, load_contract, ordered,
)
from tradeshock.errors import ValidationError

C = Contract(
    "demo",
    [Symbols("symbols", priced=True), Symbol("vix", groups=("volatility",)),
     Events("events_studied"), Event("rebound_event"), Window("estimation_window"),
     Window("event_window"), Windows("car_windows"), Choice("model", choices=("mean", "market")),
     Integer("n", lo=1, hi=50), Number("alpha", lo=0, hi=1, open_interval=True), Flag("firms"),
     Date("start"), Date("end"), Kinds("kinds"), Symbols("a", min_items=0),
     Symbols("b", min_items=0)],
    rules=[before("estimation_window", "event_window"), inside("car_windows", "event_window"),
           ordered("start", "end"), disjoint("a", "b")],
    history=[History(("symbols",), ("events_studied",), ("estimation_window", "event_window"))],
)
GOOD = dict(symbols=["^GSPC", "^IXIC"], vix="^VIX", events_studied=["liberation_day", "geneva"],
            rebound_event="pause", estimation_window="-260:-11", event_window="-1:5",
            car_windows=["0:0", "0:3"], model="mean", n=20, alpha=0.05, firms=True,
            start="2025-01-15", end="2025-08-15", kinds=["deal"], a=["EWJ"], b=["FXI"])


def test_good_values_parse_to_typed_values():
    p = C.check(dict(GOOD, unrelated="ignored"))
    assert p.symbols == ["^GSPC", "^IXIC"] and p["vix"] == "^VIX"
    assert [e.event_id for e in p.events_studied] == ["E2025-04-02-liberation-day",
                                                      "E2025-05-12-geneva"]
    assert p.events_studied[1].label.endswith("(12 May 2025)")
    assert p.rebound_event.date == pd.Timestamp("2025-04-09")
    assert p.estimation_window == (-260, -11) and p.car_windows == [(0, 0), (0, 3)]
    assert p.start == pd.Timestamp("2025-01-15") and p.raw["event_window"] == "-1:5"
    assert C.check(dict(GOOD, car_windows="0:3")).car_windows == [(0, 3)]


def test_lists_written_as_text_as_papermill_p_sends_them():
    # `papermill -p symbols '["^GSPC"]'` hands the notebook the string, not a list
    p = C.check(dict(GOOD, symbols='["^RUT", "^DJI"]', car_windows="['0:1', '-1:2']",
                     events_studied="[geneva]"))
    assert p.symbols == ["^RUT", "^DJI"] and p.car_windows == [(0, 1), (-1, 2)]
    assert [e.event_id for e in p.events_studied] == ["E2025-05-12-geneva"]
    with pytest.raises(ValidationError, match="starts like a list but is not one"):
        C.check(dict(GOOD, symbols='["^RUT", '))


def test_every_problem_is_listed_at_once_with_its_fix():
    bad = dict(GOOD, symbols=[], vix="^GSPC", events_studied=["liberation_dy"],
               estimation_window="-100:2", car_windows=["0:9"], model="markt", n=True, alpha=1.0,
               start="2025-13-01", kinds=["tarrif"], a=["EWJ"], b=["EWJ"])
    with pytest.raises(ValidationError) as err:
        C.check(bad)
    text = str(err.value)
    assert text.startswith("demo: ") and "(nothing was run)" in text
    for piece in [
        "parameter 'symbols' is empty. Fix: list at least 1 symbol.",
        "parameter 'vix' = '^GSPC' is in group 'us_equity'. Fix: use a symbol of group volatility.",
        "'liberation_dy' is not an event of the calendar (did you mean liberation_day",
        "parameter 'model' = 'markt' is not allowed (did you mean 'market'?)",
        "parameter 'n' = True is not a whole number",
        "parameter 'alpha' = 1 is out of range. Fix: give a number strictly between 0 and 1.",
        "parameter 'start' = '2025-13-01' is not an ISO date",
        "lists unknown kind(s) 'tarrif'",
        "estimation_window -100:2 does not end before event_window -1:5 starts",
        "car_windows 0:9 not inside event_window -1:5",
        "a and b both list EWJ",
    ]:
        assert piece in text, piece
    assert len(err.value.problems) == 11


def test_missing_parameter_and_order_of_dates():
    values = dict(GOOD)
    del values["model"]
    with pytest.raises(ValidationError, match="parameter 'model' is missing"):
        C.check(values)
    with pytest.raises(ValidationError, match="start 2025-09-01 is not before end 2025-08-15"):
        C.check(dict(GOOD, start="2025-09-01"))


def test_windows_the_data_cannot_fill_are_refused_with_the_range_they_cover():
    cover = lambda syms: {s: ("2023-10-02", "2026-06-24") for s in syms}  # noqa: E731
    p = C.check(GOOD, coverage=cover)                       # the defaults fit
    assert p.model == "mean"
    with pytest.raises(ValidationError) as err:
        C.check(dict(GOOD, estimation_window="-1000:-11"), coverage=cover)
    msg = str(err.value)
    assert "needs ^GSPC from 2021-04-" in msg and "its data cover 2023-10-02 to 2026-06-24" in msg
    with pytest.raises(ValidationError, match="run off the XNYS calendar"):
        C.check(dict(GOOD, event_window="-1:100000", car_windows="0:0"), coverage=cover)


def test_history_needs_are_sessions_around_day0():
    p = C.check(GOOD)
    needs = {(n.symbol, n.last) for n in C.needs(p)}
    # Liberation Day: day 0 = 3 Apr 2025 on XNYS; +5 sessions = 10 Apr 2025
    assert ("^GSPC", pd.Timestamp("2025-04-10")) in needs


def test_load_contract_names_what_is_wrong():
    with pytest.raises(ValidationError, match="is not 'tradeshock.<module>:<NAME>'"):
        load_contract("os:path")
    with pytest.raises(ValidationError, match="cannot be loaded"):
        load_contract("tradeshock.analyses.contract:NOPE")
    with pytest.raises(ValidationError, match="not a Contract"):
        load_contract("tradeshock.analyses.contract:History")


def test_a_window_shorter_than_its_minimum_is_refused_with_a_longer_one_to_try():
    w = Window("estimation_window", min_length=30)
    assert w.check("-40:-11", None) == (-40, -11)
    assert w.check("-39:-10", None) == (-39, -10)   # exactly 30 sessions
    c = Contract("nb", [w])
    with pytest.raises(ValidationError) as err:
        c.check({"estimation_window": "-20:-11"})
    assert ("'estimation_window' = '-20:-11' holds 10 sessions, fewer than the 30 needed. "
            "Fix: give at least 30 sessions, e.g. -40:-11 or longer.") in str(err.value)
    assert Window("event_window").check("0:0", None) == (0, 0)   # no minimum by default


def test_a_date_typed_as_a_date_object_is_a_date():
    import datetime as dt

    import numpy as np

    d = Date("record_date", optional=True)
    for v in ("2025-02-14", dt.date(2025, 2, 14), dt.datetime(2025, 2, 14),
              pd.Timestamp("2025-02-14"), np.datetime64("2025-02-14")):
        assert d.check(v, None) == pd.Timestamp("2025-02-14"), v
    c = Contract("nb", [d])
    for v in (pd.Timestamp("2025-02-14 15:30"), pd.Timestamp("2025-02-14", tz="UTC")):
        with pytest.raises(ValidationError, match="has a time of day or a time zone"):
            c.check({"record_date": v})
    with pytest.raises(ValidationError, match="is not an ISO date"):
        c.check({"record_date": "14/02/2025"})


def test_a_symbol_in_the_wrong_case_is_refused_with_the_right_one():
    with pytest.raises(ValidationError, match=r"'\^gspc' is not in data/universe.csv \(did you "
                       r"mean \^GSPC\?\)"):
        Contract("nb", [Symbols("symbols")]).check({"symbols": ["^gspc"]})
