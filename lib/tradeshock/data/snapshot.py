"""Reading offline snapshots: snapshot folders (CSV) and the pinned replication snapshot
(parquet). Building the pinned snapshot is :mod:`tradeshock.data.pin`'s job; validating a whole
snapshot folder is :mod:`tradeshock.data.foldercheck`'s.

**Snapshot folder** (the format of ``../shared/data/market``): ``universe.csv`` (symbol, file,
name, asset_class, …), one CSV per series with the header ``date,open,high,low,close,adj_close,
volume`` (blank = not available), ``PROVENANCE.md``, and ``firms/`` with ``SP500_DAILY.csv``
(``date,symbol,close,adj_close,volume``), ``SP500_IEX_CLOSES.csv`` (``date,symbol,close,volume``)
and ``sp500_constituents.csv``. Long files (a ``symbol`` column) are read as well as one-series
files. Parsing is strict: a bad date, text in a price column, a duplicate date or a row without
any price raises :class:`SnapshotFormatError` naming the file and line. ``PROVENANCE.md`` is parsed
by :func:`parse_provenance` and :func:`parse_firm_provenance`.

**Pinned snapshot** (``data/snapshot/``, committed; format :data:`PIN_FORMAT`): ``series.parquet``
(long form, every universe series from ``since`` on), ``firms_daily.parquet`` and
``firms_iex.parquet`` (the two firm files), ``constituents.parquet``, ``manifest.json`` (per series
metadata and provenance, a sha256 per file, the as-of date) and ``SOURCES.md``. Every file is
checked against its manifest sha256 the first time a process uses it; a modified or truncated
file raises :class:`PinnedSnapshotError` saying how to restore it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from tradeshock.core.fileio import sha256_file
from tradeshock.data.cache import FLOAT_COLUMNS, PRICE_COLUMNS
from tradeshock.errors import DataError, PinnedSnapshotError, SnapshotFormatError
from tradeshock.paths import DATA_DIR, PROJECT_ROOT

#: The pinned snapshot committed with the repository.
PINNED_DIR = DATA_DIR / "snapshot" if DATA_DIR is not None else None
#: First date of the pinned snapshot (``tradeshock data pin --since``) and of the refresh's
#: first download of a series.
DEFAULT_SINCE = "2023-10-01"
#: The ``format`` of a pinned snapshot's ``manifest.json``.
PIN_FORMAT = "tradeshock-pinned-snapshot/1"

# files of a snapshot folder
FIRMS_DAILY = "firms/SP500_DAILY.csv"
FIRMS_IEX = "firms/SP500_IEX_CLOSES.csv"
CONSTITUENTS = "firms/sp500_constituents.csv"
#: Column of the constituents file flagging membership on the eve of Liberation Day.
MEMBER_FLAG = "in_sp500_2025-04-01"

# files of the pinned snapshot
SERIES_FILE = "series.parquet"
FIRMS_DAILY_FILE = "firms_daily.parquet"
FIRMS_IEX_FILE = "firms_iex.parquet"
CONSTITUENTS_FILE = "constituents.parquet"
MANIFEST_FILE = "manifest.json"
SOURCES_FILE = "SOURCES.md"

#: How to fix a damaged pinned snapshot (ends every :class:`PinnedSnapshotError` message).
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
    """The key of a file's parsed content: path, size, and modification and change times (the
    change time moves on every write, even one that keeps the size and resets the mtime)."""
    st = path.stat()
    return (str(path.resolve()), st.st_mtime_ns, st.st_ctime_ns, st.st_size, *extra)


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


_VERIFIED: dict[str, tuple[int, int, int]] = {}


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
        return (self.path / MANIFEST_FILE).is_file()

    @property
    def manifest(self) -> dict:
        if self._manifest is None:
            f = self.path / MANIFEST_FILE
            if not f.is_file():
                raise PinnedSnapshotError(
                    f"the pinned snapshot has no {self._label(MANIFEST_FILE)}. {RESTORE_HINT}"
                )
            try:
                m = json.loads(f.read_text(encoding="utf-8"))
                if m.get("format") != PIN_FORMAT:
                    raise ValueError(f"format {m.get('format')!r}, expected {PIN_FORMAT!r}")
                m["files"], m["series"]  # noqa: B018 - presence check
            except (ValueError, KeyError, AttributeError) as exc:
                raise PinnedSnapshotError(
                    f"{self._label(MANIFEST_FILE)} is damaged ({exc}). {RESTORE_HINT}"
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
                    f"{self._label(n)} is not listed in {self._label(MANIFEST_FILE)}. "
                    f"{RESTORE_HINT}"
                )
            try:
                st = f.stat()
            except FileNotFoundError:
                raise PinnedSnapshotError(
                    f"pinned snapshot file {self._label(n)} is missing. {RESTORE_HINT}"
                ) from None
            key = str(f.resolve())
            if not force and _VERIFIED.get(key) == (st.st_size, st.st_mtime_ns, st.st_ctime_ns):
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
            _VERIFIED[key] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns)

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


def series_provenance(row: dict, per_file: dict[str, dict], text: str) -> dict:
    """Provenance of one series for the pinned manifest: repository, path, commit, url,
    upstream, license, from its snapshot ``universe.csv`` *row* (``source`` column), the parsed
    ``PROVENANCE.md`` (*per_file*, :func:`parse_provenance`) and its *text*."""
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


__all__ = [
    "PINNED_DIR", "DEFAULT_SINCE", "PIN_FORMAT", "RESTORE_HINT", "MEMBER_FLAG", "FIRMS_DAILY",
    "FIRMS_IEX", "CONSTITUENTS", "SERIES_FILE", "FIRMS_DAILY_FILE", "FIRMS_IEX_FILE",
    "CONSTITUENTS_FILE", "MANIFEST_FILE", "SOURCES_FILE", "SnapshotFolder", "PinnedSnapshot",
    "read_price_csv", "resolve_snapshot_dir", "pinned_dir", "parse_provenance",
    "parse_firm_provenance", "series_provenance",
]
