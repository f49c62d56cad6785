"""One zip of the rendered reports, for e-mail: ``index.html``, every report it links, a note.

The zip holds exactly the files the index links to (each report's HTML and executed ``.ipynb``,
a failed run's ``NAME.failed.*`` and the last good page beside it), ``manifest.json``
(parameters, as-of dates, package versions, fingerprints) and ``README.txt``. Links inside are
relative, so the index works once unzipped anywhere, and no link in it is dead.
The zip is written under the render lock to a temporary file and renamed into place, so a
reader never sees half a bundle and a render cannot change the reports while they are packed.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tradeshock.errors import RenderError
from tradeshock.pipeline import reportindex
from tradeshock.pipeline.lock import RenderLock
from tradeshock.pipeline.outputs import INDEX_NAME, MANIFEST_NAME

BUNDLE_NAME = "tradeshock-reports.zip"
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
    manifest = reportindex.load_manifest(out)
    keys = ("html", "ipynb", "last_good_html")
    names: list[str] = [INDEX_NAME, MANIFEST_NAME]
    for entry in (manifest.get("reports") or {}).values():
        for key in keys:
            rel = entry.get(key)
            if rel and rel not in names and (out / rel).is_file():
                names.append(rel)
    for rel in names:  # manifest names come from render's safe output names; check anyway
        if Path(rel).name != rel:
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
    with RenderLock(out, purpose="bundle"):
        names = bundle_members(out)
        manifest = reportindex.load_manifest(out)
        readme = _README.format(
            count=len(manifest.get("reports") or {}),
            generated=manifest.get("generated_at", "at an unknown time"),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
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
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise RenderError(
                f"could not write the bundle {path}: {exc.strerror or exc}; free some space or "
                "choose another destination"
            ) from None
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return Bundle(path=path, members=(*names, "README.txt"), bytes=path.stat().st_size)


__all__ = ["BUNDLE_NAME", "Bundle", "bundle_members", "write_bundle"]
