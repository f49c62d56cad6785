"""Every parameter honoured: each notebook rendered with a whole alternative parameter set.

For each notebook, one render with other events, series, windows and dates (lists without the
default's first member) must succeed, and its text outputs (tables, Markdown, printed lines,
provenance) must show the new events and series and none of the changed defaults. Plus: every
notebook names its contract, checks it on entry, and its code after the parameters cell holds no
date, symbol, event id or window literal; bad values are refused before a kernel starts.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from tradeshock.analyses.contract import EventRef
from tradeshock.events.calendar import get_event
from tradeshock.errors import ValidationError
from tradeshock.pipeline.contracts import contract_of
from tradeshock.pipeline.render import render_notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {p.stem: p for p in sorted((ROOT / "notebooks").glob("*.ipynb"))}

#: notebook -> (alternative parameters, texts that must appear, texts that must not appear).
#: Events are named by id or short name; their titles and dates are checked in the output.
ALTERNATIVES: dict[str, tuple[dict, list[str], list[str]]] = {
    "country_report": (
        {"symbol": "^N225", "events_studied": ["china_34", "geneva", "japan_deal"],
         "estimation_window": "-200:-6", "event_window": "-2:4", "car_window": "0:2"},
        ["Nikkei 225", "XTKS", "days 0..+2", "event:china_34", "event:geneva", "event:japan_deal"],
        ["S&P 500", "event:liberation_day", "event:pause", "days 0..+3", "XNYS"],
    ),
}

ALTERNATIVES["03_sectors"] = (
    {"etfs": ["XLE", "XLF", "XLV", "XLU"], "broad": ["IWM"], "market_symbol": "SPY",
     "selloff_event": "china_34", "rebound_event": "geneva", "estimation_window": "-200:-6",
     "selloff_window": "0:2", "rebound_window": "0:1", "alpha": 0.1, "firm_level": False,
     "n_movers": 5},
    ["event:china_34", "event:geneva", "days 0..+2 from 4 Apr 2025", "days 0..+1 from 12 May 2025",
     "SPY S&P 500", "Energy", "at 10%"],
    ["event:liberation_day", "event:pause", "XLK", "QQQ", "days 0..+3", "^GSPC", "S&P 500 members",
     "np.float64"],
)

ALTERNATIVES["04_global"] = (
    {"indices": ["^HSI", "^N225", "^KS11"], "etfs": ["EWJ", "EWY", "EWH", "MCHI", "EWG", "INDA"],
     "selloff_event": "china_34", "rebound_event": "geneva", "retaliation_event": "china_125",
     "selloff_window": "0:2", "rebound_window": "0:1", "negotiation_window": "-1:1",
     "estimation_window": "-200:-6", "negotiators": ["KR", "IN"], "retaliators": ["CN", "DE"]},
    ["Hang Seng Index", "event:china_34", "event:geneva", "days 0..+2", "days -1..+1",
     "retaliators (China and Germany)", "retaliators' (N = 2)", "South Korea and India"],
    ["S&P 500", "CSI 300", "event:liberation_day", "event:pause", "days 0..+3", "FXI",
     "days -260..-11", "Japan, South Korea", "same market", "np.float64"],
)

# 05: other events (China's retaliation of 4 April to the Geneva truce of 12 May), indices without
# the S&P 500, a cross-asset set without the DXY, other checkpoints, windows and estimation.
ALTERNATIVES["05_selloff_rebound"] = (
    {"indices": ["^RUT", "^DJI"], "cross_assets": ["^RUT", "DTWEXBGS", "DGS10", "GLD"],
     "selloff_event": "china_34", "rebound_event": "geneva", "selloff_sessions": 3,
     "rebound_sessions": 2, "trough_within": 12, "checkpoints": ["rebound", 10, "end"],
     "table_window": "-2:4", "post_window": "0:12", "estimation_sessions": 150},
    ["Russell 2000", "Dow", "Gold (GLD)", "event:china_34", "event:geneva", "12 May",
     "150 XNYS sessions", "recovered by 12 May (% of loss)"],
    ["S&P 500", "Nasdaq", "DXY", "event:liberation_day", "event:pause", "3 Apr–30 Apr",
     "recovered by 9 Apr", "recovered by 30 Apr", "250 XNYS sessions"],
)

# 06: another index and events, fewer sectors, other windows and timeline.
ALTERNATIVES["06_summary"] = (
    {"index_symbol": "^RUT", "selloff_event": "china_34", "rebound_event": "geneva",
     "selloff_sessions": 3, "estimation_window": "-200:-6", "event_window": "-2:8",
     "record_lookback": 120, "trough_within": 25, "sector_etfs": ["XLE", "XLK", "XLF"],
     "timeline_events": ["china_34", "geneva", "uk_deal"], "calendar_car_window": "0:2"},
    ["Russell 2000", "event:china_34", "event:geneva", "3 sessions from", "XLE", "XLK",
     "days 0..+2"],
    ["S&P 500", "event:liberation_day", "event:pause", "4 sessions from", "XLV", "19 Feb 2025",
     "days -1..+1"],
)

#: The whole-calendar study: directional kinds and effective dates only, the Nasdaq leading a
#: market list without the S&P 500 (no country ETFs), untimed events after the close (no
#: two-session window), another CAR and estimation window, the market model, other cross-asset
#: series, no firm panel.
ALTERNATIVES["07_tariff_calendar"] = (
    {"kinds": ["announcement", "escalation", "retaliation", "de-escalation", "deal", "effective"],
     "directions": ["escalation", "de-escalation", "effective"], "untimed": "after_close",
     "car_window": "0:2", "estimation_window": "-200:-6", "model": "market",
     "market_proxy": "ACWI", "markets": ["^IXIC", "^RUT", "sectors"], "lead_market": "^IXIC",
     "cross_asset": ["^VIX", "DGS2"], "timed_robustness": True, "firms": False},
    ["Nasdaq Composite", "days 0..+2", "days -200..-6", "model market against",
     "placed after the close of its local date", "event_market_table.csv", "Placebo: on the",
     "Firm panel not run (firms = False)", "Nasdaq Composite: day-0 AR per direction"],
    ["S&P 500", "days -1..+1", "days -260..-11", "could have come at any moment of its local date",
     "country ETFs", "2025-05-29", "US Treasury 10-year"],
)

# 01: another series, span, kinds, key events and markets (none of the default's).
ALTERNATIVES["01_event_calendar"] = (
    {"index_symbol": "^N225", "start": "2025-04-20", "end": "2025-08-15",
     "kinds": ["deal", "legal", "escalation"], "key_events": ["geneva", "uk_deal", "japan_deal"],
     "calendars": ["XTKS", "XHKG", "XLON"]},
    ["Nikkei 225", "Tokyo (XTKS)", "Hong Kong (XHKG)", "from 20 Apr 2025 to 15 Aug 2025",
     "kind deal, legal, escalation", "event:geneva", "event:uk_deal", "event:japan_deal"],
    ["S&P 500", "XNYS", "15 Jan 2025", "event:liberation_day", "event:pause", "event:china_34"],
)

# 02: other series (no VIX), events, model, windows, sell-off and a Sunday record_date.
ALTERNATIVES["02_us_indices"] = (
    {"symbols": ["^RUT", "QQQ", "^DJI"], "vix_symbol": None,
     "events_studied": ["china_34", "geneva"], "model": "market_adjusted",
     "market_symbol": "ACWI", "estimation_window": "-200:-6",
     "event_window": "-2:4", "car_windows": ["0:1", "-2:4"], "daily_window": "0:0",
     "selloff_event": "china_34", "peak_window": "-40:-1", "record_date": "2025-02-16",
     "trough_sessions": 10},
    ["Russell 2000", "Invesco QQQ", "market_adjusted", "days 0..+1", "days -2..+4",
     "record_date 2025-02-16 is not a session", "14 Feb 2025", "event:china_34", "event:geneva",
     "Daily returns day 0 around each event (4 Apr 2025, 12 May 2025)",
     "model market_adjusted against iShares MSCI ACWI ETF (ACWI)"],
    ["S&P 500", "Nasdaq Composite", "CBOE Volatility Index", "19 Feb 2025", "days 0..+3",
     "event:liberation_day", "event:pause", "Daily returns from 4 Apr"],
)


def _label(name: str) -> str:
    row = get_event(name)
    return EventRef(str(row["event_id"]), str(row["title"]), row["date"], str(row["kind"]),
                    bool(row["timed"])).label


def _expand(texts: list[str]) -> list[str]:
    return [_label(t.split(":", 1)[1]) if t.startswith("event:") else t for t in texts]


def _text_outputs(nb_path: Path) -> str:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    parts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append("".join(out.get("text", "")))
            data = out.get("data") or {}
            for mime in ("text/plain", "text/markdown", "text/html"):
                if mime in data:
                    parts.append("".join(data[mime]))
    return "\n".join(parts)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_notebook_answers_the_question_its_parameters_ask(name, tmp_path):
    params, must, must_not = ALTERNATIVES[name]
    summary = render_notebooks([NOTEBOOKS[name]], tmp_path, params={name: params}, timeout=600)
    rec = summary[name]
    assert rec.status == "ok", f"{name} with {params}: {rec.error}"
    text = _text_outputs(tmp_path / f"{name}.ipynb")
    for piece in _expand(must):
        assert piece in text, f"{name}: {piece!r} missing from the outputs"
    for piece in _expand(must_not):
        assert piece not in text, f"{name}: changed default {piece!r} still in the outputs"


def test_every_alternative_changes_every_parameter_it_names():
    for name, (params, _, _) in ALTERNATIVES.items():
        contract = contract_of(NOTEBOOKS[name])
        assert contract is not None
        assert set(params) <= set(contract.names()), set(params) - set(contract.names())


@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_notebook_names_its_contract_and_checks_it_on_entry(name):
    nb = json.loads(NOTEBOOKS[name].read_text(encoding="utf-8"))
    ref = nb["metadata"]["tradeshock"]["contract"]
    module, attr = ref.split(":")
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert f"import {module.rsplit('.', 1)[1]} as analysis" in code or module in code
    assert f"start(analysis.{attr}, globals())" in code
    declared = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
    names = {t.id for s in ast.parse("".join(declared[0]["source"])).body
             for t in ([s.target] if isinstance(s, ast.AnnAssign) else getattr(s, "targets", []))}
    assert names == set(contract_of(NOTEBOOKS[name]).names()), "parameters cell vs contract"


#: What may not be written in a code cell after the parameters cell.
_LITERALS = [
    (re.compile(r"20\d\d-\d\d-\d\d"), "a date"),
    (re.compile(r"\b\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"), "a date"),
    (re.compile(r"[\"'](?:\^[A-Z0-9]+|[A-Z]{2,5}(?:=[FX])?|[A-Z0-9.]+\.SS)[\"']"), "a symbol"),
    (re.compile(r"E20\d\d-\d\d-\d\d-|[\"'](?:liberation_day|pause|geneva|china_\d+)[\"']"),
     "an event"),
    (re.compile(r"[\"']-?\d+:-?\d+[\"']|\(\s*-?\d+\s*,\s*-?\d+\s*\)"), "a window"),
]


@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_no_literal_after_the_parameters_cell(name):
    nb = json.loads(NOTEBOOKS[name].read_text(encoding="utf-8"))
    idx = next(i for i, c in enumerate(nb["cells"])
               if "parameters" in c["metadata"].get("tags", []))
    code_lines = 0
    for cell in nb["cells"][idx + 1:]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        code_lines += sum(1 for line in src.splitlines()
                          if line.strip() and not line.strip().startswith("#"))
        for pattern, what in _LITERALS:
            hit = pattern.search(src)
            assert hit is None, f"{name}: {what} literal {hit.group(0)!r} after the parameters"
    assert code_lines <= 60, f"{name}: {code_lines} code lines after the parameters cell"


def test_a_bad_value_is_refused_before_a_kernel_starts(tmp_path, monkeypatch):
    import tradeshock.pipeline.render as R

    def no_kernel(*a, **k):  # a kernel start would fail the test
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(R, "_check_kernel", no_kernel)
    nb = NOTEBOOKS["country_report"]
    with pytest.raises(ValidationError) as err:
        render_notebooks([nb], tmp_path, params={"country_report": {
            "events_studied": [], "car_window": "0:9", "estimation_window": "-100000:-11"}})
    text = str(err.value)
    assert "report country_report" in text
    assert "parameter 'events_studied' is empty. Fix: list at least 1 event." in text
    assert "car_window 0:9 not inside event_window -1:5" in text
    # VanEck Vietnam ETF: listed in 2009, so 5,000 sessions before April 2025 are not in any data
    with pytest.raises(ValidationError, match=r"needs VNM from 20\d\d-.* its data cover \d{4}-"):
        render_notebooks([nb], tmp_path, params={"country_report": {
            "symbol": "VNM", "estimation_window": "-5000:-11"}})
    assert not list(tmp_path.glob("*.html"))



def test_other_impossible_values_are_refused_before_a_kernel_starts(tmp_path, monkeypatch):
    """A study that could only come out empty or cut is refused with what, where and how."""
    import tradeshock.pipeline.render as R

    def no_kernel(*a, **k):  # a kernel start would fail the test
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(R, "_check_kernel", no_kernel)
    with pytest.raises(ValidationError, match=r"'estimation_window' = '-30:-2' holds 29 sessions, "
                       r"fewer than the 30 needed\. Fix: give at least 30 sessions"):
        render_notebooks([NOTEBOOKS["country_report"]], tmp_path,
                         params={"country_report": {"estimation_window": "-30:-2"}})
    with pytest.raises(ValidationError, match=r"'market_symbol' = '\^GSPC' is also in symbols"):
        render_notebooks([NOTEBOOKS["02_us_indices"]], tmp_path, params={"02_us_indices": {
            "model": "market_adjusted", "market_symbol": "^GSPC"}})
    # a trough searched 200 sessions after 13 Oct 2025 runs past every index's data
    with pytest.raises(ValidationError, match=r"trough_sessions -60:200 .* but its data cover"):
        render_notebooks([NOTEBOOKS["02_us_indices"]], tmp_path, params={"02_us_indices": {
            "selloff_event": "E2025-10-10-china-100-threat", "trough_sessions": 200}})
    assert not list(tmp_path.glob("*.html"))
