"""Small file helpers shared by every module that writes: atomic writes and sha256 digests.

An atomic write goes to a temporary file in the destination folder, is fsynced, then renamed over
the destination with :func:`os.replace`, so a reader sees the old file or the new one, never half.
Temporary files are named by :func:`make_temp` (``.NAME.XXXXXXXX.tmp``) and only those names are
removed by :func:`clean_temp`, so the writer and the clean-up agree. Files that belong together
(a report's HTML, notebook and attachments) move with :func:`replace_together` (all or none), and
a set of new files is written with :func:`write_file_set`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from tradeshock.errors import FileSetError

#: Suffix of every temporary file or folder made by :func:`make_temp` / :func:`make_temp_dir`.
TEMP_SUFFIX = ".tmp"
#: What :func:`make_temp` names look like: ``.`` + target name + ``.`` + 8 random chars + ``.tmp``.
_TEMP_RE = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write *data* to *path* atomically: temporary file in the same folder, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = make_temp(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; these are ordinary data files
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write *text* (UTF-8) to *path* atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(Path(path), text.encode("utf-8"))


def make_temp(dest: str | Path) -> tuple[int, str]:
    """An open temporary file beside ``dest`` named ``.DEST.XXXXXXXX.tmp``: ``(fd, path)``.

    Every atomic writer uses this, so :func:`clean_temp` recognises exactly these names.
    """
    dest = Path(dest)
    return tempfile.mkstemp(prefix=f".{dest.name}.", suffix=TEMP_SUFFIX, dir=dest.parent)


def make_temp_dir(dest: str | Path) -> Path:
    """A new empty temporary folder beside ``dest`` named like :func:`make_temp` files."""
    dest = Path(dest)
    return Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=TEMP_SUFFIX, dir=dest.parent))


def is_temp_name(name: str) -> bool:
    """True for names made by :func:`make_temp` / :func:`make_temp_dir`."""
    return bool(_TEMP_RE.match(name))


def clean_temp(folder: str | Path, older_than: float | None = None) -> list[Path]:
    """Remove temporary files and folders left in ``folder`` by crashed writes.

    Only names made by :func:`make_temp` are touched; with ``older_than`` (a :func:`time.time`
    instant) only those last modified before it (a writer still running keeps its file).
    Returns what was removed; a file that cannot be removed is left as it is.
    """
    removed: list[Path] = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for p in entries:
        if not is_temp_name(p.name):
            continue
        try:
            if older_than is not None and p.lstat().st_mtime >= older_than:
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
        except OSError:
            continue
        removed.append(p)
    return removed


def clean_temp_of(dest: str | Path, older_than: float) -> list[Path]:
    """Remove the temporary files and folders made for ``dest`` (``.DEST.XXXXXXXX.tmp``, and
    ``.DEST.new.XXXXXXXX.tmp`` / ``.DEST.old.XXXXXXXX.tmp`` of a folder switch) that a crashed
    writer (``kill -9``, power loss) left beside it, last modified before ``older_than`` (a
    :func:`time.time` instant: a writer still running keeps its own). Returns what was removed;
    what cannot be removed is left as it is."""
    dest = Path(dest)
    ours = re.compile(rf"^\.{re.escape(dest.name)}(\.new|\.old)?\.[A-Za-z0-9_]{{8}}\.tmp$")
    removed: list[Path] = []
    try:
        entries = list(dest.parent.iterdir())
    except OSError:
        return removed
    for p in entries:
        if not ours.match(p.name):  # another file's temporary file: not ours to judge
            continue
        try:
            if p.lstat().st_mtime >= older_than:
                continue
            _remove(p)
        except OSError:
            continue
        removed.append(p)
    return removed


def _fsync_replace(src: Path, dst: Path) -> None:
    if src.is_file():
        with open(src, "rb") as fh:
            os.fsync(fh.fileno())
    os.replace(src, dst)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def replace_together(
    pairs: Sequence[tuple[str | Path | None, str | Path]],
    replace: object = None,
) -> None:
    """Move each ``src`` over its ``dst``, in order, as one set: all of them or none.

    ``src`` is a file or a folder (a folder replaces a folder of the same name); ``src=None``
    removes ``dst`` as part of the set. Each existing ``dst`` is kept as a backup beside it
    (``.DST.XXXXXXXX.tmp``) until every move succeeded. When a move fails, the ones already made
    are rolled back from the backups and the :class:`OSError` is raised again: the destinations
    are as they were (the same for an interruption, SIGTERM or Ctrl-C, between two moves). If
    the roll-back itself fails, :class:`~tradeshock.errors.FileSetError` says which
    destinations were replaced (``.replaced``) and where their backups are.
    ``replace(src, dst)`` does a single move (default: fsync, then :func:`os.replace`).
    """
    move = replace if callable(replace) else _fsync_replace
    done: list[tuple[Path, Path | None]] = []  # (dst, backup or None when dst was new)
    try:
        for src, dst in pairs:
            dst = Path(dst)
            backup: Path | None = None
            if dst.exists() or dst.is_symlink():
                backup = Path(make_temp_dir(dst)) if dst.is_dir() else None
                if backup is not None:  # a folder: move it aside (a folder cannot be linked)
                    backup.rmdir()
                    os.rename(dst, backup)
                else:
                    fd, name = make_temp(dst)
                    os.close(fd)
                    backup = Path(name)
                    try:
                        os.unlink(backup)
                        os.link(dst, backup)  # the old file stays in place until replaced
                    except OSError:
                        shutil.copy2(dst, backup)
            done.append((dst, backup))
            if src is None:
                if backup is not None and dst.exists():
                    _remove(dst)
            else:
                move(Path(src), dst)
    except BaseException as exc:  # OSError, and SIGTERM/Ctrl-C between two moves
        failed = _roll_back(done)
        if failed and isinstance(exc, OSError):
            listing = ", ".join(str(d) for d, _ in failed)
            backups = ", ".join(str(b) for _, b in failed if b is not None) or "none"
            raise FileSetError(
                f"moving a set of files into place failed ({exc.strerror or exc}) and "
                f"{listing} could not be restored (backups: {backups}); copy the backups back "
                "by hand, or run the command again",
                replaced=[d for d, _ in failed],
            ) from exc
        raise
    for _dst, backup in done:
        if backup is not None:
            with contextlib.suppress(OSError):
                _remove(backup)


def _roll_back(done: list[tuple[Path, Path | None]]) -> list[tuple[Path, Path | None]]:
    """Undo the moves in ``done`` (last first); return those that could not be undone."""
    failed = []
    for dst, backup in reversed(done):
        try:
            if backup is None:
                if dst.exists() or dst.is_symlink():
                    _remove(dst)
            else:
                if dst.is_dir() and not dst.is_symlink():
                    shutil.rmtree(dst)
                if dst.exists() and os.path.samefile(backup, dst):
                    os.unlink(backup)  # never moved: rename() of two links to one file is a no-op
                else:
                    os.replace(backup, dst)
        except OSError:
            failed.append((dst, backup))
    return failed


def write_file_set(folder: str | Path, files: Mapping[str, bytes]) -> list[Path]:
    """Write ``files`` (plain name -> bytes) into ``folder`` as one set: all of them or none.

    Every file is first written to a hidden staging folder inside ``folder``
    (:func:`make_temp_dir`), then moved into place with :func:`replace_together`. On any
    :class:`OSError` (disk full, read-only) the staging is removed and the error raised: files
    already in ``folder`` are as they were. Returns the paths written.
    """
    folder = Path(folder)
    for name in files:
        if Path(name).name != name or name in ("", ".", ".."):
            raise ValueError(f"{name!r} is not a plain file name")
    folder.mkdir(parents=True, exist_ok=True)
    staging = make_temp_dir(folder / "tradeshock-set")  # .tradeshock-set.XXXXXXXX.tmp
    try:
        for name, data in files.items():
            with open(staging / name, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(staging / name, 0o644)
        replace_together([(staging / n, folder / n) for n in files])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [folder / n for n in files]
