"""The ``tradeshock`` command line: a thin front end over the library.

Each command group lives in its own module (``data``, ``events``, ``study``, ``render``,
``doctor``, ``refresh``) and is imported only when that command runs, so ``tradeshock --help``
and every command load only what they need (``benchmarks/bench_startup.py`` measures it). A
library error (:class:`~tradeshock.errors.TradeshockError`) is printed as one red line, exit 2.
"""

from __future__ import annotations

import importlib

import click

from tradeshock import __version__
from tradeshock.errors import TradeshockError

#: Command name -> one-line help shown by ``tradeshock --help`` (the module is cli/<name>.py).
COMMANDS: dict[str, str] = {
    "data": "Market data: where each series comes from, and keeping it available offline.",
    "events": "The 2025 tariff event calendar and exchange-aware day-0 alignment.",
    "study": "Run an event study on a CSV of returns and write its tables to --out.",
    "render": "Execute notebooks with papermill and export them to self-contained HTML.",
    "doctor": "Check the kernel, packages, data sources, cache and reports folder.",
    "refresh": "Fetch new market data, then re-render the reports whose data changed.",
}


class _Main(click.Group):
    """Commands loaded on first use; library errors shown as messages, not tracebacks."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        command = getattr(importlib.import_module(f"tradeshock.cli.{name}"), name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, text) for name, text in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):  # noqa: D102 - click API
        from tradeshock.core.signals import terminate_as_interrupt

        try:
            with terminate_as_interrupt():  # SIGTERM/SIGHUP run the same clean-up as Ctrl-C
                return super().invoke(ctx)
        except TradeshockError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            ctx.exit(2)
        except KeyboardInterrupt as exc:  # a command that did not say it itself
            _stopped(ctx, exc)
        except OSError as exc:  # a disk or permission problem no command worded: no traceback
            click.secho(f"error: {_os_error_message(ctx, exc)}", fg="red", err=True)
            ctx.exit(2)


def _command_name(ctx: click.Context) -> str:
    sub = getattr(ctx, "invoked_subcommand", None)
    return f"tradeshock {sub}" if sub else "tradeshock"


def _stopped(ctx: click.Context, exc: KeyboardInterrupt) -> None:
    """One line for a command stopped by a signal or Ctrl-C; exit 128 + signal (130 Ctrl-C)."""
    from tradeshock.core.signals import exit_status, stop_reason

    click.secho(
        f"error: {_command_name(ctx)} stopped by {stop_reason(exc)}: files are written "
        "atomically (each one old or new, never half; sets of files all or none), so what was "
        "finished is kept and the rest is as it was. Run the same command again to finish.",
        fg="red",
        err=True,
    )
    ctx.exit(exit_status(exc))


def _os_error_message(ctx: click.Context, exc: OSError) -> str:
    from tradeshock.core.fileset import describe_os_error

    return (
        f"{_command_name(ctx)} could not complete: {describe_os_error(exc)}. Files are written "
        "atomically, so none was left half-written. Fix: free disk space, make the folder "
        "writable, or point the command at another folder (--out, --cache-dir, "
        "TRADESHOCK_CACHE), then run it again."
    )


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tradeshock")
def main() -> None:
    """tradeshock: how markets reacted to the 2025 US tariff shocks.

    Market data, the tariff event calendar, event studies and rendered reports.
    """
