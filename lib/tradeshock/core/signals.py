"""SIGTERM handled like Ctrl-C: what ``kill``, ``timeout`` and schedulers send.

Python's default for SIGTERM is to die at once, without running ``finally`` blocks: worker
processes and Jupyter kernels keep running and the output folder's lock stays held. Inside
:func:`terminate_as_interrupt`, SIGTERM raises :class:`~tradeshock.errors.Terminated` (a
:class:`KeyboardInterrupt`) in the main thread instead, so the same clean-up as for Ctrl-C runs;
the command then exits with :data:`EXIT_TERMINATED` (128 + 15) and one line saying what happened.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

from tradeshock.errors import Terminated

__all__ = ["EXIT_TERMINATED", "exit_status", "stop_reason", "terminate_as_interrupt"]

#: The exit status of a command stopped by SIGTERM (the shell's convention, 128 + 15).
EXIT_TERMINATED = 128 + signal.SIGTERM


def _raise_terminated(signum: int, _frame: Any) -> None:
    # Once: a second SIGTERM while workers are being stopped must not cut the clean-up short
    # (SIGKILL still ends the process at once).
    signal.signal(signum, signal.SIG_IGN)
    exc = Terminated(f"stopped by signal {signal.Signals(signum).name}")
    exc.signum = signum
    raise exc


def stop_reason(exc: BaseException) -> str:
    """``"SIGTERM"``, ``"SIGHUP"`` (a :class:`Terminated` from :func:`terminate_as_interrupt`)
    or ``"Ctrl-C"`` (a plain :class:`KeyboardInterrupt`)."""
    if isinstance(exc, Terminated):
        return signal.Signals(getattr(exc, "signum", signal.SIGTERM)).name
    return "Ctrl-C"


def exit_status(exc: BaseException) -> int:
    """The shell's exit status for a stop: 128 + the signal (143 SIGTERM, 129 SIGHUP, 130
    Ctrl-C)."""
    if isinstance(exc, Terminated):
        return 128 + int(getattr(exc, "signum", signal.SIGTERM))
    return 128 + signal.SIGINT


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM (and SIGHUP) raise :class:`~tradeshock.errors.Terminated` in the
    main thread, once (a repeated signal is ignored while the clean-up runs); the previous
    handlers are restored on exit. Outside the main thread it does
    nothing (Python only delivers signals there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {s: signal.signal(s, _raise_terminated) for s in wanted}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
