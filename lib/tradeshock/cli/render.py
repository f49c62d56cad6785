"""``tradeshock render``: execute notebooks and export shareable HTML (front end only).

All the work is :func:`tradeshock.render.render_notebooks`; this module parses options, prints
progress and the summary table, and sets the exit code (0 all good, 1 a notebook failed,
2 bad usage, bad parameters, a locked or unwritable output folder).
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
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Notebooks executed in parallel (one process each).",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder [default: the project's reports/].",
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
    jobs,
    out,
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

    \b
    Examples:
      tradeshock render
      tradeshock render 02_us_indices -p event pause -p estimation_window "-250:-11"
      tradeshock render --jobs 2 --force --out /tmp/reports
    """
    from tradeshock.params import TextValue, read_params_file
    from tradeshock.render import (
        default_notebooks_dir,
        default_out_dir,
        render_notebooks,
        resolve_notebooks,
    )

    paths = resolve_notebooks(notebooks, notebooks_dir or default_notebooks_dir())
    params = read_params_file(params_file) if params_file else {}
    for key, value in param_pairs:
        if not key.isidentifier():
            raise ValidationError(
                f"-p {key!r}: a parameter name is a Python identifier (letters, digits, '_')"
            )
        params[key] = TextValue(value)
    out_dir = out or default_out_dir()
    if progress is None:
        progress = sys.stderr.isatty()

    def announce(record) -> None:
        if not progress:  # a line per notebook instead of bars (logs, CI)
            took = (
                ""
                if record.seconds is None or not record.executed
                else f" in {record.seconds:.1f} s"
            )
            click.echo(f"{record.name}: {record.status}{took}", err=True)

    summary = render_notebooks(
        paths,
        out_dir,
        params=params,
        jobs=jobs,
        force=force,
        show_code=show_code,
        timeout=timeout,
        kernel=kernel,
        progress=progress,
        on_record=announce,
    )
    _print_summary(summary)
    if summary.failed:
        names = ", ".join(f"{r.name} ({r.error})" for r in summary.failed)
        click.secho(f"failed: {names}", fg="red", err=True)
        ctx.exit(1)


def _print_summary(summary) -> None:
    from rich.console import Console
    from rich.table import Table

    from tradeshock.render import FAILED, OK

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
