"""One render task: execute a notebook with papermill and export its HTML, wherever a worker runs.

A :class:`RenderJob` is one report (output name, notebook, coerced parameters); a
:class:`RenderTask` is a job plus the staging folder to write into, the :class:`ExecOptions` and a
wall-clock deadline, all picklable so any executor can ship it. :func:`execute_task` runs it (in
this process, a child process or a Dask worker: the kernel inherits the render flag, the inline
PNG backend of matplotlib and the worker's pid) and never raises for a notebook problem: a cell
error, a cell over the timeout, a dead kernel or a failed export come back as a :class:`TaskResult`
with ``ok=False``, the executed notebook annotated (failing cell marked, a banner on top) and
exported all the same. :func:`failed_result` does that in the parent for a worker that was lost.
Nothing here touches the output folder: the orchestrator alone moves files into place.
"""

from __future__ import annotations

import contextlib
import html as _html
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradeshock import __version__
from tradeshock.core.envvars import temporary_environ
from tradeshock.core.fileio import atomic_write_text
from tradeshock.pipeline.export import export_html
from tradeshock.pipeline.outputs import FAILED, OK, attachments_dir_name, write_error_message
from tradeshock.pipeline.provenance import (
    ENV_ATTACHMENTS,
    ENV_ATTACHMENTS_URL,
    ENV_RENDERING,
    read_record,
)

__all__ = [
    "ENV_WORKER_PID",
    "ExecOptions",
    "RenderJob",
    "RenderTask",
    "TaskResult",
    "execute_task",
    "failed_result",
]

#: The pid of the process running :func:`execute_task` (a worker), in the kernel's environment;
#: fault tests kill that worker from inside a notebook (a kernel's parent pid may be a launcher).
ENV_WORKER_PID = "TRADESHOCK_WORKER_PID"
_INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


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
    """One unit of work for an executor (:class:`~tradeshock.pipeline.executors.Executor`): run
    ``job`` into the ``staging`` folder."""

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
    #: The staging folder holding the files the notebook attached (None when it attached none).
    attachments_dir: str | None = None


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _papermill_path(path: Path) -> str:
    # papermill formats paths with str.format(**parameters); keep literal braces literal.
    return str(path).replace("{", "{{").replace("}", "}}")


def staged_attachments(task: RenderTask) -> Path:
    """The staging folder where the task's notebook writes its attachments (``NAME_files``)."""
    return Path(task.staging) / attachments_dir_name(task.job.name)


@contextlib.contextmanager
def _kernel_environment(task: RenderTask | None = None) -> Iterator[None]:
    """Environment the kernel inherits: render flag on, matplotlib on its inline (PNG) backend,
    the worker's pid (:data:`ENV_WORKER_PID`) and, for a task, where attachments go
    (:data:`~.provenance.ENV_ATTACHMENTS`, linked from the report as ``NAME_files/``)."""
    changes = {
        ENV_RENDERING: "1",
        "MPLBACKEND": _INLINE_BACKEND,
        ENV_WORKER_PID: str(os.getpid()),
    }
    if task is not None:
        changes[ENV_ATTACHMENTS] = str(staged_attachments(task).resolve())
        changes[ENV_ATTACHMENTS_URL] = attachments_dir_name(task.job.name) + "/"
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
        stack.enter_context(_kernel_environment(task))
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
        atomic_write_text(ipynb, nbformat.writes(nb))
        step = "exporting HTML"
        # A failed run shows its code, so the failing cell can be read next to its traceback.
        show_code = task.options.show_code or bool(error)
        warnings = export_html(nb, html, show_code=show_code, title=title)
    except OSError as exc:  # disk full, read-only, ...
        problem = f"{step} failed: {write_error_message(ipynb.parent, exc)}"
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
        attachments_dir=_attachments_dir(task),
    )


def _attachments_dir(task: RenderTask) -> str | None:
    folder = staged_attachments(task)
    return str(folder) if folder.is_dir() else None


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
