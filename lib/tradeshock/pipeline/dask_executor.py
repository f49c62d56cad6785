"""Render tasks on a Dask cluster: ``tradeshock render --executor dask [--scheduler ADDRESS]``.

:class:`DaskExecutor` is an :class:`~tradeshock.pipeline.executors.Executor`, listed under
``"dask"`` in :mod:`tradeshock.pipeline.executors`; ``distributed`` is imported only when one is
made. Each task is submitted as :func:`tradeshock.pipeline.tasks.execute_task` (``retries=0``); the
worker executes the notebook with papermill on its own Jupyter kernel and writes the executed
notebook and HTML into the render's staging folder; the parent gets a
:class:`~tradeshock.pipeline.tasks.TaskResult` back and alone moves files into place and writes the
index, as with the process executor.

- **No address**: a ``LocalCluster`` of ``jobs`` worker processes (default 2), one thread each,
  started for the render and closed after it. Its scheduler allows no retries
  (``distributed.scheduler.allowed-failures: 0``), so a task whose worker dies fails at once.
- **An address** (``tcp://HOST:8786``): a ``distributed.Client`` to a running scheduler. Every
  worker needs the tradeshock project installed (same version), the Jupyter kernel ``tradeshock``
  registered, the notebooks and the output folder (its ``.tradeshock-tmp/`` staging folder) at
  the same absolute paths (a shared filesystem), and the data settings (``TRADESHOCK_SNAPSHOT``,
  ``TRADESHOCK_CACHE``) in its environment. Use one thread per worker (``dask worker ADDRESS
  --nthreads 1``): a render sets process-wide environment variables and captures fd 2. That
  scheduler's own ``allowed-failures`` (default 3) decides how often a task that kills its
  worker is retried before it fails.

A worker that dies mid-run (killed, out of memory, lost node) fails only its own report, with
"the Dask worker running it died: ..."; the others complete. The per-cell ``--timeout`` applies on
the worker; the wall-clock deadline of each task is enforced here by giving up on (cancelling)
the task: a Dask thread cannot be killed, so its kernel stops at the next per-cell timeout.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import time
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any

from tradeshock.errors import RenderError, ValidationError
from tradeshock.pipeline.tasks import RenderTask, TaskResult, execute_task, failed_result

__all__ = ["DaskExecutor", "DEFAULT_LOCAL_WORKERS"]

#: Worker processes of the local cluster when ``jobs`` is not given.
DEFAULT_LOCAL_WORKERS = 2

_INSTALL_HINT = (
    "install it with `pip install 'distributed>=2024.8'` (or `make install`), or use "
    "--executor process"
)


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise RenderError(
            f"--executor dask needs the 'distributed' package, which cannot be imported by "
            f"{sys.executable} ({exc}); {_INSTALL_HINT}"
        ) from None
    return distributed


class DaskExecutor:
    """Run render tasks on Dask workers (see the module docstring for what workers need).

    ``jobs``: worker processes of the local cluster (default 2); with a ``scheduler`` address,
    the most tasks in flight at once (default: the cluster's worker threads). ``scheduler``: the
    address of a running Dask scheduler, or None to start a ``LocalCluster``.
    ``connect_timeout``: seconds to wait for the scheduler (and, when it has none, a worker).
    ``poll``: seconds between checks for finished tasks and deadlines.
    """

    def __init__(
        self,
        jobs: int | None = None,
        *,
        scheduler: str | None = None,
        connect_timeout: float = 20,
        poll: float = 0.2,
    ):
        if jobs is not None and jobs < 1:
            raise ValidationError(f"--jobs must be at least 1, got {jobs}")
        _import_distributed()
        self.scheduler = scheduler or None
        self.jobs = jobs if jobs is not None else (None if scheduler else DEFAULT_LOCAL_WORKERS)
        self.connect_timeout = connect_timeout
        self.poll = poll

    # ------------------------------------------------------------------ cluster

    @contextlib.contextmanager
    def _client(self) -> Iterator[Any]:
        """A connected ``distributed.Client`` (and a local cluster when no address was given)."""
        distributed = _import_distributed()
        if self.scheduler:
            try:
                client = distributed.Client(
                    self.scheduler, timeout=self.connect_timeout, set_as_default=False
                )
            except Exception as exc:  # noqa: BLE001 - OSError, TimeoutError, bad address, ...
                raise RenderError(
                    f"cannot reach the Dask scheduler at {self.scheduler} "
                    f"({type(exc).__name__}: {exc}); check the address (e.g. tcp://HOST:8786), "
                    "that `dask scheduler` runs there and its port is open from this machine, "
                    "or leave out --scheduler to start a local cluster"
                ) from None
            try:
                yield client
            finally:
                with contextlib.suppress(Exception):
                    client.close()
            return
        import logging

        import dask

        n = self.jobs or DEFAULT_LOCAL_WORKERS
        # No retries: a task that kills its worker fails now instead of killing the next one;
        # one task per worker thread, so a dying worker takes no queued task down with it.
        settings = {
            "distributed.scheduler.allowed-failures": 0,
            "distributed.scheduler.worker-saturation": 1.0,
        }
        try:
            with dask.config.set(settings):
                cluster = distributed.LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.CRITICAL,  # our messages say what failed
                )
        except Exception as exc:  # noqa: BLE001
            raise RenderError(
                f"could not start a local Dask cluster of {n} worker processes "
                f"({type(exc).__name__}: {exc}); lower --jobs, or use --executor process"
            ) from None
        try:
            client = distributed.Client(cluster, set_as_default=False)
            try:
                yield client
            finally:
                with contextlib.suppress(Exception):
                    client.close()
        finally:
            with contextlib.suppress(Exception):
                cluster.close()

    def _capacity(self, client: Any) -> tuple[int, bool]:
        """(tasks to keep in flight, True when every worker has a single thread)."""
        try:
            client.wait_for_workers(1, timeout=self.connect_timeout)
        except Exception:  # noqa: BLE001 - TimeoutError
            raise RenderError(
                f"the Dask scheduler at {self.scheduler or 'the local cluster'} has no workers "
                f"after {self.connect_timeout:g} s; start some with `dask worker "
                f"{self.scheduler or 'ADDRESS'} --nthreads 1` on machines that have tradeshock "
                "installed"
            ) from None
        try:
            info = client.scheduler_info(n_workers=-1)  # -1: every worker
        except TypeError:  # older distributed: no argument, lists every worker
            info = client.scheduler_info()
        workers = info.get("workers", {})
        threads = [int(w.get("nthreads", 1)) for w in workers.values()] or [1]
        capacity = sum(threads)
        if self.jobs:
            capacity = min(capacity, self.jobs) if self.scheduler else self.jobs
        return max(1, capacity), all(t == 1 for t in threads)

    # ------------------------------------------------------------------ run

    def run(self, tasks: Sequence[RenderTask]) -> Iterator[tuple[RenderTask, TaskResult]]:
        """Submit tasks (at most one per worker thread at a time) and yield results as they
        complete; a lost worker or task becomes a failed result for that task alone."""
        if not tasks:
            return
        distributed = _import_distributed()
        with self._client() as client:
            capacity, single_threaded = self._capacity(client)
            pending = deque(tasks)
            in_flight: dict[Any, tuple[RenderTask, float]] = {}  # future -> (task, submitted at)
            done = distributed.as_completed([], loop=client.loop)
            run_id = uuid.uuid4().hex[:8]
            try:
                while pending or in_flight:
                    while pending and len(in_flight) < capacity:
                        task = pending.popleft()
                        # no progress bars on workers: nobody sees their terminal
                        quiet = dataclasses.replace(
                            task, options=dataclasses.replace(task.options, progress=False)
                        )
                        future = client.submit(
                            execute_task,
                            quiet,
                            capture_stderr=single_threaded,
                            key=f"tradeshock-render-{task.job.name}-{run_id}",
                            pure=False,
                            retries=0,
                        )
                        in_flight[future] = (task, time.monotonic())
                        done.add(future)
                    batch = done.next_batch(block=False)
                    for future in batch:
                        if future not in in_flight:  # given up on earlier (deadline)
                            continue
                        task, started = in_flight.pop(future)
                        yield task, self._result(future, task, time.monotonic() - started)
                    now = time.monotonic()
                    for future, (task, started) in list(in_flight.items()):
                        if task.deadline and now - started > task.deadline:
                            del in_flight[future]
                            with contextlib.suppress(Exception):
                                future.cancel()
                            took = now - started
                            yield task, failed_result(task, _over_deadline(task, took), took)
                    if not batch:
                        time.sleep(self.poll)
            finally:
                for future in in_flight:
                    with contextlib.suppress(Exception):
                        future.cancel()

    def _result(self, future: Any, task: RenderTask, seconds: float) -> TaskResult:
        """The task's result, or a failed result saying what happened to it on the cluster."""
        from distributed.scheduler import KilledWorker

        try:
            result = future.result()
        except KilledWorker as exc:
            worker = getattr(getattr(exc, "last_worker", None), "address", None) or "?"
            return failed_result(
                task,
                f"the Dask worker running it died: worker {worker} was lost while executing the "
                "notebook (killed, crashed or out of memory); see that worker's log",
                seconds,
            )
        except Exception as exc:  # noqa: BLE001 - CommClosedError, CancelledError, pickling, ...
            name = type(exc).__name__
            if "Cancelled" in name or isinstance(exc, OSError):
                error = (
                    f"the Dask worker running it died or the scheduler lost it ({name}: {exc}); "
                    "check the scheduler and worker logs, then render again"
                )
            else:
                error = f"the Dask task failed on its worker: {name}: {exc}"
            return failed_result(task, error, seconds)
        if not isinstance(result, TaskResult):
            return failed_result(
                task, f"the Dask worker returned {type(result).__name__}, not a TaskResult", seconds
            )
        return result


def _over_deadline(task: RenderTask, seconds: float) -> str:
    return (
        f"stopped waiting after {seconds:.0f} s, over the notebook's time limit "
        f"({task.deadline:.0f} s = per-cell timeout x cells + start-up); raise --timeout or make "
        "the notebook faster"
    )
