"""Commands that change the library: seed, db upgrade."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from refdb.cli.context import command_line, handled, library, note

if TYPE_CHECKING:
    from refdb.store.writer import SaveSummary

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
    from refdb import api

    report(api.seed(library(ctx), command=command_line()))


def db_upgrade(ctx: typer.Context) -> None:
    """Create or migrate the database to the newest schema."""
    lib = library(ctx)
    note(f"database at schema {lib.db.revision()}")


def register(app: typer.Typer) -> None:
    """Add the writing commands to the app."""
    app.command("seed")(handled(seed_command))
    db_app.command("upgrade")(handled(db_upgrade))
    app.add_typer(db_app, name="db")
