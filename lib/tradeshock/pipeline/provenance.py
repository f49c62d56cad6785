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
from collections.abc import Mapping
from typing import Any

__all__ = ["ENV_RENDERING", "RECORD_MIME", "is_rendering", "read_record", "record"]

#: MIME type of the provenance payload written by :func:`record`.
RECORD_MIME = "application/vnd.tradeshock.record+json"
#: Set to "1" in the kernel's environment during a render.
ENV_RENDERING = "TRADESHOCK_RENDERING"


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
        bits.append(f"source: {payload['source']}")
    if "as_of" in payload:
        bits.append(f"data as of {payload['as_of']}")
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
