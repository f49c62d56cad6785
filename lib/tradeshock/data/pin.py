"""Building the pinned snapshot (``data/snapshot/``, ``tradeshock data pin``) from a snapshot
folder: :func:`pin`, and its human-readable companion ``SOURCES.md`` (:func:`render_sources_md`).

The folder is validated first (:func:`~tradeshock.data.foldercheck.validate_snapshot_folder`:
strict CSV parsing, then :func:`~tradeshock.data.validate.validate_prices`); errors abort before
anything is written. Parquet is written deterministically (:data:`_WRITE_OPTS`), so re-pinning
the same input gives byte-identical files. The snapshot is replaced as a set
(:func:`~tradeshock.core.fileset.replace_folder`): the new folder is built and verified beside the
old one and switched in one step, so a failure part-way (a full disk) keeps the previous pin.
The format is read by :class:`~tradeshock.data.snapshot.PinnedSnapshot`.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from tradeshock.core.fileio import sha256_bytes, sha256_file
from tradeshock.core.fileset import describe_os_error, replace_folder, stage_files
from tradeshock.core.timefmt import iso_date
from tradeshock.data.cache import FLOAT_COLUMNS, to_parquet_bytes
from tradeshock.data.calendars import get_calendar
from tradeshock.data.foldercheck import FolderReport, validate_snapshot_folder
from tradeshock.data.pindest import check_pin_dest, recover_pin_dest
from tradeshock.data.snapshot import (
    CONSTITUENTS, CONSTITUENTS_FILE, DEFAULT_SINCE, FIRMS_DAILY, FIRMS_DAILY_FILE, FIRMS_IEX,
    FIRMS_IEX_FILE, MANIFEST_FILE, MEMBER_FLAG, PIN_FORMAT, SERIES_FILE, SOURCES_FILE,
    PinnedSnapshot, SnapshotFolder, parse_firm_provenance, parse_provenance, pinned_dir,
    series_provenance,
)
from tradeshock.data.universe import load_universe
from tradeshock.data.validate import format_problems, validate_prices
from tradeshock.errors import DataError, DataWriteError

__all__ = ["SIZE_BUDGET", "EVENT_DAYS", "HOME_MARKETS", "PinResult", "pin", "describe_changes",
           "closed_markets", "render_sources_md", "copy_pinned"]

#: The pinned snapshot must stay small enough to commit (issue 11: budget 8 MiB).
SIZE_BUDGET = 8 * 2**20

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


# --------------------------------------------------------------------------- parquet


def _arrow_table(df: pd.DataFrame, schema: pa.Schema) -> pa.Table:
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


# --------------------------------------------------------------------------- pin


def pin(
    snapshot_dir: str | Path,
    out_dir: str | Path | None = None,
    since: str | None = DEFAULT_SINCE,
    universe: pd.DataFrame | None = None,
) -> PinResult:
    """Build the pinned snapshot in *out_dir* (default ``data/snapshot``) from a snapshot folder.

    Reads every series of the folder's ``universe.csv`` from *since* on (a series that starts
    later keeps its own start) and the firm files, validates them (strict CSV parsing, then
    :func:`~tradeshock.data.validate.validate_prices`: errors abort, warnings are returned in
    ``notes``), writes the parquet files, ``manifest.json`` and ``SOURCES.md`` atomically, and
    returns what changed. Re-running on the same input leaves every file byte-identical.
    """
    ours = load_universe() if universe is None else universe
    out = pinned_dir(out_dir)
    check_pin_dest(out)  # before any work: never replace a folder that is not a snapshot
    notes: list[str] = recover_pin_dest(out)  # what a killed pin left behind
    report = _checked_series(snapshot_dir, since, ours, notes)
    daily, iex, cons = _checked_firms(report.folder, report.since, ours, notes)
    series = pd.concat([df.assign(symbol=s) for s, df in report.series.items()],
                       ignore_index=True)
    blobs = _parquet_blobs(series, daily, iex, cons)
    manifest = _manifest(report, ours, (daily, iex, cons), blobs)
    blobs[SOURCES_FILE] = render_sources_md(manifest, ours).encode("utf-8")
    manifest_bytes = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    total = sum(len(b) for b in blobs.values()) + len(manifest_bytes)
    if total > SIZE_BUDGET:
        raise DataError(
            f"the pinned snapshot would take {total / 2**20:.1f} MiB, over the budget of "
            f"{SIZE_BUDGET / 2**20:.0f} MiB; nothing was written. Pin from a later date "
            "(--since) or fewer series."
        )
    old = _old_manifest(out)
    changes = describe_changes(old, manifest)
    written = _write(out, blobs, manifest_bytes, old, manifest, snapshot_dir)
    if not changes and written:
        changes.append("rewritten with the same series and dates: " + ", ".join(written))
    return PinResult(out_dir=out, manifest=manifest, changes=changes, notes=notes, written=written)


def _checked_series(snapshot_dir, since, ours: pd.DataFrame, notes: list[str]) -> FolderReport:
    """Every series of the folder from *since* on, validated; raises on errors, notes the rest."""
    report = validate_snapshot_folder(snapshot_dir, since=since, universe=ours,
                                      include_unlisted=True)
    notes += [f"{sym}: no observation since {since}; not pinned" for sym in report.empty]
    report.raise_for_errors("nothing was written")
    if not report.series:
        raise DataError(f"{report.path}: no series with data since {since}; nothing to pin")
    extra = [s for s in report.series if s in report.unlisted]
    if extra:
        notes.append(
            f"in the snapshot but not in data/universe.csv (pinned; add rows to use them with "
            f"load_prices): {', '.join(extra)}"
        )
    missing = [s for s in ours["symbol"] if s not in report.series]
    if missing:
        notes.append("in data/universe.csv but not pinned from this snapshot: "
                     + ", ".join(missing))
    _note_warnings(report.warnings, "series", notes)
    return report


def _checked_firms(folder: SnapshotFolder, since_ts, ours: pd.DataFrame, notes: list[str]):
    """The firm files (daily, IEX, constituents; None where absent), from *since_ts* on, checked
    for numbers and duplicate dates; raises on errors, notes the warnings."""
    daily, iex, cons = folder.firms_daily(), folder.firms_iex(), folder.constituents()
    if since_ts is not None:
        daily = None if daily is None else daily[daily["date"] >= since_ts].reset_index(drop=True)
        iex = None if iex is None else iex[iex["date"] >= since_ts].reset_index(drop=True)
    for label, fdf in (("firms (SP500_DAILY)", daily), ("firms (IEX)", iex)):
        if fdf is None:
            continue
        p = validate_prices(fdf, default_calendar="XNYS", on_problem="report",
                            universe=ours, checks=("numeric", "duplicates"))
        errors = p[p["severity"] == "error"]
        if len(errors):
            raise DataError(
                f"the snapshot's {label} fail validation ({len(errors)} error(s)); nothing was "
                f"written:\n{format_problems(errors, 15)}"
            )
        _note_warnings(p[p["severity"] != "error"], label, notes)
    return daily, iex, cons


def _note_warnings(warn: pd.DataFrame, label: str, notes: list[str]) -> None:
    if len(warn):
        counts = warn.groupby(["symbol", "problem"]).size()
        for (sym, prob), n in counts.items():
            notes.append(f"{label} {sym}: {n} × {prob}")


def _parquet_blobs(series, daily, iex, cons) -> dict[str, bytes]:
    """The parquet bytes of each file (firm files only where the folder has them)."""
    blobs = {SERIES_FILE: to_parquet_bytes(_arrow_table(series, _SERIES_SCHEMA),
                                           **_WRITE_OPTS[SERIES_FILE])}
    if daily is not None:
        blobs[FIRMS_DAILY_FILE] = to_parquet_bytes(_arrow_table(daily, _DAILY_SCHEMA),
                                                   **_WRITE_OPTS[FIRMS_DAILY_FILE])
    if iex is not None:
        blobs[FIRMS_IEX_FILE] = to_parquet_bytes(_arrow_table(iex, _IEX_SCHEMA),
                                                 **_WRITE_OPTS[FIRMS_IEX_FILE])
    if cons is not None:
        cschema = pa.schema([(c, pa.string()) for c in cons.columns])
        blobs[CONSTITUENTS_FILE] = to_parquet_bytes(_arrow_table(cons, cschema),
                                                    **_WRITE_OPTS[CONSTITUENTS_FILE])
    return blobs


def _series_meta(report: FolderReport, ours: pd.DataFrame, prov_text: str) -> dict[str, dict]:
    """The manifest's ``series``: per pinned series its metadata, coverage and provenance."""
    ours_by = ours.set_index("symbol")
    per_file = parse_provenance(prov_text)
    out = {}
    for sym, df in report.series.items():
        row = report.folder.row(sym)
        source_first, source_rows = report.spans[sym]
        o = ours_by.loc[sym].to_dict() if sym in ours_by.index else {}
        first, last = df["date"].min(), df["date"].max()
        out[sym] = {
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
            "source": series_provenance(row, per_file, prov_text),
        }
    return out


def _firms_meta(daily, iex, cons, prov_text: str) -> dict[str, dict]:
    """The manifest's ``firms``: per firm file its origin, coverage and provenance."""
    firm_prov = parse_firm_provenance(prov_text)
    out = {}
    for fname, src, fdf in ((FIRMS_DAILY_FILE, FIRMS_DAILY, daily),
                            (FIRMS_IEX_FILE, FIRMS_IEX, iex)):
        if fdf is None:
            continue
        out[fname] = {
            "from": src,
            "symbols": int(fdf["symbol"].nunique()),
            "rows": int(len(fdf)),
            "first": iso_date(fdf["date"].min()),
            "last": iso_date(fdf["date"].max()),
            "source": firm_prov.get(src, {}),
        }
        if cons is not None and MEMBER_FLAG in cons.columns:
            members = set(cons.loc[cons[MEMBER_FLAG] == "1", "symbol"])
            out[fname]["members_without_prices"] = sorted(members - set(fdf["symbol"]))
    if cons is not None:
        out[CONSTITUENTS_FILE] = {
            "from": CONSTITUENTS, "rows": int(len(cons)), "source": firm_prov.get(CONSTITUENTS, {}),
        }
    return out


def _manifest(report: FolderReport, ours: pd.DataFrame, firms: tuple,
              blobs: dict[str, bytes]) -> dict:
    """``manifest.json``: format, as-of date, input digests, a sha256 per file, per series and
    per firm file metadata."""
    prov_text = report.folder.provenance()
    series_meta = _series_meta(report, ours, prov_text)
    firms_meta = _firms_meta(*firms, prov_text)
    lasts = [v["last"] for v in series_meta.values()] + [
        v["last"] for v in firms_meta.values() if "last" in v
    ]
    return {
        "format": PIN_FORMAT,
        "built_by": "tradeshock data pin",
        "since": report.since.strftime("%Y-%m-%d") if report.since is not None else None,
        "as_of": max(lasts),
        "input": {
            "universe.csv sha256": sha256_file(report.path / "universe.csv"),
            "PROVENANCE.md sha256": sha256_bytes(prov_text.encode()) if prov_text else None,
        },
        "writer": f"pyarrow {pa.__version__}",
        "files": {
            name: {"sha256": sha256_bytes(b), "bytes": len(b)} for name, b in blobs.items()
        },
        "series": series_meta,
        "firms": firms_meta,
    }


def _old_manifest(out: Path) -> dict | None:
    """The manifest already in *out* (None when absent or unreadable)."""
    if (out / MANIFEST_FILE).is_file():
        try:
            return json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
        except ValueError:
            return None
    return None


def _changed_names(out: Path, files: dict[str, bytes], old: dict | None,
                   manifest: dict) -> list[str]:
    """The files whose bytes would change (``-name`` for files the old manifest had and the new
    one drops)."""
    written = [name for name, data in files.items()
               if not ((out / name).is_file() and (out / name).read_bytes() == data)]
    if old:
        written += [f"-{name}" for name in sorted(set(old.get("files", {}))
                                                  - set(manifest["files"]))]
    return written


def _write(out: Path, blobs: dict[str, bytes], manifest_bytes: bytes, old: dict | None,
           manifest: dict, snapshot_dir) -> list[str]:
    """Replace the folder *out* by the new snapshot as a set (:func:`replace_folder`: built and
    verified beside it, switched in one step; the old folder is kept on any failure). Files of
    *out* that the old manifest does not list (ones tradeshock did not make) are carried over.
    Returns the names whose bytes changed (``-name`` for removed); nothing is touched when none
    did."""
    if out.exists() and not out.is_dir():
        raise DataError(f"--out {out} is a file, not a folder; nothing was written. Name a "
                        "folder (default: data/snapshot).")
    files = dict(blobs)
    files[MANIFEST_FILE] = manifest_bytes
    written = _changed_names(out, files, old, manifest)
    if not written:
        return written
    ours = set(files) | set((old or {}).get("files", {})) | {MANIFEST_FILE, SOURCES_FILE}
    foreign = sorted(p for p in out.iterdir() if p.name not in ours) if out.is_dir() else []

    def build(tmp: Path) -> None:
        stage_files(tmp, {name: data for name, data in files.items() if name != MANIFEST_FILE})
        for p in foreign:  # not ours: carried over untouched
            if p.is_dir() and not p.is_symlink():
                shutil.copytree(p, tmp / p.name, symlinks=True)
            else:
                shutil.copy2(p, tmp / p.name, follow_symlinks=False)
        stage_files(tmp, {MANIFEST_FILE: manifest_bytes})  # last: it commits the set

    def validate(tmp: Path) -> None:
        PinnedSnapshot(tmp).verify(force=True)

    target = out.resolve() if out.is_symlink() else out
    try:
        replace_folder(target, build, validate=validate)
    except OSError as exc:
        kept = ("the previous pinned snapshot was kept unchanged" if old or out.is_dir()
                else "nothing was written")
        raise DataWriteError(
            f"could not write the pinned snapshot {out}: {describe_os_error(exc)}; {kept}. "
            f"Fix: free space on that disk or make {target.parent} writable, then run "
            f"`tradeshock data pin {snapshot_dir}` again (or pin into another folder with "
            "--out DIR)."
        ) from None
    return written


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
    repos: dict[str, list[str]] = {}
    for k, v in s.items():
        src = v.get("source", {})
        key = f"{src.get('repository', '?')} — {src.get('upstream', '?')}"
        repos.setdefault(key, []).append(k)
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
    L += _caveats(manifest, universe)
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


def _caveats(manifest: dict, universe: pd.DataFrame) -> list[str]:
    """The bullet points of SOURCES.md's "Caveats an analyst must know"."""
    s = manifest["series"]
    by_basis = lambda b: [k for k, v in s.items() if v["price_basis"] == b]  # noqa: E731
    fx_dex = [k for k in s if k.startswith("DEX")]
    transcribed = [k for k, v in s.items() if v.get("transcribed")]
    cals = sorted({c for c in universe.get("exchange_calendar", []) if c}
                  | {c for c in universe.get("home_calendar", []) if c} | {"XTAI"})
    closures = closed_markets(cals)
    firms = manifest.get("firms", {})
    daily = firms.get(FIRMS_DAILY_FILE, {})
    iex = firms.get(FIRMS_IEX_FILE, {})
    L = []
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
        "`tradeshock.returns(..., basis=\"auto\")` does this."
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
    return L


def copy_pinned(dest: str | Path, src: str | Path | None = None) -> Path:
    """Copy the pinned snapshot folder to *dest* (for tests and experiments)."""
    dest = Path(dest)
    shutil.copytree(pinned_dir(src), dest, dirs_exist_ok=True)
    return dest
