"""Which folders the data layer may write into: ``data pin --out`` and the price cache.

:func:`~tradeshock.data.pin.pin` replaces its output folder as a whole (built beside it, switched
in one step), so pointed at the wrong folder it would swap out someone else's files (the
project's ``notebooks/``, the project itself, a home folder). :func:`check_pin_dest` admits

- the project's ``data/snapshot/`` (the default) and ``$TRADESHOCK_PINNED_DIR``'s folder when it
  is a pinned snapshot,
- a folder that does not exist yet or is empty (only tradeshock's hidden temporary names inside),
- a folder that already holds a pinned snapshot (its ``manifest.json`` lists ``files`` and
  ``series``);

and refuses, naming the folder, why, and the fix, the project root, its source folders
(``notebooks/``, ``lib/``, ``tests/``, ``docs/``, ``benchmarks/``, ``reports/``, ``.git/`` and
what is inside them; ``data/`` itself, ``data/events/`` and ``data/cache/``), a path that is a
file, and any other folder holding files.

The price cache (``--cache-dir``, ``$TRADESHOCK_CACHE``) adds files beside others, so
:func:`check_cache_dir` only refuses the project root and its source folders (``data/`` itself,
``data/snapshot/``, ``data/events/``, ``notebooks/``, ``lib/``, ...): a cache pointed there would
mix price files into the pinned snapshot or the sources. ``data/cache/`` is the default.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from tradeshock.core.fileio import clean_temp_of, is_temp_name
from tradeshock.errors import DataError, DataWriteError
from tradeshock.paths import PROJECT_ROOT

__all__ = ["check_cache_dir", "check_pin_dest", "is_pinned_snapshot", "recover_pin_dest"]

#: Project folders whose whole tree is refused as a pin destination.
_TREES = ("notebooks", "lib", "tests", "docs", "benchmarks", "reports", ".git",
          "data/events", "data/cache")
_FIX = ("pin into the project's data/snapshot (drop --out), or into a new or empty folder "
        "(--out /tmp/pinned)")


def is_pinned_snapshot(folder: str | Path) -> bool:
    """True when ``folder/manifest.json`` is a pinned-snapshot manifest (``files`` and
    ``series`` mappings); False otherwise or when it cannot be read."""
    try:
        data = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(data, dict) and isinstance(data.get("files"), dict)
            and isinstance(data.get("series"), dict))


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def check_pin_dest(out_dir: str | Path, *, project: Path | None = PROJECT_ROOT) -> None:
    """Raise :class:`~tradeshock.errors.DataError` unless ``data pin`` may replace ``out_dir``
    (see the module docstring). Nothing is written either way."""
    shown = Path(out_dir)
    out = shown.resolve()
    if project is not None:
        root = project.resolve()
        if out == (root / "data" / "snapshot"):
            return
        refused = out == root or out == root / "data"
        refused = refused or any(_inside(out, root / t) for t in _TREES)
        if refused:
            what = "the project folder" if out == root else "a project source folder"
            raise DataError(
                f"--out {shown} is {what} ({out}): `data pin` replaces its output folder as a "
                f"whole, which would swap out the project's own files; nothing was written. "
                f"Fix: {_FIX}."
            )
    if not out.exists():
        return
    if not out.is_dir():
        raise DataError(f"--out {shown} is a file, not a folder; nothing was written. Fix: {_FIX}.")
    try:
        names = sorted(n for n in os.listdir(out) if not is_temp_name(n))
    except OSError as exc:
        raise DataError(f"--out {shown} cannot be read ({exc.strerror or exc}); nothing was "
                        f"written. Fix: {_FIX}.") from None
    if not names or is_pinned_snapshot(out):
        return
    listing = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    raise DataError(
        f"--out {shown} holds files that are not a pinned snapshot ({listing}): `data pin` "
        "replaces its output folder as a whole, so they would be mixed into the snapshot (or "
        f"lost if it is replaced again); nothing was written. Fix: {_FIX}, or move those files "
        "away first."
    )


def check_cache_dir(cache: str | Path, *, project: Path | None = PROJECT_ROOT) -> None:
    """Raise :class:`~tradeshock.errors.DataWriteError` when the cache folder ``cache`` is the
    project root or one of its source folders (see the module docstring); nothing is written."""
    if project is None:
        return
    root = project.resolve()
    out = Path(cache).resolve()
    trees = (*_TREES, "data/snapshot")
    if out == root or out == root / "data" or any(_inside(out, root / t) for t in trees):
        what = "the project folder" if out == root else "a project source folder"
        raise DataWriteError(
            f"the price cache {cache} is {what} ({out}): cache entries would be mixed into the project's own files "
            "(the pinned snapshot, the calendar, the sources); nothing was written. Fix: use the "
            "default cache (unset TRADESHOCK_CACHE, drop --cache-dir) or another folder "
            "(TRADESHOCK_CACHE=DIR or `tradeshock data --cache-dir DIR ...`)."
        )


#: Seconds after which a pin's temporary folder is taken for a crashed run's (a running pin
#: switches folders in well under a second; building takes longer, hence the hour to remove).
RECOVER_AFTER, REMOVE_AFTER = 60.0, 3600.0


def recover_pin_dest(out_dir: str | Path, now: float | None = None) -> list[str]:
    """Undo what a pin killed without clean-up (``kill -9``, power loss) left beside
    ``out_dir``: when the folder itself is missing but the previous snapshot was already moved
    aside (``.NAME.old.XXXXXXXX.tmp``, killed between the two renames of the switch), move it
    back; remove the pin's temporary folders older than :data:`REMOVE_AFTER`. Returns notes
    saying what was done (empty when nothing)."""
    out = Path(out_dir)
    now = time.time() if now is None else now
    notes: list[str] = []
    if not out.exists() and not out.is_symlink() and out.parent.is_dir():
        olds = [p for p in out.parent.glob(f".{out.name}.old.*.tmp")
                if is_temp_name(p.name) and is_pinned_snapshot(p)
                and p.lstat().st_mtime < now - RECOVER_AFTER]
        if olds:
            back = max(olds, key=lambda p: p.lstat().st_mtime)
            os.rename(back, out)
            notes.append(f"restored {out} from {back.name}, left by an interrupted pin")
    gone = clean_temp_of(out, now - REMOVE_AFTER)
    if gone:
        notes.append(f"removed {len(gone)} temporary folder(s) left beside {out} by an "
                     f"interrupted pin: {', '.join(p.name for p in gone)}")
    return notes
