"""Exceptions with user-facing messages: what is wrong, where, and how to fix it."""

from __future__ import annotations


class TradeshockError(Exception):
    """Base class: every message says what is wrong, where, and how to fix it."""


class DataError(TradeshockError):
    """Market data missing, malformed or inconsistent."""


class DataUnavailableError(DataError):
    """No source could serve the requested series and dates."""


class NetworkError(DataUnavailableError):
    """An online source could not be reached: DNS lookup, connection or timeout failed."""


class DataWriteError(DataError):
    """Market data (the pinned snapshot, the cache) could not be written: disk full, read-only
    or no permission. The message says what was kept (the previous data are never half-replaced).
    """


class ValidationError(TradeshockError):
    """Input (a file, a parameter, a calendar) fails its schema or a rule."""


class StudyError(TradeshockError):
    """An event study cannot be run as specified (windows, models, inputs)."""


class WindowError(ValidationError, StudyError):
    """A window (estimation, event, CAR or a notebook parameter) cannot be read or is misordered.

    Both a :class:`ValidationError` (bad input) and a :class:`StudyError` (the study cannot run),
    so callers of the events layer, the notebook checks and the engine catch it as before.
    """


class RenderError(TradeshockError):
    """A notebook could not be executed or exported."""


class PartialDataWarning(UserWarning):
    """An online source returned fewer sessions than the exchange calendar has in the range."""


class InferenceError(StudyError, ValueError):
    """The test battery cannot run on the given input (shapes, test names, windows, methods)."""


class EventDummyCovarianceWarning(UserWarning):
    """A robust (HAC or heteroskedasticity) covariance was used for event-day dummies."""


class UnknownSymbolError(ValidationError, KeyError):
    """A symbol is not in the universe; the message lists close matches."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class CacheCorruptionWarning(UserWarning):
    """A cache entry failed its checksum or schema check and was removed."""


class SnapshotFormatError(DataError):
    """A snapshot file is malformed (message names file and line)."""


class PinnedSnapshotError(DataError):
    """The pinned snapshot is missing, modified or truncated."""


class FileSetError(TradeshockError):
    """Files that belong together could not all be moved into place, nor all be put back.

    ``replaced`` lists the destinations that now hold the new version.
    """

    def __init__(self, message: str, replaced: list | None = None):
        super().__init__(message)
        self.replaced = list(replaced or [])

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class OutputFolderError(ValidationError):
    """An output folder (``--out``, ``--bundle-to``) is not one tradeshock may write into."""


class Terminated(KeyboardInterrupt):
    """The process was asked to stop (SIGTERM: ``kill``, ``timeout``, a scheduler); handled like
    Ctrl-C, so workers and kernels are stopped and the lock is released."""


class CacheWriteWarning(UserWarning):
    """A download could not be kept in the price cache (disk full, read-only): the data were
    used but not stored; ``tradeshock data fetch`` turns it into an error."""
