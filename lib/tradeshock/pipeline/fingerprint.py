"""Input fingerprints: what a report depends on, so that an unchanged report is not run again.

:func:`input_fingerprint` combines the digest of a notebook's cells (:func:`notebook_digest`:
types, sources and tags; not outputs or execution counts), its parameters, the data it reads
(:func:`data_fingerprint`), the library source (:func:`library_fingerprint`), the environment
that computes and draws it (:func:`environment_fingerprint`) and the render options (kernel,
``show_code``, :data:`RENDER_FORMAT`) into one sha256, keeping the digest of each part for
diagnosis. The renderer compares it with the one stored in ``manifest.json``: equal, and the
report on disk intact, means "up to date".

What counts as an input, and what deliberately does not (docs/architecture.md, "Up to date"):

- counted: the notebook's cells, and the Python modules beside it (the kernel runs in the
  notebook's folder, so it can ``import`` them); its parameters; the event calendar, reciprocal
  rates and universe both as the project's ``data/`` holds them and as the library reads them
  (package data, :data:`~tradeshock.paths.RESOURCES`, which differ in a non-editable install);
  the pinned snapshot (``$TRADESHOCK_PINNED_DIR`` or ``data/snapshot``), the price cache
  (``$TRADESHOCK_CACHE`` or ``data/cache``) and the snapshot folder (``$TRADESHOCK_SNAPSHOT``),
  by content; the library's Python source; the versions of Python and of the packages that
  compute or draw a report (:data:`RESULT_PACKAGES`); the kernel's spec (its interpreter and
  environment); kernel name, ``show_code`` and :data:`RENDER_FORMAT`.
- not counted: ``TRADESHOCK_OFFLINE`` (online or offline, the data served come from the same
  cache, snapshot and pinned files, which are counted; a download lands in the cache, so the
  next render sees it); yfinance and Jupyter plumbing versions (papermill, nbclient, ipykernel:
  they do not change what a report says); ``--timeout`` (a slower cell fails, it does not change
  a result). Package versions are read in the rendering process; a kernel that runs another
  interpreter is told apart by its spec, not by that interpreter's packages (use ``--force``
  after upgrading packages there in place).
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
from tradeshock.data.cache import cache_dir
from tradeshock.data.snapshot import pinned_dir
from tradeshock.errors import TradeshockError
from tradeshock.paths import DATA_DIR, RESOURCES
from tradeshock.pipeline.reportindex import package_versions

__all__ = [
    "RENDER_FORMAT",
    "RESULT_PACKAGES",
    "Fingerprint",
    "data_fingerprint",
    "environment_fingerprint",
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


def _pinned_folder(data_dir: Path, explicit_data_dir: bool) -> Path:
    """The pinned snapshot the kernel reads: ``DATA/snapshot`` for an explicit *data_dir*, else
    :func:`~tradeshock.data.snapshot.pinned_dir` (``$TRADESHOCK_PINNED_DIR`` or data/snapshot)."""
    if explicit_data_dir:
        return data_dir / "snapshot"
    try:
        return pinned_dir()
    except TradeshockError:
        return data_dir / "snapshot"


def _add_tree(h, label: str, root: Path, pattern: str = "**/*") -> None:
    """Every file of *root* matching *pattern* by relative path and content (sha256); nothing
    for a missing folder (it serves nothing, like an empty one)."""
    if not root.is_dir():
        return
    for path in sorted(root.glob(pattern)):
        rel = path.relative_to(root)
        if not path.is_file() or any(part.startswith(".") for part in rel.parts):
            continue  # staging and temporary files (.NAME.XXXX.tmp, .staging-*) are not data
        h.update(f"{label}:{rel.as_posix()}\0{sha256_file(path)}\n".encode())


def _add_resources(h, root: Path) -> None:
    """The package data the library reads (event calendar, rates, universe), by relative path
    and content, following the links that point into ``data/`` in a checkout."""
    if not root.is_dir():
        return
    found = []
    for folder, dirs, files in os.walk(root, followlinks=True):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
        found += [Path(folder) / n for n in files if not n.startswith(".")]
    for path in sorted(found):
        if path.suffix in _DATA_SUFFIXES and path.is_file():
            rel = path.relative_to(root).as_posix()
            h.update(f"resources:{rel}\0{sha256_file(path)}\n".encode())


def data_fingerprint(
    data_dir: str | Path | None = None,
    snapshot: str | Path | None = None,
    *,
    cache: str | Path | None = None,
    pinned: str | Path | None = None,
) -> str:
    """sha256 over the data a report reads: everything ``load_prices`` can serve from.

    - ``DATA/events/*`` and the universe/metadata files directly in ``DATA`` (content);
    - the pinned snapshot (*pinned*, default ``$TRADESHOCK_PINNED_DIR`` or ``DATA/snapshot``):
      the content of every file (``manifest.json`` and the parquet files);
    - the price cache (*cache*, default ``$TRADESHOCK_CACHE`` or ``DATA/cache``, read now): the
      content of every entry, since the cache is served first (``tradeshock data import`` of a
      changed close changes it). A notebook that downloads a series online fills the cache, so
      the next render after such a download runs once more, on the data now cached;
    - the offline snapshot folder ``snapshot`` (default: ``$TRADESHOCK_SNAPSHOT`` read now, if
      set): its path and the content of every file;
    - the package data the library reads (:data:`~tradeshock.paths.RESOURCES`: the event
      calendar, rates and universe; links to ``DATA`` in a checkout, copies in an install).

    Contents are hashed (sha256), not sizes and modification times, so a changed close of the
    same length is seen. Files whose name starts with a dot (temporary files) are left out.
    """
    explicit = data_dir is not None
    data_dir = Path(data_dir) if data_dir is not None else (DATA_DIR or Path("data"))
    if snapshot is None:
        snapshot = os.environ.get("TRADESHOCK_SNAPSHOT") or None
    h = hashlib.sha256()

    def add(label: str, path: Path) -> None:
        h.update(label.encode() + b"\0")
        h.update((sha256_file(path) if path.is_file() else "missing").encode() + b"\n")

    pin_dir = Path(pinned) if pinned is not None else _pinned_folder(data_dir, explicit)
    add("snapshot/manifest.json", pin_dir / "manifest.json")
    _add_tree(h, "pinned", pin_dir, "*")
    events = data_dir / "events"
    for path in sorted(events.glob("*")) if events.is_dir() else []:
        if path.is_file() and path.suffix in _DATA_SUFFIXES:
            add(f"events/{path.name}", path)
    for path in sorted(data_dir.glob("*")) if data_dir.is_dir() else []:
        if path.is_file() and path.suffix in _DATA_SUFFIXES:
            add(path.name, path)
    _add_resources(h, RESOURCES)
    _add_tree(h, "cache", cache_dir(cache), "*")
    if snapshot:
        root = Path(snapshot)
        h.update(f"TRADESHOCK_SNAPSHOT={root}\n".encode())
        _add_tree(h, "snapshot", root)
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


#: Packages whose version can change what a report computes or draws (numbers, calendars,
#: parquet reading, figures, the HTML export); their versions are part of the fingerprint.
RESULT_PACKAGES = (
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "linearmodels",
    "arch",
    "exchange_calendars",
    "pyarrow",
    "matplotlib",
    "nbconvert",
)


def _kernel_spec(kernel: str) -> Any:
    """The kernel's spec (interpreter command, environment, language), or a note when it is not
    registered (the render then fails before executing anything)."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    except ImportError:
        return "jupyter_client missing"
    try:
        spec = KernelSpecManager().get_kernel_spec(kernel)
    except NoSuchKernel:
        return "not registered"
    return {"argv": list(spec.argv), "env": dict(spec.env or {}), "language": spec.language}


def environment_fingerprint(kernel: str = "tradeshock") -> str:
    """sha256 of what computes and draws a report besides the library: the Python version, the
    versions of :data:`RESULT_PACKAGES` (as installed in this process) and the spec of
    ``kernel``. An upgraded pandas or exchange_calendars re-renders every report once."""
    versions = package_versions()
    wanted = {k: versions.get(k) for k in ("python", *RESULT_PACKAGES)}
    return _sha(json.dumps({"packages": wanted, "kernel": _kernel_spec(kernel)},
                           sort_keys=True, default=str))


def _modules_beside(notebook: str | Path) -> str | None:
    """sha256 of the Python modules in the notebook's folder (the kernel runs there, so
    ``import helper`` reads ``helper.py`` beside it); None when there are none."""
    folder = Path(notebook).resolve().parent
    modules = sorted(p for p in folder.glob("*.py") if p.is_file())
    if not modules:
        return None
    h = hashlib.sha256()
    for path in modules:
        h.update(f"{path.name}\0{sha256_file(path)}\n".encode())
    return h.hexdigest()


def input_fingerprint(
    notebook: str | Path,
    params: Mapping[str, Any] | None = None,
    *,
    show_code: bool = False,
    kernel: str = "tradeshock",
    data: str | None = None,
    library: str | None = None,
    environment: str | None = None,
) -> Fingerprint:
    """The fingerprint of one report's inputs: notebook content, parameters, data, library,
    environment and render options. ``data``/``library``/``environment`` default to
    :func:`data_fingerprint` / :func:`library_fingerprint` / :func:`environment_fingerprint`
    computed now (pass them to reuse one computation)."""
    nb_digest, beside = notebook_digest(notebook), _modules_beside(notebook)
    parts = {
        "notebook": nb_digest if beside is None else _sha(f"{nb_digest}\n{beside}"),
        "params": _sha(json.dumps(params or {}, sort_keys=True, default=str)),
        "data": data if data is not None else data_fingerprint(),
        "library": library if library is not None else library_fingerprint(),
        "environment": (
            environment if environment is not None else environment_fingerprint(kernel)
        ),
        "options": _sha(
            json.dumps({"kernel": kernel, "show_code": bool(show_code), "format": RENDER_FORMAT})
        ),
    }
    return Fingerprint(_sha(json.dumps(parts, sort_keys=True)), parts)
