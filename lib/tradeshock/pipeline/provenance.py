"""Provenance that notebooks call: what data a report used, and whether it is being rendered.

A notebook states the data it used with :func:`record` (e.g. ``record(as_of=prices.index.max(),
source="pinned snapshot")``). That displays one line of provenance text and, in the same output, a
JSON payload under the MIME type :data:`RECORD_MIME`, which papermill saves in the executed notebook
like any output; the renderer reads it back with :func:`read_record` (last call wins per key) into
the index, the manifest and the executed notebook's ``metadata["tradeshock"]``. Nothing else is
needed: no files, no environment contract. Inside a render, :func:`is_rendering` is true (e.g. to
skip an interactive widget panel). Imports nothing of tradeshock, so the notebook's
``from tradeshock.pipeline.provenance import record`` is cheap.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tradeshock.errors import ValidationError

__all__ = ["ENV_RENDERING", "ENV_ATTACHMENTS", "RECORD_MIME", "attach", "attachments_dir",
           "is_rendering", "read_record", "record"]

#: MIME type of the provenance payload written by :func:`record`.
RECORD_MIME = "application/vnd.tradeshock.record+json"
#: Set to "1" in the kernel's environment during a render.
ENV_RENDERING = "TRADESHOCK_RENDERING"
#: Folder where a notebook writes its attachments (CSV files the report links); set by the
#: renderer for each task, default ``./attachments`` (JupyterLab).
ENV_ATTACHMENTS = "TRADESHOCK_ATTACHMENTS"
#: URL prefix of attachments as seen from the report's HTML (set by the renderer).
ENV_ATTACHMENTS_URL = "TRADESHOCK_ATTACHMENTS_URL"
_ATTACHMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}\.(csv|json|txt|parquet)$")


def is_rendering() -> bool:
    """True inside a kernel started by ``tradeshock render`` (False in JupyterLab)."""
    return os.environ.get(ENV_RENDERING) == "1"


def record(as_of: Any = None, source: str | None = None, **extra: Any) -> None:
    """State the data a notebook used; the render index and manifest show it.

    ``as_of`` is the last date of data used (a date, ``pandas.Timestamp`` or ISO string),
    ``source`` where it came from (e.g. ``"pinned snapshot"``, ``"yfinance"``); further keyword
    values (JSON-able) are stored too. Displays one line of provenance text in the notebook
    ("Data — source: ...; data as of ...") and returns nothing, so it can end a cell. Call it any
    number of times; later values replace earlier ones. Outside IPython it does nothing.
    """
    payload: dict[str, Any] = {}
    if as_of is not None:
        payload["as_of"] = _as_of_text(as_of)
    if source is not None:
        payload["source"] = str(source)
    for key, value in extra.items():
        payload[key] = _jsonable(value)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python: nothing to display
        return None
    if get_ipython() is None:
        return None
    bits = []
    if "source" in payload:
        bits.append(f"source: {payload['source'].rstrip('. ')}")  # no stray ".;"
    if "as_of" in payload:  # the honest detail when series end on different dates
        bits.append(f"data as of {payload.get('as_of_detail') or payload['as_of']}")
    if not bits:  # only extra values: show their names, not their (maybe long) values
        bits.append("recorded " + ", ".join(payload))
    display({RECORD_MIME: payload, "text/plain": "Data — " + "; ".join(bits)}, raw=True)
    return None


def _as_of_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "date") and callable(value.date):  # pandas.Timestamp, numpy datetime64 via pd
        with contextlib.suppress(Exception):
            return value.date().isoformat()
    text = str(value)
    with contextlib.suppress(ValueError):
        return dt.date.fromisoformat(text[:10]).isoformat() if len(text) >= 10 else text
    return text


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def read_record(nb: Any) -> dict[str, Any]:
    """The provenance payloads a notebook's outputs carry (see :func:`record`), merged in order."""
    merged: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data") or {}
            payload = data.get(RECORD_MIME)
            if isinstance(payload, str):
                with contextlib.suppress(ValueError):
                    payload = json.loads(payload)
            if isinstance(payload, dict):
                merged.update(payload)
    return merged


def attachments_dir() -> Path:
    """Where :func:`attach` writes: ``$TRADESHOCK_ATTACHMENTS`` during a render, else
    ``./attachments`` (beside the notebook in JupyterLab)."""
    return Path(os.environ.get(ENV_ATTACHMENTS) or "attachments")


def attach(name: str, data: bytes | str, description: str) -> Path:
    """Write a file the report links and the bundle carries (e.g. a tidy CSV of results).

    ``name`` is a plain file name (letters, digits, ``_.-``; ``.csv``, ``.json``, ``.txt`` or
    ``.parquet``), ``data`` its content, ``description`` one line shown with the link. The file
    is written atomically into :func:`attachments_dir`; a render moves it beside the report with
    the HTML and notebook, as one set. Displays a link and records the attachment (the index
    lists it). Returns the path written.
    """
    if not isinstance(name, str) or not _ATTACHMENT_NAME.match(name):
        raise ValidationError(f"attachment name {name!r} is not a plain file name ending in .csv, "
                         ".json, .txt or .parquet; use e.g. 'event_market_table.csv'")
    from tradeshock.core.fileio import atomic_write_bytes

    path = attachments_dir() / name
    atomic_write_bytes(path, data.encode("utf-8") if isinstance(data, str) else data)
    url = os.environ.get(ENV_ATTACHMENTS_URL, f"{attachments_dir().as_posix()}/") + name
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return path
    if get_ipython() is not None:
        display({RECORD_MIME: {f"attachment:{name}": description},
                 "text/markdown": f"Download: [{name}]({url}) ({description}, "
                                  f"{path.stat().st_size:,} bytes)",
                 "text/plain": f"Attachment {name}: {description}"}, raw=True)
    return path
