"""The executor registry: which backend runs render tasks, chosen by name.

An executor (:class:`Executor`) is given picklable :class:`~tradeshock.pipeline.tasks.RenderTask`
objects and yields ``(task, result)`` pairs as notebooks finish; the orchestrator
(:mod:`tradeshock.pipeline.render`) alone commits files and writes the index. This module only maps
names to executor classes, as papermill keeps its engine registry (``engines.py``) apart from
execution: ``process`` (the default) and ``inline`` from
:mod:`~tradeshock.pipeline.process_executor`, ``dask`` from
:mod:`~tradeshock.pipeline.dask_executor` (``distributed`` is imported only when a Dask executor
is made). :func:`register_executor` adds a backend, :func:`make_executor` builds one by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from tradeshock.errors import ValidationError
from tradeshock.pipeline.dask_executor import DaskExecutor
from tradeshock.pipeline.process_executor import InlineExecutor, ProcessExecutor
from tradeshock.pipeline.tasks import RenderTask, TaskResult

__all__ = ["Executor", "make_executor", "register_executor"]


class Executor(Protocol):
    """Runs render tasks and yields ``(task, result)`` pairs as they finish, in any order.

    Implementations call :func:`~tradeshock.pipeline.tasks.execute_task` wherever they like (this
    process, a child process, a Dask worker with the project installed and the output folder
    mounted) and must yield a result for every task, turning a lost worker into a failed
    :class:`~tradeshock.pipeline.tasks.TaskResult`.
    """

    def run(self, tasks: Sequence[RenderTask]) -> Iterator[tuple[RenderTask, TaskResult]]: ...


#: Executor name -> class (or any callable taking ``jobs=`` and options) that builds one.
_EXECUTORS: dict[str, Callable[..., Executor]] = {
    "process": ProcessExecutor,
    "inline": InlineExecutor,
    "dask": DaskExecutor,
}


def register_executor(name: str, factory: Callable[..., Executor]) -> None:
    """Make ``make_executor(name, jobs=..., **options)`` build ``factory(jobs=..., **options)``."""
    _EXECUTORS[name] = factory


def make_executor(kind: str = "process", jobs: int | None = None, **options: Any) -> Executor:
    """An executor by name: ``process`` (default), ``inline``, ``dask`` (options: ``scheduler``
    address, ...; see :class:`~tradeshock.pipeline.dask_executor.DaskExecutor`) or one registered
    later."""
    try:
        factory = _EXECUTORS[kind]
    except KeyError:
        raise ValidationError(
            f"unknown executor {kind!r}; choose one of: {', '.join(sorted(_EXECUTORS))}"
        ) from None
    if jobs is not None:  # else the executor's own default (process: 1, dask: 2 local workers)
        options["jobs"] = jobs
    return factory(**options)
