"""Render notebooks to shareable HTML: papermill execution, nbconvert export, atomic output.

``render_notebooks(paths, out_dir)`` (and the ``tradeshock render`` command over it) does, in order:

1. **Validate before any work**: every notebook's ``parameters`` cell is read without a kernel
   (:mod:`tradeshock.params`); unknown names and values of the wrong type are one error.
2. **Lock** ``OUT/.tradeshock-render.lock`` (an OS lock, so a lock left by a dead process is
   detected and cleared; a live one makes a second render exit with a clear message).
3. **Incremental**: each notebook's input fingerprint (notebook cells, parameters, data files,
   library source, kernel and ``show_code``; :func:`input_fingerprint`) is compared with the one
   stored in ``OUT/manifest.json``; an unchanged notebook whose report is intact is
   "up to date" and not executed (unless ``force``).
4. **Execute** the rest with papermill on the Jupyter kernel ``tradeshock``, each in its own worker
   process (:class:`ProcessExecutor`, ``jobs`` at a time): a per-cell timeout, nbclient's
   dead-kernel detection, and a wall-clock deadline after which the worker is killed, so a batch
   always ends; a worker that dies fails only its own notebook.
5. **Export** self-contained HTML with nbconvert (figures are PNG data URIs; no script, stylesheet
   or font is fetched from the network, so it opens from ``file://`` offline; input hidden unless
   ``show_code``).
6. **Commit atomically**: everything is written under ``OUT/.tradeshock-tmp/`` and moved into place
   with :func:`os.replace`, so an interrupted run never leaves a half-written report.

Output files in ``OUT`` (names are the notebook's file stem, or ``STEM-VALUE`` for a sweep,
checked never to leave ``OUT``):

- ``NAME.html`` + ``NAME.ipynb``: the last good report and its executed notebook;
- ``NAME.failed.html`` + ``NAME.failed.ipynb``: the latest *failed* run (failing cell, traceback,
  a banner saying what went wrong); the previous good ``NAME.html`` is kept beside it and both are
  linked from the index; a later good run deletes the ``.failed`` pair;
- ``index.html`` (status, parameters, data as-of date, run time per report; readable on a phone)
  and ``manifest.json`` (the same plus package versions and input fingerprints).

**Data as-of date.** A notebook states what data it used by calling :func:`record` (e.g.
``record(as_of=prices.index.max(), source="pinned snapshot")``). That displays one line of
provenance text and, in the same output, a JSON payload under the MIME type
:data:`RECORD_MIME`, which papermill saves in the executed notebook like any output; the renderer
reads it back (last call wins per key) into the index and manifest and the executed notebook's
``metadata["tradeshock"]``. Nothing else is needed: no files, no environment contract.
Inside a render, :func:`is_rendering` is true (e.g. to skip an interactive widget panel).

Execution runs behind a small executor interface (:class:`Executor`: ``run(tasks)`` yields
``(task, result)`` as notebooks finish, given picklable :class:`RenderTask` objects and the
module-level :func:`execute_task`), so another backend can run the same tasks; the parent alone
commits files and indexes. Built in: ``process`` (default), ``inline`` and ``dask``
(:class:`tradeshock.dask_executor.DaskExecutor`, imported on first use); more with
:func:`register_executor`. One report per value of a parameter (a sweep) is planned by
:mod:`tradeshock.sweep` and rendered with :func:`render_jobs`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import html as _html
import json
import os
import re
import shutil
import signal
import socket
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tradeshock import __version__
from tradeshock.paths import DATA_DIR
from tradeshock.paths import PROJECT_ROOT
from tradeshock.errors import RenderError, ValidationError
from tradeshock.core.fileio import atomic_write_text, sha256_file
from tradeshock.core.timefmt import utc_now

__all__ = [
    "OK",
    "FAILED",
    "UP_TO_DATE",
    "RECORD_MIME",
    "record",
    "is_rendering",
    "read_record",
    "RenderJob",
    "RenderRecord",
    "RenderSummary",
    "RenderTask",
    "TaskResult",
    "ExecOptions",
    "Executor",
    "InlineExecutor",
    "ProcessExecutor",
    "register_executor",
    "make_executor",
    "execute_task",
    "failed_result",
    "render_notebooks",
    "render_jobs",
    "resolve_notebooks",
    "output_name",
    "check_output_name",
    "output_path",
    "Fingerprint",
    "input_fingerprint",
    "notebook_digest",
    "data_fingerprint",
    "library_fingerprint",
    "RenderLock",
    "export_html",
    "external_references",
    "default_notebooks_dir",
    "default_out_dir",
]

#: Report statuses.
OK, FAILED, UP_TO_DATE = "ok", "failed", "up to date"
#: MIME type of the provenance payload written by :func:`record`.
RECORD_MIME = "application/vnd.tradeshock.record+json"
#: Set to "1" in the kernel's environment during a render.
ENV_RENDERING = "TRADESHOCK_RENDERING"
#: The pid of the process running :func:`execute_task` (a worker), in the kernel's environment;
#: fault tests kill that worker from inside a notebook (a kernel's parent pid may be a launcher).
ENV_WORKER_PID = "TRADESHOCK_WORKER_PID"
LOCK_NAME = ".tradeshock-render.lock"
TMP_DIR_NAME = ".tradeshock-tmp"
INDEX_NAME = "index.html"
MANIFEST_NAME = "manifest.json"
#: Bumped when the HTML export changes in a way that should re-render everything.
RENDER_FORMAT = 1
_INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


# ============================================================================================
# Inside the notebook: record provenance


def is_rendering() -> bool:
    """True inside a kernel started by ``tradeshock render`` (False in JupyterLab)."""
    return os.environ.get(ENV_RENDERING) == "1"


def record(as_of: Any = None, source: str | None = None, **extra: Any) -> None:
    """State the data a notebook used; the render index and manifest show it.

    ``as_of`` is the last date of data used (a date, ``pandas.Timestamp`` or ISO string),
    ``source`` where it came from (e.g. ``"pinned snapshot"``, ``"yfinance"``); further keyword
    values (JSON-able) are stored too. Displays one line of provenance text in the notebook
    ("Data — source: ...; data as of ...") and returns nothing, so it can end a cell. Call it any
    number of times; later values replace earlier ones. Outside IPython it does nothing.
    """
    payload: dict[str, Any] = {}
    if as_of is not None:
        payload["as_of"] = _as_of_text(as_of)
    if source is not None:
        payload["source"] = str(source)
    for key, value in extra.items():
        payload[key] = _jsonable(value)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python: nothing to display
        return None
    if get_ipython() is None:
        return None
    bits = []
    if "source" in payload:
        bits.append(f"source: {payload['source']}")
    if "as_of" in payload:
        bits.append(f"data as of {payload['as_of']}")
    if not bits:  # only extra values: show their names, not their (maybe long) values
        bits.append("recorded " + ", ".join(payload))
    display({RECORD_MIME: payload, "text/plain": "Data — " + "; ".join(bits)}, raw=True)
    return None


def _as_of_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "date") and callable(value.date):  # pandas.Timestamp, numpy datetime64 via pd
        with contextlib.suppress(Exception):
            return value.date().isoformat()
    text = str(value)
    with contextlib.suppress(ValueError):
        return dt.date.fromisoformat(text[:10]).isoformat() if len(text) >= 10 else text
    return text


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def read_record(nb: Any) -> dict[str, Any]:
    """The provenance payloads a notebook's outputs carry (see :func:`record`), merged in order."""
    merged: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data") or {}
            payload = data.get(RECORD_MIME)
            if isinstance(payload, str):
                with contextlib.suppress(ValueError):
                    payload = json.loads(payload)
            if isinstance(payload, dict):
                merged.update(payload)
    return merged


# ============================================================================================
# Names and paths

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,119}$")
_RESERVED = {"index", "manifest"}


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
    if not isinstance(name, str) or not _NAME_RE.match(name):
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


# ============================================================================================
# Fingerprints


@dataclass(frozen=True)
class Fingerprint:
    """What a report depends on: one digest, and the digest of each part for diagnosis."""

    digest: str
    parts: dict[str, str]


def _sha(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _file_sha(path: Path) -> str:
    return sha256_file(path)


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
        h.update((_file_sha(path) if path.is_file() else "missing").encode() + b"\n")

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
    root = Path(package_dir) if package_dir is not None else Path(__file__).resolve().parent
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


# ============================================================================================
# Lock


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


class RenderLock:
    """An exclusive lock on an output folder, held for the whole render.

    ``OUT/.tradeshock-render.lock`` is locked with ``flock``, which the OS releases when the
    holder dies, so a lock file left by a crashed or killed run is stale by construction: it is
    detected (``cleared_stale`` holds what it said) and taken over. The file records pid, host,
    start time and command for the message a second, overlapping run exits with. On systems
    without ``fcntl`` the pid in the file decides (dead pid on this host = stale).
    """

    def __init__(self, out_dir: str | Path, name: str = LOCK_NAME, purpose: str = "render"):
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / name
        self.purpose = purpose
        self.cleared_stale: dict[str, Any] | None = None
        self._fd: int | None = None

    def _read(self) -> dict[str, Any]:
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}

    def _held_message(self, info: Mapping[str, Any]) -> str:
        who = (
            f"pid {info.get('pid', '?')} on {info.get('host', '?')}, started "
            f"{info.get('started', '?')}, command: {info.get('command', '?')}"
        )
        pid = info.get("pid")
        orphans = ""
        if pid and info.get("host") == socket.gethostname() and not _pid_alive(int(pid)):
            orphans = (
                f" Process {pid} is gone, but worker processes it started are still finishing "
                "their notebooks and release the lock when they finish."
            )
        return (
            f"another tradeshock {info.get('purpose', 'render')} is already writing to "
            f"{self.out_dir} ({who}).{orphans} Wait for it to finish or render into another "
            f"folder with --out. If you are sure nothing is running, delete {self.path}."
        )

    def acquire(self) -> RenderLock:
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RenderError(_write_error(self.out_dir, exc)) from None
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not on Linux/macOS
            return self._acquire_by_pid()
        for _ in range(20):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise RenderError(_write_error(self.out_dir, exc)) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise RenderError(self._held_message(self._read())) from None
            # The holder may have unlinked the file between our open and flock: retry on a new one.
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            previous = self._read()
            if previous.get("pid"):
                self.cleared_stale = previous
            self._fd = fd
            self._write_info(fd)
            return self
        raise RenderError(f"could not lock {self.path}: it keeps changing; try again")

    def _write_info(self, fd: int) -> None:
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv)[:300],
            "purpose": self.purpose,
        }
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(info).encode())
        os.fsync(fd)

    def _acquire_by_pid(self) -> RenderLock:  # pragma: no cover - fallback without fcntl
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                info = self._read()
                pid = info.get("pid")
                if pid and info.get("host") == socket.gethostname() and not _pid_alive(int(pid)):
                    self.cleared_stale = info
                    with contextlib.suppress(FileNotFoundError):
                        self.path.unlink()
                    continue
                raise RenderError(self._held_message(info)) from None
            except OSError as exc:
                raise RenderError(_write_error(self.out_dir, exc)) from None
            self._fd = fd
            self._write_info(fd)
            return self
        raise RenderError(f"could not lock {self.path}; try again")

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        with contextlib.suppress(OSError):
            os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RenderLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _write_error(where: Path, exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    return (
        f"cannot write to {where}: {reason}. Make it writable (or free disk space), or render "
        "into another folder with --out; existing reports were not touched."
    )


# ============================================================================================
# Jobs, records, summary


@dataclass(frozen=True)
class RenderJob:
    """One report: an output ``name``, the source ``notebook`` and its coerced ``params``.

    ``label`` (e.g. ``symbol=^N225`` for a sweep) is added to the report's title, so reports of
    one notebook are told apart in the index and the browser tab.
    """

    name: str
    notebook: Path
    params: dict[str, Any] = field(default_factory=dict)
    label: str = ""


@dataclass
class RenderRecord:
    """What happened to one report in a render."""

    name: str
    #: ``"ok"`` (executed now), ``"up to date"`` (inputs unchanged, not executed) or ``"failed"``.
    status: str
    #: The HTML to open: ``NAME.html``, or ``NAME.failed.html`` for a failed run.
    html: Path | None
    ipynb: Path | None
    params: dict[str, Any]
    #: Data as-of date recorded by the notebook (:func:`record`), ISO.
    as_of: str | None
    #: Execution time in seconds of the run that made the report (carried over when up to date).
    seconds: float | None
    error: str | None = None
    notebook: Path | None = None
    source: str | None = None
    title: str | None = None
    #: When the report shown was executed (UTC, ISO).
    rendered_at: str | None = None
    #: Executed in this run (False when up to date).
    executed: bool = False
    #: For a failed run: the previous good report still in place, if any.
    last_good_html: Path | None = None
    fingerprint: str | None = None
    detail: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in (OK, UP_TO_DATE)


@dataclass
class RenderSummary:
    """The outcome of :func:`render_notebooks`: one :class:`RenderRecord` per report."""

    records: list[RenderRecord]
    out_dir: Path
    index: Path
    manifest: Path
    seconds: float
    cleared_stale_lock: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.records)

    @property
    def failed(self) -> list[RenderRecord]:
        return [r for r in self.records if r.status == FAILED]

    @property
    def executed(self) -> list[RenderRecord]:
        return [r for r in self.records if r.executed]

    @property
    def up_to_date(self) -> list[RenderRecord]:
        return [r for r in self.records if r.status == UP_TO_DATE]

    def __getitem__(self, name: str) -> RenderRecord:
        for r in self.records:
            if r.name == name:
                return r
        raise KeyError(name)


# ============================================================================================
# Executing one notebook (runs in a worker)


@dataclass(frozen=True)
class ExecOptions:
    """How to execute and export (picklable; the same for every task of a render)."""

    kernel: str = "tradeshock"
    timeout: float = 600
    start_timeout: float = 60
    show_code: bool = False
    progress: bool = False
    #: Leave finished progress bars on screen (one line per notebook).
    leave_progress: bool = True


@dataclass(frozen=True)
class RenderTask:
    """One unit of work for an :class:`Executor`: run ``job`` into the ``staging`` folder."""

    job: RenderJob
    staging: str
    options: ExecOptions
    #: Wall-clock seconds after which a process executor kills the worker (None: never).
    deadline: float | None = None


@dataclass
class TaskResult:
    """What a worker reports back (paths are in the staging folder)."""

    name: str
    ok: bool
    seconds: float
    error: str | None = None
    detail: str | None = None
    ipynb: str | None = None
    html: str | None = None
    record: dict[str, Any] = field(default_factory=dict)
    title: str | None = None
    warnings: list[str] = field(default_factory=list)


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _papermill_path(path: Path) -> str:
    # papermill formats paths with str.format(**parameters); keep literal braces literal.
    return str(path).replace("{", "{{").replace("}", "}}")


@contextlib.contextmanager
def _kernel_environment() -> Iterator[None]:
    """Environment the kernel inherits: render flag on, matplotlib on its inline (PNG) backend,
    and the worker's pid (:data:`ENV_WORKER_PID`)."""
    from tradeshock.core.envvars import temporary_environ

    changes = {
        ENV_RENDERING: "1",
        "MPLBACKEND": _INLINE_BACKEND,
        ENV_WORKER_PID: str(os.getpid()),
    }
    with temporary_environ(changes):
        yield


@contextlib.contextmanager
def _stderr_to(log_path: Path) -> Iterator[Any]:
    """Send fd 2 (ours and the kernel's, which inherits it) to ``log_path``; yield the real
    stderr as a text stream for progress bars."""
    sys.stderr.flush()
    saved = os.dup(2)
    log = open(log_path, "ab")
    os.dup2(log.fileno(), 2)
    stream = os.fdopen(os.dup(saved), "w", buffering=1, encoding="utf-8", errors="replace")
    try:
        yield stream
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        log.close()
        stream.close()


def execute_task(task: RenderTask, *, slot: int = 0, capture_stderr: bool = False) -> TaskResult:
    """Execute one notebook with papermill and export its HTML into ``task.staging``.

    Never raises for a notebook problem: failures (a cell error, a cell over the timeout, a dead
    kernel, a failed export) come back as ``TaskResult(ok=False, error=...)`` with the executed
    notebook (failing cell, traceback, a banner) and its HTML still written.
    """
    t0 = time.perf_counter()
    staging = Path(task.staging)
    staging.mkdir(parents=True, exist_ok=True)
    log_path = staging / f"{task.job.name}.kernel.log"
    with contextlib.ExitStack() as stack:
        stack.enter_context(_kernel_environment())
        stream = stack.enter_context(_stderr_to(log_path)) if capture_stderr else sys.stderr
        try:
            return _execute(task, slot, stream, t0)
        except BaseException as exc:  # noqa: BLE001 - a worker must always report back
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            return TaskResult(
                task.job.name,
                False,
                time.perf_counter() - t0,
                error=f"internal error: {type(exc).__name__}: {exc}",
            )


def _execute(task: RenderTask, slot: int, stream: Any, t0: float) -> TaskResult:
    import nbformat
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    job, opts = task.job, task.options
    staging = Path(task.staging)
    ipynb = staging / f"{job.name}.ipynb"
    html = staging / f"{job.name}.html"
    progress: bool | dict[str, Any] = False
    if opts.progress:
        progress = {
            "desc": job.name,
            "position": slot,
            "leave": opts.leave_progress,
            "file": stream,
            "dynamic_ncols": True,
        }
    error: str | None = None
    detail: str | None = None
    try:
        papermill.execute_notebook(
            _papermill_path(Path(job.notebook)),
            _papermill_path(ipynb),
            parameters=dict(job.params) or None,
            kernel_name=opts.kernel,
            language=_language(Path(job.notebook)),
            progress_bar=progress,
            execution_timeout=opts.timeout,
            start_timeout=opts.start_timeout,
            cwd=str(Path(job.notebook).resolve().parent),
        )
    except PapermillExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue} (in cell [{exc.exec_count}])"
        detail = _ANSI.sub("", "\n".join(exc.traceback or []))[-4000:]
    except CellTimeoutError:
        error = (
            f"a cell ran longer than the per-cell timeout of {opts.timeout:g} s and was stopped; "
            "raise --timeout or make the cell faster"
        )
    except DeadKernelError:
        error = (
            "the kernel died while running a cell (it crashed, was killed, or ran out of memory)"
        )
    except Exception as exc:  # kernel missing, start-up timeout, unreadable notebook, ...
        error = f"{type(exc).__name__}: {_ANSI.sub('', str(exc)).strip()[:1000]}"
    return _finish(task, ipynb, html, error, detail, time.perf_counter() - t0, nbformat)


def _language(notebook: Path) -> str | None:
    """None when the notebook names its language (papermill reads it); else Python, the
    tradeshock kernel's language (a notebook saved without metadata would fail to parameterize)."""
    try:
        meta = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError):
        return None
    named = (meta.get("kernelspec") or {}).get("language") or (meta.get("language_info") or {}).get(
        "name"
    )
    return None if named else "python"


def _finish(
    task: RenderTask,
    ipynb: Path,
    html: Path,
    error: str | None,
    detail: str | None,
    seconds: float,
    nbformat: Any = None,
) -> TaskResult:
    """Annotate the executed notebook and export HTML (also used for a worker that died)."""
    if nbformat is None:
        import nbformat
    job = task.job
    if ipynb.is_file():
        try:
            nb = nbformat.read(ipynb, as_version=4)
        except Exception as exc:  # noqa: BLE001 - a half-written notebook from a killed worker
            nb = nbformat.read(job.notebook, as_version=4)
            error = error or f"the executed notebook could not be read: {exc}"
    else:
        nb = nbformat.read(job.notebook, as_version=4)
    prov = read_record(nb)
    title = _title(nb) or job.name
    if job.label:
        title = f"{title} ({job.label})"
    if error and not detail:
        detail = _log_tail(ipynb.with_name(f"{job.name}.kernel.log"))
    if error:
        cell_index = _mark_failed_cell(nb, error)
        if cell_index is not None and "(in cell" not in error:
            error = f"{error} (cell {cell_index + 1} of {len(nb.cells) - 1})"
        _add_banner(nb, job.name, error, anchored=cell_index is not None)
    nb.metadata["tradeshock"] = {
        "name": job.name,
        "status": FAILED if error else OK,
        "params": job.params,
        "as_of": prov.get("as_of"),
        "source": prov.get("source"),
        "record": prov,
        "error": error,
        "tradeshock_version": __version__,
    }
    warnings: list[str] = []
    step = "writing the executed notebook"
    try:
        _atomic_write_text(ipynb, nbformat.writes(nb))
        step = "exporting HTML"
        # A failed run shows its code, so the failing cell can be read next to its traceback.
        show_code = task.options.show_code or bool(error)
        warnings = export_html(nb, html, show_code=show_code, title=title)
    except OSError as exc:  # disk full, read-only, ...
        problem = f"{step} failed: {_write_error(ipynb.parent, exc)}"
        error = f"{error}; {problem}" if error else problem
    except Exception as exc:  # noqa: BLE001
        problem = f"{step} failed: {type(exc).__name__}: {exc}"
        error = f"{error}; {problem}" if error else problem
    return TaskResult(
        name=job.name,
        ok=error is None,
        seconds=seconds,
        error=error,
        detail=detail,
        ipynb=str(ipynb) if ipynb.is_file() else None,
        html=str(html) if html.is_file() else None,
        record=prov,
        title=title,
        warnings=warnings,
    )


def _log_tail(path: Path, lines: int = 25) -> str | None:
    """The end of the kernel's stderr log, without jupyter_client's transport warnings."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    keep = [
        ln
        for ln in text.splitlines()
        if ln.strip() and "running over TCP without encryption" not in ln
    ]
    return "\n".join(keep[-lines:]) or None


def _title(nb: Any) -> str | None:
    title = nb.metadata.get("title")
    if title:
        return str(title)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+?)\s*$", cell.source, flags=re.M)
            if m:
                return m.group(1)
    return None


def _mark_failed_cell(nb: Any, error: str) -> int | None:
    """Find the cell where execution stopped (the first with an error output, else the last one
    started), give it an error output if it has none (a timeout or a dead kernel leave none),
    put an anchor just before it, and drop papermill's own error markers. Returns its index
    (before the anchor was inserted) or None when no cell ran."""
    nb.cells = [
        c
        for c in nb.cells
        if "papermill-error-cell-tag" not in (c.get("metadata") or {}).get("tags", [])
    ]
    failed = None
    last = None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if (cell.get("metadata") or {}).get("papermill", {}).get("start_time"):
            last = i
        if failed is None and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            failed = i
    index = failed if failed is not None else last
    if index is None:
        return None
    cell = nb.cells[index]
    if failed is None:
        from nbformat.v4 import new_output

        cell.setdefault("outputs", []).append(
            new_output(
                "error", ename="RenderError", evalue=error, traceback=[f"RenderError: {error}"]
            )
        )
    from nbformat.v4 import new_markdown_cell

    anchor = new_markdown_cell(
        '<span id="failed-cell" style="color:#b3261e;font-weight:bold">'
        "Execution stopped at the next cell:</span>",
        metadata={"tags": ["tradeshock-banner"]},
    )
    nb.cells.insert(index, anchor)
    return index


def _add_banner(nb: Any, name: str, error: str, anchored: bool) -> None:
    from nbformat.v4 import new_markdown_cell

    where = ' <a href="#failed-cell">Go to the failing cell.</a>' if anchored else ""
    text = (
        '<div style="border:2px solid #b3261e;background:#fdecea;color:#410e0b;'
        'padding:.6em 1em;border-radius:6px;margin:.5em 0">'
        f"<strong>This report failed to render.</strong> {_html.escape(error)}{where} "
        f"The last good report, if there is one, is <code>{_html.escape(name)}.html</code>."
        "</div>"
    )
    cell = new_markdown_cell(text, metadata={"tags": ["tradeshock-banner"]})
    nb.cells.insert(0, cell)


# ============================================================================================
# HTML export

_TEMPLATE_NAME = "tradeshock_report.html.j2"
_TEMPLATE = """{%- extends 'index.html.j2' -%}
{#- Self-contained: no require.js, MathJax, mermaid or widget scripts from a CDN. -#}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<style type="text/css">
  body.jp-Notebook { max-width: 1100px; margin: 0 auto; padding: 0 12px; }
  .jp-OutputArea-output img { max-width: 100%; height: auto; }
  .jp-OutputArea-output table { display: block; overflow-x: auto; }
</style>
{%- endblock extra_css -%}
"""


def _exporter(show_code: bool) -> Any:
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = {"remove-cell", "remove_cell"}
    config.TagRemovePreprocessor.remove_input_tags = {"remove-input", "remove_input", "hide-input"}
    config.TagRemovePreprocessor.remove_all_outputs_tags = {"remove-output", "remove_output"}
    exporter = HTMLExporter(
        config=config,
        template_name="lab",
        extra_loaders=[DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        template_file=_TEMPLATE_NAME,
    )
    exporter.exclude_input = not show_code
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    exporter.theme = "light"
    return exporter


def export_html(
    nb: Any, html_path: str | Path, *, show_code: bool = False, title: str | None = None
) -> list[str]:
    """Write ``nb`` as self-contained HTML (atomically); return warnings, e.g. an external
    resource a notebook output referenced (see :func:`external_references`)."""
    exporter = _exporter(show_code)
    resources = {"metadata": {"name": title or Path(html_path).stem}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    _atomic_write_text(Path(html_path), body)
    return [f"the HTML loads {ref} from the network" for ref in external_references(body)]


_EXTERNAL = [
    re.compile(
        r"<(?:script|link|img|iframe|embed|source|video|audio|object)\b[^>]*?"
        r"\b(?:src|href|data)\s*=\s*[\"']?\s*((?:https?:)?//[^\"'\s>]+)",
        re.I,
    ),
    re.compile(r"@import\s+(?:url\()?\s*[\"']?\s*((?:https?:)?//[^\"'\s)]+)", re.I),
    re.compile(r"url\(\s*[\"']?\s*((?:https?:)?//[^\"'\s)]+)", re.I),
]


def external_references(html_text: str) -> list[str]:
    """URLs a page would fetch from the network: ``<script src>``, ``<link href>``, images,
    frames, CSS ``@import``/``url()`` with an ``http(s)://`` or ``//`` address (links the
    reader may click, ``<a href>``, are not fetched and not listed)."""
    found: list[str] = []
    for pattern in _EXTERNAL:
        for m in pattern.finditer(html_text):
            if m.group(1) not in found:
                found.append(m.group(1))
    return found


# ============================================================================================
# Executors


class Executor(Protocol):
    """Runs render tasks and yields ``(task, result)`` pairs as they finish, in any order.

    Implementations call :func:`execute_task` wherever they like (this process, a child process,
    a Dask worker with the project installed and the output folder mounted) and must yield a
    result for every task, turning a lost worker into a failed :class:`TaskResult`.
    """

    def run(self, tasks: Sequence[RenderTask]) -> Iterator[tuple[RenderTask, TaskResult]]: ...


class InlineExecutor:
    """Runs tasks one after another in this process (debugging; no wall-clock deadline)."""

    def __init__(self, jobs: int = 1, **_: Any):
        self.jobs = 1

    def run(self, tasks: Sequence[RenderTask]) -> Iterator[tuple[RenderTask, TaskResult]]:
        for task in tasks:
            yield task, execute_task(task)


def _child_main(task: RenderTask, conn: Any, slot: int, tqdm_lock: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; it terminates us

    def _term(*_: Any) -> None:
        raise SystemExit(143)  # unwinds papermill, which shuts the kernel down

    signal.signal(signal.SIGTERM, _term)
    if tqdm_lock is not None:
        from tqdm import tqdm

        tqdm.set_lock(tqdm_lock)
    try:
        result = execute_task(task, slot=slot, capture_stderr=True)
    except SystemExit:
        return
    except BaseException as exc:  # noqa: BLE001
        result = TaskResult(task.job.name, False, 0.0, error=f"worker error: {exc!r}")
    try:
        conn.send(result)
    finally:
        conn.close()


class ProcessExecutor:
    """One fresh worker process per notebook, at most ``jobs`` at a time.

    A worker that dies (killed, out of memory, segfault) fails only its own notebook, and one that
    outlives its task's ``deadline`` is terminated (then killed), so a batch always ends. Uses
    ``fork`` on Linux (papermill and nbconvert are imported once, before forking) and ``spawn``
    elsewhere.
    """

    def __init__(self, jobs: int = 1, *, start_method: str | None = None, poll: float = 0.2):
        if jobs < 1:
            raise ValidationError(f"--jobs must be at least 1, got {jobs}")
        self.jobs = jobs
        self.start_method = start_method
        self.poll = poll

    def _context(self) -> Any:
        import multiprocessing as mp
        import threading

        method = self.start_method
        if method is None:
            # fork is fast (imports are inherited) but unsafe once threads run in this process
            alone = threading.active_count() == 1
            method = "fork" if sys.platform.startswith("linux") and alone else "spawn"
        return mp.get_context(method)

    def run(self, tasks: Sequence[RenderTask]) -> Iterator[tuple[RenderTask, TaskResult]]:
        from multiprocessing.connection import wait

        ctx = self._context()
        if ctx.get_start_method() == "fork":
            _preload()
        lock = None
        if any(t.options.progress for t in tasks):
            from tqdm import tqdm

            lock = tqdm.get_lock()
        pending = deque(tasks)
        free = list(range(self.jobs))
        running: dict[Any, list[Any]] = {}  # conn -> [process, task, slot, started, terminated]
        try:
            while pending or running:
                while pending and free:
                    task = pending.popleft()
                    slot = free.pop(0)
                    recv, send = ctx.Pipe(duplex=False)
                    proc = ctx.Process(
                        target=_child_main,
                        args=(task, send, slot, lock),
                        name=f"tradeshock-render-{task.job.name}",
                        daemon=True,
                    )
                    proc.start()
                    send.close()
                    running[recv] = [proc, task, slot, time.monotonic(), None]
                for conn in wait(list(running), timeout=self.poll):
                    proc, task, slot, started, terminated = running.pop(conn)
                    try:
                        result = conn.recv()
                    except (EOFError, OSError):
                        result = None
                    conn.close()
                    proc.join(timeout=30)
                    if proc.is_alive():
                        proc.kill()
                        proc.join()
                    if result is None:
                        result = _lost_worker(
                            task, proc.exitcode, terminated is not None, time.monotonic() - started
                        )
                    free.append(slot)
                    free.sort()
                    yield task, result
                now = time.monotonic()
                for entry in running.values():
                    proc, task, _, started, terminated = entry
                    if terminated is None and task.deadline and now - started > task.deadline:
                        proc.terminate()
                        entry[4] = now
                    elif terminated is not None and now - terminated > 15:
                        proc.kill()
        finally:
            for proc, *_ in running.values():
                with contextlib.suppress(Exception):
                    proc.terminate()
            for proc, *_ in running.values():
                proc.join(timeout=10)
                if proc.is_alive():
                    proc.kill()
                    proc.join()


def _preload() -> None:
    import nbclient  # noqa: F401
    import nbconvert  # noqa: F401
    import nbformat  # noqa: F401
    import papermill  # noqa: F401


def _lost_worker(
    task: RenderTask, exitcode: int | None, timed_out: bool, seconds: float
) -> TaskResult:
    if timed_out:
        error = (
            f"stopped after {seconds:.0f} s, over the notebook's time limit "
            f"({task.deadline:.0f} s = per-cell timeout x cells + start-up); raise --timeout "
            "or make the notebook faster"
        )
    else:
        how = (
            f"signal {-exitcode}"
            if exitcode is not None and exitcode < 0
            else f"exit code {exitcode}"
        )
        error = (
            f"the worker process died ({how}) before finishing: it was killed or ran out of memory"
        )
    return failed_result(task, error, seconds)


def failed_result(task: RenderTask, error: str, seconds: float) -> TaskResult:
    """A failed :class:`TaskResult` for a task whose worker was lost (died, timed out, vanished).

    Runs in the parent: whatever the worker saved in ``task.staging`` (papermill saves the
    executed notebook after every cell) is annotated with ``error`` and exported, so the failed
    report shows how far it got. ``seconds`` is the wall-clock time the task took.
    """
    staging = Path(task.staging)
    try:
        return _finish(
            task,
            staging / f"{task.job.name}.ipynb",
            staging / f"{task.job.name}.html",
            error,
            None,
            seconds,
        )
    except Exception as exc:  # noqa: BLE001
        return TaskResult(task.job.name, False, seconds, error=f"{error}; and {exc}")


def _dask_executor(**options: Any) -> Executor:
    from tradeshock.pipeline.dask_executor import DaskExecutor  # distributed is imported only when used

    return DaskExecutor(**options)


_EXECUTORS: dict[str, Callable[..., Executor]] = {
    "process": ProcessExecutor,
    "inline": InlineExecutor,
    "dask": _dask_executor,
}


def register_executor(name: str, factory: Callable[..., Executor]) -> None:
    """Make ``make_executor(name, jobs=..., **options)`` build ``factory(jobs=..., **options)``."""
    _EXECUTORS[name] = factory


def make_executor(kind: str = "process", jobs: int | None = None, **options: Any) -> Executor:
    """An executor by name: ``process`` (default), ``inline``, ``dask`` (options: ``scheduler``
    address, ...; see :class:`tradeshock.dask_executor.DaskExecutor`) or one registered later."""
    try:
        factory = _EXECUTORS[kind]
    except KeyError:
        raise ValidationError(
            f"unknown executor {kind!r}; choose one of: {', '.join(sorted(_EXECUTORS))}"
        ) from None
    if jobs is not None:  # else the executor's own default (process: 1, dask: 2 local workers)
        options["jobs"] = jobs
    return factory(**options)


# ============================================================================================
# Orchestration


def _atomic_write_text(path: Path, text: str) -> None:
    atomic_write_text(path, text)


def _replace(src: Path, dst: Path) -> None:
    with open(src, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(src, dst)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _check_kernel(kernel: str) -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    ksm = KernelSpecManager()
    try:
        ksm.get_kernel_spec(kernel)
    except NoSuchKernel:
        known = ", ".join(sorted(ksm.find_kernel_specs())) or "none"
        hint = "run `make kernel`" if kernel == "tradeshock" else f"register the kernel {kernel!r}"
        raise RenderError(
            f"the Jupyter kernel {kernel!r} is not registered for {sys.executable} "
            f"(registered: {known}); {hint}, or pass --kernel"
        ) from None


def _deadline(notebook: Path, opts: ExecOptions) -> float:
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
        n = sum(1 for c in cells if c.get("cell_type") == "code")
    except (OSError, ValueError):
        n = 50
    return opts.timeout * (n + 2) + opts.start_timeout + 120


def declare_notebooks(paths: Iterable[str | Path]) -> dict[str, Any]:
    """Report name → declared parameters (:class:`~tradeshock.params.NotebookParameters`) of each
    notebook; raises :class:`ValidationError` for a missing notebook or two with one name."""
    from tradeshock.pipeline.params import inspect_parameters

    declared: dict[str, Any] = {}
    for nb in (Path(p) for p in paths):
        if not nb.is_file():
            raise ValidationError(f"notebook {nb} does not exist")
        name = output_name(nb.stem)
        if name in declared:
            raise ValidationError(
                f"two notebooks would both be reported as {name!r}: {declared[name].path} and "
                f"{nb}; rename one"
            )
        declared[name] = inspect_parameters(nb)
    return declared


def render_notebooks(
    paths: Iterable[str | Path],
    out_dir: str | Path,
    params: Mapping[str, Any] | None = None,
    jobs: int = 1,
    force: bool | Collection[str] = False,
    show_code: bool = False,
    timeout: float = 600,
    kernel: str = "tradeshock",
    *,
    progress: bool = False,
    executor: Executor | str | None = None,
    on_record: Callable[[RenderRecord], None] | None = None,
) -> RenderSummary:
    """Render notebooks into ``out_dir``; see the module docstring for what happens.

    ``params`` maps parameter names to values (text is coerced to the declared types) for every
    notebook that declares them, or ``{NOTEBOOK_NAME: {...}}`` for one notebook; problems raise
    :class:`~tradeshock.errors.ValidationError` before anything runs. Notebook failures do not
    raise: they are records with ``status == "failed"`` (``summary.ok`` is False). Raises
    :class:`~tradeshock.errors.RenderError` when the folder is locked by another render, cannot be
    written, or the kernel is not registered. ``force``: True re-executes every notebook, a
    collection of report names only those (the rest render only when their inputs changed).
    """
    from tradeshock.pipeline.params import resolve_parameters

    notebooks = [Path(p) for p in paths]
    if not notebooks:
        raise ValidationError("no notebooks to render")
    declared = declare_notebooks(notebooks)
    resolved = resolve_parameters(params, declared)
    render_list = [
        RenderJob(name, nbp.path.resolve(), resolved[name]) for name, nbp in declared.items()
    ]
    return render_jobs(
        render_list,
        out_dir,
        jobs=jobs,
        force=force,
        show_code=show_code,
        timeout=timeout,
        kernel=kernel,
        progress=progress,
        executor=executor,
        on_record=on_record,
    )


def render_jobs(
    render_list: Sequence[RenderJob],
    out_dir: str | Path,
    *,
    jobs: int = 1,
    force: bool | Collection[str] = False,
    show_code: bool = False,
    timeout: float = 600,
    kernel: str = "tradeshock",
    start_timeout: float = 60,
    progress: bool = False,
    executor: Executor | str | None = None,
    on_record: Callable[[RenderRecord], None] | None = None,
) -> RenderSummary:
    """Render already-validated jobs (names and parameters chosen by the caller, e.g. a sweep)."""
    from tradeshock.pipeline import reportindex

    t0 = time.perf_counter()
    out = Path(out_dir)
    names = [check_output_name(j.name) for j in render_list]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValidationError(f"report names used twice: {', '.join(dupes)}")
    if timeout <= 0:
        raise ValidationError(f"timeout must be positive, got {timeout}")
    opts = ExecOptions(
        kernel=kernel,
        timeout=float(timeout),
        start_timeout=float(start_timeout),
        show_code=show_code,
        progress=progress,
        leave_progress=True,
    )
    lock = RenderLock(out)
    with lock:
        _clean_tmp(out)
        manifest = reportindex.load_manifest(out)
        entries: dict[str, dict[str, Any]] = manifest.setdefault("reports", {})
        data_fp, lib_fp = data_fingerprint(), library_fingerprint()
        fps = {
            j.name: input_fingerprint(
                j.notebook,
                j.params,
                show_code=show_code,
                kernel=kernel,
                data=data_fp,
                library=lib_fp,
            )
            for j in render_list
        }
        records: dict[str, RenderRecord] = {}
        todo: list[RenderJob] = []
        for job in render_list:
            prev = entries.get(job.name)
            forced = force if isinstance(force, bool) else job.name in force
            if not forced and _is_current(prev, fps[job.name], out, job.name):
                entry = dict(prev)
                entry.update(
                    status=UP_TO_DATE,
                    checked_at=utc_now(),
                    notebook=str(job.notebook),
                    params=job.params,
                )
                entries[job.name] = entry
                rec = _record_from_entry(out, entry, executed=False)
                records[job.name] = rec
                if on_record:
                    on_record(rec)
            else:
                todo.append(job)
        if todo:
            _check_kernel(kernel)
            if executor is None or isinstance(executor, str):
                executor = make_executor(executor or "process", jobs=jobs)
            # absolute: workers of another executor (Dask) may run in another folder
            staging = out.resolve() / TMP_DIR_NAME / f"run-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            try:
                staging.mkdir(parents=True)
            except OSError as exc:
                raise RenderError(_write_error(out, exc)) from None
            if (getattr(executor, "jobs", 1) or 1) > 1:
                # parallel bars share the screen by slot; finished ones make way for the next
                opts = ExecOptions(**{**asdict(opts), "leave_progress": False})
            tasks = [RenderTask(j, str(staging), opts, _deadline(j.notebook, opts)) for j in todo]
            by_name = {j.name: j for j in todo}
            results = None
            try:
                results = executor.run(tasks)
                for task, result in results:
                    job = by_name[task.job.name]
                    entry = _commit(out, job, result, fps[job.name])
                    entries[job.name] = entry
                    rec = _record_from_entry(out, entry, executed=True)
                    records[job.name] = rec
                    _write_outputs(out, manifest)
                    if on_record:
                        on_record(rec)
            finally:
                # Stop workers still running (interrupt, error) before their folder goes away.
                close = getattr(results, "close", None)
                if close is not None:
                    close()
                shutil.rmtree(staging, ignore_errors=True)
                with contextlib.suppress(OSError):
                    staging.parent.rmdir()
        for name in [n for n, e in entries.items() if not _entry_has_report(out, e)]:
            del entries[name]
        manifest["generated_at"] = utc_now()
        _write_outputs(out, manifest)
    ordered = [records[j.name] for j in render_list if j.name in records]
    return RenderSummary(
        records=ordered,
        out_dir=out,
        index=out / INDEX_NAME,
        manifest=out / MANIFEST_NAME,
        seconds=time.perf_counter() - t0,
        cleared_stale_lock=lock.cleared_stale,
    )


def _clean_tmp(out: Path) -> None:
    """Remove staging left by an interrupted run (we hold the lock, so nothing else uses it)."""
    tmp = out / TMP_DIR_NAME
    if tmp.exists():
        shutil.rmtree(tmp, ignore_errors=True)
    for stray in out.glob(".*.tmp-*"):
        with contextlib.suppress(OSError):
            stray.unlink()


def _write_outputs(out: Path, manifest: dict[str, Any]) -> None:
    from tradeshock.pipeline import reportindex

    try:
        reportindex.write_manifest(out, manifest)
        reportindex.write_index(out, manifest)
    except OSError as exc:
        raise RenderError(_write_error(out, exc)) from None


def _is_current(prev: Mapping[str, Any] | None, fp: Fingerprint, out: Path, name: str) -> bool:
    if not prev or prev.get("status") not in (OK, UP_TO_DATE):
        return False
    if prev.get("fingerprint") != fp.digest:
        return False
    html, ipynb = output_path(out, name, ".html"), output_path(out, name, ".ipynb")
    if not (html.is_file() and ipynb.is_file()):
        return False
    return prev.get("html_sha256") == _file_sha(html)


def _entry_has_report(out: Path, entry: Mapping[str, Any]) -> bool:
    """True while the entry still points at a page on disk (its own or its last good one).

    Entries whose files a user deleted are dropped from the index; a failure that could not write
    its own page (disk full) keeps the entry, so the index still shows the error and the last good
    report.
    """
    return any(
        bool(entry.get(key)) and (out / entry[key]).is_file() for key in ("html", "last_good_html")
    )


def _commit(out: Path, job: RenderJob, result: TaskResult, fp: Fingerprint) -> dict[str, Any]:
    """Move a finished task's files into ``out`` and return its manifest entry."""
    good_html, good_ipynb = (
        output_path(out, job.name, ".html"),
        output_path(out, job.name, ".ipynb"),
    )
    bad_html = output_path(out, job.name, ".failed.html")
    bad_ipynb = output_path(out, job.name, ".failed.ipynb")
    error = result.error
    try:
        if result.ok and result.html and result.ipynb:
            _replace(Path(result.ipynb), good_ipynb)
            _replace(Path(result.html), good_html)  # last: the file that looks finished
            for stale in (bad_html, bad_ipynb):
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()
            html, ipynb, status = good_html, good_ipynb, OK
        else:
            if result.ipynb:
                _replace(Path(result.ipynb), bad_ipynb)
            if result.html:
                _replace(Path(result.html), bad_html)
            html = bad_html if bad_html.is_file() else None
            ipynb = bad_ipynb if bad_ipynb.is_file() else None
            status = FAILED
        _fsync_dir(out)
    except OSError as exc:
        status, html, ipynb = FAILED, None, None
        error = _write_error(out, exc)
    entry: dict[str, Any] = {
        "name": job.name,
        "status": status,
        "notebook": str(job.notebook),
        "title": result.title or job.name,
        "params": job.params,
        "as_of": result.record.get("as_of"),
        "source": result.record.get("source"),
        "record": result.record,
        "seconds": round(result.seconds, 3),
        "rendered_at": utc_now(),
        "html": html.name if html else None,
        "ipynb": ipynb.name if ipynb else None,
        "error": error,
        "detail": result.detail,
        "warnings": result.warnings,
        "fingerprint": fp.digest,
        "inputs": fp.parts,
    }
    if status == OK:
        entry["html_sha256"] = _file_sha(good_html)
    elif good_html.is_file():
        entry["last_good_html"] = good_html.name
    return entry


def _record_from_entry(out: Path, entry: Mapping[str, Any], *, executed: bool) -> RenderRecord:
    def path(key: str) -> Path | None:
        return out / entry[key] if entry.get(key) else None

    return RenderRecord(
        name=entry["name"],
        status=entry["status"],
        html=path("html"),
        ipynb=path("ipynb"),
        params=dict(entry.get("params") or {}),
        as_of=entry.get("as_of"),
        seconds=entry.get("seconds"),
        error=entry.get("error"),
        notebook=Path(entry["notebook"]) if entry.get("notebook") else None,
        source=entry.get("source"),
        title=entry.get("title"),
        rendered_at=entry.get("rendered_at"),
        executed=executed,
        last_good_html=path("last_good_html"),
        fingerprint=entry.get("fingerprint"),
        detail=entry.get("detail"),
        warnings=list(entry.get("warnings") or []),
    )
