"""Commands that curate: tag, untag, edit, remove, search, duplicates, history, undo."""

from __future__ import annotations

import sys

import typer

from refdb import api
from refdb.cli.context import (
    command_line,
    handled,
    library,
    note,
    print_json,
    show_value,
    stdout_console,
)
from refdb.cli.options import AsJson, Ref, Refs

# Each command imports `refdb.api` (SQLAlchemy) and rich's Table when it runs, so that
# `refdb --help` loads neither.


def tag_command(
    ctx: typer.Context,
    ref: Ref,
    indications: list[str] = typer.Argument(..., help="Indications (created on first use)."),
) -> None:
    """File a study under indications."""
    added = api.tag(library(ctx), ref, indications, command=command_line())
    note(f"{ref}: tagged {', '.join(added)}" if added else f"{ref}: already tagged")


def untag_command(
    ctx: typer.Context,
    ref: Ref,
    indications: list[str] = typer.Argument(..., help="Indications to remove."),
) -> None:
    """Take a study out of indications."""
    removed = api.untag(library(ctx), ref, indications, command=command_line())
    note(f"{ref}: untagged {', '.join(removed)}" if removed else f"{ref}: was not tagged so")


def edit_command(
    ctx: typer.Context,
    ref: Ref,
    assignments: list[str] = typer.Option(
        ..., "--set", help="FIELD=VALUE (e.g. year=2015, doi=10.1/x, authors='Doe, J; Roe, R')."
    ),
) -> None:
    """Change fields of a study by hand (enrichment will not overwrite them)."""
    result = api.edit(library(ctx), ref, assignments, command=command_line())
    if not result.changed:
        note(f"{result.key}: nothing changed")
    for name, old, new in result.changed:
        note(f"{result.key}: {name}: {show_value(old)} -> {show_value(new)}")


def remove_command(
    ctx: typer.Context,
    refs: Refs,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete studies (`refdb undo` brings them back)."""
    lib = library(ctx)
    if not yes and sys.stdin.isatty():
        keys = [lib.get(ref).key for ref in refs]
        typer.confirm(f"Remove {', '.join(str(k) for k in keys)}?", abort=True, err=True)
    removed = api.remove(lib, refs, command=command_line())
    note(f"removed {', '.join(removed)} (refdb undo brings them back)")


def search_command(
    ctx: typer.Context,
    words: list[str] = typer.Argument(
        ..., metavar="QUERY", help="Words to find in title, abstract, authors, journal, key."
    ),
    as_json: AsJson = False,
) -> None:
    """Search the library, best match first."""
    query = " ".join(words)
    refs = library(ctx).search(query)
    if as_json:
        print_json([ref.to_dict() for ref in refs])
        return
    if not refs:
        note(f"no study matches {query!r}")
        return
    from rich.table import Table

    table = Table("key", "first author", "year", "title")
    for ref in refs:
        table.add_row(ref.key, ref.first_author, str(ref.year or ""), ref.title)
    stdout_console().print(table)


def duplicates_command(
    ctx: typer.Context,
    merge: bool = typer.Option(False, "--merge", help="Merge each pair into its older study."),
) -> None:
    """Likely duplicates (same PMID/DOI, or near-identical title and year), side by side."""
    from rich.table import Table

    lib = library(ctx)
    pairs = api.duplicates(lib)
    if not pairs:
        note("no likely duplicates")
        return
    table = Table("score", "why", "keep", "duplicate")
    for pair in pairs:
        table.add_row(
            f"{pair.score:.0f}",
            pair.reason,
            f"{pair.keep.key}\n{pair.keep.title}\n{pair.keep.first_author} {pair.keep.year or ''}",
            f"{pair.other.key}\n{pair.other.title}\n{pair.other.first_author} {pair.other.year or ''}",
        )
    stdout_console().print(table)
    if merge:
        merged = api.merge_duplicates(lib, command=command_line())
        note(f"merged {len(merged)} pair(s) (refdb undo reverses it)")


def history_command(
    ctx: typer.Context,
    limit: int = typer.Option(
        20, "--limit", "-n", min=0, max=10**6, help="How many operations (0: all)."
    ),
    as_json: AsJson = False,
) -> None:
    """What changed: one line per operation, newest first."""
    from rich.table import Table

    ops = api.history(library(ctx), limit or None)
    if as_json:
        print_json([vars(op) for op in ops])
        return
    table = Table("op", "when (UTC)", "who", "command", "rows", "state")
    for op in ops:
        state = (
            f"undone by {op.undone_by}"
            if op.undone_by
            else (f"undoes {op.undoes}" if op.undoes else "")
        )
        table.add_row(
            str(op.id),
            op.at.strftime("%Y-%m-%d %H:%M:%S"),
            op.user,
            op.command,
            str(op.changes),
            state,
        )
    stdout_console().print(table)


def undo_command(
    ctx: typer.Context,
    operation: int | None = typer.Argument(
        None, min=1, max=2**31 - 1, help="Operation number (default: the last)."
    ),
) -> None:
    """Reverse the last operation, or a named one when nothing later touched the same rows."""
    done = api.undo(library(ctx), operation, command=command_line())
    note(f"undid operation {done.undone} (as operation {done.operation})")


def register(app: typer.Typer) -> None:
    """Add the curation commands to the app."""
    for name, command in (
        ("tag", tag_command),
        ("untag", untag_command),
        ("edit", edit_command),
        ("remove", remove_command),
        ("search", search_command),
        ("duplicates", duplicates_command),
        ("history", history_command),
        ("undo", undo_command),
    ):
        app.command(name)(handled(command))
