"""Render notebooks to shareable HTML: the orchestration of a render, and its outcome.

``render_notebooks(paths, out_dir)`` (and the ``tradeshock render`` command over it) does, in order:

1. **Validate before any work**: every notebook's ``parameters`` cell is read without a kernel
   (:mod:`tradeshock.pipeline.params`); unknown names and values of the wrong type are one error.
2. **Check the folder** (:mod:`tradeshock.pipeline.outdir`: new, empty or marked as tradeshock's,
   never a project source folder), then **lock** ``OUT/.tradeshock-render.lock``
   (:class:`~tradeshock.pipeline.lock.RenderLock`: an OS
   lock, so a lock left by a dead process is detected and cleared; a live one makes a second render
   exit with a clear message).
3. **Incremental**: each notebook's input fingerprint (notebook cells, parameters, data files,
   library source, kernel and ``show_code``; :mod:`tradeshock.pipeline.fingerprint`) is compared
   with the one stored in ``OUT/manifest.json``; an unchanged notebook whose report is intact is
   "up to date" and not executed (unless ``force``).
4. **Execute** the rest as :class:`~tradeshock.pipeline.tasks.RenderTask` objects on an executor
   (:mod:`tradeshock.pipeline.executors`; by default one worker process per notebook, ``jobs`` at a
   time, with a per-cell timeout and a wall-clock deadline, so a batch always ends; a worker that
   dies fails only its own notebook). Each task runs papermill on the Jupyter kernel ``tradeshock``
   and exports self-contained HTML (:mod:`tradeshock.pipeline.export`) into a staging folder.
5. **Commit atomically**: this process alone moves each finished task's files from
   ``OUT/.tradeshock-tmp/`` into place with :func:`os.replace`, so an interrupted run never leaves
   a half-written report; a report's notebook, attachments (``NAME_files/``) and HTML move as one
   set (:func:`~tradeshock.core.fileio.replace_together`), and rewrites the index and manifest
   (:mod:`tradeshock.pipeline.reportindex`) after every report.

Output files in ``OUT`` (names are the notebook's file stem, or ``STEM-VALUE`` for a sweep,
checked never to leave ``OUT``; :mod:`tradeshock.pipeline.naming`):

- ``NAME.html`` + ``NAME.ipynb``: the last good report and its executed notebook;
- ``NAME.failed.html`` + ``NAME.failed.ipynb``: the latest *failed* run (failing cell, traceback,
  a banner saying what went wrong); the previous good ``NAME.html`` is kept beside it and both are
  linked from the index; a later good run deletes the ``.failed`` pair;
- ``index.html`` (status, parameters, data as-of date, run time per report; readable on a phone)
  and ``manifest.json`` (the same plus package versions and input fingerprints).

The data as-of date of each report is what its notebook stated with
:func:`tradeshock.pipeline.provenance.record`. One report per value of a parameter (a sweep) is
planned by :mod:`tradeshock.pipeline.sweep` and rendered with :func:`render_jobs`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tradeshock.core.fileio import clean_temp, replace_together, sha256_file
from tradeshock.core.timefmt import utc_now
from tradeshock.errors import FileSetError, RenderError, ValidationError
from tradeshock.paths import PROJECT_ROOT
from tradeshock.pipeline import manifestcheck, reportindex
from tradeshock.pipeline.executors import Executor, make_executor
from tradeshock.pipeline.fingerprint import (
    Fingerprint,
    data_fingerprint,
    input_fingerprint,
    library_fingerprint,
)
from tradeshock.pipeline.lock import RenderLock
from tradeshock.pipeline.naming import (
    check_output_name,
    default_out_dir,
    output_name,
    output_path,
)
from tradeshock.pipeline.outdir import check_out_dir, mark_out_dir
from tradeshock.pipeline.outputs import (
    FAILED,
    INDEX_NAME,
    MANIFEST_NAME,
    OK,
    TMP_DIR_NAME,
    UP_TO_DATE,
    attachments_dir_name,
    write_error_message,
)
from tradeshock.pipeline.contracts import check_jobs
from tradeshock.pipeline.params import inspect_parameters, resolve_parameters
from tradeshock.pipeline.tasks import ExecOptions, RenderJob, RenderTask, TaskResult

__all__ = [
    "RenderRecord",
    "RenderSummary",
    "declare_notebooks",
    "render_jobs",
    "render_notebooks",
]


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
    #: Data as-of date recorded by the notebook (:func:`~.provenance.record`), ISO.
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
    #: Files the report attached (:func:`~.provenance.attach`): name, file, description, bytes.
    attachments: list[dict[str, Any]] = field(default_factory=list)

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
    #: Things the user should know that are not a report's status (e.g. a rebuilt manifest).
    notes: list[str] = field(default_factory=list)

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


def _replace(src: Path, dst: Path) -> None:
    if Path(src).is_file():  # a folder (attachments) is moved as it is
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
    """Report name → declared parameters (:class:`~tradeshock.pipeline.params.NotebookParameters`)
    of each notebook; raises :class:`ValidationError` for a missing notebook or two with one
    name."""
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
    replace: bool = True,
) -> RenderSummary:
    """Render already-validated jobs (names and parameters chosen by the caller, e.g. a sweep).

    ``replace=False`` refuses (:class:`ValidationError`, before anything runs) to replace a
    report of the same name that was made with other parameters (a second sweep with other
    fixed values). The output folder must be one a render may write into
    (:func:`~tradeshock.pipeline.outdir.check_out_dir`).
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    names = [check_output_name(j.name) for j in render_list]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValidationError(f"report names used twice: {', '.join(dupes)}")
    if timeout <= 0:
        raise ValidationError(f"timeout must be positive, got {timeout}")
    check_jobs(render_list)  # every parameter against its notebook's contract, before any work
    opts = ExecOptions(
        kernel=kernel,
        timeout=float(timeout),
        start_timeout=float(start_timeout),
        show_code=show_code,
        progress=progress,
        leave_progress=True,
    )
    check_out_dir(out, default=default_out_dir() if PROJECT_ROOT is not None else None)
    lock = RenderLock(out)
    with lock:
        locked_at = time.time()
        try:
            mark_out_dir(out)
        except OSError as exc:
            raise RenderError(write_error_message(out, exc)) from None
        _clean_tmp(out, locked_at)
        manifest, note = manifestcheck.load_or_rebuild(out)
        notes = [note] if note else []
        entries: dict[str, dict[str, Any]] = manifest.setdefault("reports", {})
        if not replace:
            _check_replacements(out, render_list, entries)
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
                raise RenderError(write_error_message(out, exc)) from None
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
                    _write_outputs(out, manifest, records)
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
        _write_outputs(out, manifest, records)
    ordered = [records[j.name] for j in render_list if j.name in records]
    return RenderSummary(
        records=ordered,
        out_dir=out,
        index=out / INDEX_NAME,
        manifest=out / MANIFEST_NAME,
        seconds=time.perf_counter() - t0,
        cleared_stale_lock=lock.cleared_stale,
        notes=notes,
    )


def _clean_tmp(out: Path, before: float | None = None) -> None:
    """Remove staging and temporary files left by an interrupted run (we hold the lock, so
    nothing else uses them; a temporary file newer than ``before``, when given, is kept)."""
    tmp = out / TMP_DIR_NAME
    if tmp.exists():
        shutil.rmtree(tmp, ignore_errors=True)
    clean_temp(out, older_than=before)
    for stray in out.glob(".*.tmp-*"):  # names of writers from before fileio.make_temp
        with contextlib.suppress(OSError):
            stray.unlink()


def _check_replacements(
    out: Path, render_list: Sequence[RenderJob], entries: Mapping[str, Mapping[str, Any]]
) -> None:
    """Refuse to replace reports of the same name made with other parameters."""
    clashes = []
    for job in render_list:
        prev = entries.get(job.name)
        if not prev or not _entry_has_report(out, prev):
            continue
        old = json.dumps(reportindex._clean(prev.get("params") or {}), sort_keys=True)
        new = json.dumps(reportindex._clean(dict(job.params)), sort_keys=True, default=str)
        if old != new:
            clashes.append(
                f"{job.name} (made with {reportindex._params_text(prev.get('params'))}; now "
                f"{reportindex._params_text(job.params)})"
            )
    if clashes:
        raise ValidationError(
            f"{len(clashes)} report(s) in {out} have the same name but were made with other "
            f"parameters, and would be replaced: {'; '.join(clashes)}. Pass --replace to replace "
            "them, or render into another folder with --out"
        )


def _write_outputs(
    out: Path, manifest: dict[str, Any], records: Mapping[str, RenderRecord] | None = None
) -> None:
    """Write the manifest and the index; when that fails, say which reports of this run are
    already in place (so "not touched" is only said when true)."""
    try:
        reportindex.write_manifest(out, manifest)
        reportindex.write_index(out, manifest)
    except OSError as exc:
        moved = sorted(n for n, r in (records or {}).items() if r.executed and r.html)
        touched = (
            f"the report(s) {', '.join(moved)} of this run were already moved into place, but "
            "index.html or manifest.json may not list them yet; render again once it is writable"
            if moved
            else None
        )
        raise RenderError(write_error_message(out, exc, touched=touched)) from None


def _is_current(prev: Mapping[str, Any] | None, fp: Fingerprint, out: Path, name: str) -> bool:
    if not prev or prev.get("status") not in (OK, UP_TO_DATE):
        return False
    if prev.get("fingerprint") != fp.digest:
        return False
    html, ipynb = output_path(out, name, ".html"), output_path(out, name, ".ipynb")
    if not (html.is_file() and ipynb.is_file()):
        return False
    files = [a.get("file") for a in prev.get("attachments") or [] if isinstance(a, Mapping)]
    if not all(f and (out / f).is_file() for f in files):  # an attachment deleted: render again
        return False
    return prev.get("html_sha256") == sha256_file(html)


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
    """Move a finished task's files into ``out`` as one set and return its manifest entry.

    A good run's notebook, attachments folder and HTML move together
    (:func:`~tradeshock.core.fileio.replace_together`: all or none, the HTML last); a stale
    failure page and attachments the new run no longer makes go in the same step. When the move
    fails, the previous report is restored and the error says so; only if even that fails does
    the error name the files that now hold the new version.
    """
    good_html, good_ipynb = (
        output_path(out, job.name, ".html"),
        output_path(out, job.name, ".ipynb"),
    )
    bad_html = output_path(out, job.name, ".failed.html")
    bad_ipynb = output_path(out, job.name, ".failed.ipynb")
    files_dir = out / attachments_dir_name(check_output_name(job.name))
    staged_files = Path(result.attachments_dir) if result.attachments_dir else None
    error = result.error
    attachments: list[dict[str, Any]] = []
    try:
        if result.ok and result.html and result.ipynb:
            pairs: list[tuple[Path | None, Path]] = [(Path(result.ipynb), good_ipynb)]
            if staged_files is not None and staged_files.is_dir() and any(staged_files.iterdir()):
                pairs.append((staged_files, files_dir))
            elif files_dir.exists():
                pairs.append((None, files_dir))  # the new run attaches nothing: drop the old
            pairs.append((Path(result.html), good_html))  # the file that looks finished
            pairs += [(None, stale) for stale in (bad_html, bad_ipynb) if stale.exists()]
            replace_together(pairs, replace=_replace)
            html, ipynb, status = good_html, good_ipynb, OK
            attachments = _attachments(out, files_dir, result.record)
        else:
            pairs = []
            if result.ipynb:
                pairs.append((Path(result.ipynb), bad_ipynb))
            if result.html:
                pairs.append((Path(result.html), bad_html))
            replace_together(pairs, replace=_replace)
            html = bad_html if bad_html.is_file() else None
            ipynb = bad_ipynb if bad_ipynb.is_file() else None
            status = FAILED
        _fsync_dir(out)
    except OSError as exc:
        status, html, ipynb = FAILED, None, None
        error = write_error_message(out, exc, touched=f"the previous {job.name} report was kept")
    except FileSetError as exc:
        status, html, ipynb = FAILED, None, None
        names = ", ".join(Path(p).name for p in exc.replaced)
        error = write_error_message(
            out, OSError(str(exc)), touched=f"{names} already hold the new run and do not match "
            f"the rest of the {job.name} report; render it again once the folder is writable",
        )
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
        "attachments": attachments,
    }
    if status == OK:
        entry["html_sha256"] = sha256_file(good_html)
    elif good_html.is_file():
        entry["last_good_html"] = good_html.name
        if files_dir.is_dir():
            entry["attachments"] = _attachments(out, files_dir, {})
    return entry


def _attachments(out: Path, folder: Path, record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The attachments in ``folder`` (relative names, descriptions from the notebook's record)."""
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        found.append(
            {
                "name": path.name,
                "file": f"{folder.name}/{path.name}",
                "description": str(record.get(f"attachment:{path.name}") or ""),
                "bytes": path.stat().st_size,
            }
        )
    return found


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
        attachments=list(entry.get("attachments") or []),
    )
