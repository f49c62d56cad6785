"""Which folders a render may write reports into (``--out``), and marking the ones it made.

A render replaces ``NAME.html``, ``NAME.ipynb``, ``index.html`` and ``manifest.json`` in its
output folder, so it must never be pointed at a folder holding someone else's files (the
project's ``notebooks/``, the pinned snapshot in ``data/snapshot/``, a folder with its own
``index.html``). :func:`check_out_dir` admits a folder that is

- missing or empty (the render creates and marks it),
- marked as made by tradeshock (the small file :data:`~.outputs.MARKER_NAME`, written by
  :func:`mark_out_dir` when a render first writes into it),
- the project's default ``reports/`` folder, or one whose ``manifest.json`` is a tradeshock
  render manifest (folders made before the marker existed; they are marked on the next render),
- holding only tradeshock's own hidden files (locks, staging, temporary files);

and refuses, with what, where and how to fix it, the project root and its source folders
(``notebooks/``, ``data/`` and everything inside it, ``lib/``, ``tests/``, ``docs/``,
``benchmarks/``), a path that is a file, and any other folder that holds files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tradeshock.core.fileio import atomic_write_text, is_temp_name
from tradeshock.errors import OutputFolderError
from tradeshock.paths import PROJECT_ROOT
from tradeshock.pipeline.outputs import HIDDEN_PREFIX, MANIFEST_NAME, MARKER_NAME

__all__ = [
    "SOURCE_FOLDERS",
    "check_not_source_folder",
    "check_out_dir",
    "is_tradeshock_manifest",
    "mark_out_dir",
]

#: Folders of the project checkout that hold sources, never reports.
SOURCE_FOLDERS = ("notebooks", "data", "lib", "tests", "docs", "benchmarks", ".git")
#: Source folders whose whole tree is refused (a folder inside them is still theirs).
_WHOLE_TREE = ("data", "lib", ".git")
_MARKER_TEXT = (
    "This folder holds reports written by `tradeshock render` (index.html, manifest.json,\n"
    "NAME.html, NAME.ipynb). tradeshock replaces files here; keep other files elsewhere.\n"
)
_FIX = (
    "choose an empty or new folder with --out (e.g. --out /tmp/reports), or drop --out to "
    "use the project's reports/"
)


def is_tradeshock_manifest(path: str | Path) -> bool:
    """True when ``path`` is a render ``manifest.json`` (a mapping with ``reports`` and the
    ``tradeshock_version`` that wrote it); False for any other file, or one that cannot be read."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(data, dict)
        and isinstance(data.get("reports"), dict)
        and "tradeshock_version" in data
    )


def _ours(name: str) -> bool:
    return name == MARKER_NAME or name.startswith(HIDDEN_PREFIX) or is_temp_name(name)


def _within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def _check_not_source(out: Path, shown: Path, project: Path | None) -> None:
    if project is None:
        return
    root = project.resolve()
    if out == root:
        raise OutputFolderError(
            f"--out {shown} is the project folder {root}: a render would write its reports "
            f"among the project's files; {_FIX}"
        )
    for name in SOURCE_FOLDERS:
        folder = root / name
        if out == folder or (name in _WHOLE_TREE and _within(out, folder)):
            where = "is" if out == folder else "is inside"
            raise OutputFolderError(
                f"--out {shown} {where} the project's source folder {folder} ({name}/ holds "
                f"{'the data and the pinned snapshot' if name == 'data' else 'source files'}, "
                f"which a render would overwrite); {_FIX}"
            )


def check_not_source_folder(
    path: str | Path,
    *,
    option: str,
    fix: str,
    project: Path | None = PROJECT_ROOT,
) -> None:
    """Raise :class:`~tradeshock.errors.OutputFolderError` when ``path`` is the project root or
    one of its source folders (the folders :func:`check_out_dir` refuses), for commands other
    than render that write there (``study --out``, ``--bundle-to``'s folder). ``option`` and
    ``fix`` word the message: ``"{option} {path} is ...; {fix}"``."""
    shown = Path(path)
    try:
        _check_not_source(shown.resolve(), shown, project)
    except OutputFolderError:
        raise OutputFolderError(
            f"{option} {shown} is the project folder or one of its source folders "
            f"({shown.resolve()}), which hold the project's own files (notebooks, data, code); "
            f"tradeshock does not write there; {fix}"
        ) from None


def check_out_dir(
    out_dir: str | Path,
    *,
    project: Path | None = PROJECT_ROOT,
    default: Path | None = None,
) -> None:
    """Raise :class:`~tradeshock.errors.OutputFolderError` unless a render may write into
    ``out_dir`` (see the module docstring). ``default`` is the project's default ``reports/``
    (always admitted unless it is a file)."""
    shown = Path(out_dir)
    out = shown.resolve()
    _check_not_source(out, shown, project)
    if not out.exists():
        return
    if not out.is_dir():
        raise OutputFolderError(
            f"--out {shown} is a file, not a folder; {_FIX}"
        )
    if default is not None and out == Path(default).resolve():
        return
    try:
        names = sorted(os.listdir(out))
    except OSError as exc:
        raise OutputFolderError(
            f"--out {shown} cannot be read ({exc.strerror or exc}); make it readable or {_FIX}"
        ) from None
    if MARKER_NAME in names or is_tradeshock_manifest(out / MANIFEST_NAME):
        return
    foreign = [n for n in names if not _ours(n)]
    if not foreign:
        return
    listing = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
    raise OutputFolderError(
        f"--out {shown} holds files tradeshock did not make ({listing}), which a render could "
        f"overwrite (index.html, manifest.json, NAME.html, NAME.ipynb); {_FIX}. If the folder "
        f"does hold only tradeshock reports, create an empty file {shown / MARKER_NAME} to "
        "mark it as a reports folder"
    )


def mark_out_dir(out_dir: str | Path) -> None:
    """Write the marker :data:`~.outputs.MARKER_NAME` into ``out_dir`` (once)."""
    path = Path(out_dir) / MARKER_NAME
    if not path.exists():
        atomic_write_text(path, _MARKER_TEXT)
