"""Sweeps: one report per value of a notebook parameter (``tradeshock render --sweep``).

A sweep turns a notebook and a list of parameter rows into
:class:`~tradeshock.pipeline.tasks.RenderJob` objects for
:func:`~tradeshock.pipeline.render.render_jobs`; nothing here runs a kernel, so every problem is
reported before any work.

Spelling a sweep:

- ``--sweep KEY=V1,V2,V3``: one report per value (text, coerced like ``-p KEY V``); a value list
  may be written in YAML, ``KEY=["a,b", c]``, when values contain commas. Several ``--sweep``
  options make the **cartesian product** (the first option varies slowest).
- ``--sweep-file FILE``: ``.csv`` with a header row of parameter names and **one report per row**
  (an empty cell leaves that parameter at the notebook default); or ``.yaml``/``.yml`` holding a
  list of mappings (one report each) or a mapping of parameter -> list of values (columns of equal
  length, read row by row, not crossed). With ``--sweep`` as well, every file row is crossed with
  the ``--sweep`` product.
- Fixed parameters (``-p``, ``--params-file``) apply to every report; a parameter cannot be both
  fixed and swept.

Every selected notebook must declare every swept parameter. Values are coerced to the declared
types (:mod:`tradeshock.pipeline.params`), and parameters that name market series or events are
also checked against ``data/universe.csv`` and the event calendar (:data:`VALUE_CHECKS`: ``symbol``,
``*_symbol``, ``symbols``, ``*_symbols``; ``event``, ``*_event``, ``events*``, ``*_events``), so
an unknown symbol is an error naming the value and close matches, not a failed report.

Report names are ``NOTEBOOK-VALUE[-VALUE...]`` built with
:func:`~tradeshock.pipeline.naming.output_name` rules (``country_report`` x ``^N225`` ->
``country_report-N225``): only ``[A-Za-z0-9_-]``, so a value can never leave the output folder.
Names that would clash (also when differing only in case, for case-insensitive disks), or run
over 120 characters, get a short digest of their values appended (``country_report-N225-3f9a0c``).
The same parameters twice is an error.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradeshock.errors import ValidationError
from tradeshock.pipeline.naming import check_output_name, output_name
from tradeshock.pipeline.params import NotebookParameters, TextValue, coerce_value
from tradeshock.pipeline.render import declare_notebooks
from tradeshock.pipeline.tasks import RenderJob

__all__ = [
    "SweepAxis",
    "SweepRow",
    "VALUE_CHECKS",
    "parse_sweep",
    "read_sweep_file",
    "sweep_rows",
    "report_name",
    "plan_sweep",
    "check_values",
    "check_sweep_size",
    "MAX_REPORTS",
]

#: The most reports a sweep may start unless the user raises the cap (``--max-reports``).
MAX_REPORTS = 50


def check_sweep_size(
    n: int, max_reports: int = MAX_REPORTS, axes: Sequence[SweepAxis] = (), notebooks: int = 1
) -> None:
    """Refuse a sweep of more than ``max_reports`` reports, before anything is checked or run,
    saying how many it would start, from what, and how to raise the cap."""
    if n <= max_reports:
        return
    parts = [f"{len(a.values)} values of {a.key}" for a in axes]
    if notebooks > 1:
        parts.append(f"{notebooks} notebooks")
    made = f" ({' x '.join(parts)})" if parts else ""
    raise ValidationError(
        f"the sweep would start {n} reports{made}, more than --max-reports {max_reports}; "
        f"sweep fewer values, or pass --max-reports {n} to confirm"
    )

_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_NAME = 120
_DIGEST = 6


@dataclass(frozen=True)
class SweepAxis:
    """One ``--sweep KEY=V1,V2``: a parameter and its values, in order."""

    key: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class SweepRow:
    """The swept values of one report, and where they were given (for messages)."""

    values: dict[str, Any]
    where: str = ""
    #: Keys in the order they name the report.
    order: tuple[str, ...] = field(default=())


# ============================================================================================
# Parsing


def parse_sweep(text: str) -> SweepAxis:
    """``"symbol=^N225,^HSI"`` -> ``SweepAxis("symbol", ("^N225", "^HSI"))`` (values are
    :class:`~tradeshock.pipeline.params.TextValue`, coerced later like ``-p`` values)."""
    example = "e.g. --sweep symbol=^N225,^HSI,^GDAXI"
    key, sep, rest = str(text).partition("=")
    key = key.strip()
    if not sep or not key:
        raise ValidationError(f"--sweep {text!r}: write KEY=VALUE1,VALUE2,...; {example}")
    if not _KEY_RE.match(key):
        raise ValidationError(
            f"--sweep {text!r}: {key!r} is not a parameter name (letters, digits, '_'); {example}"
        )
    rest = rest.strip()
    if rest.startswith("["):
        import yaml

        try:
            items = yaml.safe_load(rest)
        except yaml.YAMLError as exc:
            raise ValidationError(
                f"--sweep {text!r}: the value list is not valid YAML "
                f"({str(exc).splitlines()[0]}); write KEY=[a, b] or KEY=a,b"
            ) from None
        if not isinstance(items, list):
            raise ValidationError(f"--sweep {text!r}: write the values as [a, b] or a,b")
        values = [TextValue(v) if isinstance(v, str) else v for v in items]
    else:
        values = [TextValue(v.strip()) for v in rest.split(",")] if rest else []
    if not values:
        raise ValidationError(f"--sweep {text!r}: no values after '='; {example}")
    for i, v in enumerate(values, 1):
        if isinstance(v, str) and not v.strip():
            raise ValidationError(
                f"--sweep {text!r}: value {i} is empty; remove the extra ',' ({example})"
            )
    return SweepAxis(key, tuple(values))


def read_sweep_file(path: str | Path) -> list[SweepRow]:
    """Rows of a ``.csv`` (header = parameter names, a report per row) or ``.yaml``/``.yml``
    (a list of mappings, or a mapping of parameter -> list of values) sweep file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".yaml", ".yml"):
        raise ValidationError(
            f"sweep file {path}: unknown format {suffix or '(no suffix)'!r}; use .csv (a column "
            "per parameter) or .yaml/.yml (a list of parameter mappings)"
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValidationError(f"sweep file {path} does not exist; check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"sweep file {path} cannot be read ({exc})") from None
    rows = _csv_rows(path, text) if suffix == ".csv" else _yaml_rows(path, text)
    if not rows:
        raise ValidationError(
            f"sweep file {path} has no rows; add one report per row (a header of parameter names, "
            "then values)"
        )
    return rows


def _csv_rows(path: Path, text: str) -> list[SweepRow]:
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header:
        return []
    keys = [h.strip() for h in header]
    for i, key in enumerate(keys, 1):
        if not _KEY_RE.match(key):
            raise ValidationError(
                f"sweep file {path}, line 1, column {i}: {key!r} is not a parameter name "
                "(letters, digits, '_'); the header row names the parameters"
            )
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise ValidationError(f"sweep file {path}, line 1: column(s) {', '.join(dupes)} repeat")
    rows = []
    for line, cells in enumerate(reader, 2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(keys):
            raise ValidationError(
                f"sweep file {path}, line {line}: {len(cells)} value(s) for {len(keys)} "
                f"column(s) ({', '.join(keys)}); quote values that contain ','"
            )
        values = {k: TextValue(c.strip()) for k, c in zip(keys, cells, strict=True) if c.strip()}
        rows.append(SweepRow(values, f"{path.name} line {line}", tuple(values)))
    return rows


def _yaml_rows(path: Path, text: str) -> list[SweepRow]:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError(f"sweep file {path} is not valid YAML: {exc}") from None
    if data is None:
        return []
    how = (
        "write a list of mappings (`- {symbol: ^N225}`) or a mapping of parameter to a list "
        "(`symbol: [^N225, ^HSI]`)"
    )
    rows: list[SweepRow] = []
    if isinstance(data, list):
        for i, item in enumerate(data, 1):
            if not isinstance(item, Mapping) or not item:
                raise ValidationError(
                    f"sweep file {path}, item {i}: {item!r} is not a mapping of parameters; {how}"
                )
            values = {str(k): v for k, v in item.items()}
            rows.append(SweepRow(values, f"{path.name} item {i}", tuple(values)))
        _check_keys(path, rows)
        return rows
    if isinstance(data, Mapping):
        columns = {str(k): v for k, v in data.items()}
        bad = [k for k, v in columns.items() if not isinstance(v, list)]
        if bad:
            raise ValidationError(
                f"sweep file {path}: {', '.join(bad)} is not a list of values; {how}"
            )
        lengths = {k: len(v) for k, v in columns.items()}
        if len(set(lengths.values())) > 1:
            listing = ", ".join(f"{k}: {n}" for k, n in lengths.items())
            raise ValidationError(
                f"sweep file {path}: columns have different lengths ({listing}); give every "
                "parameter one value per report (columns are read row by row, not crossed)"
            )
        for i, cells in enumerate(zip(*columns.values(), strict=True), 1):
            values = dict(zip(columns, cells, strict=True))
            rows.append(SweepRow(values, f"{path.name} row {i}", tuple(columns)))
        _check_keys(path, rows)
        return rows
    raise ValidationError(f"sweep file {path}: got a {type(data).__name__}; {how}")


def _check_keys(path: Path, rows: Sequence[SweepRow]) -> None:
    for row in rows:
        for key in row.values:
            if not _KEY_RE.match(key):
                raise ValidationError(
                    f"sweep file {path} ({row.where}): {key!r} is not a parameter name "
                    "(letters, digits, '_')"
                )


def sweep_rows(
    axes: Sequence[SweepAxis] = (), file_rows: Sequence[SweepRow] | None = None
) -> list[SweepRow]:
    """The reports of a sweep: every file row crossed with the cartesian product of ``axes``
    (first axis slowest), in order. No axes and no file: no rows."""
    keys = [a.key for a in axes]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ValidationError(
            f"--sweep {', '.join(twice)} given more than once; list all values in one option "
            f"(--sweep {twice[0]}=A,B,C)"
        )
    file_keys = {k for r in file_rows or () for k in r.values}
    both = sorted(file_keys & set(keys))
    if both:
        raise ValidationError(
            f"parameter(s) {', '.join(both)} swept both in the sweep file and with --sweep; "
            "use one of them"
        )
    if not axes and not file_rows:
        return []
    base = list(file_rows) if file_rows else [SweepRow({}, "", ())]
    out: list[SweepRow] = []
    for row in base:
        for combo in itertools.product(*[list(enumerate(a.values, 1)) for a in axes]):
            values = dict(row.values)
            where = [row.where] if row.where else []
            for axis, (i, value) in zip(axes, combo, strict=True):
                values[axis.key] = value
                where.append(f"--sweep {axis.key} value {i}")
            out.append(SweepRow(values, ", ".join(where), row.order + tuple(keys)))
    return out


# ============================================================================================
# Checks of values against the data


def _known_symbols(values: Any) -> None:
    from tradeshock.data.universe import lookup

    symbols = values if isinstance(values, list) else [values]
    symbols = [s for s in symbols if s is not None]
    bad = [s for s in symbols if not isinstance(s, str)]
    if bad:
        raise ValidationError(f"{bad[0]!r} is not a symbol (text such as ^N225)")
    if symbols:
        lookup(symbols)  # UnknownSymbolError: names the symbol, close matches, how to add one


def _known_events(values: Any) -> None:
    from tradeshock import events as ev

    items = values if isinstance(values, list) else [values]
    items = [e for e in items if e is not None]
    if not items:
        return
    calendar = ev.load_events()  # a few ms; plan_sweep checks each distinct value once
    for item in items:
        if not isinstance(item, str):
            raise ValidationError(f"{item!r} is not an event id or short name")
        ev.get_event(item, calendar)


#: Checks of parameter values against the data, by parameter-name pattern (full match): each
#: takes the coerced value and raises :class:`ValidationError` saying what is wrong.
VALUE_CHECKS: dict[str, Callable[[Any], None]] = {
    r"symbol|.+_symbol|symbols|.+_symbols": _known_symbols,
    r"event|.+_event|events|events_.+|.+_events": _known_events,
}


def check_values(
    values: Mapping[str, Any], checks: Mapping[str, Callable[[Any], None]] | None = None
) -> list[str]:
    """Problems (``"symbol='^XYZ': unknown symbol ..."``) of ``values`` under ``checks``
    (default :data:`VALUE_CHECKS`); empty when all pass."""
    return [f"{key}={value!r}: {text}" for key, value, text in _problems(values, checks)]


def _problems(
    values: Mapping[str, Any], checks: Mapping[str, Callable[[Any], None]] | None
) -> list[tuple[str, Any, str]]:
    checks = VALUE_CHECKS if checks is None else checks
    problems = []
    for key, value in values.items():
        for pattern, check in checks.items():
            if re.fullmatch(pattern, key):
                try:
                    check(value)
                except (ValidationError, ValueError, KeyError) as exc:
                    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
                    problems.append((key, value, text))
    return problems


# ============================================================================================
# Names


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"), default=str)


def _slug(value: Any) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", _value_text(value)).strip("_-")


def _ordered(values: Mapping[str, Any], order: Sequence[str]) -> list[str]:
    return [k for k in order if k in values] + [k for k in values if k not in order]


def _digest(values: Mapping[str, Any]) -> str:
    text = json.dumps(values, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:_DIGEST]


def report_name(stem: str, values: Mapping[str, Any], order: Sequence[str] = ()) -> str:
    """``NOTEBOOK-VALUE[-VALUE...]`` from the swept ``values`` (keys in ``order``, then the
    rest); a safe :func:`~tradeshock.pipeline.naming.check_output_name` name of at most 120
    characters (longer ones are cut and end in a digest of the values)."""
    parts = [output_name(stem)] + [_slug(values[k]) or "_" for k in _ordered(values, order)]
    name = "-".join(parts)
    if len(name) > _MAX_NAME:
        name = name[: _MAX_NAME - _DIGEST - 1].rstrip("_-") + "-" + _digest(values)
    return check_output_name(name)


# ============================================================================================
# Planning


def plan_sweep(
    notebooks: Sequence[str | Path],
    rows: Sequence[SweepRow],
    params: Mapping[str, Any] | None = None,
    *,
    checks: Mapping[str, Callable[[Any], None]] | None = None,
) -> list[RenderJob]:
    """One :class:`RenderJob` per notebook and row, validated before any work.

    ``params`` are the fixed values (``-p``/``--params-file``; per-notebook sections allowed),
    coerced as in :func:`~tradeshock.pipeline.render.render_notebooks`. Raises one
    :class:`~tradeshock.errors.ValidationError` listing every problem: a swept parameter a
    notebook does not declare, a value of the wrong type or unknown to the data (``checks``,
    default :data:`VALUE_CHECKS`; naming the value and where it was given), a parameter both fixed
    and swept, the same parameters twice.
    """
    from tradeshock.pipeline.params import resolve_parameters, split_sections

    if not rows:
        raise ValidationError("the sweep has no values; e.g. --sweep symbol=^N225,^HSI")
    declared: dict[str, NotebookParameters] = declare_notebooks(notebooks)
    if not declared:
        raise ValidationError("no notebooks to sweep")
    swept = list(dict.fromkeys(k for r in rows for k in r.values))
    common, sections = split_sections(params, declared)
    fixed_keys = set(common) | {k for s in sections.values() for k in s}
    both = [k for k in swept if k in fixed_keys]
    if both:
        raise ValidationError(
            f"parameter(s) {', '.join(both)} are both fixed (-p/--params-file) and swept; drop "
            "one of the two"
        )
    fixed = resolve_parameters(params, declared)  # one error for bad fixed values
    problems: list[str] = []
    for key in swept:
        missing = [n for n, nbp in declared.items() if key not in nbp]
        for n in missing:
            problems.append(
                f"notebook {n} ({declared[n].path}) does not declare the swept parameter "
                f"'{key}' (it declares: {declared[n].known()}); name only notebooks that declare "
                "it, e.g. `tradeshock render country_report --sweep symbol=...`"
            )
    if problems:
        raise ValidationError("invalid sweep:\n  - " + "\n  - ".join(problems))
    for name, values in fixed.items():
        problems += [f"notebook {name}, fixed parameter {p}" for p in check_values(values, checks)]
    jobs: list[RenderJob] = []
    rows_of: list[SweepRow] = []
    seen: dict[tuple[str, str], str] = {}
    checked: dict[tuple[str, str], list[str]] = {}  # (key, value) -> problems
    for name, nbp in declared.items():
        for row in rows:
            coerced: dict[str, Any] = {}
            where = f" ({row.where})" if row.where else ""
            for key, value in row.values.items():
                spec = nbp.specs[key]
                try:
                    coerced[key] = coerce_value(spec, value)
                except ValueError as exc:
                    problems.append(
                        f"swept value {key}={_show(value)}{where}: {exc}; notebook {name} "
                        f"declares `{spec.declaration}`, so give a {spec.type_name}"
                    )
            if len(coerced) != len(row.values):
                continue
            for key, value in coerced.items():
                memo = (key, json.dumps(value, sort_keys=True, default=str))
                if memo not in checked:
                    checked[memo] = [t for _, _, t in _problems({key: value}, checks)]
                problems += [
                    f"swept value {key}={_show(value)}{where}: {text}"
                    for text in checked[memo]
                ]
            full = {**fixed[name], **coerced}
            ident = (name, json.dumps(full, sort_keys=True, default=str))
            if ident in seen:
                problems.append(
                    f"notebook {name} gets the same parameters twice, {_describe(coerced)} "
                    f"({seen[ident]} and {row.where or 'a later row'}); drop the duplicate"
                )
                continue
            seen[ident] = row.where or "an earlier row"
            keys = _ordered(coerced, row.order)
            label = ", ".join(f"{k}={_value_text(coerced[k])}" for k in keys)
            jobs.append(
                RenderJob(report_name(name, coerced, row.order), nbp.path.resolve(), full, label)
            )
            rows_of.append(SweepRow(coerced, row.where, row.order))
    if problems:
        unique = list(dict.fromkeys(problems))
        raise ValidationError("invalid sweep:\n  - " + "\n  - ".join(unique))
    return _unique_names(jobs, rows_of)


def _show(value: Any) -> str:
    """A value as in a message: text quoted, other values as JSON (``'^N225'``, ``3``, ``true``)."""
    return repr(str(value)) if isinstance(value, str) else _value_text(value)


def _describe(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={_show(v)}" for k, v in values.items())


def _unique_names(jobs: list[RenderJob], rows: list[SweepRow]) -> list[RenderJob]:
    """Append a digest of the swept values to names that clash (case-insensitively)."""
    folded = [j.name.lower() for j in jobs]
    out = []
    for job, row, low in zip(jobs, rows, folded, strict=True):
        if folded.count(low) > 1:
            stem = job.name[: _MAX_NAME - _DIGEST - 1].rstrip("_-")
            digest = _digest({"notebook": str(job.notebook), **row.values})
            name = check_output_name(f"{stem}-{digest}")
            job = RenderJob(name, job.notebook, job.params, job.label)
        out.append(job)
    names = [j.name.lower() for j in out]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:  # pragma: no cover - distinct values with one digest
        raise ValidationError(f"sweep report names clash: {', '.join(clash)}")
    return out
