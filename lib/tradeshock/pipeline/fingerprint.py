"""Input fingerprints: what a report depends on, so that an unchanged report is not run again.

:func:`input_fingerprint` combines the digest of a notebook's cells (:func:`notebook_digest`:
types, sources and tags; not outputs or execution counts), its parameters, the data it reads
(:func:`data_fingerprint`), the library source (:func:`library_fingerprint`) and the render
options (kernel, ``show_code``, :data:`RENDER_FORMAT`) into one sha256, keeping the digest of each
part for diagnosis. The renderer compares it with the one stored in ``manifest.json``: equal, and
the report on disk intact, means "up to date".
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradeshock import __version__
from tradeshock.core.fileio import sha256_file
from tradeshock.paths import DATA_DIR

__all__ = [
    "RENDER_FORMAT",
    "Fingerprint",
    "data_fingerprint",
    "input_fingerprint",
    "library_fingerprint",
    "notebook_digest",
]

#: Bumped when the HTML export changes in a way that should re-render everything.
RENDER_FORMAT = 1
#: The tradeshock package folder, whose source :func:`library_fingerprint` digests.
_PACKAGE_DIR = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Fingerprint:
    """What a report depends on: one digest, and the digest of each part for diagnosis."""

    digest: str
    parts: dict[str, str]


def _sha(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def notebook_digest(path: str | Path) -> str:
    """sha256 of a notebook's content that matters: cell types, sources and tags (not outputs,
    execution counts or other metadata, so saving it after a run in JupyterLab changes nothing)."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = []
    for cell in nb.get("cells", []):
        src = cell.get("source", "")
        cells.append(
            [
                cell.get("cell_type"),
                "".join(src) if isinstance(src, list) else src,
                sorted((cell.get("metadata") or {}).get("tags") or []),
            ]
        )
    return _sha(json.dumps(cells, sort_keys=True))


_DATA_SUFFIXES = (".csv", ".json", ".yaml", ".yml", ".toml", ".parquet")


def data_fingerprint(data_dir: str | Path | None = None, snapshot: str | Path | None = None) -> str:
    """sha256 over the data a report reads.

    - ``DATA/snapshot/manifest.json`` (it lists a sha256 per pinned file), ``DATA/events/*``
      and the universe/metadata files directly in ``DATA`` (content);
    - the offline snapshot folder ``snapshot`` (default: ``$TRADESHOCK_SNAPSHOT`` read now, if
      set): content of its ``manifest.json``/``universe*`` files and, for every other file, its
      relative path, size and modification time (cheap on large folders).

    ``data/cache/`` is left out on purpose: notebooks fill it as they run.
    """
    data_dir = Path(data_dir) if data_dir is not None else (DATA_DIR or Path("data"))
    if snapshot is None:
        snapshot = os.environ.get("TRADESHOCK_SNAPSHOT") or None
    h = hashlib.sha256()

    def add(label: str, path: Path) -> None:
        h.update(label.encode() + b"\0")
        h.update((sha256_file(path) if path.is_file() else "missing").encode() + b"\n")

    add("snapshot/manifest.json", data_dir / "snapshot" / "manifest.json")
    events = data_dir / "events"
    for path in sorted(events.glob("*")) if events.is_dir() else []:
        if path.is_file() and path.suffix in _DATA_SUFFIXES:
            add(f"events/{path.name}", path)
    for path in sorted(data_dir.glob("*")) if data_dir.is_dir() else []:
        if path.is_file() and path.suffix in _DATA_SUFFIXES:
            add(path.name, path)
    if snapshot:
        root = Path(snapshot)
        h.update(f"TRADESHOCK_SNAPSHOT={root}\n".encode())
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if not path.is_file():
                    continue
                rel = path.relative_to(root).as_posix()
                if path.name == "manifest.json" or path.name.lower().startswith("universe"):
                    add(f"snapshot:{rel}", path)
                else:
                    st = path.stat()
                    h.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        else:
            h.update(b"missing\n")
    return h.hexdigest()


def library_fingerprint(package_dir: str | Path | None = None) -> str:
    """sha256 of the tradeshock version and every library source file (``cli/`` excluded)."""
    root = Path(package_dir) if package_dir is not None else _PACKAGE_DIR
    h = hashlib.sha256(f"tradeshock {__version__}\n".encode())
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] in ("cli", "__pycache__"):
            continue
        h.update(rel.as_posix().encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()


def input_fingerprint(
    notebook: str | Path,
    params: Mapping[str, Any] | None = None,
    *,
    show_code: bool = False,
    kernel: str = "tradeshock",
    data: str | None = None,
    library: str | None = None,
) -> Fingerprint:
    """The fingerprint of one report's inputs: notebook content, parameters, data, library and
    render options. ``data``/``library`` default to :func:`data_fingerprint` /
    :func:`library_fingerprint` computed now (pass them to reuse one computation)."""
    parts = {
        "notebook": notebook_digest(notebook),
        "params": _sha(json.dumps(params or {}, sort_keys=True, default=str)),
        "data": data if data is not None else data_fingerprint(),
        "library": library if library is not None else library_fingerprint(),
        "options": _sha(
            json.dumps({"kernel": kernel, "show_code": bool(show_code), "format": RENDER_FORMAT})
        ),
    }
    return Fingerprint(_sha(json.dumps(parts, sort_keys=True)), parts)
