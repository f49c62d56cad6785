"""``tradeshock study``: an event study from a CSV of returns, for scripted use and cross-checks.

Front end only: reads and validates the CSV, calls :func:`tradeshock.engine.study.event_study`,
writes the result tables atomically. Every input problem is reported with the file, column and line
and how to fix it (exit status 2).
"""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
import pandas as pd

from tradeshock.errors import StudyError, ValidationError

__all__ = ["STUDY_TABLES", "check_study_out", "read_returns_csv", "study", "write_csv_atomic"]

_CLI_MODELS = ("mean", "market_adjusted", "market")


def read_returns_csv(path: Path) -> pd.DataFrame:
    """Read a wide returns CSV: a ``date`` column, one column per security, fractions.

    Raises :class:`ValidationError` naming the file, column and line (1-based, header = line 1) of
    the first problem.
    """
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise ValidationError(f"{path}: no such file; pass --returns PATH to a CSV") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValidationError(
            f"{path}: not a readable CSV ({exc}); save it as comma-separated UTF-8"
        ) from None
    _refuse_duplicate_columns(path)
    raw.columns = [str(c).strip() for c in raw.columns]
    if "date" not in raw.columns:
        raise ValidationError(
            f"{path}: no 'date' column (columns: {', '.join(raw.columns[:10])}); name the column "
            "of session dates 'date' (YYYY-MM-DD)"
        )
    if len(raw) == 0:
        raise ValidationError(f"{path}: has a header but no rows of returns")
    dates = pd.to_datetime(raw["date"].str.strip(), format="ISO8601", errors="coerce")
    if dates.isna().any():
        i = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise ValidationError(
            f"{path}, line {i + 2}, column 'date': {raw['date'].iloc[i]!r} is not a date; "
            "write dates as YYYY-MM-DD"
        )
    if getattr(dates.dt, "tz", None) is not None:
        raise ValidationError(
            f"{path}, column 'date': dates carry a time zone; write plain YYYY-MM-DD session dates"
        )
    dup = dates.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise ValidationError(
            f"{path}, line {i + 2}: date {dates.iloc[i].date()} appears more than once; "
            "keep one row per session"
        )
    secs = [c for c in raw.columns if c != "date"]
    if not secs:
        raise ValidationError(
            f"{path}: only a 'date' column; add one column of returns per security"
        )
    empty = [c for c in secs if c == "" or c.startswith("Unnamed:")]
    if empty:
        raise ValidationError(
            f"{path}: a column has no name in the header; name every security column"
        )
    out = {}
    missing_tokens = {"", "na", "nan", "null", "none", "#n/a"}
    for c in secs:
        txt = raw[c].str.strip()
        num = pd.to_numeric(txt, errors="coerce")
        bad = num.isna() & ~txt.str.lower().isin(missing_tokens)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValidationError(
                f"{path}, line {i + 2}, column {c!r}: {raw[c].iloc[i]!r} is not a number; write "
                "simple returns as fractions with a dot (0.0123), and leave a missing value empty"
            )
        out[c] = num.to_numpy(dtype=float)
    frame = pd.DataFrame(out, index=pd.DatetimeIndex(dates.dt.normalize(), name="date"))
    return frame.sort_index()


def _refuse_duplicate_columns(path: Path) -> None:
    """pandas would rename a repeated column ``X`` to ``X.1``: refuse, naming the duplicates."""
    from tradeshock.core.csvheader import duplicate_columns

    dups = duplicate_columns(path)
    if dups:
        named = "; ".join(f"{n!r} in columns {', '.join(map(str, w))}" for n, w in dups.items())
        raise ValidationError(
            f"{path}, line 1: column name(s) used more than once: {named}; give each security "
            "one column with a unique name (keep one of the duplicates, or rename them)"
        )


def write_csv_atomic(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` atomically
    (:func:`~tradeshock.core.fileio.atomic_write_bytes`)."""
    from tradeshock.core.fileio import atomic_write_bytes

    atomic_write_bytes(Path(path), frame.to_csv(index=False, date_format="%Y-%m-%d").encode())


def _write_tables(out_dir: Path, tables: dict[str, pd.DataFrame]) -> None:
    """Write the result tables into ``out_dir`` as one set (all or none;
    :func:`~tradeshock.core.fileio.write_file_set`); a disk that is full or read-only is a
    :class:`~tradeshock.errors.TradeshockError` naming the folder, the reason and the fix."""
    from tradeshock.core.fileio import write_file_set
    from tradeshock.errors import FileSetError, TradeshockError

    data = {
        name: _dates_only(tab).to_csv(index=False, date_format="%Y-%m-%d").encode()
        for name, tab in tables.items()
    }
    check_study_out(out_dir, list(data))  # checked before the study too; the folder may change
    _clean_crashed(out_dir, list(data))
    try:
        write_file_set(out_dir, data)
    except OSError as exc:
        raise TradeshockError(
            f"cannot write the study tables to {out_dir}: {exc.strerror or exc}; free disk "
            "space or make the folder writable, or choose another folder with --out. Nothing "
            f"was written: files already in {out_dir} are as they were"
        ) from None
    except FileSetError as exc:
        raise TradeshockError(
            f"cannot write the study tables to {out_dir}: {exc}. Run the study again once the "
            "folder is writable"
        ) from None


#: The tables a study writes into --out, each with the start of its header line: an existing
#: file of that name is replaced only when it starts so (a table an earlier study wrote).
STUDY_TABLES = {
    "daily_tests.csv": "date,test,statistic,p_value",
    "car_tests.csv": "window_start,window_end,",
    "abnormal_returns.csv": "security,date,day,ar,",
    "estimates.csv": "security,model,",
    "excluded.csv": "security,reason,detail",
}


def _written_by_study(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as fh:
            first = fh.readline()
    except (OSError, UnicodeDecodeError):
        return False
    return first.startswith(STUDY_TABLES.get(path.name, "\0"))


def check_study_out(out_dir: Path, names: list[str]) -> None:
    """Refuse (:class:`~tradeshock.errors.OutputFolderError`, before anything is written) an
    ``--out`` that is a project source folder, a file, or a folder where a table name already
    exists that is not a table an earlier study wrote (its header, :data:`STUDY_TABLES`)."""
    from tradeshock.errors import OutputFolderError
    from tradeshock.pipeline.outdir import check_not_source_folder

    fix = "choose a new or empty folder with --out (e.g. --out /tmp/study)"
    check_not_source_folder(out_dir, option="--out", fix=fix)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputFolderError(f"--out {out} is a file, not a folder; {fix}")
    if not out.is_dir():
        return
    clash = [n for n in names if ((out / n).exists() or (out / n).is_symlink())
             and ((out / n).is_symlink() or not _written_by_study(out / n))]
    if clash:
        raise OutputFolderError(
            f"--out {out} already holds {', '.join(clash)}, which tradeshock study did not write "
            "(not a study table), so they are not overwritten; nothing was written. "
            f"Fix: {fix}, or move those files away first"
        )


def _clean_crashed(out_dir: Path, names: list[str]) -> None:
    """Remove what a study killed without clean-up left in ``out_dir`` over an hour ago: its
    staging folder (``.tradeshock-set.XXXXXXXX.tmp``) and backups of the tables."""
    import time

    from tradeshock.core.fileio import clean_temp_of

    before = time.time() - 3600
    for name in ["tradeshock-set", *names]:
        clean_temp_of(Path(out_dir) / name, before)


def _dates_only(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    return out


@click.command("study")
@click.option(
    "--returns",
    "returns_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Wide CSV: a 'date' column (YYYY-MM-DD) and one column of simple returns (fractions) "
    "per security.",
)
@click.option(
    "--market",
    "market_col",
    default=None,
    metavar="COLUMN",
    help="Column of the CSV with the market's returns (needed by 'market' and "
    "'market_adjusted'; not a security).",
)
@click.option(
    "--estimation",
    required=True,
    metavar="START:END",
    help="Estimation window, dates inclusive (e.g. 2023-01-02:2023-09-08), or day offsets "
    "with --day0.",
)
@click.option(
    "--event",
    required=True,
    metavar="START:END",
    help="Event window, dates inclusive (e.g. 2023-10-06:2023-10-24), or day offsets with --day0.",
)
@click.option(
    "--model",
    type=click.Choice(_CLI_MODELS),
    default="market",
    show_default=True,
    help="Normal-return model: constant mean, market-adjusted, or OLS market model.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for daily_tests.csv, car_tests.csv, abnormal_returns.csv, estimates.csv, "
    "excluded.csv.",
)
@click.option(
    "--car-window",
    "car_windows",
    multiple=True,
    metavar="START:END",
    help="CAR window inside the event window (dates inclusive, or day offsets); repeat for "
    "several. "
    "Default: the whole event window.",
)
@click.option(
    "--day0",
    default=None,
    metavar="DATE",
    help="Day 0 (a date of the CSV inside the event window). Default: the event window's "
    "first date.",
)
@click.option(
    "--min-obs",
    default=30,
    show_default=True,
    type=click.IntRange(min=1),
    help="Fewest estimation-window returns a security needs; fewer excludes it (listed in "
    "excluded.csv).",
)
@click.option(
    "--adjust",
    type=click.Choice(["holm", "fdr_bh"]),
    default=None,
    help="Add p_adjusted (per test, across days or windows): Holm or Benjamini-Hochberg.",
)
@click.option(
    "--n-boot",
    default=2000,
    show_default=True,
    type=click.IntRange(min=100),
    help="Bootstrap draws for the CAAR interval.",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the bootstrap.")
@click.option(
    "--summary/--no-summary",
    "show_summary",
    default=False,
    help="Also print the result's text summary.",
)
def study(
    returns_path: Path,
    market_col: str | None,
    estimation: str,
    event: str,
    model: str,
    out_dir: Path,
    car_windows: tuple[str, ...],
    day0: str | None,
    min_obs: int,
    adjust: str | None,
    n_boot: int,
    seed: int,
    show_summary: bool,
) -> None:
    """Run an event study on a CSV of returns and write its tables to --out.

    \b
    Example (dates inclusive):
      tradeshock study --returns R.csv --market MKT --model market \\
          --estimation 2023-01-02:2023-09-08 --event 2023-10-06:2023-10-24 \\
          --car-window 2023-10-06:2023-10-17 --out results/

    \b
    Writes (each file atomically):
      daily_tests.csv       date, test, statistic, p_value: every event day x test
      car_tests.csv         window_start, window_end, date_start, date_end, test, statistic,
                            p_value, n, caar, ci_low, ci_high
      abnormal_returns.csv  security, date, day, ar, ret, expected
      estimates.csv         security, model, alpha, beta, resid_sd, r2, n_obs, est_start, est_end
      excluded.csv          security, reason, detail (securities left out, and why)
    """
    # imported on use: keeps `tradeshock --help` fast
    from tradeshock.engine.study import event_study

    check_study_out(out_dir, list(STUDY_TABLES))  # before any work
    frame = read_returns_csv(returns_path)
    if model in ("market", "market_adjusted") and not market_col:
        raise ValidationError(
            f"model {model!r} needs the market's returns: add --market COLUMN naming a column of "
            f"{returns_path} (columns: {', '.join(map(str, frame.columns[:10]))})"
        )
    if market_col is not None and market_col not in frame.columns:
        raise ValidationError(
            f"{returns_path}: no column {market_col!r} for --market (columns: "
            f"{', '.join(map(str, frame.columns[:10]))}{' …' if frame.shape[1] > 10 else ''}); "
            "pass the name of the market's column exactly"
        )
    if market_col is not None and model == "mean":
        frame = frame.drop(columns=[market_col])  # the market is not a security
        market_arg = None
    else:
        market_arg = market_col
    try:
        res = event_study(
            frame,
            day0,
            model=model,
            market=market_arg,
            estimation=estimation,
            event=event,
            car_windows=list(car_windows) or None,
            min_estimation_obs=min_obs,
            adjust=adjust,
            n_boot=n_boot,
            seed=seed,
        )
        if res.n_securities == 0:
            reasons = "; ".join(
                f"{s}: {d}" for s, d in zip(res.excluded.security, res.excluded.detail)
            )
            raise StudyError(f"every security was excluded ({reasons})")
        daily = res.tests
        cart = res.car_tests
    except StudyError as exc:
        raise StudyError(f"{returns_path}: {exc}") from exc

    daily_cols = ["date", "test", "statistic", "p_value"] + (["p_adjusted"] if adjust else [])
    car_cols = [
        "window_start",
        "window_end",
        "date_start",
        "date_end",
        "test",
        "statistic",
        "p_value",
        "n",
        "caar",
        "ci_low",
        "ci_high",
    ] + (["p_adjusted"] if adjust else [])
    tables = {
        "daily_tests.csv": daily.reindex(columns=daily_cols),
        "car_tests.csv": cart.reindex(
            columns=[c for c in car_cols if c in cart.columns or c in ("date_start", "date_end")]
        ),
        "abnormal_returns.csv": res.abnormal_returns,
        "estimates.csv": res.estimates.drop(columns=["column", "day0"]),
        "excluded.csv": res.excluded,
    }
    _write_tables(out_dir, tables)
    click.echo(
        f"study: model {model}, {res.n_securities} securities, {len(res.excluded)} excluded, "
        f"{len(res.days)} event days, {len(res.car_windows)} CAR window(s)"
    )
    for s, r, d in zip(res.excluded.security, res.excluded.reason, res.excluded.detail):
        click.secho(f"excluded {s}: {r} ({d})", fg="yellow", err=True)
    click.echo(f"wrote {', '.join(tables)} to {out_dir}")
    if show_summary:
        click.echo(str(res.summary()))
