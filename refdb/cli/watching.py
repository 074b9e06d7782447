"""`refdb watch ...`: saved PubMed searches that propose new studies for the library."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import typer

from refdb import api
from refdb.cli.context import (
    command_line,
    handled,
    library,
    note,
    print_json,
    progress_bar,
    stdout_console,
)
from refdb.cli.options import AsJson
from refdb.cli.writing import report

if TYPE_CHECKING:
    from refdb.api import RunReport, WatchRun


watch_app = typer.Typer(
    help="Saved PubMed searches that propose new studies (per indication).",
    no_args_is_help=True,
)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "never"


def add_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A name for the search."),
    query: str = typer.Option(..., "--query", "-q", help="The PubMed (Entrez) query."),
    indication: str | None = typer.Option(
        None, "--indication", "-i", help="File accepted studies under this indication."
    ),
) -> None:
    """Save a PubMed search; `refdb watch run` proposes what it finds."""
    watch = api.watch_add(library(ctx), name, query, indication=indication)
    where = f" for {watch.indication}" if watch.indication else ""
    note(f"watch {watch.name!r} added{where}; its first run looks back 90 days (--days)")


def list_command(ctx: typer.Context, as_json: AsJson = False) -> None:
    """The saved searches, their last run and pending proposals."""
    found = api.watch_list(library(ctx))
    if as_json:
        print_json([w.to_json() for w in found])
        return
    from rich.table import Table

    table = Table("name", "query", "indication", "last run (UTC)", "pending")
    for watch in found:
        table.add_row(
            watch.name,
            watch.query,
            watch.indication or "",
            _when(watch.last_run_at),
            str(watch.pending),
        )
    stdout_console().print(table)


def remove_command(
    ctx: typer.Context, name: str = typer.Argument(..., help="The watch to delete.")
) -> None:
    """Delete a saved search and its pending proposals (dismissals are kept)."""
    dropped = api.watch_remove(library(ctx), name)
    note(f"removed watch {name!r} ({dropped} pending proposal(s) dropped)")


def _search_text(run: WatchRun) -> str:
    search = run.search
    if "reldate" in search:
        return f"added in the last {search['reldate']} days"
    return f"added {search['mindate']} to {search['maxdate']}"


def _print_run(result: RunReport) -> None:
    for run in result.runs:
        note(
            f"watch {run.watch.name!r}: {run.count} found ({_search_text(run)}); "
            f"{run.new} new, {run.pending} pending from an earlier run, "
            f"{run.known} already in the library or dismissed"
        )
    if not result.proposals:
        note("nothing to propose")
        return
    from rich.table import Table

    several = len({p.watch for p in result.proposals}) > 1
    table = Table("PMID", "year")
    table.add_column("title", ratio=1, overflow="fold")
    for header in ("first author", "journal", "level", *(["watch"] if several else [])):
        table.add_column(header)
    table.add_column("status")
    for column in table.columns[:2]:
        column.no_wrap = True
    for proposal in result.proposals:
        data = proposal.to_json()
        cells = [
            data["pmid"],
            str(data["year"] or ""),
            data["title"],
            data["first_author"] or "",
            data["journal"] or "",
            data["evidence_label"],
        ]
        if several:
            cells.append(data["watch"] or "")
        cells.append("pending" if proposal.pending else "new")
        table.add_row(*cells)
    stdout_console().print(table)
    if any(p.pending for p in result.proposals):
        note("pending: proposed by an earlier run, not yet accepted or dismissed")
    note(
        "refdb watch accept PMID... adds studies (undoable); refdb watch dismiss PMID... hides them"
    )


def run_command(
    ctx: typer.Context,
    names: list[str] | None = typer.Argument(None, help="Watches to run (default: all)."),
    days: int = typer.Option(
        90, "--days", min=1, max=36500, help="How far back a watch's first run looks."
    ),
    as_json: AsJson = False,
) -> None:
    """Propose what PubMed added since each watch last ran, not in the library nor dismissed."""
    lib = library(ctx)
    with progress_bar("fetching") as progress:
        result = api.watch_run(lib, names or (), days=days, progress=progress)
    if as_json:
        print_json(result.to_json())
        return
    if not result.runs:
        note("no watches (add one: refdb watch add NAME --query Q)")
        return
    _print_run(result)


def accept_command(
    ctx: typer.Context,
    pmids: list[str] = typer.Argument(..., help="PMIDs to add."),
    indication: str | None = typer.Option(
        None, "--indication", "-i", help="File them here, not under their watch's indication."
    ),
) -> None:
    """Add proposed studies to the library in one operation (refdb undo reverses it)."""
    summary = api.watch_accept(library(ctx), pmids, indication=indication, command=command_line())
    for result in summary.results:
        note(f"{result.key}: {result.action} ({result.title[:70]})")
    report(summary)


def dismiss_command(
    ctx: typer.Context, pmids: list[str] = typer.Argument(..., help="PMIDs to dismiss.")
) -> None:
    """Never propose these PMIDs again."""
    dismissed = api.watch_dismiss(library(ctx), pmids)
    note(f"dismissed {len(dismissed)}: {' '.join(dismissed)} (never proposed again)")


def register(app: typer.Typer) -> None:
    """Add `refdb watch ...` to the app."""
    for name, command in (
        ("add", add_command),
        ("list", list_command),
        ("remove", remove_command),
        ("run", run_command),
        ("accept", accept_command),
        ("dismiss", dismiss_command),
    ):
        watch_app.command(name)(handled(command))
    app.add_typer(watch_app, name="watch")
