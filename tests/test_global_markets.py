"""Tests of tradeshock.analyses.global_markets (04_global) and analyses.labels.

Label placement on synthetic layouts (no two label boxes overlap); the study and its narrative on
the shared snapshot with default and non-default parameters, including the negative cases: no
retaliator in the data, a single retaliator ETF, one index, a market with no return on day 0.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from tradeshock.analyses import global_markets as gm
from tradeshock.analyses.labels import label_boxes, overlap, place_labels

DEFAULTS = dict(
    indices=["^N225", "^HSI", "000300.SS", "^GSPC"],
    etfs=["EWJ", "EWY", "MCHI", "FXI", "VNM", "INDA", "EWG", "EWU", "THD", "EWW"],
    selloff_event="liberation_day", rebound_event="pause", retaliation_event="china_34",
    selloff_window="0:3", rebound_window="0:0", negotiation_window="-2:0",
    estimation_window="-260:-11", negotiators=["JP", "KR", "VN", "IN", "TH"], retaliators=["CN"])


# ------------------------------------------------------------------------------ labels
def _no_overlap(boxes):
    return all(overlap(a, b) == 0 for a, b in itertools.combinations(boxes, 2))


def test_overlap_area():
    assert overlap((0, 0, 10, 10), (5, 5, 15, 15)) == 25
    assert overlap((0, 0, 10, 10), (10, 0, 20, 10)) == 0   # touching is not overlapping
    assert overlap((0, 0, 1, 1), (3, 3, 4, 4)) == 0


def test_place_labels_on_a_tight_cluster_leaves_no_overlap():
    # 25 points 8 px apart, labels 30 x 10 px: the naive "to the right" placement overlaps
    pts = [(200 + 8 * i, 200 + 8 * j) for i in range(5) for j in range(5)]
    sizes = [(30, 10)] * len(pts)
    naive = [(x + 3, y - 5, x + 33, y + 5) for x, y in pts]
    assert not _no_overlap(naive)
    boxes = place_labels(pts, sizes, steps=20, bounds=(0, 0, 600, 600))
    assert _no_overlap(boxes)
    # and no label covers a marker
    for x, y in pts:
        assert all(overlap(b, (x - 4, y - 4, x + 4, y + 4)) == 0 for b in boxes)
    assert all(0 <= b[0] and b[2] <= 600 and 0 <= b[1] and b[3] <= 600 for b in boxes)


def test_place_labels_keeps_an_isolated_label_next_to_its_point():
    (box,) = place_labels([(100, 100)], [(20, 8)], gap=3)
    assert box == (107, 96, 127, 104)   # marker half-size 4 + gap 3, to the right


def test_place_labels_checks_lengths():
    with pytest.raises(ValueError):
        place_labels([(0, 0)], [])


def test_annotate_points_on_a_figure_draws_no_overlapping_labels():
    import matplotlib

    matplotlib.use("Agg")
    from tradeshock.analyses.figures import new_figure
    from tradeshock.analyses.labels import annotate_points

    rng = np.random.default_rng(3)
    x = np.r_[np.full(6, 20.0), rng.uniform(10, 46, 20)]    # six ETFs at one rate, like the EU
    y = np.r_[np.linspace(-12, -11, 6), rng.uniform(-20, -3, 20)]
    fig, ax = new_figure(title="t", xlabel="x", ylabel="y", yunits="percent")
    ax.scatter(x, y)
    anns = annotate_points(ax, x, y, [f"E{i:02d}X" for i in range(len(x))])
    assert _no_overlap(label_boxes(anns))


# ------------------------------------------------------------------------------ names
def test_short_name():
    assert gm.short_name("iShares MSCI South Korea ETF") == "South Korea"
    assert gm.short_name("WisdomTree India Earnings Fund") == "India Earnings"
    assert gm.short_name("VanEck Vietnam ETF") == "Vietnam"
    assert gm.short_name("Nikkei 225") == "Nikkei 225"


# ------------------------------------------------------------------------------ study
def _study(shared_snapshot, drop_day0=None, **changes):
    from tradeshock.pipeline.preamble import start

    s = start(gm.PARAMETERS, {**DEFAULTS, **changes}, show=False)
    rets = s.returns.copy()
    if drop_day0:
        sym, when = drop_day0
        rets.loc[pd.Timestamp(when), sym] = np.nan
    return gm.study_global(rets, s.p, s.universe, s.events, names=s.names)


def test_default_numbers_match_the_engine(shared_snapshot):
    st = _study(shared_snapshot)
    sc = st.col("selloff", "selloff_window")
    assert st.index_cars.at["^HSI", sc] == pytest.approx(-13.2475, abs=1e-3)
    assert st.etf_cars.at["VNM", sc] == pytest.approx(-21.4089, abs=1e-3)
    text = gm.describe_global(st)
    assert "2 ETFs of the same market (China: MCHI, FXI)" in text
    assert "(after China announces 34%" in text and "day 0 4 Apr in New York" in text
    assert "7 Apr and 8 Apr" in text
    for table in (st.day0_table(), st.index_table(), st.etf_table(), st.pairs_table(),
                  st.slopes_table(), st.welch_table()):
        out = table.as_text() + table.as_html()
        assert "np.float64" not in out and "nan" not in out.lower().split()
    html = st.day0_table().as_html()
    assert "<td style='white-space:nowrap'>2025-04-03</td>" in html


def test_no_retaliator_in_the_data(shared_snapshot):
    st = _study(shared_snapshot, retaliators=["BR"], etfs=["EWJ", "EWY", "EWG"])
    text = gm.describe_global(st)
    assert "vs retaliators (Brazil)" in text
    assert "No country ETF of the retaliators is among the ETFs studied" in text
    assert "MCHI" not in text and "retaliators (China)" not in text


def test_empty_retaliators_and_other_events(shared_snapshot):
    st = _study(shared_snapshot, retaliators=[], selloff_event="china_34",
                rebound_event="geneva", retaliation_event=None, indices=["^N225"])
    text = gm.describe_global(st)
    assert "retaliators (none listed)" in text
    assert "The only national index studied, Nikkei 225" in text
    assert gm.lead(st, "2026-01-01").startswith("**1 national index and 10 country ETFs**")
    assert "(4 Apr 2025)" in text and "(12 May 2025)" in text
    assert "Liberation Day" not in text and "9 Apr 2025" not in text
    assert st.day0["selloff"]["^N225"] == pd.Timestamp("2025-04-07")  # Tokyo: after its close


def test_a_single_retaliator_etf(shared_snapshot):
    st = _study(shared_snapshot, etfs=["EWJ", "EWY", "MCHI", "VNM"])
    text = gm.describe_global(st)
    assert "single ETF (MCHI)" in text and "Welch t =" not in text
    assert "same market" not in text
    w = st.welch_table().as_text()
    assert "–" in w   # t and p shown as missing, not nan


def test_a_market_without_a_return_on_day0_is_listed(shared_snapshot):
    st = _study(shared_snapshot, drop_day0=("^HSI", "2025-04-03"))
    assert "^HSI" not in st.index_cars.index
    assert "no return on its selloff day 0 (2025-04-03)" in st.notes["^HSI"]
    assert "Hang Seng Index (no return on its selloff day 0" in gm.describe_global(st)
    assert "Not studied: ^HSI" in st.index_table().as_text()


def test_the_gap_sentence_follows_the_windows(shared_snapshot):
    st = _study(shared_snapshot, negotiation_window="-3:1", rebound_window="0:1",
                retaliators=["CN"], retaliation_event="china_125")
    text = gm.describe_global(st)
    assert "days -3..+1" in text and "day 0" not in text.split("Tariff rate")[0].split(
        "Rebound")[1][:5]
    assert "(4 Apr, 7 Apr and 8 Apr)" in text
    assert "came later" in text   # China's 125% of 11 April is after those sessions


def test_contract_refuses_overlapping_groups():
    from tradeshock.errors import ValidationError

    with pytest.raises(ValidationError, match="negotiators and retaliators both list CN"):
        gm.PARAMETERS.check({**DEFAULTS, "negotiators": ["CN", "JP"]})


def test_an_index_that_rose_is_not_called_a_fall(shared_snapshot):
    st = _study(shared_snapshot, selloff_event="china_34", indices=["^HSI", "^N225"])
    text = gm.describe_global(st)
    sc = st.col("selloff", "selloff_window")
    assert st.index_cars.at["^N225", sc] > 0
    assert "the largest rise Nikkei 225 (+" in text and "smallest fall" not in text


@pytest.mark.parametrize("name, params, expected", [
    ("04_global", {"etfs": ["EWJ", "XLK"], "negotiators": ["CN"], "selloff_window": "-300:3"},
     ["parameter 'etfs' item 2 = 'XLK' is in group", "negotiators and retaliators both list CN",
      "estimation_window -260:-11 does not end before selloff_window -300:3"]),
    ("03_sectors", {"broad": "SPY, NOPE", "rebound_event": "pausee", "n_movers": 0},
     ["'NOPE' is not in data/universe.csv", "'pausee' is not an event of the calendar",
      "parameter 'n_movers' = 0 is outside 1..200"]),
])
def test_bad_values_are_refused_before_a_kernel_starts(name, params, expected, tmp_path,
                                                       monkeypatch):
    from pathlib import Path

    import tradeshock.pipeline.render as R
    from tradeshock.errors import ValidationError
    from tradeshock.pipeline.render import render_notebooks

    def no_kernel(*a, **k):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(R, "_check_kernel", no_kernel)
    nb = Path(__file__).resolve().parents[1] / "notebooks" / f"{name}.ipynb"
    with pytest.raises(ValidationError) as err:
        render_notebooks([nb], tmp_path, params={name: params})
    for piece in expected:
        assert piece in str(err.value)


# ---- issue 16, other combinations (helper fb)
def _refused(**changes) -> str:
    from tradeshock.errors import ValidationError

    with pytest.raises(ValidationError) as err:
        gm.PARAMETERS.check({**DEFAULTS, **changes})
    return str(err.value)


def test_rebound_before_or_equal_to_the_selloff_is_refused():
    text = _refused(selloff_event="pause", rebound_event="liberation_day")
    assert "'rebound_event'" in text and "does not come after the selloff" in text
    assert "is the selloff's own event" in _refused(rebound_event="liberation_day")


def test_unknown_country_codes_are_refused_known_ones_named():
    text = _refused(negotiators=["XX"])
    assert "'negotiators' lists 'XX', not known codes" in text
    gm.PARAMETERS.check({**DEFAULTS, "retaliators": ["US"]})   # a country without an ETF
    # EU members have no rate of their own: their name comes from their country ETF
    assert gm.country_names(["CN", "DE", "FR"]) == {"CN": "China", "DE": "Germany",
                                                   "FR": "France"}


def test_optional_event_given_as_the_text_none():
    p = gm.PARAMETERS.check({**DEFAULTS, "retaliation_event": "None"})
    assert p.retaliation_event is None


def test_as_of_summary_names_the_common_date_and_the_early_series():
    last = {"A": "2026-09-25", "B": "2026-09-25", "C": "2025-12-09", "D": "2026-02-20",
            "E": "2026-02-20", "F": "2026-10-09", "G": "2026-03-01"}
    text = gm.as_of_summary(last, {"C": "Canada ETF"}, listed=2)
    assert text == ("2026-09-25; 4 series end earlier: Canada ETF (2025-12-09), D (2026-02-20) "
                    "and 2 more")
    assert gm.as_of_summary({"A": "2026-06-24", "B": "2026-09-25"}) == (
        "2026-09-25; 1 series ends earlier: A (2026-06-24)")
    assert gm.as_of_summary({"A": "2026-06-24"}) == "2026-06-24"


def test_no_country_etf_gives_readable_empty_tables_and_text(shared_snapshot):
    st = _study(shared_snapshot, indices=["^N225"], etfs=[])
    for table in (st.etf_table(), st.pairs_table(), st.slopes_table(), st.welch_table()):
        assert "Empty DataFrame" not in table.as_text() and "(" in table.as_text()
    assert "no country ETF studied, so the groups are not compared" in st.welch_table().as_text()
    text = gm.describe_global(st)
    assert "the CAR of Nikkei 225 (^N225) was" in text and "median" not in text
    fig, ax = gm.scatter_figure(st)
    assert "No country ETF" in ax.texts[0].get_text()


def test_one_country_etf_and_one_index_read_as_such(shared_snapshot):
    st = _study(shared_snapshot, indices=["^GSPC"], etfs=["EWJ"])
    text = gm.describe_global(st)
    assert "The only country ETF studied, Japan (EWJ), had a CAR of" in text
    assert "1 of 1" not in text and "median" not in text
    assert "With 1 country ETF with a tariff rate, no slope" in text


def test_a_retaliation_long_before_the_shock_is_not_cited(shared_snapshot):
    st = _study(shared_snapshot, retaliators=["CA"], negotiators=["MX"],
                etfs=["EWW", "EWC", "EWJ"], retaliation_event="E2025-03-04-canada-retaliation")
    text = gm.describe_global(st)
    assert "Canada imposes" not in text and "rebound day itself." in text
    default = gm.describe_global(_study(shared_snapshot))
    assert "(after China announces 34%" in default


def test_the_same_event_twice_and_a_short_estimation_are_refused():
    text = _refused(selloff_event="geneva", rebound_event="E2025-05-12-geneva")
    assert "is the selloff's own event" in text
    assert "holds 24 sessions, fewer than the 30" in _refused(estimation_window="-30:-7")


def test_etfs_of_one_rate_give_no_slope_and_say_why(shared_snapshot):
    st = _study(shared_snapshot, etfs=["EWG", "EWQ", "EWI"], negotiators=["DE"],
                retaliators=["FR", "IT"])
    assert "all at the same announced rate" in gm.describe_global(st)
