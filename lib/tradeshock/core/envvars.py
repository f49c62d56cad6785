"""Temporary environment variables, restored on exit (renders set what their kernels inherit)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping


@contextlib.contextmanager
def temporary_environ(changes: Mapping[str, str | None]) -> Iterator[None]:
    """Set each variable of *changes* (``None``: unset it) for the duration of the block, then
    restore every one to what it was (set or unset), even when the block raises."""
    saved = {key: os.environ.get(key) for key in changes}
    try:
        for key, value in changes.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


__all__ = ["temporary_environ"]
