"""``tradeshock data``: market data status, import, fetch, pin and check (front end only)."""

from __future__ import annotations

import os
from pathlib import Path

import click
import pandas as pd

from tradeshock.errors import DataError, PinnedSnapshotError

_SNAPSHOT_HELP = (
    "Offline snapshot folder (format of ../shared/data/market). Default: $TRADESHOCK_SNAPSHOT."
)
_CACHE_HELP = "Cache folder. Default: $TRADESHOCK_CACHE, else data/cache."


def _opts(ctx: click.Context, **override) -> dict:
    """The group's --snapshot/--cache-dir, overridden by a sub-command's own options."""
    base = dict(ctx.obj or {})
    base.update({k: v for k, v in override.items() if v is not None})
    return base


def _snapshot_option(f):
    return click.option("--snapshot", "snapshot", type=click.Path(file_okay=False),
                        default=None, help=_SNAPSHOT_HELP)(f)


def _date(_ctx, _param, value):
    if value is None:
        return None
    try:
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (use YYYY-MM-DD)") from None


def _fmt_date(x) -> str:
    return "" if x is None or pd.isna(x) else pd.Timestamp(x).strftime("%Y-%m-%d")


def _table(rows: list[list], headers: list[str]) -> str:
    cells = [headers] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    rule = ["-" * w for w in widths]
    return "\n".join([line(cells[0]), line(rule)] + [line(r) for r in cells[1:]])


@click.group("data")
@click.option("--snapshot", "snapshot", type=click.Path(file_okay=False), default=None,
              help=_SNAPSHOT_HELP)
@click.option("--cache-dir", "cache_dir", type=click.Path(file_okay=False), default=None,
              help=_CACHE_HELP)
@click.pass_context
def data(ctx: click.Context, snapshot, cache_dir) -> None:
    """Market data: where each series comes from, and keeping the data available offline.

    Sources, in the order load_prices(source="auto") tries them: the local cache (data/cache),
    an offline snapshot folder (--snapshot or TRADESHOCK_SNAPSHOT), the pinned snapshot
    committed in data/snapshot, then online (Yahoo via yfinance, FRED).
    """
    ctx.obj = {"snapshot": snapshot, "cache_dir": cache_dir}


@data.command("status")
@click.argument("symbols", nargs=-1)
@click.option("--start", callback=_date, help="Coverage from this date (YYYY-MM-DD).")
@click.option("--end", callback=_date, help="Coverage up to this date (YYYY-MM-DD).")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table.")
@_snapshot_option
@click.pass_context
def status(ctx, symbols, start, end, as_csv, snapshot) -> None:
    """Per series: name, first/last date, rows, the source that would serve it, missing sessions.

    Offline only: nothing is downloaded. "missing" counts sessions of the series' exchange
    calendar without a row ("-" when the series has no exchange calendar).
    """
    from tradeshock.data.snapshot import PinnedSnapshot, resolve_snapshot_dir
    from tradeshock.data.status import series_status

    o = _opts(ctx, snapshot=snapshot)
    st = series_status(list(symbols) or None, start, end, o.get("snapshot"), o.get("cache_dir"))
    if as_csv:
        click.echo(st.to_csv(index=False, date_format="%Y-%m-%d"), nl=False)
        return
    rows = [
        [r.symbol, (r.name[:44] + "…") if len(r.name) > 45 else r.name, _fmt_date(r.first),
         _fmt_date(r.last), r.rows, r.source,
         "-" if pd.isna(r.missing_sessions) else int(r.missing_sessions), r.note]
        for r in st.itertuples()
    ]
    click.echo(_table(rows, ["symbol", "name", "first", "last", "rows", "source", "missing",
                             "note"]))
    snap = resolve_snapshot_dir(o.get("snapshot"))
    ps = PinnedSnapshot()
    counts = st["source"].value_counts().to_dict()
    click.echo("")
    click.echo(f"{len(st)} series: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    click.echo(f"snapshot folder: {snap or 'none (set TRADESHOCK_SNAPSHOT or --snapshot)'}")
    click.echo(f"pinned snapshot: {ps.path}" + (f" (as of {ps.manifest['as_of']})" if ps.exists()
                                                else " (missing)"))


def _symbol_list(_ctx, _param, values) -> list[str]:
    """``--exclude A,B --exclude C`` -> ``["A", "B", "C"]``."""
    return [s.strip() for v in values or () for s in v.split(",") if s.strip()]


def _import_fix(directory, errors: pd.DataFrame) -> str:
    """How a CLI user gets past validation errors of an import: the options, with the values."""
    bad = list(dict.fromkeys(errors["symbol"]))
    dates = errors["date"].dropna()
    since = (f" `--since {pd.Timestamp(dates.max()) + pd.Timedelta(days=1):%Y-%m-%d}` (only "
             "rows after them),") if len(dates) else ""
    return (f"Fix those rows in the files, or leave them out: `tradeshock data import {directory} "
            f"--exclude {','.join(bad)}` (without these series),{since} or `--drop-bad` (without "
            f"the {len(errors)} bad row(s), listed when imported).")


def _drop_bad_rows(report) -> list[str]:
    """Remove the rows with validation errors from ``report.series``; the rows dropped."""
    dropped = []
    errors = report.errors
    for sym, g in errors.groupby("symbol", sort=False):
        if sym not in report.series:
            continue
        df = report.series[sym]
        bad_dates = set(g["date"].dropna())
        keep = ~df["date"].isin(bad_dates)
        if "duplicate_date" in set(g["problem"]):
            keep &= ~df.duplicated("date", keep="first")
        report.series[sym] = df[keep].reset_index(drop=True)
        dropped += [f"{sym} {r.date:%Y-%m-%d} ({r.problem}: {r.detail})"
                    for r in g.itertuples() if pd.notna(r.date)]
    report.problems = report.problems[report.problems["severity"] != "error"]
    report.series = {s: df for s, df in report.series.items() if len(df)}
    return dropped


@data.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.argument("symbols", nargs=-1)
@click.option("--since", callback=_date, help="Import rows from this date only (default: all).")
@click.option("--exclude", "exclude", multiple=True, callback=_symbol_list,
              metavar="SYMBOL[,SYMBOL]",
              help="Leave these series out (e.g. ones that fail validation); repeatable.")
@click.option("--drop-bad", "drop_bad", is_flag=True,
              help="Import without the rows that fail validation (each one is listed).")
@click.pass_context
def import_(ctx, directory, symbols, since, exclude, drop_bad) -> None:
    """Validate an offline snapshot folder DIRECTORY and load its series into the cache.

    Every CSV is parsed strictly (a bad date, text in a price column or a duplicate date stops
    the import, naming file and line) and validated against its exchange calendar; nothing is
    written unless all series pass (--exclude leaves series out, --drop-bad leaves the failing
    rows out). The series are written all or nothing: a full disk leaves the cache as it was.
    Firm-level files are not cached: load_firms reads them from the snapshot folder or the
    pinned snapshot.
    """
    from tradeshock.core.fileset import describe_os_error
    from tradeshock.data.cache import PriceCache
    from tradeshock.data.foldercheck import validate_snapshot_folder
    from tradeshock.data.snapshot import SnapshotFolder
    from tradeshock.data.universe import load_universe, lookup
    from tradeshock.errors import DataWriteError

    o = _opts(ctx)
    uni = load_universe()
    if symbols:
        lookup(list(symbols), uni)
    wanted = list(symbols) or None
    if exclude:
        listed = SnapshotFolder(directory).symbols
        unknown = [s for s in exclude if s not in listed]
        if unknown:
            click.echo(f"--exclude: not in {directory} (nothing to leave out): "
                       f"{', '.join(unknown)}")
        wanted = [s for s in (wanted or sorted(listed)) if s not in set(exclude)]
    report = validate_snapshot_folder(directory, wanted, since=since, universe=uni)
    if report.absent and symbols:
        raise DataError(f"not in snapshot folder {directory}: {', '.join(report.absent)}")
    dropped = _drop_bad_rows(report) if drop_bad and not report.unreadable else []
    report.raise_for_errors("nothing was imported (the cache keeps what it had)",
                            _import_fix(directory, report.errors))
    if not report.series:
        raise DataError(f"nothing to import from {directory}")
    cache = PriceCache(o.get("cache_dir"))
    src = str(Path(directory).resolve())
    try:
        cache.write_set({"symbol": s, "prices": df, "origin": "snapshot", "covered_start": since,
                         "covered_end": df["date"].max(), "snapshot": src}
                        for s, df in report.series.items())
    except OSError as exc:
        raise DataWriteError(
            f"could not import into the cache {cache.path}: {describe_os_error(exc)}; nothing "
            "was imported (the cache keeps what it had). Fix: free space on that disk or make "
            f"it writable, or import into another cache folder: `tradeshock data --cache-dir DIR "
            f"import {directory}` (or set TRADESHOCK_CACHE=DIR)."
        ) from None
    click.echo(f"imported {len(report.series)} series from {directory} into {cache.path}")
    if exclude:
        click.echo(f"left out (--exclude): {', '.join(exclude)}")
    if dropped:
        click.echo(f"dropped {len(dropped)} row(s) that fail validation (--drop-bad):")
        for line in dropped:
            click.echo(f"  {line}")
    if report.warning_counts():
        click.echo("warnings (kept; see `tradeshock data status`): "
                   + "; ".join(report.warning_counts()))
    if report.unlisted:
        click.echo(f"not imported (not in data/universe.csv): {', '.join(report.unlisted)}")


#: ``tradeshock data fetch`` stops after this many consecutive network failures.
GIVE_UP_AFTER = 5


def _short(exc: Exception, limit: int = 160) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fetch_kept(fetch_online, symbol, start, end, uni, cache_dir, done: list[str]):
    """:func:`fetch_online` of one series, which must end up in the cache: a download the cache
    could not keep (disk full, read-only) stops the fetch with a message instead of "ok"."""
    import warnings

    from tradeshock.errors import CacheWriteWarning, DataWriteError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CacheWriteWarning)
        df = fetch_online(symbol, start, end, universe=uni, cache_dir=cache_dir)
    for w in caught:
        if issubclass(w.category, CacheWriteWarning):
            kept = (f"the {len(done)} series fetched before it were kept ({', '.join(done[:8])}"
                    f"{' …' if len(done) > 8 else ''})" if done else "nothing was fetched")
            raise DataWriteError(
                f"data fetch stopped: {w.message}; the download of {symbol} was not kept and "
                f"{kept}; the cache's earlier entries are as they were. Fix: free space on that "
                "disk or make it writable, or fetch into another cache folder: `tradeshock data "
                "--cache-dir DIR fetch` (or set TRADESHOCK_CACHE=DIR)."
            )
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return df


@data.command("fetch")
@click.argument("symbols", nargs=-1)
@click.option("--start", callback=_date, default="2023-10-01", show_default=True,
              help="First date (YYYY-MM-DD).")
@click.option("--end", callback=_date, help="Last date (default: latest).")
@click.pass_context
def fetch(ctx, symbols, start, end) -> None:
    """Download SYMBOLS (default: every universe series) from Yahoo/FRED into the cache.

    Needs network access. Each series uses its online source from data/universe.csv, with a
    timeout and retries with back-off. Gives up after 5 consecutive network failures (no
    network: the rest are not tried). Exit status 1 if any series failed, 2 without network.
    """
    from tradeshock.data.online import fetch_online, network_cause
    from tradeshock.data.universe import load_universe, lookup
    from tradeshock.errors import DataWriteError, NetworkError

    o = _opts(ctx)
    uni = load_universe()
    rows = lookup(list(symbols), uni) if symbols else uni
    failed: list[str] = []
    down: list[NetworkError] = []  # consecutive network failures
    done: list[str] = []
    for r in rows.itertuples():
        try:
            df = _fetch_kept(fetch_online, r.symbol, start, end, uni, o.get("cache_dir"), done)
        except NetworkError as exc:
            failed.append(r.symbol)
            down.append(exc)
            click.secho(f"FAILED {r.symbol}: network unreachable", fg="red", err=True)
            if len(down) >= GIVE_UP_AFTER:
                cause = network_cause(exc) or "the network is unreachable"
                raise NetworkError(
                    f"data fetch gave up after {len(down)} consecutive network failures "
                    f"({', '.join(failed[-len(down):])}; {len(rows) - len(failed)} series not "
                    f"tried): {cause}. Last: {_short(exc.__cause__ or exc)}. Fix: check the "
                    "network, or work offline: set TRADESHOCK_SNAPSHOT=DIR (a snapshot folder) "
                    "or use the pinned snapshot (`tradeshock data check`)."
                ) from None
            continue
        except DataWriteError:
            raise  # the cache cannot keep downloads: the next series would fail the same way
        except DataError as exc:
            failed.append(r.symbol)
            down.clear()
            click.secho(f"FAILED {r.symbol}: {_short(exc, 300)}", fg="red", err=True)
            continue
        down.clear()
        done.append(r.symbol)
        click.echo(f"ok     {r.symbol:<12} {len(df):>6} rows  {_fmt_date(df['date'].min())} .. "
                   f"{_fmt_date(df['date'].max())}  ({r.online_source}: {r.online_symbol})")
    if failed:
        click.secho(f"{len(failed)} of {len(rows)} series failed: {' '.join(failed)}. Check the "
                    "network; offline, use the pinned snapshot or TRADESHOCK_SNAPSHOT.",
                    fg="red", err=True)
        ctx.exit(1)


@data.command("pin")
@click.argument("snapshot_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--since", callback=_date, default="2023-10-01", show_default=True,
              help="Pin rows from this date on (series starting later keep their start).")
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: data/snapshot).")
def pin_cmd(snapshot_dir, since, out) -> None:
    """Build the pinned snapshot data/snapshot from the snapshot folder SNAPSHOT_DIR.

    Validates the folder, writes compact parquet files, manifest.json (provenance, sha256 per
    file, as-of date) and SOURCES.md atomically, and prints what changed. Running it again on
    the same input changes nothing.
    """
    from tradeshock.data.pin import pin

    res = pin(snapshot_dir, out_dir=out, since=since)
    total = sum(v["bytes"] for v in res.manifest["files"].values())
    if res.written:
        click.echo(f"pinned snapshot {res.out_dir}: as of {res.manifest['as_of']}, "
                   f"{len(res.manifest['series'])} series, {total / 1e6:.1f} MB of data")
        for line in res.changes:
            click.echo(f"  {line}")
    else:
        click.echo(f"no changes: {res.out_dir} is up to date (as of {res.manifest['as_of']})")
    if res.notes:
        click.echo(f"validation warnings and notes ({len(res.notes)}; kept, not errors):")
        for n in res.notes:
            click.echo(f"  {n}")


@data.command("check")
@_snapshot_option
@click.pass_context
def check(ctx, snapshot) -> None:
    """Verify the pinned snapshot and that every universe series can be served offline.

    Checks each pinned file against its manifest sha256, then finds for every series of
    data/universe.csv the source that would serve it (cache, snapshot folder, pinned). Prints
    the sources and as-of dates; exits non-zero with a message when something is missing.
    """
    from tradeshock.data.snapshot import PinnedSnapshot
    from tradeshock.data.status import series_status

    o = _opts(ctx, snapshot=snapshot)
    ps = PinnedSnapshot()
    if not ps.exists():
        raise PinnedSnapshotError(
            f"no pinned snapshot in {ps.path}. Restore it with `git checkout data/snapshot` "
            "(or build it with `tradeshock data pin SNAPSHOT_DIR`)."
        )
    ps.verify(force=True)
    click.echo(f"pinned snapshot {ps.path}: {len(ps.manifest['files'])} files match their "
               f"sha256; {len(ps.manifest['series'])} series; as of {ps.manifest['as_of']}")
    st = series_status(None, snapshot=o.get("snapshot"), cache_dir=o.get("cache_dir"),
                       missing_sessions=False)
    offline = st[st["source"].isin(["cache", "snapshot", "pinned"])]
    for src, g in offline.groupby("source"):
        click.echo(f"  {src}: {len(g)} series, as of {_fmt_date(g['last'].max())}")
    missing = st[~st.index.isin(offline.index)]
    if len(missing):
        raise DataError(
            f"{len(missing)} universe series cannot be served offline: "
            f"{', '.join(missing['symbol'])}. Rebuild the pinned snapshot from a snapshot folder "
            "that holds them (`tradeshock data pin DIR`), import one (`tradeshock data import "
            "DIR`), or fetch them online (`tradeshock data fetch SYMBOLS`)."
        )
    env = "TRADESHOCK_SNAPSHOT set" if os.environ.get("TRADESHOCK_SNAPSHOT") else \
        "TRADESHOCK_SNAPSHOT not set"
    click.echo(f"market data OK: all {len(st)} universe series available offline ({env}).")
