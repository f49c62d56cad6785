"""The output folder's lock: one render (or refresh, or bundle) writes into a folder at a time.

:class:`RenderLock` holds an OS lock (``flock``) on ``OUT/.tradeshock-render.lock`` for the whole
render. The OS releases it when the holder dies, so a lock file left by a crashed or killed run is
detected, reported (``cleared_stale``) and taken over, while a live one makes a second run stop with
who holds it (pid, host, start, command) and what to do. ``render --bundle`` takes the same lock
while it packs; ``tradeshock refresh`` takes its own lock file with this class.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tradeshock.errors import RenderError
from tradeshock.pipeline.outputs import LOCK_NAME, write_error_message

__all__ = ["RenderLock"]


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
            raise RenderError(write_error_message(self.out_dir, exc)) from None
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not on Linux/macOS
            return self._acquire_by_pid()
        for _ in range(20):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise RenderError(write_error_message(self.out_dir, exc)) from None
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
                raise RenderError(write_error_message(self.out_dir, exc)) from None
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
