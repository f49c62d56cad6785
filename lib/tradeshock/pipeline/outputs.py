"""The shape of a render output folder, shared by the renderer, the index, the lock and the bundle.

Report statuses (:data:`OK`, :data:`FAILED`, :data:`UP_TO_DATE`), the fixed names in the output
folder (the index page, the manifest, the render's lock file and its hidden staging folder) and the
one message for a folder that cannot be written. No logic and no tradeshock imports, so every
pipeline module can use it without an import cycle.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "FAILED",
    "INDEX_NAME",
    "LOCK_NAME",
    "MANIFEST_NAME",
    "MARKER_NAME",
    "attachments_dir_name",
    "OK",
    "TMP_DIR_NAME",
    "UP_TO_DATE",
    "write_error_message",
]

#: Report statuses: executed now, failed, or not executed because its inputs did not change.
OK, FAILED, UP_TO_DATE = "ok", "failed", "up to date"
#: The index page (people) and the manifest (machines) of an output folder.
INDEX_NAME = "index.html"
MANIFEST_NAME = "manifest.json"
#: The render's lock file and the hidden staging folder it writes into before committing.
LOCK_NAME = ".tradeshock-render.lock"
TMP_DIR_NAME = ".tradeshock-tmp"
#: The small file that marks a folder as one tradeshock made for reports (``--out``).
MARKER_NAME = ".tradeshock-reports"
#: Hidden names starting with this belong to tradeshock (locks, staging, state, marker).
HIDDEN_PREFIX = ".tradeshock-"


def attachments_dir_name(name: str) -> str:
    """The folder beside ``NAME.html`` holding the report's attachments: ``NAME_files``."""
    return f"{name}_files"


def write_error_message(where: Path, exc: OSError, touched: str | None = None) -> str:
    """What to say when ``where`` cannot be written: the folder, the reason and the fix.

    ``touched`` says what *was* changed when something was (default: existing reports were not
    touched), so the message is true in every branch.
    """
    reason = exc.strerror or str(exc)
    state = touched or "existing reports were not touched"
    return (
        f"cannot write to {where}: {reason}. Make it writable (or free disk space), or render "
        f"into another folder with --out; {state}."
    )
