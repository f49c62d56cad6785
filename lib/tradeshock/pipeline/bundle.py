"""One zip of the rendered reports, for e-mail: ``index.html``, every report it links, a note.

The zip holds exactly the files the index links to (each report's HTML and executed ``.ipynb``,
a failed run's ``NAME.failed.*`` and the last good page beside it), ``manifest.json``
(parameters, as-of dates, package versions, fingerprints) and ``README.txt``. Links inside are
relative, so the index works once unzipped anywhere, and no link in it is dead.
The zip is written under the render lock to a temporary file and renamed into place, so a
reader never sees half a bundle and a render cannot change the reports while they are packed.
Each report's attachments (``NAME_files/FILE``) go in as well.

The destination (``--bundle-to``) is never a folder, never inside the project's source folders
(``notebooks/``, ``data/``, ...), and never a file tradeshock did not make: a
bundle carries :data:`BUNDLE_COMMENT` as its zip comment, and only such a zip (or the default
``OUT/tradeshock-reports.zip``) is replaced. A destination that cannot be written (read-only,
disk full, missing parent that cannot be made) is a :class:`~tradeshock.errors.RenderError`
naming it, the reason and the fix.
"""

from __future__ import annotations

import os
import re
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tradeshock.core.fileio import clean_temp_of, make_temp
from tradeshock.errors import OutputFolderError, RenderError
from tradeshock.pipeline import reportindex
from tradeshock.pipeline.lock import RenderLock
from tradeshock.pipeline.manifestcheck import manifest_problem
from tradeshock.pipeline.outdir import check_not_source_folder
from tradeshock.pipeline.outputs import INDEX_NAME, MANIFEST_NAME

BUNDLE_NAME = "tradeshock-reports.zip"
#: The zip comment every bundle carries: the mark that lets a later bundle replace it.
BUNDLE_COMMENT = b"tradeshock reports bundle"
#: An attachment inside the bundle: ``NAME_files/FILE``.
_ATTACHMENT_REL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,119}_files/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_FIXED_TIME = (2025, 1, 1, 0, 0, 0)  # zip entry dates: same reports, same bytes

_README = """\
tradeshock reports
==================

Unzip this folder anywhere and open index.html in a web browser. Every page is self-contained
(figures embedded, no network needed); the index lists each report with its status, parameters
and the as-of date of its market data. manifest.json holds the same in machine-readable form,
with package versions and input fingerprints.

{count} report(s), rendered {generated}.
"""


@dataclass(frozen=True)
class Bundle:
    """A written bundle: where it is, what it holds and its size in bytes."""

    path: Path
    members: tuple[str, ...]
    bytes: int

    def summary(self) -> str:
        return f"{self.path}: {len(self.members)} files, {self.bytes / 1e6:.1f} MB"


def bundle_members(out_dir: str | Path) -> list[str]:
    """File names (relative to *out_dir*) that go into the bundle, index first.

    Raises :class:`RenderError` when *out_dir* has no rendered index yet.
    """
    out = Path(out_dir)
    if not (out / INDEX_NAME).is_file() or not (out / MANIFEST_NAME).is_file():
        raise RenderError(
            f"no rendered reports to bundle in {out} (index.html or manifest.json missing); "
            "run `tradeshock render` first, or point --out at the folder that holds them"
        )
    problem = manifest_problem(out)
    if problem:
        raise RenderError(
            f"cannot bundle the reports in {out}: {problem}. Run `tradeshock render` on that "
            "folder (it rebuilds the manifest from the reports on disk), then bundle again"
        )
    manifest = reportindex.load_manifest(out)
    keys = ("html", "ipynb", "last_good_html")
    names: list[str] = [INDEX_NAME, MANIFEST_NAME]
    for entry in (manifest.get("reports") or {}).values():
        rels = [entry.get(key) for key in keys]
        rels += [a.get("file") for a in entry.get("attachments") or [] if isinstance(a, dict)]
        for rel in rels:
            if rel and rel not in names and (out / rel).is_file():
                names.append(rel)
    for rel in names:  # manifest names come from render's safe output names; check anyway
        if Path(rel).name != rel and not _ATTACHMENT_REL.match(rel):
            raise RenderError(
                f"manifest.json in {out} names {rel!r}, which is not a plain file name"
            )
    return names


def write_bundle(
    out_dir: str | Path,
    dest: str | Path | None = None,
) -> Bundle:
    """Zip the reports of *out_dir* into *dest* (default ``OUT/tradeshock-reports.zip``).

    Holds the render lock of *out_dir* while packing (a running render makes this raise its
    clear "already running" error). Deflate-compressed; entry dates fixed, so the same reports
    give the same zip bytes.
    """
    out = Path(out_dir)
    path = Path(dest) if dest is not None else out / BUNDLE_NAME
    check_bundle_dest(path, default=out / BUNDLE_NAME)
    with RenderLock(out, purpose="bundle"):
        names = bundle_members(out)
        manifest = reportindex.load_manifest(out)
        readme = _README.format(
            count=len(manifest.get("reports") or {}),
            generated=manifest.get("generated_at", "at an unknown time"),
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            clean_temp_of(path, time.time() - 3600)  # a bundle killed without clean-up
            fd, tmp = make_temp(path)
            os.close(fd)
        except OSError as exc:
            raise RenderError(_write_error(path, exc)) from None
        try:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for rel in names:
                    info = zipfile.ZipInfo(rel, date_time=_FIXED_TIME)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = 0o644 << 16
                    zf.writestr(info, (out / rel).read_bytes())
                info = zipfile.ZipInfo("README.txt", date_time=_FIXED_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, readme)
                zf.comment = BUNDLE_COMMENT
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise RenderError(_write_error(path, exc)) from None
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return Bundle(path=path, members=(*names, "README.txt"), bytes=path.stat().st_size)


def _write_error(path: Path, exc: OSError) -> str:
    return (
        f"could not write the bundle {path}: {exc.strerror or exc}; free some space, make "
        f"{path.parent} writable, or choose another destination with --bundle-to; the reports "
        "were not touched"
    )


def is_bundle(path: str | Path) -> bool:
    """True when ``path`` is a zip tradeshock made (it carries :data:`BUNDLE_COMMENT`)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.comment == BUNDLE_COMMENT
    except (OSError, zipfile.BadZipFile):
        return False


def check_bundle_dest(path: Path, default: Path | None = None) -> None:
    """Raise :class:`~tradeshock.errors.OutputFolderError` unless a bundle may be written to
    ``path``: a new file, or a bundle tradeshock made (``default`` is also admitted when it is
    a zip, for bundles made before they carried the comment)."""
    if path.is_dir():
        raise OutputFolderError(
            f"--bundle-to {path} is a folder; give a file name for the zip, e.g. "
            f"--bundle-to {path / BUNDLE_NAME}"
        )
    check_not_source_folder(
        path.parent,
        option="--bundle-to's folder",
        fix="write the zip elsewhere, e.g. --bundle-to /tmp/reports.zip, or drop --bundle-to",
    )
    if not path.exists() and not path.is_symlink():
        return
    if is_bundle(path):
        return
    if default is not None and path.resolve() == default.resolve() and zipfile.is_zipfile(path):
        return
    raise OutputFolderError(
        f"--bundle-to {path}: that file exists and was not made by tradeshock (it is not a "
        "tradeshock bundle), so it is not overwritten; choose a new file name, or delete or "
        "move that file first"
    )


__all__ = [
    "BUNDLE_COMMENT",
    "BUNDLE_NAME",
    "Bundle",
    "bundle_members",
    "check_bundle_dest",
    "is_bundle",
    "write_bundle",
]
