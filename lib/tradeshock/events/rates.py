"""The 2 April 2025 "reciprocal" tariff rates by economy (validated) and three measures of them."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from tradeshock.events.schema import _raise, _read_csv_strings, _run_schema, _sources_ok, _strip_frame
from tradeshock.paths import resource_path

__all__ = [
    "RATES_PATH",
    "RATE_COLUMNS",
    "BASELINE_RATE_PCT",
    "FLOOR_PCT",
    "EPSILON",
    "PHI_USTR",
    "PHI_AEI",
    "AEI_SCALE",
    "load_reciprocal_rates",
    "tariff_measures",
]

#: The bundled rates (package data, the same file as ``data/events/`` of the repository).
RATES_PATH = resource_path("events", "reciprocal_rates_2025.csv")

# --------------------------------------------------------------------------------------------
# reciprocal rates
# --------------------------------------------------------------------------------------------

#: The 10% baseline that applied from 00:01 EDT 5 Apr 2025 to every partner not in Annex I
#: (except Canada and Mexico, under separate IEEPA orders).
BASELINE_RATE_PCT = 10.0
#: Floor of the published formula, percent.
FLOOR_PCT = 10.0
#: USTR's elasticity of import demand and the (retail-price) pass-through it used.
EPSILON = 4.0
PHI_USTR = 0.25
#: The import-price pass-through AEI (Corinth and Veuger) say should have been used.
PHI_AEI = 0.945
#: Ratio of the AEI-corrected to the published formula value before the floor: 0.25/0.945.
AEI_SCALE = PHI_USTR / PHI_AEI

RATE_COLUMNS: tuple[str, ...] = (
    "iso2",
    "country",
    "reciprocal_rate_pct",
    "us_claimed_tariffs_charged_pct",
    "in_annex_I",
    "annex_I_first_version_pct",
    "rate_from_2025_08_07_pct",
    "rate_from_2025_08_07_note",
    "note",
    "confidence",
    "source_url",
    "rate_from_2025_08_07_source",
)
_RATE_NUMERIC = ("reciprocal_rate_pct", "us_claimed_tariffs_charged_pct",
                 "annex_I_first_version_pct", "rate_from_2025_08_07_pct")


def _pct_or_blank(v: str) -> bool:
    if v == "":
        return True
    try:
        x = float(v)
    except ValueError:
        return False
    return 0 <= x <= 100


def _num(v: str) -> float:
    return float(v) if v != "" else math.nan


_RATE_HINTS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "iso2_format": ("not a two-letter upper-case code",
                        "use the ISO 3166-1 alpha-2 code (EU for the European Union)"),
        "field_uniqueness": ("duplicate iso2", "list each economy once"),
        "country_present": ("the country name is empty", "give the economy's name"),
        "pct_value": ("not a percentage between 0 and 100", "write a number such as 26, or leave "
                      "it blank when not known"),
        "annex_value": ("in_annex_I must be yes or no", "write yes or no"),
        "source_present": ("no usable source", "give at least one http(s) URL, seed:FILE or "
                           "github:OWNER/REPO/PATH; separate several with ' ; '"),
        "annex_rate_range": ("an Annex I economy needs an announced rate of 11-50%",
                             "check reciprocal_rate_pct or in_annex_I"),
        "first_version_only_in_annex": (
            "a first-version Annex I rate is given for an economy not in Annex I",
            "clear annex_I_first_version_pct or set in_annex_I to yes"),
        "announced_at_least_half_charged": (
            "announced rate is below half the chart's 'tariffs charged' value, which the published "
            "formula (rate = max(10, half of it, rounded up)) rules out",
            "check that the two columns are not swapped"),
        "aug_rate_sourced": ("a 7 Aug rate without a source", "fill rate_from_2025_08_07_source"),
    }
)
_RATE_COLUMN_OF = MappingProxyType(
    {"annex_rate_range": "reciprocal_rate_pct",
     "first_version_only_in_annex": "annex_I_first_version_pct",
     "announced_at_least_half_charged": "reciprocal_rate_pct",
     "aug_rate_sourced": "rate_from_2025_08_07_source"}
)


@functools.cache
def _rates_schema():
    import pandera.pandas as pa

    def col(*checks, unique=False):
        return pa.Column(None, checks=list(checks), unique=unique, nullable=False)

    pct = functools.partial(pa.Check, _pct_or_blank, element_wise=True, name="pct_value")

    def annex_range(df):
        r = df["reciprocal_rate_pct"].map(lambda v: _num(v) if _pct_or_blank(v) else math.nan)
        return (df["in_annex_I"] != "yes") | ((r >= 11) & (r <= 50))

    def first_only_in_annex(df):
        return (df["annex_I_first_version_pct"] == "") | (df["in_annex_I"] == "yes")

    def at_least_half(df):
        ok = []
        for a, c in zip(df["reciprocal_rate_pct"], df["us_claimed_tariffs_charged_pct"]):
            if a == "" or c == "" or not (_pct_or_blank(a) and _pct_or_blank(c)):
                ok.append(True)
            else:
                ok.append(float(a) >= float(c) / 2 - 1e-9)
        return pd.Series(ok, index=df.index)

    def aug_sourced(df):
        return (df["rate_from_2025_08_07_pct"] == "") | (df["rate_from_2025_08_07_source"] != "")

    return pa.DataFrameSchema(
        {
            "iso2": col(pa.Check(lambda v: bool(re.fullmatch(r"[A-Z]{2}", v)), element_wise=True,
                                 name="iso2_format"), unique=True),
            "country": col(pa.Check(lambda v: v != "", element_wise=True, name="country_present")),
            "reciprocal_rate_pct": col(pct()),
            "us_claimed_tariffs_charged_pct": col(pct()),
            "in_annex_I": col(pa.Check(lambda v: v in ("yes", "no"), element_wise=True,
                                       name="annex_value")),
            "annex_I_first_version_pct": col(pct()),
            "rate_from_2025_08_07_pct": col(pct()),
            "rate_from_2025_08_07_note": col(),
            "note": col(),
            "confidence": col(),
            "source_url": col(pa.Check(_sources_ok, element_wise=True, name="source_present")),
            "rate_from_2025_08_07_source": col(),
        },
        checks=[
            pa.Check(annex_range, name="annex_rate_range"),
            pa.Check(first_only_in_annex, name="first_version_only_in_annex"),
            pa.Check(at_least_half, name="announced_at_least_half_charged"),
            pa.Check(aug_sourced, name="aug_rate_sourced"),
        ],
        strict=True,
        name="reciprocal rates",
    )


def load_reciprocal_rates(path: str | Path | None = None) -> pd.DataFrame:
    """The 2 April 2025 reciprocal rates by economy, validated.

    Columns (percent unless noted): ``iso2``, ``country``, ``reciprocal_rate_pct`` (announced: the
    Rose Garden chart = corrected Annex I), ``us_claimed_tariffs_charged_pct`` (the chart's
    "tariffs charged to the USA"), ``in_annex_I`` (bool), ``annex_I_first_version_pct`` (the first
    Annex I where it differed), ``rate_from_2025_08_07_pct`` and its ``_note`` and ``_source``,
    ``note``, ``confidence``, ``source_url``. Blanks are NaN, never invented.
    """
    path = RATES_PATH if path is None else Path(path)
    origin = path.name if path.resolve() == RATES_PATH.resolve() else str(path)
    raw = _strip_frame(_read_csv_strings(path, origin, "reciprocal rates"))
    problems = []
    for c in raw.columns:
        if c not in RATE_COLUMNS:
            problems.append(f"{origin}, column {c!r}: unknown column. Fix: the columns are "
                            f"{', '.join(RATE_COLUMNS)}.")
    for c in RATE_COLUMNS:
        if c not in raw.columns:
            problems.append(f"{origin}, column {c!r}: missing. Fix: add the column.")
    if problems:
        _raise(problems, "the reciprocal rates", [origin])
    raw = raw[list(RATE_COLUMNS)]
    problems = _run_schema(_rates_schema(), raw, origin, "iso2", _RATE_HINTS, _RATE_COLUMN_OF)
    if problems:
        _raise(problems, "the reciprocal rates", [origin])
    out = raw.copy()
    for c in _RATE_NUMERIC:
        out[c] = raw[c].map(_num).astype(float)
    out["in_annex_I"] = raw["in_annex_I"] == "yes"
    for c in RATE_COLUMNS:
        if c not in _RATE_NUMERIC and c != "in_annex_I":
            out[c] = out[c].replace("", np.nan)
    return out


def tariff_measures(rates: pd.DataFrame | None = None, *, with_notes: bool = False) -> pd.DataFrame:
    """Three measures of each economy's 2 April "reciprocal" tariff, in percent, indexed by iso2.

    ``announced``
        The rate announced on 2 April (Rose Garden chart = corrected Annex I). For the chart-only
        territories (Saint Pierre and Miquelon, Reunion, Norfolk Island) this is the chart value,
        although the 10% baseline applied. NaN for economies outside the reciprocal regime (Canada,
        Mexico, Russia).
    ``formula_unfloored``
        The published USTR formula before the 10% floor and the halving: the chart's "tariffs
        charged to the USA", which is 100 x (US deficit / US imports) because epsilon = 4 and
        phi = 0.25 cancel. NaN where the data cannot give it: the chart value was not found, or the
        chart printed the 10% floor (then the true ratio is at most 20% and is negative where the
        US runs a surplus, but its value is not in the data).
    ``formula_aei``
        The formula with AEI's pass-through phi = 0.945 instead of 0.25:
        max(10, 1/2 x formula_unfloored x 0.25/0.945). Where ``formula_unfloored`` is NaN but the
        announced rate r is known, the published formula gives r >= 1/2 x ratio (it rounds up), so
        ratio <= 2r and the AEI value is at most 0.265 x r; when that is at most 10 (r <= 37, true
        of every such row) the AEI value is the 10% floor whatever the exact ratio. NaN otherwise.

    With ``with_notes=True`` a ``note`` column says, per row, what was left NaN or derived and why.
    """
    rates = load_reciprocal_rates() if rates is None else rates
    out = []
    for _, r in rates.iterrows():
        announced = float(r["reciprocal_rate_pct"])
        charged = float(r["us_claimed_tariffs_charged_pct"])
        notes = []
        if math.isnan(announced):
            notes.append("no announced reciprocal rate (outside the reciprocal regime): all "
                         "measures NaN")
            out.append((r["iso2"], math.nan, math.nan, math.nan, "; ".join(notes)))
            continue
        if not r["in_annex_I"] and announced > FLOOR_PCT:
            notes.append("chart-only territory: announced is the chart value; not in Annex I, so "
                         "the 10% baseline applied")
        if math.isnan(charged):
            unfloored = math.nan
            notes.append("formula_unfloored NaN: the chart's 'tariffs charged' value was not found "
                         "in a source read")
        elif charged <= FLOOR_PCT and announced == FLOOR_PCT:
            unfloored = math.nan
            notes.append("formula_unfloored NaN: the chart printed the 10% floor; the deficit/"
                         "imports ratio (at most 20%, negative under a US surplus) is not in the "
                         "data")
        else:
            unfloored = charged
        if not math.isnan(unfloored):
            aei = max(FLOOR_PCT, 0.5 * unfloored * AEI_SCALE)
        elif 0.5 * (2 * announced) * AEI_SCALE <= FLOOR_PCT:
            aei = FLOOR_PCT
            notes.append(f"formula_aei = 10 from the bound ratio <= 2 x announced = "
                         f"{2 * announced:g}%, which the AEI formula floors at 10")
        else:
            aei = math.nan
            notes.append("formula_aei NaN: ratio unknown and not bounded below the floor")
        out.append((r["iso2"], announced, unfloored, aei, "; ".join(notes)))
    frame = pd.DataFrame(out, columns=["iso2", "announced", "formula_unfloored", "formula_aei",
                                       "note"]).set_index("iso2")
    frame["note"] = frame["note"].replace("", np.nan)
    return frame if with_notes else frame.drop(columns="note")
