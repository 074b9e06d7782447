"""Commands that change the library: seed, db upgrade (and db info, beside it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from refdb import api
from refdb.cli.context import command_line, handled, library, note, print_json

if TYPE_CHECKING:
    from refdb.api import SaveSummary

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


def report(summary: SaveSummary) -> None:
    """One line of counts, then what the store did that a person must hear of (a key
    replaced or kept as an alias, an identifier another study holds)."""
    counts = ", ".join(
        f"{summary.count(action)} {action}"
        for action in ("added", "updated", "unchanged", "skipped")
    )
    prefix = "dry run, nothing written: " if summary.dry_run else ""
    note(prefix + counts)
    for result in summary.results:
        for message in result.notes:
            note(f"  {result.key}: {message}")


def seed_command(ctx: typer.Context) -> None:
    """Load the clinic's list from seeds/ (a second run changes nothing)."""
    report(api.seed(library(ctx), command=command_line()))


def db_upgrade(ctx: typer.Context) -> None:
    """Create or migrate the database to the newest schema."""
    lib = library(ctx)
    note(f"database at schema {lib.db.revision()}")


def db_info(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Where the library is: the database URL (password hidden), its schema, what it holds."""
    info = api.db_info(library(ctx))
    if as_json:
        print_json(info.to_json())
        return
    schema = str(info.revision)
    if info.revision != info.newest_revision:
        schema += f" (refdb's newest is {info.newest_revision}: `refdb db upgrade`)"
    lines = [
        ("database", info.url),
        ("schema", schema),
        ("studies", str(info.studies)),
        ("indications", str(info.indications)),
        ("operations", str(info.operations)),
        ("kept outputs", str(len(info.outputs))),
    ]
    for label, value in lines:
        typer.echo(f"{label + ':':<14}{value}")
    for output in info.outputs:
        written = output.last_written_at
        stamp = written.strftime("%Y-%m-%d %H:%M:%S %Z").strip() if written else ""
        when = f"last written {stamp}" if written else "never written"
        problem = f"; last problem: {output.last_error}" if output.last_error else ""
        typer.echo(f"  {output.kind} {output.format}: {output.path} ({when}{problem})")


def register(app: typer.Typer) -> None:
    """Add the writing commands to the app."""
    app.command("seed")(handled(seed_command))
    db_app.command("upgrade")(handled(db_upgrade))
    db_app.command("info")(handled(db_info))
    app.add_typer(db_app, name="db")
