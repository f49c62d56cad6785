"""``tradeshock doctor``: check an installation and say what to fix."""

from __future__ import annotations

import click


@click.command()
@click.option("--reports", type=click.Path(file_okay=False), default=None,
              help="Reports folder to check (default: the project's reports/).")
@click.option("--kernel", default="tradeshock", show_default=True, help="Jupyter kernel name.")
@click.option("--online/--no-online", default=True, show_default=True,
              help="Check that Yahoo and FRED can be reached (a note, not a failure, when not).")
def doctor(reports: str | None, kernel: str, online: bool) -> None:
    """Check the kernel, packages, data sources, cache and reports folder; print what to fix."""
    from tradeshock.pipeline.doctor import run_checks

    checks = run_checks(kernel=kernel, reports=reports, online=online)
    for c in checks:
        if not c.ok:
            mark = click.style("FAIL", fg="red")
        elif c.note:
            mark = click.style("note", fg="yellow")
        else:
            mark = click.style("ok  ", fg="green")
        click.echo(f"{mark} {c.name:16s} {c.detail}")
        if not c.ok and c.fix:
            click.echo(f"     {'':16s} fix: {c.fix}")
    failed = [c.name for c in checks if not c.ok]
    if failed:
        click.echo(f"{len(failed)} problem(s): {', '.join(failed)}", err=True)
        raise SystemExit(1)
    click.echo("installation healthy")
