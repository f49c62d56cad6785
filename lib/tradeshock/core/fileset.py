"""Sets of files that belong together, written all or nothing.

:func:`atomic_write_bytes` makes one file atomic; a set (the pinned snapshot's parquet files and
their manifest, the series of one ``tradeshock data import``) needs more: a failure after the
third of five files must leave the previous set as it was. Two helpers:

* :func:`replace_folder`: build a whole new folder beside *target* (a temporary folder in the same
  parent, so every rename stays on one file system), let the caller validate it, then switch in
  one step: rename the old folder aside, rename the new one in, delete the old. On any failure
  the temporary folder is removed and the old folder is put back; *target* is never half-written.
* :func:`stage_files`: write named files into a (staging) folder, each fsynced, and remove
  what was written when one of them fails. (Files moved into an existing folder as a set:
  :func:`tradeshock.core.fileio.write_file_set`.)

Temporary folders are named by :func:`tradeshock.core.fileio.make_temp_dir`, so the clean-up
of crashed writes (:func:`~tradeshock.core.fileio.clean_temp`) recognises them.

:func:`describe_os_error` words an :class:`OSError` of a write for people (disk full, read-only
file system, no permission), so callers can say what happened without a traceback.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from tradeshock.core.fileio import make_temp_dir

__all__ = [
    "describe_os_error",
    "replace_folder",
    "stage_files",
]

#: The temporary folders this module makes are ``.NAME.new.XXXXXXXX.tmp`` and
#: ``.NAME.old.XXXXXXXX.tmp`` (:func:`~tradeshock.core.fileio.make_temp_dir`).

#: A file's content: bytes, or a function that writes the file at the path it is given.
Content = bytes | Callable[[Path], None]


def _write_bytes(path: Path, data: bytes) -> None:
    """Write *data* to *path* (a new file in a staging folder) and fsync it."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def stage_files(folder: str | Path, files: Mapping[str, Content]) -> list[Path]:
    """Write every file of *files* (name -> bytes, or a writer called with the path) into
    *folder*; the paths written, in order.

    Meant for a staging folder: when one write fails, the files this call wrote are removed and
    the error is raised again, so the folder holds all of the set or none of it.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    done: list[Path] = []
    try:
        for name, content in files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            done.append(path)
            if callable(content):
                content(path)
            else:
                _write_bytes(path, content)
            os.chmod(path, 0o644)
    except BaseException:
        for path in done:
            try:
                path.unlink()
            except OSError:
                pass
        raise
    return done


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def replace_folder(
    target: str | Path,
    build: Callable[[Path], None],
    *,
    validate: Callable[[Path], None] | None = None,
) -> Path:
    """Replace the folder *target* by a new one, all or nothing; returns *target*.

    ``build(tmp)`` writes the new content into ``tmp``, an empty folder beside *target* (same
    parent). ``validate(tmp)``, when given, checks it (raise to refuse). Then the switch: the old
    *target* (if any) is renamed aside, ``tmp`` is renamed to *target*, and the old folder is
    deleted. If building, validating or switching fails, ``tmp`` is removed, the old folder is
    restored, and the error propagates: *target* holds the old content or the new, never a mix.
    """
    target = Path(target)
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temp_dir(parent / f"{target.name}.new")
    try:
        os.chmod(tmp, 0o755)
        build(tmp)
        if validate is not None:
            validate(tmp)
    except BaseException:
        _remove_tree(tmp)
        raise
    old: Path | None = None
    try:
        if target.exists() or target.is_symlink():
            old = make_temp_dir(parent / f"{target.name}.old")
            os.rmdir(old)  # only the unique name is wanted: rename needs a free one
            os.rename(target, old)
        os.rename(tmp, target)
    except BaseException:
        if old is not None and old.exists() and not target.exists():
            os.rename(old, target)  # put the previous folder back
        _remove_tree(tmp)
        raise
    if old is not None:
        _remove_tree(old)
    return target


_CAUSES = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "no permission to write there",
    errno.EPERM: "the operation is not permitted (no permission, or the file is immutable)",
    errno.EIO: "an input/output error of the disk",
}


def describe_os_error(exc: OSError) -> str:
    """A short reason for people: ``"the disk is full (No space left on device: '/x/y')"``."""
    cause = _CAUSES.get(exc.errno or -1, "the file system refused the write")
    where = f": {exc.filename!r}" if getattr(exc, "filename", None) else ""
    return f"{cause} ({exc.strerror or exc}{where})"
