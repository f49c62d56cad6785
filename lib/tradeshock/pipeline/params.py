"""Notebook parameters: what a notebook declares, and coercing user values to those types.

A notebook declares its parameters in the one code cell tagged ``parameters`` (papermill's
convention), with a type annotation or a literal default, and a trailing comment as help::

    event: str = "liberation_day"      # event id from the calendar
    window: list[int] = [-5, 10]       # event window, sessions
    as_of: str | None = None           # ISO date; None = latest data
    alpha = 0.05                       # (no annotation: the type of the default, float)

Values arrive as text (``-p KEY VALUE`` on the command line), as YAML values (``--params-file``)
or as Python values (the API). :func:`resolve_parameters` coerces each to the declared type, so

- ``str`` parameters stay strings exactly as given: ``"NaN"`` stays ``"NaN"`` and ``2025-04-02``
  stays ``"2025-04-02"`` (a YAML date or a ``datetime.date`` becomes its ISO string);
- ``int`` accepts whole numbers only (``"3"`` or ``3``; never ``"3.5"``, ``3.5`` or ``True``);
- ``float`` accepts numbers, and ``"nan"``/``"inf"`` spelled out; ``bool`` accepts
  true/false/yes/no/on/off/1/0; ``list`` accepts ``[a, b]`` (YAML/JSON) or ``a,b``;
- ``date`` (annotation ``date``/``datetime.date``) accepts ISO dates and passes the ISO string,
  because papermill can only inject literals (convert with ``pandas.Timestamp`` in the notebook);
- undeclared types (default ``None``, no annotation) parse numbers, booleans, ``null`` and
  ``[...]``/``{...}`` from text and keep everything else, including ``NaN`` and dates, as strings.

Unknown names are an error naming the parameter and listing the known ones. Nothing here runs a
kernel, so every problem is reported before any notebook executes. The coerced values reach the
notebook through papermill's Python translator, which writes them as literals (strings quoted and
escaped), so a value can never become code in the parameters cell.
"""

from __future__ import annotations

import ast
import datetime as _dt
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradeshock.errors import ValidationError

__all__ = [
    "ParamSpec",
    "NotebookParameters",
    "TextValue",
    "inspect_parameters",
    "coerce_value",
    "resolve_parameters",
    "split_sections",
    "read_params_file",
]

_KINDS = {"str", "int", "float", "bool", "list", "dict", "date", "any"}
_IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INT_RE = re.compile(r"^[+-]?\d+$")
_FLOAT_RE = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_NULL = {"none", "null", "~"}
_MISSING = object()


class TextValue(str):
    """A parameter value typed by a person as text (``-p KEY VALUE``): parsed by the declared type.

    Plain ``str`` values from YAML or Python stay strings for untyped parameters; a ``TextValue``
    is parsed (numbers, booleans, ``null``, ``[..]``) when the notebook declares no type.
    """

    __slots__ = ()


@dataclass(frozen=True)
class ParamSpec:
    """One parameter declared in a notebook's ``parameters`` cell."""

    name: str
    #: ``str`` ``int`` ``float`` ``bool`` ``list`` ``dict`` ``date`` or ``any`` (type unknown).
    kind: str
    #: ``None`` is accepted (annotation ``X | None``/``Optional[X]`` or a ``None`` default).
    optional: bool = False
    #: Element kind for ``list[X]``; ``any`` otherwise.
    item_kind: str = "any"
    #: The declaration as written, e.g. ``n: int = 3``, for messages.
    declaration: str = ""
    #: Default value when the default is a literal (else the source text in ``default_source``).
    default: Any = None
    default_source: str = ""
    help: str = ""

    @property
    def type_name(self) -> str:
        """Human name of the declared type: ``int``, ``list[str]``, ``str | None``, ``any``."""
        base = (
            f"list[{self.item_kind}]"
            if self.kind == "list" and self.item_kind != "any"
            else self.kind
        )
        return f"{base} | None" if self.optional and self.kind != "any" else base


@dataclass(frozen=True)
class NotebookParameters:
    """The parameters a notebook declares (empty when it has no ``parameters`` cell)."""

    path: Path
    has_cell: bool
    specs: dict[str, ParamSpec] = field(default_factory=dict)

    def __contains__(self, name: object) -> bool:
        return name in self.specs

    def known(self) -> str:
        """``a, b, c`` or a note that the notebook declares none, for messages."""
        if not self.has_cell:
            return "none (the notebook has no cell tagged 'parameters')"
        return ", ".join(sorted(self.specs)) or "none (its 'parameters' cell assigns nothing)"


# --------------------------------------------------------------------------------------------
# Inspection


def inspect_parameters(path: str | Path) -> NotebookParameters:
    """Read the parameters a notebook declares, without a kernel.

    The cell tagged ``parameters`` is parsed with :mod:`ast` (annotations, literal defaults,
    trailing ``#`` comments as help). A cell that is not plain Python (e.g. IPython magics) falls
    back to papermill's own inference (:func:`papermill.inspect_notebook`).
    """
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = nb["cells"]
    except FileNotFoundError:
        raise ValidationError(f"notebook {path} does not exist") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValidationError(
            f"notebook {path} cannot be read as a Jupyter notebook ({exc}); "
            "open it in JupyterLab and save it again"
        ) from None
    cell = next(
        (c for c in cells if "parameters" in (c.get("metadata", {}).get("tags") or [])), None
    )
    if cell is None:
        return NotebookParameters(path, has_cell=False)
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else str(source)
    try:
        specs = _inspect_source(source)
    except SyntaxError:
        specs = _inspect_with_papermill(path)
    return NotebookParameters(path, has_cell=True, specs=specs)


def _inspect_source(source: str) -> dict[str, ParamSpec]:
    tree = ast.parse(source, type_comments=True)
    lines = source.splitlines()
    specs: dict[str, ParamSpec] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value:
            name, value, annotation = stmt.target.id, stmt.value, ast.unparse(stmt.annotation)
        elif (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
        ):
            name, value, annotation = stmt.targets[0].id, stmt.value, stmt.type_comment
        else:
            continue
        default_source = ast.get_source_segment(source, value) or ""
        try:
            default = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError):
            default = _MISSING
        help_text = _help_comment(lines, stmt)
        declaration = (ast.get_source_segment(source, stmt) or name).splitlines()[0]
        specs[name] = _make_spec(name, annotation, default, default_source, help_text, declaration)
    return specs


def _help_comment(lines: list[str], stmt: ast.stmt) -> str:
    tail = lines[stmt.end_lineno - 1][stmt.end_col_offset :].strip() if stmt.end_lineno else ""
    if tail.startswith("#"):
        return tail.lstrip("#").strip()
    above = []
    i = stmt.lineno - 2
    while i >= 0 and lines[i].strip().startswith("#"):
        above.insert(0, lines[i].strip().lstrip("#").strip())
        i -= 1
    return " ".join(above)


def _inspect_with_papermill(path: Path) -> dict[str, ParamSpec]:
    from papermill import inspect_notebook

    specs = {}
    for name, info in inspect_notebook(str(path)).items():
        annotation = info.get("inferred_type_name")
        annotation = None if annotation in (None, "None") else annotation
        default_source = info.get("default") or ""
        try:
            default = ast.literal_eval(default_source)
        except (ValueError, SyntaxError, TypeError):
            default = _MISSING
        declaration = f"{name}{': ' + annotation if annotation else ''} = {default_source}"
        specs[name] = _make_spec(
            name, annotation, default, default_source, info.get("help") or "", declaration
        )
    return specs


def _make_spec(name, annotation, default, default_source, help_text, declaration) -> ParamSpec:
    if annotation:
        kind, optional, item_kind = _parse_annotation(annotation)
    else:
        kind, optional, item_kind = _kind_of_value(default), False, "any"
    if default is None:
        optional = True
    return ParamSpec(
        name=name,
        kind=kind,
        optional=optional,
        item_kind=item_kind,
        declaration=declaration,
        default=None if default is _MISSING else default,
        default_source=default_source,
        help=help_text,
    )


_TYPE_WORDS = {
    "str": "str",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "list": "list",
    "List": "list",
    "tuple": "list",
    "Tuple": "list",
    "Sequence": "list",
    "dict": "dict",
    "Dict": "dict",
    "Mapping": "dict",
    "date": "date",
}


def _parse_annotation(text: str) -> tuple[str, bool, str]:
    """``'list[str] | None'`` -> ``('list', True, 'str')``; unknown annotations -> ``any``."""
    text = text.strip().strip("'\"").replace("typing.", "").replace("datetime.date", "date")
    text = text.replace("pd.Timestamp", "date").replace("Timestamp", "date")
    optional = False
    m = re.fullmatch(r"Optional\[(.+)\]", text)
    if m:
        text, optional = m.group(1), True
    parts = [p.strip() for p in re.split(r"\|(?![^\[]*\])", text)]
    if len(parts) > 1 and "None" in parts:
        optional = True
        parts = [p for p in parts if p != "None"]
    if len(parts) != 1:
        return "any", optional, "any"
    text = parts[0]
    m = re.fullmatch(r"(\w+)\[(.+)\]", text)
    if m:
        base, inner = m.group(1), m.group(2)
        kind = _TYPE_WORDS.get(base, "any")
        item = "any"
        if kind == "list":
            inner = inner.split(",")[0].strip()
            item = _TYPE_WORDS.get(inner, "any")
            item = item if item in {"str", "int", "float", "bool", "date"} else "any"
        return kind, optional, item
    if text == "datetime":
        return "date", optional, "any"
    return _TYPE_WORDS.get(text, "any"), optional, "any"


def _kind_of_value(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "dict"
    return "any"


# --------------------------------------------------------------------------------------------
# Coercion


class _Bad(Exception):
    """A value does not fit its declared type (message says why)."""


def coerce_value(spec: ParamSpec, value: Any) -> Any:
    """Return ``value`` as the type ``spec`` declares, as a JSON-like literal papermill can inject.

    Raises :class:`ValueError` with the reason when the value does not fit.
    """
    try:
        return _coerce(spec.kind, spec.optional, spec.item_kind, value)
    except _Bad as exc:
        raise ValueError(str(exc)) from None


def _coerce(kind: str, optional: bool, item_kind: str, value: Any) -> Any:
    if value is None:
        if optional or kind == "any":
            return None
        raise _Bad("None is not allowed here")
    text = isinstance(value, str)
    if text and optional and kind not in ("any",) and value.strip().lower() in _NULL:
        return None
    if kind == "str":
        if text:
            return str(value)
        if isinstance(value, _dt.date):
            return _iso(value)
        raise _Bad(f"{type(value).__name__} {value!r} is not a string; quote it")
    if kind == "int":
        if isinstance(value, bool):
            raise _Bad(f"{value!r} is a boolean, not a whole number")
        if isinstance(value, int):
            return int(value)
        if text and _INT_RE.match(value.strip()):
            return int(value.strip())
        raise _Bad(f"{value!r} is not a whole number")
    if kind == "float":
        if isinstance(value, bool):
            raise _Bad(f"{value!r} is a boolean, not a number")
        if isinstance(value, int | float):
            return float(value)
        if text:
            s = value.strip()
            if _FLOAT_RE.match(s) or s.lower().lstrip("+-") in ("nan", "inf", "infinity"):
                return float(s)
        raise _Bad(f"{value!r} is not a number")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if text and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise _Bad(f"{value!r} is not true/false")
    if kind == "date":
        if isinstance(value, _dt.date):
            return _iso(value)
        if text:
            try:
                return _iso(_dt.datetime.fromisoformat(value.strip()))
            except ValueError:
                pass
        raise _Bad(f"{value!r} is not an ISO date (YYYY-MM-DD)")
    if kind == "list":
        if text:
            value = _parse_list_text(value)
        if not isinstance(value, list | tuple):
            raise _Bad(f"{value!r} is not a list; write [a, b] or a,b")
        return [
            _coerce(item_kind, False, "any", v) if item_kind != "any" else _plain(v) for v in value
        ]
    if kind == "dict":
        if text:
            value = _yaml_load(value)
        if not isinstance(value, dict):
            raise _Bad(f"{value!r} is not a mapping; write {{key: value}}")
        return {str(k): _plain(v) for k, v in value.items()}
    # any: text is parsed conservatively, everything else kept.
    if isinstance(value, TextValue):
        return _parse_untyped_text(str(value))
    return _plain(value)


def _iso(value: _dt.date) -> str:
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None and value.time() == _dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    return value.isoformat()


def _plain(value: Any) -> Any:
    """A JSON-like literal: dates to ISO strings, tuples to lists, other objects rejected."""
    if value is None or isinstance(value, bool | int | float | str):
        return str(value) if isinstance(value, str) else value
    if isinstance(value, _dt.date):
        return _iso(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    raise _Bad(f"{type(value).__name__} {value!r} cannot be passed to a notebook")


def _yaml_load(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _Bad(f"{text!r} cannot be parsed ({str(exc).splitlines()[0]})") from None


def _parse_list_text(text: str) -> list:
    s = text.strip()
    if s.startswith("["):
        value = _yaml_load(s)
        if not isinstance(value, list):
            raise _Bad(f"{text!r} is not a list")
        # YAML turns unquoted 2025-04-02 into a date and NaN-like words stay strings; both fine.
        return value
    if not s:
        return []
    return [part.strip() for part in s.split(",")]


def _parse_untyped_text(text: str) -> Any:
    s = text.strip()
    if _INT_RE.match(s):
        return int(s)
    if _FLOAT_RE.match(s):
        return float(s)
    low = s.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in _NULL:
        return None
    if s.startswith(("[", "{")):
        try:
            return _plain(_yaml_load(s))
        except _Bad:
            return text
    return text


# --------------------------------------------------------------------------------------------
# Resolution across notebooks


def split_sections(
    params: Mapping[str, Any] | None, notebooks: Mapping[str, NotebookParameters]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Split ``params`` into values for every notebook and per-notebook sections.

    A key is a per-notebook section when it is the output name of a selected notebook, its value
    is a mapping, and no selected notebook declares a parameter of that name.
    """
    common: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {}
    declared = {n for nbp in notebooks.values() for n in nbp.specs}
    for key, value in (params or {}).items():
        if key in notebooks and isinstance(value, Mapping) and key not in declared:
            sections[key] = dict(value)
        else:
            common[key] = value
    return common, sections


def resolve_parameters(
    params: Mapping[str, Any] | None, notebooks: Mapping[str, NotebookParameters]
) -> dict[str, dict[str, Any]]:
    """Coerce ``params`` for each notebook (keyed by output name); raise one error for all problems.

    Values for every notebook (plain keys) apply to each notebook that declares the name and must
    be declared by at least one; a per-notebook section (``{NAME: {key: value}}``) must name only
    parameters that notebook declares.
    """
    common, sections = split_sections(params, notebooks)
    problems: list[str] = []
    out: dict[str, dict[str, Any]] = {name: {} for name in notebooks}
    for key in common:
        if not any(key in nbp for nbp in notebooks.values()):
            problems.append(_unknown_message(key, notebooks))
    for name, nbp in notebooks.items():
        values = {k: v for k, v in common.items() if k in nbp}
        for key, value in sections.get(name, {}).items():
            if key not in nbp:
                problems.append(_unknown_message(key, {name: nbp}))
            else:
                values[key] = value
        for key, value in values.items():
            spec = nbp.specs[key]
            if not _IDENTIFIER_RE.match(key):  # declared names come from ast; belt and braces
                problems.append(f"parameter name {key!r} is not a Python identifier")
                continue
            try:
                out[name][key] = coerce_value(spec, value)
            except ValueError as exc:
                problems.append(
                    f"parameter '{key}' of notebook {name} ({nbp.path}): {exc}; the notebook "
                    f"declares `{spec.declaration}`, so pass a {spec.type_name}, "
                    f"e.g. -p {key} {_example(spec)}"
                )
    if problems:
        raise ValidationError("invalid notebook parameters:\n  - " + "\n  - ".join(problems))
    return out


def _unknown_message(key: str, notebooks: Mapping[str, NotebookParameters]) -> str:
    where = "; ".join(f"{name} declares: {nbp.known()}" for name, nbp in notebooks.items())
    close = _close_names(key, {n for nbp in notebooks.values() for n in nbp.specs})
    hint = f" Did you mean {close}?" if close else ""
    return (
        f"unknown parameter '{key}': no selected notebook declares it ({where}).{hint} "
        "Fix the name, or declare it in the notebook's cell tagged 'parameters'."
    )


def _close_names(key: str, names: set[str]) -> str:
    import difflib

    hits = difflib.get_close_matches(key, sorted(names), n=2)
    return " or ".join(f"'{h}'" for h in hits)


def _example(spec: ParamSpec) -> str:
    if spec.default is not None and not (
        isinstance(spec.default, float) and math.isnan(spec.default)
    ):
        if isinstance(spec.default, list | tuple):
            return "'" + json.dumps(list(spec.default)) + "'"
        if isinstance(spec.default, str):
            return spec.default if spec.default and " " not in spec.default else repr(spec.default)
        return str(spec.default)
    return {"int": "3", "float": "0.05", "bool": "true", "date": "2025-04-02", "list": "a,b"}.get(
        spec.kind, "VALUE"
    )


def read_params_file(path: str | Path) -> dict[str, Any]:
    """Load a YAML parameters file: a mapping of ``name: value``, optionally with per-notebook
    sections ``NOTEBOOK: {name: value}`` (see :func:`split_sections`)."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError(f"parameters file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ValidationError(f"parameters file {path} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationError(
            f"parameters file {path} must be a mapping of parameter names to values "
            f"(got a {type(data).__name__}); write e.g. `event: liberation_day`"
        )
    return {str(k): v for k, v in data.items()}
