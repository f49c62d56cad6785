"""``tradeshock render``: execute notebooks and export shareable HTML (front end only).

All the work is :func:`tradeshock.pipeline.render.render_notebooks` (or, for a sweep,
:func:`tradeshock.pipeline.sweep.plan_sweep` + :func:`tradeshock.pipeline.render.render_jobs`);
this module parses options, prints progress and the summary table, and sets the exit code (0 all
good, 1 a notebook failed, 2 bad usage, bad parameters, a locked or unwritable output folder, an
unreachable Dask scheduler).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tradeshock.errors import ValidationError


@click.command("render")
@click.argument("notebooks", nargs=-1, metavar="[NOTEBOOK]...")
@click.option(
    "-p",
    "--param",
    "param_pairs",
    nargs=2,
    multiple=True,
    metavar="KEY VALUE",
    help="Set a notebook parameter (repeatable); the value is coerced to the type the "
    "notebook's 'parameters' cell declares.",
)
@click.option(
    "--params-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML mapping of parameters (`name: value`; or `NOTEBOOK: {name: value}` for "
    "one notebook). -p wins over the file.",
)
@click.option(
    "--sweep",
    "sweeps",
    multiple=True,
    metavar="KEY=V1,V2,...",
    help="Render one report per value of parameter KEY, named NOTEBOOK-VALUE "
    "(country_report-N225); values are checked like -p values before anything runs. "
    "Write KEY=[a, b] (YAML) for values with commas. Repeat for the cartesian product "
    "(first option varies slowest).",
)
@click.option(
    "--sweep-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="One report per row: a CSV with a header of parameter names (an empty cell keeps the "
    "default), or YAML: a list of mappings, or `KEY: [values]` columns read row by row. "
    "Crossed with --sweep if both are given.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Notebooks executed in parallel: processes [default: 1]; with --executor dask, "
    "local worker processes [default: 2], or with --scheduler the most tasks in flight "
    "[default: all worker threads].",
)
@click.option(
    "--executor",
    type=click.Choice(["process", "inline", "dask"]),
    default=None,
    help="Where notebooks run: 'process' (a fresh process each; default), 'inline' (in this "
    "process, one by one; debugging) or 'dask' (a local Dask cluster, or the one at "
    "--scheduler).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Address of a running Dask scheduler (tcp://HOST:8786); implies --executor dask. "
    "Its workers need tradeshock installed, the 'tradeshock' kernel, the notebooks and the "
    "output folder at the same paths (shared disk) and one thread each "
    "(`dask worker ADDRESS --nthreads 1`).",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder [default: the project's reports/]: new, empty, or one tradeshock made "
    "(marked by .tradeshock-reports); a folder with other files, or a project source folder, "
    "is refused.",
)
@click.option(
    "--bundle",
    is_flag=True,
    help="Afterwards, zip index.html and every report it links into OUT/tradeshock-reports.zip "
    "(for e-mail; the index works once unzipped).",
)
@click.option(
    "--bundle-to",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the zip here instead (implies --bundle); an existing file is replaced only if "
    "it is a bundle tradeshock made.",
)
@click.option(
    "--max-reports",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Most reports a sweep may start; a larger sweep is refused before anything runs "
    "(raise this to confirm it).",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Let a sweep replace reports of the same name made with other parameters "
    "(refused otherwise).",
)
@click.option("--force", is_flag=True, help="Re-execute even notebooks whose inputs are unchanged.")
@click.option("--show-code", is_flag=True, help="Show code cells in the HTML (hidden by default).")
@click.option(
    "--notebooks-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where NOTEBOOK names are looked up [default: the project's notebooks/].",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=600,
    show_default=True,
    help="Per-cell time limit in seconds; a slower cell fails its notebook.",
)
@click.option(
    "--kernel",
    default="tradeshock",
    show_default=True,
    help="Jupyter kernel to execute with (registered by `make kernel`).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar (cells) per notebook [default: when stderr is a "
    "terminal; otherwise one line per finished notebook].",
)
@click.pass_context
def render(
    ctx: click.Context,
    notebooks,
    param_pairs,
    params_file,
    sweeps,
    sweep_file,
    jobs,
    executor,
    scheduler,
    out,
    bundle,
    bundle_to,
    max_reports,
    replace,
    force,
    show_code,
    notebooks_dir,
    timeout,
    kernel,
    progress,
) -> None:
    """Execute NOTEBOOKs with papermill and export self-contained HTML reports.

    NOTEBOOK is a notebook path, a name in the notebooks folder (02_us_indices) or a unique
    prefix of one (02); none means every notebook there. Writes NAME.html and the executed
    NAME.ipynb per notebook, plus index.html and manifest.json, into the output folder.
    Notebooks whose inputs did not change since their last good render are not re-executed
    ("up to date"). A failing notebook keeps its last good NAME.html, writes NAME.failed.html
    beside it, and makes the command exit with status 1 after the others finish.

    A sweep (--sweep, --sweep-file) renders one report per value (or row) of the named
    notebook, all listed in the index with their parameters; -p values are fixed for all.

    \b
    Examples:
      tradeshock render
      tradeshock render 02_us_indices -p selloff_event china_34 -p estimation_window "-250:-11"
      tradeshock render --jobs 2 --force --out /tmp/reports
      tradeshock render --bundle
      tradeshock render country_report --sweep symbol=^N225,^HSI,^GDAXI --jobs 2
      tradeshock render country_report --sweep-file markets.csv -p event_window 0:3
      tradeshock render country_report --sweep symbol=^N225,^HSI --executor dask
      tradeshock render country_report --sweep-file markets.yaml --scheduler tcp://10.0.0.5:8786
    """
    from tradeshock.core.signals import terminate_as_interrupt
    from tradeshock.pipeline.executors import make_executor
    from tradeshock.pipeline.naming import default_notebooks_dir, default_out_dir, resolve_notebooks
    from tradeshock.pipeline.params import TextValue, read_params_file
    from tradeshock.pipeline.render import render_jobs, render_notebooks

    if scheduler and executor not in (None, "dask"):
        raise ValidationError(
            f"--scheduler {scheduler} needs --executor dask (got --executor {executor}); "
            "drop one of the two"
        )
    kind = executor or ("dask" if scheduler else "process")
    sweeping = bool(sweeps or sweep_file)
    if sweeping and not notebooks:
        raise ValidationError(
            "a sweep needs the notebook to sweep, e.g. "
            "`tradeshock render country_report --sweep symbol=^N225,^HSI`"
        )
    paths = resolve_notebooks(notebooks, notebooks_dir or default_notebooks_dir())
    params = read_params_file(params_file) if params_file else {}
    for key, value in param_pairs:
        if not key.isidentifier():
            raise ValidationError(
                f"-p {key!r}: a parameter name is a Python identifier (letters, digits, '_')"
            )
        params[key] = TextValue(value)
    jobs_list = None
    if sweeping:
        from tradeshock.pipeline.sweep import parse_sweep, plan_sweep, read_sweep_file, sweep_rows

        from tradeshock.pipeline.sweep import check_sweep_size

        axes = [parse_sweep(s) for s in sweeps]
        rows = sweep_rows(axes, read_sweep_file(sweep_file) if sweep_file else None)
        check_sweep_size(len(rows) * len(paths), max_reports, axes, len(paths))
        jobs_list = plan_sweep(paths, rows, params)  # every value checked before any work
    options = {"scheduler": scheduler} if kind == "dask" else {}
    runner = make_executor(kind, jobs=jobs if kind == "dask" else (jobs or 1), **options)
    out_dir = out or default_out_dir()
    if progress is None:
        progress = sys.stderr.isatty()
    bars = progress and kind != "dask"  # Dask workers' terminals are not ours

    def announce(record) -> None:
        if not bars:  # a line per notebook instead of bars (logs, CI, Dask)
            took = (
                ""
                if record.seconds is None or not record.executed
                else f" in {record.seconds:.1f} s"
            )
            click.echo(f"{record.name}: {record.status}{took}", err=True)

    common = {
        "jobs": getattr(runner, "jobs", None) or 1,
        "force": force,
        "show_code": show_code,
        "timeout": timeout,
        "kernel": kernel,
        "progress": bars,
        "executor": runner,
        "on_record": announce,
    }
    if bundle_to is not None:  # before any work: never overwrite a file we did not make
        from tradeshock.pipeline.bundle import BUNDLE_NAME, check_bundle_dest

        check_bundle_dest(bundle_to, default=out_dir / BUNDLE_NAME)
    try:
        with terminate_as_interrupt():
            if jobs_list is not None:
                summary = render_jobs(jobs_list, out_dir, replace=replace, **common)
            else:
                summary = render_notebooks(paths, out_dir, params=params, **common)
    except KeyboardInterrupt as exc:
        _stopped(ctx, exc, out_dir)
    _print_summary(summary)
    for note in summary.notes:
        click.secho(f"note: {note}", fg="yellow", err=True)
    if bundle or bundle_to:
        from tradeshock.pipeline.bundle import write_bundle

        made = write_bundle(out_dir, bundle_to)
        click.echo(f"bundle: {made.summary()}")
    if summary.failed:
        names = ", ".join(f"{r.name} ({r.error})" for r in summary.failed)
        click.secho(f"failed: {names}", fg="red", err=True)
        ctx.exit(1)


def _stopped(ctx: click.Context, exc: KeyboardInterrupt, out_dir: Path) -> None:
    """One line for a render stopped by SIGTERM, SIGHUP or Ctrl-C (workers and kernels were
    stopped and the lock released on the way out); exit 143, 129 or 130."""
    from tradeshock.core.signals import exit_status, stop_reason

    how = stop_reason(exc)
    click.secho(
        f"error: render stopped by {how}: notebooks still running were stopped and the lock on "
        f"{out_dir} released; reports finished before the stop were kept, the others are as they "
        "were. Run the same command again to finish.",
        fg="red",
        err=True,
    )
    ctx.exit(exit_status(exc))


def _print_summary(summary) -> None:
    from rich.console import Console
    from rich.table import Table

    from tradeshock.pipeline.outputs import FAILED, OK

    console = Console(highlight=False, soft_wrap=False)
    if summary.cleared_stale_lock:
        info = summary.cleared_stale_lock
        console.print(
            f"[yellow]cleared a stale lock left by pid {info.get('pid')} "
            f"(started {info.get('started')}), which is no longer running[/]"
        )
    table = Table(title="tradeshock render", title_justify="left", expand=False)
    for column, kw in [
        ("notebook", {"overflow": "fold", "min_width": 8}),
        ("status", {"no_wrap": True}),
        ("data as of", {}),
        ("parameters", {"overflow": "fold"}),
        ("run time", {"justify": "right"}),
        ("report", {"overflow": "fold"}),
    ]:
        table.add_column(column, **kw)
    style = {OK: "green", FAILED: "bold red"}
    for r in summary.records:
        params = ", ".join(f"{k}={v!r}" for k, v in r.params.items()) or "defaults"
        seconds = "—" if r.seconds is None else f"{r.seconds:.1f} s"
        if not r.executed and r.seconds is not None:
            seconds += " (earlier)"
        report = _rel(r.html, summary.out_dir) if r.html else "—"
        table.add_row(
            r.name,
            f"[{style.get(r.status, 'cyan')}]{r.status}[/]",
            r.as_of or "—",
            params,
            seconds,
            report,
        )
    console.print(table)
    n_fail, n_run = len(summary.failed), len(summary.executed)
    console.print(
        f"{len(summary.records)} notebook(s): {n_run} executed, {len(summary.up_to_date)} up to "
        f"date, {n_fail} failed in {summary.seconds:.1f} s -> {summary.index}"
    )


def _rel(path: Path, base: Path) -> str:
    """``path`` relative to the current folder when it is below it, else as it is."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
