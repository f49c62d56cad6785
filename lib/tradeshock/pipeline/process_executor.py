"""The built-in local executors: ``process`` (the default) and ``inline``.

:class:`ProcessExecutor` runs each render task in a fresh worker process, at most ``jobs`` at a
time: a worker that dies (killed, out of memory, segfault) fails only its own notebook, and one
that outlives its task's deadline is terminated (then killed), so a batch always ends; what the lost
worker saved is salvaged with :func:`~tradeshock.pipeline.tasks.failed_result`.
:class:`InlineExecutor` runs tasks one after another in this process (debugging). Both call
:func:`~tradeshock.pipeline.tasks.execute_task`; :mod:`tradeshock.pipeline.executors` lists them by
name.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any

from tradeshock.errors import ValidationError
from tradeshock.pipeline.tasks import RenderTask, TaskResult, execute_task, failed_result

__all__ = ["InlineExecutor", "ProcessExecutor"]


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
