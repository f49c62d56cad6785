"""Offline snapshots: snapshot folders (CSV) and the pinned replication snapshot (parquet).

**Snapshot folder** (the format of ``../shared/data/market``): ``universe.csv`` (symbol, file,
name, asset_class, …), one CSV per series with the header ``date,open,high,low,close,adj_close,
volume`` (blank = not available), ``PROVENANCE.md``, and ``firms/`` with ``SP500_DAILY.csv``
(``date,symbol,close,adj_close,volume``), ``SP500_IEX_CLOSES.csv`` (``date,symbol,close,volume``)
and ``sp500_constituents.csv``. Long files (a ``symbol`` column) are read as well as one-series
files. Parsing is strict: a bad date, text in a price column, a duplicate date or a row without
any price raises :class:`SnapshotFormatError` naming the file and line.

**Pinned snapshot** (``data/snapshot/``, committed): built by :func:`pin` (``tradeshock data
pin``) from a snapshot folder: ``series.parquet`` (long form, every universe series from
``since`` on), ``firms_daily.parquet`` and ``firms_iex.parquet`` (the two firm files),
``constituents.parquet``, ``manifest.json`` (per series metadata and provenance, a sha256 per
file, the as-of date) and ``SOURCES.md``. Every file is checked against its manifest sha256 the
first time a process uses it; a modified or truncated file raises
:class:`PinnedSnapshotError` saying how to restore it. Parquet is written deterministically, so
re-pinning the same input gives byte-identical files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tradeshock.core.fileio import atomic_write_bytes, sha256_bytes, sha256_file
from tradeshock.data.cache import FLOAT_COLUMNS, PRICE_COLUMNS, to_parquet_bytes
from tradeshock.paths import DATA_DIR, PROJECT_ROOT
from tradeshock.errors import DataError, PinnedSnapshotError, SnapshotFormatError
from tradeshock.core.timefmt import iso_date

#: The pinned snapshot committed with the repository.
PINNED_DIR = DATA_DIR / "snapshot" if DATA_DIR is not None else None
DEFAULT_SINCE = "2023-10-01"
MANIFEST_FORMAT = "tradeshock-pinned-snapshot/1"
#: The pinned snapshot must stay small enough to commit (issue 11: budget 8 MiB).
SIZE_BUDGET = 8 * 2**20

FIRMS_DAILY = "firms/SP500_DAILY.csv"
FIRMS_IEX = "firms/SP500_IEX_CLOSES.csv"
CONSTITUENTS = "firms/sp500_constituents.csv"
#: Column of the constituents file flagging membership on the eve of Liberation Day.
MEMBER_FLAG = "in_sp500_2025-04-01"

SERIES_FILE = "series.parquet"
FIRMS_DAILY_FILE = "firms_daily.parquet"
FIRMS_IEX_FILE = "firms_iex.parquet"
CONSTITUENTS_FILE = "constituents.parquet"
MANIFEST = "manifest.json"
SOURCES = "SOURCES.md"

#: The event days SOURCES.md reports market closures for (Liberation Day .. day after pause).
EVENT_DAYS = ("2025-04-02", "2025-04-10")
#: Home markets whose closures on event days SOURCES.md lists: calendar -> market name.
HOME_MARKETS = {
    "XNYS": "United States (NYSE)", "XLON": "United Kingdom", "XETR": "Germany (Xetra)",
    "XPAR": "France", "XMIL": "Italy", "XMAD": "Spain", "XAMS": "Netherlands",
    "XSWX": "Switzerland", "XSTO": "Sweden", "XTKS": "Japan", "XHKG": "Hong Kong",
    "XSHG": "mainland China (Shanghai)", "XKRX": "South Korea", "XTAI": "Taiwan",
    "XBOM": "India (BSE)", "XASX": "Australia", "XSES": "Singapore", "XKLS": "Malaysia",
    "XBKK": "Thailand", "XIDX": "Indonesia", "XPHS": "Philippines", "XTSE": "Canada",
    "XMEX": "Mexico", "BVMF": "Brazil", "XJSE": "South Africa", "XIST": "Turkey",
}


RESTORE_HINT = (
    "Restore it with `git checkout data/snapshot` (or rebuild it from a snapshot folder with "
    "`tradeshock data pin SNAPSHOT_DIR`)."
)


# --------------------------------------------------------------------------- snapshot folders


def resolve_snapshot_dir(snapshot: str | Path | None = None) -> Path | None:
    """The snapshot folder to use: *snapshot*, else ``$TRADESHOCK_SNAPSHOT`` (read now), else None.

    A folder that is named but does not exist is an error, never silently skipped.
    """
    if snapshot is None:
        env = os.environ.get("TRADESHOCK_SNAPSHOT", "").strip()
        if not env:
            return None
        snapshot, where = env, "TRADESHOCK_SNAPSHOT"
    else:
        where = "--snapshot"
    p = Path(snapshot).expanduser()
    if not p.is_dir():
        raise DataError(
            f"{where}={snapshot} is not a folder. Point it at an offline snapshot folder "
            "(one with universe.csv and one CSV per series), or unset it to use the pinned "
            "snapshot in data/snapshot."
        )
    return p


_MEMO: dict[tuple, pd.DataFrame] = {}


def _memo(path: Path, *extra):
    st = path.stat()
    return (str(path.resolve()), st.st_mtime_ns, st.st_size, *extra)


def _remember(key, df: pd.DataFrame) -> pd.DataFrame:
    if len(_MEMO) > 512:
        _MEMO.clear()
    _MEMO[key] = df
    return df


def read_price_csv(path: str | Path, symbol: str | None = None) -> pd.DataFrame:
    """Read one snapshot CSV strictly; returns :data:`PRICE_COLUMNS` (+ ``symbol`` if long form).

    A long file (with a ``symbol`` column) is filtered to *symbol* when given. Missing price
    columns are NaN. Raises :class:`SnapshotFormatError` naming the file and the line(s) of a
    bad date, text in a numeric column, a duplicate date or a row without any price.
    """
    path = Path(path)
    key = _memo(path, "csv", symbol)
    if key in _MEMO:
        return _MEMO[key].copy()
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except FileNotFoundError:
        raise SnapshotFormatError(f"{path}: file not found") from None
    except Exception as exc:  # noqa: BLE001 - pandas parser errors carry the line
        raise SnapshotFormatError(f"malformed snapshot file {path}: {exc}") from None
    raw.columns = [c.strip() for c in raw.columns]
    if "date" not in raw.columns or not ({"close", "adj_close"} & set(raw.columns)):
        raise SnapshotFormatError(
            f"malformed snapshot file {path}, line 1: header {list(raw.columns)} needs 'date' "
            "and 'close' or 'adj_close' (format: date,open,high,low,close,adj_close,volume, or "
            "long form date,symbol,close,...)"
        )
    long = "symbol" in raw.columns
    lines = np.arange(len(raw)) + 2  # header is line 1
    problems: list[tuple[int, str]] = []

    dates_txt = raw["date"].str.strip()
    dates = pd.to_datetime(dates_txt, format="%Y-%m-%d", errors="coerce")
    for i in np.flatnonzero(dates.isna().to_numpy()):
        what = "empty line" if not "".join(raw.iloc[i].tolist()) else (
            f"bad date {dates_txt.iloc[i]!r} (expected YYYY-MM-DD)"
        )
        problems.append((lines[i], what))

    out = pd.DataFrame({"date": dates.astype("datetime64[ns]")})
    if long:
        out["symbol"] = raw["symbol"].str.strip()
    any_price = np.zeros(len(raw), dtype=bool)
    for col in FLOAT_COLUMNS:
        if col not in raw.columns:
            out[col] = np.nan
            continue
        txt = raw[col].str.strip()
        num = pd.to_numeric(txt.where(txt != "", None), errors="coerce").astype("float64")
        bad = (txt != "") & (num.isna() | ~np.isfinite(num.fillna(0.0)))
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append((lines[i], f"column {col}: {txt.iloc[i]!r} is not a number"))
        out[col] = num
        if col in ("close", "adj_close"):
            any_price |= num.notna().to_numpy()
    valid_date = dates.notna().to_numpy()
    for i in np.flatnonzero(valid_date & ~any_price):
        if not any(line == lines[i] for line, _ in problems[-3:]):
            problems.append((lines[i], "no close and no adj_close"))

    keys = ["symbol", "date"] if long else ["date"]
    dup = out.duplicated(keys, keep=False).to_numpy() & valid_date
    if dup.any():
        first_line: dict = {}
        for i in np.flatnonzero(dup):
            k = tuple(out.loc[i, keys])
            if k in first_line:
                label = out.loc[i, "date"].strftime("%Y-%m-%d")
                if long:
                    label = f"{out.loc[i, 'symbol']} {label}"
                problems.append(
                    (lines[i], f"duplicate date {label} (first on line {first_line[k]})"))
            else:
                first_line[k] = lines[i]
    if problems:
        problems.sort()
        shown = "\n".join(f"  line {ln}: {msg}" for ln, msg in problems[:10])
        more = f"\n  … and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise SnapshotFormatError(
            f"malformed snapshot file {path} ({len(problems)} problem(s)):\n{shown}{more}\n"
            "Fix the file (or take a fresh copy of the snapshot folder)."
        )
    if long and symbol is not None:
        out = out[out["symbol"] == symbol]
    cols = (["symbol"] if long and symbol is None else []) + list(PRICE_COLUMNS)
    out = out.sort_values(keys if symbol is None else ["date"], kind="stable")
    out = out[cols].reset_index(drop=True)
    return _remember(key, out).copy()


class SnapshotFolder:
    """An offline snapshot folder in the format of ``../shared/data/market``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        uni = self.path / "universe.csv"
        if not uni.is_file():
            raise DataError(
                f"{self.path} is not a snapshot folder: it has no universe.csv (expected "
                "universe.csv plus one date,open,high,low,close,adj_close,volume CSV per series)"
            )
        try:
            self.universe = pd.read_csv(uni, dtype=str, keep_default_na=False)
        except Exception as exc:  # noqa: BLE001
            raise SnapshotFormatError(f"malformed snapshot file {uni}: {exc}") from None
        if "symbol" not in self.universe.columns:
            raise SnapshotFormatError(f"malformed snapshot file {uni}, line 1: no 'symbol' column")
        self.universe["symbol"] = self.universe["symbol"].str.strip()

    def __repr__(self) -> str:
        return f"SnapshotFolder({str(self.path)!r})"

    @property
    def symbols(self) -> list[str]:
        return list(self.universe["symbol"])

    def has(self, symbol: str) -> bool:
        return symbol in set(self.universe["symbol"]) and self.file_for(symbol).is_file()

    def row(self, symbol: str) -> dict:
        hit = self.universe[self.universe["symbol"] == symbol]
        return hit.iloc[0].to_dict() if len(hit) else {}

    def file_for(self, symbol: str) -> Path:
        name = self.row(symbol).get("file", "") or _default_file(symbol)
        return self.path / name

    def read_series(self, symbol: str) -> pd.DataFrame:
        """The series' prices (:data:`PRICE_COLUMNS`), parsed by :func:`read_price_csv`."""
        if symbol not in set(self.universe["symbol"]):
            raise DataError(f"{symbol} is not listed in {self.path / 'universe.csv'}")
        f = self.file_for(symbol)
        if not f.is_file():
            raise DataError(f"{self.path / 'universe.csv'} lists {symbol} but {f} does not exist")
        return read_price_csv(f, symbol=symbol)

    def has_firms(self) -> bool:
        return (self.path / FIRMS_DAILY).is_file() or (self.path / FIRMS_IEX).is_file()

    def firms_daily(self) -> pd.DataFrame | None:
        f = self.path / FIRMS_DAILY
        return _firm_frame(read_price_csv(f), daily=True) if f.is_file() else None

    def firms_iex(self) -> pd.DataFrame | None:
        f = self.path / FIRMS_IEX
        return _firm_frame(read_price_csv(f), daily=False) if f.is_file() else None

    def constituents(self) -> pd.DataFrame | None:
        f = self.path / CONSTITUENTS
        if not f.is_file():
            return None
        try:
            return pd.read_csv(f, dtype=str, keep_default_na=False)
        except Exception as exc:  # noqa: BLE001
            raise SnapshotFormatError(f"malformed snapshot file {f}: {exc}") from None

    def provenance(self) -> str:
        f = self.path / "PROVENANCE.md"
        return f.read_text(encoding="utf-8") if f.is_file() else ""


def _default_file(symbol: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "_", symbol).strip("_") + ".csv"


FIRM_COLUMNS = ("symbol", "date", "close", "adj_close", "volume")


def _firm_frame(df: pd.DataFrame, daily: bool) -> pd.DataFrame:
    cols = list(FIRM_COLUMNS) if daily else ["symbol", "date", "close", "volume"]
    return df[cols].sort_values(["symbol", "date"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- pinned snapshot


def pinned_dir(path: str | Path | None = None) -> Path:
    """The pinned snapshot folder: *path*, else ``$TRADESHOCK_PINNED_DIR``, else data/snapshot."""
    if path is not None:
        return Path(path)
    env = os.environ.get("TRADESHOCK_PINNED_DIR", "").strip()
    if env:
        return Path(env)
    if PINNED_DIR is None:
        raise PinnedSnapshotError(
            "the pinned snapshot was not found: tradeshock is installed outside its project "
            f"checkout and the current folder ({Path.cwd()}) is not in one. Fix: run from the "
            "project folder (the one with notebooks/ and data/snapshot/), set TRADESHOCK_PROJECT "
            "to it, or set TRADESHOCK_PINNED_DIR to a pinned snapshot folder."
        )
    return PINNED_DIR


_VERIFIED: dict[str, tuple[int, int]] = {}


class PinnedSnapshot:
    """Read access to the pinned snapshot, with integrity checks against ``manifest.json``."""

    def __init__(self, path: str | Path | None = None):
        self.path = pinned_dir(path)
        self._manifest: dict | None = None

    def __repr__(self) -> str:
        return f"PinnedSnapshot({str(self.path)!r})"

    def _label(self, name: str) -> str:
        p = self.path / name
        try:
            return str(p.resolve().relative_to(PROJECT_ROOT or Path.cwd()))
        except ValueError:
            return str(p)

    def exists(self) -> bool:
        return (self.path / MANIFEST).is_file()

    @property
    def manifest(self) -> dict:
        if self._manifest is None:
            f = self.path / MANIFEST
            if not f.is_file():
                raise PinnedSnapshotError(
                    f"the pinned snapshot has no {self._label(MANIFEST)}. {RESTORE_HINT}"
                )
            try:
                m = json.loads(f.read_text(encoding="utf-8"))
                if m.get("format") != MANIFEST_FORMAT:
                    raise ValueError(f"format {m.get('format')!r}, expected {MANIFEST_FORMAT!r}")
                m["files"], m["series"]  # noqa: B018 - presence check
            except (ValueError, KeyError, AttributeError) as exc:
                raise PinnedSnapshotError(
                    f"{self._label(MANIFEST)} is damaged ({exc}). {RESTORE_HINT}"
                ) from None
            self._manifest = m
        return self._manifest

    @property
    def as_of(self) -> pd.Timestamp:
        return pd.Timestamp(self.manifest["as_of"])

    def verify(self, name: str | None = None, force: bool = False) -> None:
        """Check file *name* (default: every file) against the manifest sha256.

        Done once per process per file (again if the file changes). Raises
        :class:`PinnedSnapshotError` naming the file and how to restore it.
        """
        names = [name] if name else list(self.manifest["files"])
        for n in names:
            entry = self.manifest["files"].get(n)
            f = self.path / n
            if entry is None:
                raise PinnedSnapshotError(
                    f"{self._label(n)} is not listed in {self._label(MANIFEST)}. {RESTORE_HINT}"
                )
            try:
                st = f.stat()
            except FileNotFoundError:
                raise PinnedSnapshotError(
                    f"pinned snapshot file {self._label(n)} is missing. {RESTORE_HINT}"
                ) from None
            key = str(f.resolve())
            if not force and _VERIFIED.get(key) == (st.st_size, st.st_mtime_ns):
                continue
            digest = sha256_file(f)
            if st.st_size != entry.get("bytes") or digest != entry.get("sha256"):
                _VERIFIED.pop(key, None)
                raise PinnedSnapshotError(
                    f"pinned snapshot file {self._label(n)} is modified or truncated: "
                    f"{st.st_size} bytes, sha256 {digest[:12]}…; the manifest says "
                    f"{entry.get('bytes')} bytes, sha256 {str(entry.get('sha256'))[:12]}…. "
                    f"Its data are not used. {RESTORE_HINT}"
                )
            _VERIFIED[key] = (st.st_size, st.st_mtime_ns)

    def _read(self, name: str) -> pd.DataFrame:
        self.verify(name)
        f = self.path / name
        key = _memo(f, "pinned")
        if key not in _MEMO:
            df = pq.read_table(f).to_pandas()
            if "date" in df.columns:
                df["date"] = pd.to_datetime(df["date"]).astype("datetime64[ns]")
            _remember(key, df)
        return _MEMO[key]

    @property
    def symbols(self) -> list[str]:
        return list(self.manifest["series"])

    def has(self, symbol: str) -> bool:
        return self.exists() and symbol in self.manifest["series"]

    def info(self, symbol: str) -> dict:
        return dict(self.manifest["series"][symbol])

    def series(self, symbols=None) -> pd.DataFrame:
        """Long frame ``symbol`` + :data:`PRICE_COLUMNS` for *symbols* (default all)."""
        df = self._read(SERIES_FILE)
        if symbols is not None:
            symbols = [symbols] if isinstance(symbols, str) else list(symbols)
            df = df[df["symbol"].isin(symbols)]
        return df.copy()

    def _optional(self, name: str) -> pd.DataFrame | None:
        return self._read(name).copy() if name in self.manifest["files"] else None

    def firms_daily(self) -> pd.DataFrame | None:
        return self._optional(FIRMS_DAILY_FILE)

    def firms_iex(self) -> pd.DataFrame | None:
        return self._optional(FIRMS_IEX_FILE)

    def constituents(self) -> pd.DataFrame | None:
        return self._optional(CONSTITUENTS_FILE)


# --------------------------------------------------------------------------- provenance


_SECTION = re.compile(r"^### (?P<file>[^\s]+\.csv) — .*?$", re.M)
_SOURCE = re.compile(
    r"^- Source: https://github\.com/(?P<repo>[^\s]+?) file `(?P<path>[^`]+)`, commit "
    r"`(?P<commit>[0-9a-f]+)`(?: \((?P<note>[^)]*)\))?", re.M,
)
_UPSTREAM = re.compile(r"^- Upstream: (?P<text>.+)$", re.M)
_LICENSE = re.compile(r"^- License: (?P<text>.+)$", re.M)
_UNIVERSE_SOURCE = re.compile(r"^github:(?P<repo>[^:]+):(?P<path>.+)@(?P<commit>[0-9a-f]+)$")


def _first_sentence(text: str, limit: int = 240) -> str:
    text = text.strip()
    m = re.match(r"(.+?\.)(\s|$)", text)
    out = m.group(1) if m else text
    return out if len(out) <= limit else out[: limit - 1] + "…"


def parse_provenance(text: str) -> dict[str, dict]:
    """Per-file provenance from a snapshot's ``PROVENANCE.md``: file -> repository, path,
    commit, upstream, license (what its ``### FILE — …`` sections give)."""
    out: dict[str, dict] = {}
    heads = list(_SECTION.finditer(text))
    for i, h in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        nxt = text.find("\n## ", h.end())
        if 0 <= nxt < end:
            end = nxt
        body = text[h.end():end]
        info: dict = {}
        if m := _SOURCE.search(body):
            info.update(repository=m["repo"], path=m["path"], commit=m["commit"])
        if m := _UPSTREAM.search(body):
            info["upstream"] = _first_sentence(m["text"], limit=10_000)
            if detail := m["text"].strip()[len(info["upstream"]):].strip():
                info["upstream_detail"] = detail if len(detail) <= 400 else detail[:399] + "…"
        if m := _LICENSE.search(body):
            info["license"] = m["text"].strip().rstrip(".")
        out[h["file"]] = info
    return out


def _section_about(text: str, needle: str, title: bool = False) -> str:
    """The first ``## `` section of *text* that mentions *needle* (in its title line only,
    with *title*); empty if none."""
    for p in re.split(r"(?m)^## ", text)[1:]:
        if needle in (p.split("\n", 1)[0] if title else p):
            return p
    return ""


def _series_provenance(row: dict, per_file: dict[str, dict], text: str) -> dict:
    info = dict(per_file.get(row.get("file", ""), {}))
    m = _UNIVERSE_SOURCE.match(row.get("source", ""))
    if m:
        info.setdefault("repository", m["repo"])
        info.setdefault("path", m["path"])
        # the universe gives a short commit; keep the full one from PROVENANCE.md when there
        if not str(info.get("commit", "")).startswith(m["commit"]):
            info["commit"] = m["commit"]
    if "repository" in info and "upstream" not in info:
        sec = _section_about(text, info["repository"])
        if u := re.search(r"[Uu]pstream provider[^.]*?(\([^)]*\))?[^.]*\.", sec):
            info["upstream"] = u.group(0).strip()
    info.setdefault("upstream", "not stated (see PROVENANCE.md)")
    info.setdefault("license", "not stated (see PROVENANCE.md)")
    if "repository" in info:
        info["url"] = f"https://github.com/{info['repository']}"
    keys = ("repository", "path", "commit", "url", "upstream", "upstream_detail", "license")
    return {k: info[k] for k in keys if k in info}


def parse_firm_provenance(text: str) -> dict[str, dict]:
    """Provenance of the firm files from ``PROVENANCE.md`` (empty fields when not found)."""
    out: dict[str, dict] = {}
    daily = _section_about(text, FIRMS_DAILY, title=True)
    if daily:
        def cell(label):
            m = re.search(rf"^\| {re.escape(label)} \| (.+?) \|\s*$", daily, re.M)
            return m.group(1) if m else ""
        tick = lambda s: (re.search(r"`([^`]+)`", s) or [None, ""])[1]  # noqa: E731
        info = {
            "repository": tick(cell("repository")),
            "path": tick(cell("path(s)")),
            "commit": tick(cell("commit")),
            "upstream": _first_sentence(re.sub(r"`", "", cell("upstream provider"))),
            "license": _first_sentence(cell("licence") or cell("license")),
        }
        out[FIRMS_DAILY] = {k: v for k, v in info.items() if v}
    iex = _section_about(text, FIRMS_IEX, title=True)
    if m := re.search(r"^- Prices: https://github\.com/(\S+) `([^`]+)`(.*)$", iex, re.M):
        rest = m.group(3)
        commits = re.findall(r"`([0-9a-f]{7,40})`", rest)
        up = re.search(r"from the (.+?) \(", rest)
        feed = "IEX feed" if "iex" in rest.lower() else ""
        out[FIRMS_IEX] = {
            "repository": m.group(1), "path": m.group(2), "commits": commits,
            "upstream": ", ".join(x for x in ((up.group(1) if up else ""), feed) if x),
        }
    if m := re.search(r"^- Sectors: https://github\.com/(\S+) `([^`]+)` at commit `([0-9a-f]+)`"
                      r"(.*)$", iex, re.M):
        lic = re.search(r"License ([A-Za-z0-9.\-]+?)\.?(?:\s|$)", m.group(4))
        head = re.search(r"at HEAD `([0-9a-f]+)`", m.group(4))
        out[CONSTITUENTS] = {
            "repository": m.group(1), "path": m.group(2), "commit": m.group(3),
            **({"commit_for_later_additions": head.group(1)} if head else {}),
            "upstream": "S&P 500 constituents list with GICS sectors",
            **({"license": lic.group(1)} if lic else {}),
        }
    for f, info in out.items():
        if info.get("repository"):
            info["url"] = f"https://github.com/{info['repository']}"
    return out


# --------------------------------------------------------------------------- pin


@dataclass
class PinResult:
    """What :func:`pin` did."""

    out_dir: Path
    manifest: dict
    changes: list[str] = field(default_factory=list)  # human-readable lines
    notes: list[str] = field(default_factory=list)  # validation warnings etc.
    written: list[str] = field(default_factory=list)  # files whose bytes changed

    @property
    def changed(self) -> bool:
        return bool(self.written)


def _table(df: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    data = {}
    for f in schema:
        col = df[f.name]
        if pa.types.is_date32(f.type):
            data[f.name] = pa.array(col.to_numpy().astype("datetime64[D]"), type=f.type)
        elif pa.types.is_string(f.type):
            data[f.name] = pa.array(col.astype(object).to_numpy(), type=f.type)
        else:
            data[f.name] = pa.array(col.to_numpy(), type=f.type, from_pandas=True)
    return pa.Table.from_pydict(data, schema=schema)


_SERIES_SCHEMA = pa.schema(
    [("symbol", pa.string()), ("date", pa.date32())] + [(c, pa.float64()) for c in FLOAT_COLUMNS]
)
_DAILY_SCHEMA = pa.schema([("symbol", pa.string()), ("date", pa.date32()),
                           ("close", pa.float64()), ("adj_close", pa.float64()),
                           ("volume", pa.float64())])
_IEX_SCHEMA = pa.schema([("symbol", pa.string()), ("date", pa.date32()),
                         ("close", pa.float64()), ("volume", pa.float64())])

# Compression options per file: zstd, dictionary only for symbols; byte-stream-split helps the
# float32-derived Yahoo decimals of the firm file, hurts the 2-decimal IEX prices.
_WRITE_OPTS = {
    SERIES_FILE: dict(compression_level=19, use_dictionary=["symbol"]),
    FIRMS_DAILY_FILE: dict(compression_level=19, use_dictionary=["symbol"],
                           use_byte_stream_split=["close", "adj_close"]),
    FIRMS_IEX_FILE: dict(compression_level=19, use_dictionary=["symbol"]),
    CONSTITUENTS_FILE: dict(compression_level=19),
}


def pin(
    snapshot_dir: str | Path,
    out_dir: str | Path | None = None,
    since: str | None = DEFAULT_SINCE,
    universe: pd.DataFrame | None = None,
) -> PinResult:
    """Build the pinned snapshot in *out_dir* (default ``data/snapshot``) from a snapshot folder.

    Reads every series of the folder's ``universe.csv`` from *since* on (a series that starts
    later keeps its own start) and the firm files, validates them (strict CSV parsing, then
    :func:`tradeshock.market.validate_prices`: errors abort, warnings are returned in
    ``notes``), writes the parquet files, ``manifest.json`` and ``SOURCES.md`` atomically, and
    returns what changed. Re-running on the same input leaves every file byte-identical.
    """
    from tradeshock.data import market# lazy: market imports this module
    from tradeshock.data.universe import load_universe

    folder = SnapshotFolder(snapshot_dir)
    out = pinned_dir(out_dir)
    since_ts = pd.Timestamp(since) if since else None
    ours = load_universe() if universe is None else universe
    ours_by = ours.set_index("symbol")
    notes: list[str] = []

    # ---- series
    frames, meta_rows = [], {}
    prov_text = folder.provenance()
    per_file = parse_provenance(prov_text)
    for sym in sorted(folder.symbols):
        row = folder.row(sym)
        df = folder.read_series(sym)
        source_first, source_rows = df["date"].min(), len(df)
        if since_ts is not None:
            df = df[df["date"] >= since_ts]
        if df.empty:
            notes.append(f"{sym}: no observation since {since}; not pinned")
            continue
        df.insert(0, "symbol", sym)
        frames.append(df)
        meta_rows[sym] = (row, source_first, source_rows, df)
    if not frames:
        raise DataError(f"{folder.path}: no series with data since {since}; nothing to pin")
    series = pd.concat(frames, ignore_index=True)

    # universe for validation: ours where we know the series, else the snapshot's own rows
    extra = [s for s in meta_rows if s not in ours_by.index]
    vuni = ours
    if extra:
        add = folder.universe[folder.universe["symbol"].isin(extra)].copy()
        add["measure"] = np.where(add.get("units", "") == "percent", "bp_change", "simple_return")
        vuni = pd.concat([ours, add.reindex(columns=ours.columns, fill_value="")],
                         ignore_index=True)
        notes.append(
            f"in the snapshot but not in data/universe.csv (pinned; add rows to use them with "
            f"load_prices): {', '.join(extra)}"
        )
    missing = [s for s in ours["symbol"] if s not in meta_rows]
    if missing:
        notes.append("in data/universe.csv but not pinned from this snapshot: "
                     + ", ".join(missing))
    problems = market.validate_prices(series, universe=vuni, on_problem="report")
    _check_problems(problems, "series", notes)

    # ---- firms
    daily, iex, cons = folder.firms_daily(), folder.firms_iex(), folder.constituents()
    if since_ts is not None:
        daily = None if daily is None else daily[daily["date"] >= since_ts].reset_index(drop=True)
        iex = None if iex is None else iex[iex["date"] >= since_ts].reset_index(drop=True)
    for label, fdf in (("firms (SP500_DAILY)", daily), ("firms (IEX)", iex)):
        if fdf is not None:
            p = market.validate_prices(fdf, default_calendar="XNYS", on_problem="report",
                                       universe=ours, checks=("numeric", "duplicates"))
            _check_problems(p, label, notes)

    # ---- bytes
    blobs: dict[str, bytes] = {
        SERIES_FILE: to_parquet_bytes(_table(series, _SERIES_SCHEMA), **_WRITE_OPTS[SERIES_FILE])
    }
    if daily is not None:
        blobs[FIRMS_DAILY_FILE] = to_parquet_bytes(_table(daily, _DAILY_SCHEMA),
                                                   **_WRITE_OPTS[FIRMS_DAILY_FILE])
    if iex is not None:
        blobs[FIRMS_IEX_FILE] = to_parquet_bytes(_table(iex, _IEX_SCHEMA),
                                                 **_WRITE_OPTS[FIRMS_IEX_FILE])
    if cons is not None:
        cschema = pa.schema([(c, pa.string()) for c in cons.columns])
        blobs[CONSTITUENTS_FILE] = to_parquet_bytes(_table(cons, cschema),
                                                    **_WRITE_OPTS[CONSTITUENTS_FILE])

    # ---- manifest
    series_meta = {}
    for sym, (row, source_first, source_rows, df) in meta_rows.items():
        o = ours_by.loc[sym].to_dict() if sym in ours_by.index else {}
        first, last = df["date"].min(), df["date"].max()
        series_meta[sym] = {
            "name": o.get("name") or row.get("name", ""),
            "asset_class": o.get("asset_class") or row.get("asset_class", ""),
            "units": o.get("units") or row.get("units", ""),
            "currency": o.get("currency") or row.get("currency", ""),
            "calendar": o.get("exchange_calendar", row.get("exchange_calendar", "")),
            "price_basis": row.get("price_basis") or o.get("price_basis", ""),
            "columns": [c for c in FLOAT_COLUMNS if df[c].notna().any()],
            "first": iso_date(first),
            "last": iso_date(last),
            "rows": int(len(df)),
            "source_first": iso_date(source_first),
            "source_rows": int(source_rows),
            "truncated": bool(source_first < first),
            "transcribed": row.get("transcribed", "0") in ("1", "true", "True"),
            "file": row.get("file", ""),
            "source": _series_provenance(row, per_file, prov_text),
        }
    firm_prov = parse_firm_provenance(prov_text)
    firms_meta = {}
    firm_files = ((FIRMS_DAILY_FILE, FIRMS_DAILY, daily), (FIRMS_IEX_FILE, FIRMS_IEX, iex))
    for fname, src, fdf in firm_files:
        if fdf is None:
            continue
        firms_meta[fname] = {
            "from": src,
            "symbols": int(fdf["symbol"].nunique()),
            "rows": int(len(fdf)),
            "first": iso_date(fdf["date"].min()),
            "last": iso_date(fdf["date"].max()),
            "source": firm_prov.get(src, {}),
        }
        if cons is not None and MEMBER_FLAG in cons.columns:
            members = set(cons.loc[cons[MEMBER_FLAG] == "1", "symbol"])
            firms_meta[fname]["members_without_prices"] = sorted(members - set(fdf["symbol"]))
    if cons is not None:
        firms_meta[CONSTITUENTS_FILE] = {
            "from": CONSTITUENTS, "rows": int(len(cons)), "source": firm_prov.get(CONSTITUENTS, {}),
        }
    lasts = [v["last"] for v in series_meta.values()] + [
        v["last"] for v in firms_meta.values() if "last" in v
    ]
    manifest = {
        "format": MANIFEST_FORMAT,
        "built_by": "tradeshock data pin",
        "since": since_ts.strftime("%Y-%m-%d") if since_ts is not None else None,
        "as_of": max(lasts),
        "input": {
            "universe.csv sha256": sha256_file(folder.path / "universe.csv"),
            "PROVENANCE.md sha256": sha256_bytes(prov_text.encode()) if prov_text else None,
        },
        "writer": f"pyarrow {pa.__version__}",
        "files": {
            name: {"sha256": sha256_bytes(b), "bytes": len(b)} for name, b in blobs.items()
        },
        "series": series_meta,
        "firms": firms_meta,
    }
    sources_md = render_sources_md(manifest, ours)
    blobs[SOURCES] = sources_md.encode("utf-8")
    manifest_bytes = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")

    total = sum(len(b) for b in blobs.values()) + len(manifest_bytes)
    if total > SIZE_BUDGET:
        raise DataError(
            f"the pinned snapshot would take {total / 2**20:.1f} MiB, over the budget of "
            f"{SIZE_BUDGET / 2**20:.0f} MiB; nothing was written. Pin from a later date "
            "(--since) or fewer series."
        )

    # ---- what changed
    old = None
    if (out / MANIFEST).is_file():
        try:
            old = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        except ValueError:
            old = None
    changes = describe_changes(old, manifest)

    # ---- write (atomic per file; manifest last: it commits the set)
    written = []
    out.mkdir(parents=True, exist_ok=True)
    for name, data in list(blobs.items()) + [(MANIFEST, manifest_bytes)]:
        f = out / name
        if f.is_file() and f.read_bytes() == data:
            continue
        atomic_write_bytes(f, data)
        written.append(name)
    if old:
        for name in set(old.get("files", {})) - set(manifest["files"]):
            (out / name).unlink(missing_ok=True)
            written.append(f"-{name}")
    if not changes and written:
        changes.append("rewritten with the same series and dates: " + ", ".join(written))
    return PinResult(out_dir=out, manifest=manifest, changes=changes, notes=notes, written=written)


def _check_problems(problems: pd.DataFrame, label: str, notes: list[str]) -> None:
    errors = problems[problems["severity"] == "error"]
    if len(errors):
        shown = "\n".join(
            f"  {r.symbol} {r.date:%Y-%m-%d}: {r.problem} ({r.detail})"
            for r in errors.head(15).itertuples()
        )
        raise DataError(
            f"the snapshot's {label} fail validation ({len(errors)} error(s)); nothing was "
            f"written:\n{shown}"
        )
    warn = problems[problems["severity"] != "error"]
    if len(warn):
        counts = warn.groupby(["symbol", "problem"]).size()
        for (sym, prob), n in counts.items():
            notes.append(f"{label} {sym}: {n} × {prob}")


def describe_changes(old: dict | None, new: dict) -> list[str]:
    """Series added, removed, extended or changed between two manifests (human-readable)."""
    if not old:
        return [f"new pinned snapshot: {len(new['series'])} series, as of {new['as_of']}"]
    out = []
    o, n = old.get("series", {}), new["series"]
    added = sorted(set(n) - set(o))
    removed = sorted(set(o) - set(n))
    if added:
        out.append(f"added: {', '.join(added)}")
    if removed:
        out.append(f"removed: {', '.join(removed)}")
    for s in sorted(set(n) & set(o)):
        a, b = o[s], n[s]
        if (a.get("first"), a.get("last"), a.get("rows")) == (b["first"], b["last"], b["rows"]):
            continue
        if b["last"] > a.get("last", "") and b["first"] == a.get("first"):
            more = b["rows"] - a.get("rows", 0)
            out.append(f"extended: {s} {a.get('last')} -> {b['last']} (+{more} rows)")
        else:
            out.append(
                f"changed: {s} {a.get('first')}..{a.get('last')} ({a.get('rows')} rows) -> "
                f"{b['first']}..{b['last']} ({b['rows']} rows)"
            )
    for f in sorted(set(new.get("firms", {})) | set(old.get("firms", {}))):
        a, b = old.get("firms", {}).get(f), new.get("firms", {}).get(f)
        if a is None:
            out.append(f"added: {f}")
        elif b is None:
            out.append(f"removed: {f}")
        elif (a.get("rows"), a.get("last")) != (b.get("rows"), b.get("last")):
            out.append(f"changed: {f} {a.get('rows')} rows to {a.get('last')} -> "
                       f"{b.get('rows')} rows to {b.get('last')}")
    for f in sorted(set(new["files"]) & set(old.get("files", {}))):
        if new["files"][f] != old["files"][f] and not any(f in c for c in out):
            out.append(f"data changed: {f} (same coverage, different values or encoding)")
    if old.get("since") != new.get("since"):
        out.append(f"since: {old.get('since')} -> {new.get('since')}")
    return out


# --------------------------------------------------------------------------- SOURCES.md


def closed_markets(calendars, days=EVENT_DAYS) -> list[tuple[str, list[str]]]:
    """[(market, [closed weekdays])] for the given calendars over the event days."""
    from tradeshock.data.market import get_calendar  # lazy: market imports this module

    out = []
    weekdays = pd.bdate_range(*days)
    for code in calendars:
        try:
            cal = get_calendar(code)
        except Exception:  # noqa: BLE001 - unknown calendar: nothing to report
            continue
        closed = [f"{d:%a} {d.day} {d:%b}" for d in weekdays if not cal.is_session(d)]
        if closed:
            out.append((f"{HOME_MARKETS.get(code, code)} ({code})", closed))
    return out


def render_sources_md(manifest: dict, universe: pd.DataFrame) -> str:
    """The human-readable companion of ``manifest.json``: provenance and caveats, short."""
    s = manifest["series"]
    by_basis = lambda b: [k for k, v in s.items() if v["price_basis"] == b]  # noqa: E731
    fx_dex = [k for k in s if k.startswith("DEX")]
    transcribed = [k for k, v in s.items() if v.get("transcribed")]
    repos: dict[str, list[str]] = {}
    for k, v in s.items():
        src = v.get("source", {})
        key = f"{src.get('repository', '?')} — {src.get('upstream', '?')}"
        repos.setdefault(key, []).append(k)
    cals = sorted({c for c in universe.get("exchange_calendar", []) if c}
                  | {c for c in universe.get("home_calendar", []) if c} | {"XTAI"})
    closures = closed_markets(cals)
    firms = manifest.get("firms", {})
    daily = firms.get(FIRMS_DAILY_FILE, {})
    iex = firms.get(FIRMS_IEX_FILE, {})

    L = []
    L.append("# Pinned market data: sources and caveats\n")
    L.append(
        f"Built by `tradeshock data pin` from an offline snapshot folder; **as of "
        f"{manifest['as_of']}**. Every series of that folder's `universe.csv` from "
        f"{manifest['since']} on (a series that starts later keeps its own start), plus the "
        "S&P 500 member files. `manifest.json` gives per series its coverage, units, calendar, "
        "price basis, source repository, path and commit, and upstream provider, and a sha256 "
        "per file (checked on first use). Refresh with `tradeshock data pin SNAPSHOT_DIR`; "
        "restore with `git checkout data/snapshot`.\n"
    )
    L.append("| file | content | rows |\n|---|---|---|")
    L.append(f"| `{SERIES_FILE}` | {len(s)} market series, long form (symbol, date, open, high, "
             f"low, close, adj_close, volume) | {sum(v['rows'] for v in s.values())} |")
    if daily:
        L.append(f"| `{FIRMS_DAILY_FILE}` | S&P 500 members, Yahoo daily close and adj_close, "
                 f"{daily['first']} … {daily['last']}, {daily['symbols']} symbols | "
                 f"{daily['rows']} |")
    if iex:
        L.append(f"| `{FIRMS_IEX_FILE}` | S&P 500 members, IEX last trades, {iex['first']} … "
                 f"{iex['last']}, {iex['symbols']} symbols | {iex['rows']} |")
    if CONSTITUENTS_FILE in firms:
        L.append(f"| `{CONSTITUENTS_FILE}` | members with GICS sector and sub-industry, "
                 f"membership on 2025-04-01 | {firms[CONSTITUENTS_FILE]['rows']} |")
    L.append("")
    L.append("## Caveats an analyst must know\n")
    yfx = by_basis("yahoo_fx_snapshot")
    if yfx:
        L.append(
            f"- **Yahoo FX pairs lag a day** ({', '.join(yfx)}): the value dated t is a "
            "start-of-London-day snapshot that tracks the previous New York session. For "
            f"event-day FX returns use the FRED noon rates {', '.join(fx_dex) or 'DEX*'}."
        )
    adj = by_basis("adjusted")
    if adj:
        L.append(
            f"- **Adjusted-only ETFs** ({', '.join(adj)}): only `adj_close` "
            "(dividend- and split-adjusted as of the source commit) is present; returns from it "
            "are total returns, and its levels are not quoted prices."
        )
    L.append(
        "- **Total returns: use `adj_close`** wherever it is present (the other ETFs and the "
        "firms carry both: `close` as traded, `adj_close` dividend-adjusted). "
        "`tradeshock.market.returns(..., basis=\"auto\")` does this."
    )
    L.append(
        "- **Yields are in percent**: their daily changes are in basis points (`bp_change`), "
        "never returns."
    )
    if iex:
        L.append(
            "- **IEX member file = last trades, unadjusted**: the close is the last IEX trade, "
            "not the official consolidated close (typically within 0.3%), and prices are not "
            "adjusted for splits or dividends. `load_firms` uses it only to extend members past "
            f"{daily.get('last', 'the Yahoo file')}; the Yahoo daily file is primary."
        )
    if daily:
        L.append(
            "- **Firm caveats**: `close` is split-adjusted as of the download (≈ the file's last "
            "date); `SW` rows before 2024-07-08 are Yahoo pre-listing history (dropped by "
            "`load_firms`); membership is that of the source lists (survivorship)"
            + (f"; members of 1 April 2025 without a Yahoo file: "
               f"{', '.join(daily['members_without_prices'])}"
               if daily.get("members_without_prices") else "")
            + "."
        )
    if closures:
        L.append(
            f"- **Markets closed on event days** ({EVENT_DAYS[0]} … {EVENT_DAYS[1]}, weekdays): "
            + "; ".join(f"{m}: {', '.join(d)}" for m, d in closures)
            + ". US-listed country ETFs traded on those days while their home markets did not."
        )
    if transcribed:
        L.append(
            f"- **Transcribed copies** ({', '.join(transcribed)}): copied page by page from a "
            "public code archive and checked (overlaps agree, OHLC consistent); see PROVENANCE."
        )
    short = [k for k, v in s.items() if v["first"] > "2024-01-01" or v["last"] < "2025-06-30"]
    if short:
        L.append(
            "- **Short coverage**: "
            + ", ".join(f"{k} {s[k]['first']} … {s[k]['last']}" for k in short) + "."
        )
    L.append("")
    L.append("## Sources\n")
    L.append("| repository — upstream provider | series |\n|---|---|")
    for key in sorted(repos):
        L.append(f"| {key} | {', '.join(sorted(repos[key]))} |")
    for fname in (FIRMS_DAILY_FILE, FIRMS_IEX_FILE, CONSTITUENTS_FILE):
        if fname in firms:
            src = firms[fname].get("source", {})
            L.append(f"| {src.get('repository', '?')} — {src.get('upstream', '?')} | `{fname}` |")
    L.append("")
    L.append(
        "The data were taken from public repositories; the **upstream providers' terms apply** "
        "(Yahoo Finance, FRED / Federal Reserve Board, Cboe, EIA, S&P Dow Jones Indices, "
        "Alpaca/IEX and others). They are shipped here for replication of this study only.\n"
    )
    return "\n".join(L)


def copy_pinned(dest: str | Path, src: str | Path | None = None) -> Path:
    """Copy the pinned snapshot folder to *dest* (for tests and experiments)."""
    dest = Path(dest)
    shutil.copytree(pinned_dir(src), dest, dirs_exist_ok=True)
    return dest


__all__ = [
    "PINNED_DIR", "DEFAULT_SINCE", "SnapshotFormatError", "PinnedSnapshotError", "SnapshotFolder",
    "PinnedSnapshot", "PinResult", "read_price_csv", "resolve_snapshot_dir", "pinned_dir", "pin",
    "parse_provenance", "parse_firm_provenance", "describe_changes", "render_sources_md",
    "closed_markets", "copy_pinned",
]

