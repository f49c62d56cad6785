"""Report names, and where notebooks and reports are found.

A report's name is its notebook's file stem (``STEM-VALUE`` for a sweep) and names its files in the
output folder (``NAME.html``, ``NAME.ipynb``, ``NAME.failed.html``...). :func:`check_output_name`
admits only safe names (no path parts, not the index or the manifest), :func:`output_name` makes one
from free text, and :func:`output_path` builds a path guaranteed to stay directly inside the output
folder. :func:`resolve_notebooks` turns command-line names (a path, a stem, a unique prefix) into
notebook files; :func:`default_notebooks_dir` and :func:`default_out_dir` are the project's
``notebooks/`` and ``reports/``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from tradeshock.errors import RenderError, ValidationError
from tradeshock.paths import PROJECT_ROOT
from tradeshock.pipeline.outputs import INDEX_NAME, MANIFEST_NAME

__all__ = [
    "check_output_name",
    "default_notebooks_dir",
    "default_out_dir",
    "output_name",
    "output_path",
    "resolve_notebooks",
]

#: A report name: 1-120 of ``[A-Za-z0-9_-]``, starting with a letter or digit.
_REPORT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,119}$")
#: Names taken by the output folder's own files (``index``, ``manifest``).
_RESERVED = {Path(INDEX_NAME).stem, Path(MANIFEST_NAME).stem}


def output_name(text: str) -> str:
    """A safe output name from free text (a notebook stem, a sweep value): ``[A-Za-z0-9_-]``."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", str(text)).strip("_-")[:120]
    if not slug:
        raise ValidationError(
            f"cannot make a report name from {text!r}: it has no letters or digits; "
            "rename the notebook"
        )
    return check_output_name(slug)


def check_output_name(name: str) -> str:
    """Return ``name`` if it is a safe report name, else raise :class:`ValidationError`.

    A safe name is 1-120 characters of ``[A-Za-z0-9_-]`` starting with a letter or digit, and not
    ``index`` or ``manifest``; so no ``..``, ``/``, ``\\``, absolute path or hidden file.
    """
    if not isinstance(name, str) or not _REPORT_NAME_RE.match(name):
        raise ValidationError(
            f"report name {name!r} is not allowed: use 1-120 letters, digits, '_' or '-', "
            "starting with a letter or digit (no '/', '..' or other path parts)"
        )
    if name.lower() in _RESERVED:
        raise ValidationError(
            f"report name {name!r} is reserved for the render index; rename the notebook"
        )
    return name


def output_path(out_dir: str | Path, name: str, suffix: str) -> Path:
    """``OUT/NAME + suffix``, guaranteed to be a file directly inside ``out_dir``."""
    check_output_name(name)
    if not re.fullmatch(r"(\.[a-z]+)+", suffix):
        raise ValidationError(f"bad report file suffix {suffix!r}")
    out = Path(out_dir)
    path = out / f"{name}{suffix}"
    if path.resolve().parent != out.resolve():
        raise ValidationError(f"report path {path} would leave the output folder {out}")
    return path


def default_notebooks_dir() -> Path:
    """The project's ``notebooks/`` (beside the installed library), else ``./notebooks``."""
    here = PROJECT_ROOT / "notebooks" if PROJECT_ROOT is not None else None
    return here if here is not None and here.is_dir() else Path("notebooks")


def default_out_dir() -> Path:
    """The project's ``reports/`` (beside the installed library), else ``./reports``."""
    if PROJECT_ROOT is not None and (PROJECT_ROOT / "notebooks").is_dir():
        return PROJECT_ROOT / "reports"
    return Path("reports")


def resolve_notebooks(names: Sequence[str], notebooks_dir: str | Path | None = None) -> list[Path]:
    """Notebook paths from command-line names: a path, a stem in ``notebooks_dir``, or a unique
    prefix of one (``02`` for ``02_us_indices``); no names means every ``*.ipynb`` there."""
    folder = Path(notebooks_dir) if notebooks_dir is not None else default_notebooks_dir()
    available = sorted(p for p in folder.glob("*.ipynb")) if folder.is_dir() else []
    if not names:
        if not available:
            raise RenderError(
                f"no notebooks (*.ipynb) found in {folder}; name notebooks to render or pass "
                "--notebooks-dir"
            )
        return available
    out: list[Path] = []
    for name in names:
        given = Path(name)
        if given.suffix == ".ipynb" and given.is_file():
            out.append(given)
            continue
        candidates = [folder / name, folder / f"{name}.ipynb"]
        hit = next((c for c in candidates if c.suffix == ".ipynb" and c.is_file()), None)
        if hit is None:
            prefixed = [p for p in available if p.stem.startswith(name)]
            hit = prefixed[0] if len(prefixed) == 1 else None
        if hit is None:
            listing = ", ".join(p.stem for p in available) or "none"
            raise ValidationError(
                f"notebook {name!r} not found (looked for {given} and in {folder}); "
                f"available in {folder}: {listing}"
            )
        out.append(hit)
    return out
