"""The local price cache: one parquet file per series under ``data/cache/`` (git-ignored).

Each entry is two files, ``<symbol>.parquet`` (the prices, long form) and ``<symbol>.json``
(what the entry covers, where it came from, and the sha256 of the parquet bytes). Writes are
all or nothing (:meth:`PriceCache.write_set`: every file staged in a folder inside the cache, then
renamed into place, the JSON after its parquet, so an interrupted switch shows up as a checksum
mismatch); one call replaces one series or several (``tradeshock data import``). On read the checksum and the schema are
checked; a corrupted or truncated entry is reported (a :class:`CacheCorruptionWarning`),
removed, and treated as absent, so the caller loads the series from the next source. It is never
used.

The folder is ``cache_dir`` when given, else ``$TRADESHOCK_CACHE``, else ``data/cache``.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tradeshock.core.fileio import sha256_bytes
from tradeshock.core.fileset import stage_files
from tradeshock.data.pindest import check_cache_dir
from tradeshock.errors import CacheCorruptionWarning
from tradeshock.paths import DATA_DIR, user_cache_dir
from tradeshock.core.timefmt import iso_date, to_date

#: Columns (and dtypes) of every price frame this package exchanges.
PRICE_COLUMNS = ("date", "open", "high", "low", "close", "adj_close", "volume")
FLOAT_COLUMNS = ("open", "high", "low", "close", "adj_close", "volume")
SCHEMA_VERSION = 1


def cache_dir(path: str | Path | None = None) -> Path:
    """The cache folder: *path*, else ``$TRADESHOCK_CACHE``, else the project's ``data/cache``
    (read now), else the user's cache folder outside a project."""
    if path is not None:
        return Path(path)
    env = os.environ.get("TRADESHOCK_CACHE")
    if env:
        return Path(env)
    return DATA_DIR / "cache" if DATA_DIR is not None else user_cache_dir()


def _stem(symbol: str) -> str:
    return quote(symbol, safe="")


def standardize(df: pd.DataFrame) -> pd.DataFrame:
    """A price frame with exactly :data:`PRICE_COLUMNS`: date as datetime64[ns], floats."""
    out = pd.DataFrame(index=range(len(df)))
    out["date"] = pd.to_datetime(df["date"].to_numpy()).astype("datetime64[ns]")
    for col in FLOAT_COLUMNS:
        out[col] = (
            pd.to_numeric(df[col], errors="raise").astype("float64").to_numpy()
            if col in df.columns else float("nan")
        )
    return out


def to_parquet_bytes(table: pa.Table, **options) -> bytes:
    """Deterministic parquet bytes: no pandas metadata, no timestamps, zstd."""
    table = table.replace_schema_metadata(None)
    buf = io.BytesIO()
    opts = {"compression": "zstd", "compression_level": 9, "write_statistics": True}
    opts.update(options)
    pq.write_table(table, buf, **opts)
    return buf.getvalue()


@dataclass(frozen=True)
class CacheEntry:
    """A cached series: its prices and what they cover."""

    symbol: str
    prices: pd.DataFrame  # PRICE_COLUMNS
    covered_start: pd.Timestamp | None  # None: all the history the origin had
    covered_end: pd.Timestamp | None
    origin: str  # where the data came from: yahoo, fred, snapshot
    detail: dict

    def covers(self, start: pd.Timestamp | None, end: pd.Timestamp | None) -> bool:
        """Whether this entry reaches back to *start* (``None``: whatever the entry has).

        The end is not checked: like every source, the cache serves what it has up to its
        as-of date, and the result's ``attrs["as_of"]`` says how far that is.
        """
        return start is None or self.covered_start is None or start >= self.covered_start


class PriceCache:
    """The cache folder. ``read`` never returns a corrupted entry; ``write`` is atomic."""

    def __init__(self, path: str | Path | None = None):
        self.path = cache_dir(path)

    def _files(self, symbol: str) -> tuple[Path, Path]:
        stem = _stem(symbol)
        return self.path / f"{stem}.parquet", self.path / f"{stem}.json"

    def symbols(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(unquote(p.stem) for p in self.path.glob("*.json"))

    def has(self, symbol: str) -> bool:
        return all(p.exists() for p in self._files(symbol))

    def remove(self, symbol: str) -> None:
        for p in self._files(symbol):
            try:
                p.unlink()
            except FileNotFoundError:
                pass

    def _encode(self, symbol: str, prices: pd.DataFrame, origin: str, covered_start,
                covered_end, detail: dict) -> tuple[bytes, bytes]:
        """The parquet bytes and the JSON index bytes of one entry."""
        df = standardize(prices).sort_values("date", kind="stable").reset_index(drop=True)
        table = pa.Table.from_pandas(df, preserve_index=False)
        data = to_parquet_bytes(table, compression_level=3)
        meta = {
            "schema": SCHEMA_VERSION,
            "symbol": symbol,
            "origin": origin,
            "covered_start": iso_date(covered_start),
            "covered_end": iso_date(covered_end),
            "rows": len(df),
            "first": iso_date(df["date"].min()) if len(df) else None,
            "last": iso_date(df["date"].max()) if len(df) else None,
            "sha256": sha256_bytes(data),
            **detail,
        }
        return data, (json.dumps(meta, indent=2, default=str) + "\n").encode()

    def write(
        self,
        symbol: str,
        prices: pd.DataFrame,
        *,
        origin: str,
        covered_start=None,
        covered_end=None,
        **detail,
    ) -> Path:
        """Replace the entry of *symbol* (never merged: adjusted prices of different vintages
        must not be spliced). Both files are staged first (:meth:`write_set`), so a full disk
        leaves the previous entry whole."""
        self.write_set([{"symbol": symbol, "prices": prices, "origin": origin,
                         "covered_start": covered_start, "covered_end": covered_end, **detail}])
        return self._files(symbol)[0]

    def write_set(self, items: Iterable[Mapping[str, Any]]) -> list[str]:
        """Replace the entries of several series, all or nothing; the symbols written.

        Each item is a mapping with the arguments of :meth:`write` (``symbol``, ``prices``,
        ``origin``, optional ``covered_start``, ``covered_end`` and further detail keys). Every
        file is first written into a staging folder inside the cache (where a full disk fails
        before any entry changed), then moved into place; the entries replaced are kept aside
        until all are in, and put back if a move fails. So the cache ends with every new entry
        or with exactly what it had: a half-done import is never served ahead of the pinned
        snapshot. Raises the :class:`OSError` of the failure (the cache unchanged), and
        :class:`~tradeshock.errors.DataWriteError` for a cache folder among the project's
        sources (:func:`~tradeshock.data.pindest.check_cache_dir`).
        """
        files: dict[str, bytes] = {}
        symbols: list[str] = []
        for item in items:
            item = dict(item)
            sym = str(item.pop("symbol"))
            prices = item.pop("prices")
            origin = str(item.pop("origin"))
            data, index = self._encode(sym, prices, origin, item.pop("covered_start", None),
                                       item.pop("covered_end", None), item)
            pfile, mfile = self._files(sym)
            files[pfile.name], files[mfile.name] = data, index
            symbols.append(sym)
        if not symbols:
            return []
        check_cache_dir(self.path)  # never among the project's sources or its pinned snapshot
        self.path.mkdir(parents=True, exist_ok=True)
        _clean_stale_staging(self.path)
        stage = Path(tempfile.mkdtemp(prefix=_STAGE, dir=self.path))
        try:
            stage_files(stage, files)
            self._commit(stage, list(files))
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        return symbols

    def _commit(self, stage: Path, names: list[str]) -> None:
        """Move the staged files *names* into the cache (:func:`os.replace`, so a reader sees
        the old file or the new one); the old ones are kept aside first (a hard link, else a
        copy) and put back if a move fails."""
        aside = stage / _ASIDE
        aside.mkdir()
        kept: list[str] = []
        moved_in: list[str] = []
        try:
            for name in names:
                if (self.path / name).exists():
                    try:
                        os.link(self.path / name, aside / name)
                    except OSError:
                        shutil.copy2(self.path / name, aside / name)
                    kept.append(name)
                os.replace(stage / name, self.path / name)
                moved_in.append(name)
        except BaseException:
            for name in moved_in:
                if name in kept:
                    os.replace(aside / name, self.path / name)
                else:
                    try:
                        (self.path / name).unlink()
                    except OSError:
                        pass
            raise

    def read(self, symbol: str) -> CacheEntry | None:
        """The entry of *symbol*, or None when absent or corrupted (then reported and removed)."""
        pfile, mfile = self._files(symbol)
        if not pfile.exists() and not mfile.exists():
            return None
        try:
            return self._read_checked(symbol, pfile, mfile)
        except _Corrupt as exc:
            try:
                self.remove(symbol)
                done = "it was removed"
            except OSError as err:  # a read-only cache: ignore the entry, say it is still there
                done = (f"it could not be removed ({err.strerror or err}; delete {pfile.name} "
                        f"and {mfile.name} by hand) and is ignored")
            warnings.warn(
                f"cache entry for {symbol} in {self.path} is corrupted ({exc}); {done} "
                "and the series is loaded from the next source",
                CacheCorruptionWarning,
                stacklevel=3,
            )
            return None

    def _read_checked(self, symbol: str, pfile: Path, mfile: Path) -> CacheEntry:
        if not pfile.exists() or not mfile.exists():
            raise _Corrupt(f"{'data' if not pfile.exists() else 'index'} file missing")
        try:
            meta = json.loads(mfile.read_text())
        except (OSError, ValueError) as exc:
            raise _Corrupt(f"{mfile.name} unreadable: {exc}") from None
        if not isinstance(meta, dict) or meta.get("schema") != SCHEMA_VERSION:
            raise _Corrupt(f"{mfile.name}: unknown schema")
        if meta.get("symbol") != symbol:
            raise _Corrupt(f"{mfile.name} is for {meta.get('symbol')!r}")
        data = pfile.read_bytes()
        if sha256_bytes(data) != meta.get("sha256"):
            raise _Corrupt(f"{pfile.name}: sha256 mismatch (truncated or modified)")
        try:
            table = pq.read_table(io.BytesIO(data))
        except Exception as exc:  # noqa: BLE001
            raise _Corrupt(f"{pfile.name}: not a parquet file ({exc})") from None
        names = tuple(table.column_names)
        if names != PRICE_COLUMNS:
            raise _Corrupt(f"{pfile.name}: columns {names} != {PRICE_COLUMNS}")
        if not pa.types.is_timestamp(table.schema.field("date").type) or not all(
            pa.types.is_floating(table.schema.field(c).type) for c in FLOAT_COLUMNS
        ):
            raise _Corrupt(f"{pfile.name}: unexpected column types {table.schema}")
        if table.num_rows != meta.get("rows"):
            raise _Corrupt(f"{pfile.name}: {table.num_rows} rows, index says {meta.get('rows')}")
        df = table.to_pandas()
        df["date"] = df["date"].astype("datetime64[ns]")
        return CacheEntry(
            symbol=symbol,
            prices=df,
            covered_start=to_date(meta.get("covered_start")),
            covered_end=to_date(meta.get("covered_end")),
            origin=str(meta.get("origin", "")),
            detail=meta,
        )

    def info(self, symbol: str) -> dict | None:
        """The JSON index of an entry without checking it (for status displays)."""
        _, mfile = self._files(symbol)
        try:
            return json.loads(mfile.read_text())
        except (OSError, ValueError):
            return None


class _Corrupt(Exception):
    pass


#: Staging folders of :meth:`PriceCache.write_set` (inside the cache; never read as entries).
_STAGE = ".staging-"
_ASIDE = "replaced"


def _clean_stale_staging(folder: Path, older_than: float = 3600.0) -> None:
    """Remove staging folders of :meth:`PriceCache.write_set` left by a crash (older than an
    hour, so a concurrent import is never disturbed)."""
    now = time.time()
    for p in folder.glob(f"{_STAGE}*"):
        try:
            if p.is_dir() and now - p.stat().st_mtime > older_than and not (p / _ASIDE).exists():
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass


__all__ = [
    "PRICE_COLUMNS", "CacheCorruptionWarning", "CacheEntry", "PriceCache", "cache_dir",
    "standardize", "to_parquet_bytes",
]
