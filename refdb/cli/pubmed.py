"""Commands that ask PubMed: add, enrich, check (and the `.txt` branch of `refdb import`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from refdb import api
from refdb.cli.context import (
    command_line,
    fail,
    handled,
    library,
    note,
    progress_bar,
    show_value,
)
from refdb.cli.options import DryRun, Indications, SomeRefs
from refdb.cli.writing import report

if TYPE_CHECKING:
    from refdb.api import Candidate, SaveSummary


def _changes(summary: SaveSummary) -> None:
    """Per study, the fields that change (old -> new) and those kept (edited by hand)."""
    for result in summary.results:
        if not result.changes:
            continue
        note(f"{result.key}: {result.action}")
        for change in result.changes:
            old, new = show_value(change.old), show_value(change.new)
            if change.skipped:
                note(f"  {change.field}: kept {old} ({change.skipped}); PubMed has {new}")
            else:
                note(f"  {change.field}: {old} -> {new}")


def _candidates(candidates: list[Candidate]) -> None:
    for line in api.candidates_text(candidates):
        note(f"    {line}")


def add_command(
    ctx: typer.Context,
    pmid: str | None = typer.Option(None, "--pmid", help="PubMed ID."),
    doi: str | None = typer.Option(None, "--doi", help="DOI (10.NNNN/...)."),
    title: str | None = typer.Option(None, "--title", help="Title, resolved on PubMed."),
    indications: Indications = None,
) -> None:
    """Look a study up on PubMed and store it."""
    if sum(v is not None and bool(v.strip()) for v in (pmid, doi, title)) != 1:
        raise typer.BadParameter("give exactly one of --pmid, --doi or --title")
    try:
        summary = api.add(
            library(ctx),
            pmid=pmid,
            doi=doi,
            title=title,
            indications=indications or [],
            command=command_line(),
        )
    except api.AmbiguousTitleError as exc:
        note("candidates (score out of 100):")
        _candidates(exc.candidates)
        fail(str(exc))
    for result in summary.results:
        note(f"{result.key}: {result.action} ({result.title[:70]})")


def import_list(
    ctx: typer.Context,
    path: Path,
    indications: list[str],
    dry_run: bool,
    encoding: str | None = None,
) -> None:
    """`refdb import list.txt`: look each PMID, DOI, PubMed link or title up on PubMed, store
    the studies found."""
    with progress_bar(f"looking up {path.name}") as progress:
        summary = api.import_list(
            library(ctx),
            path,
            indications=indications,
            dry_run=dry_run,
            command=command_line(),
            progress=progress,
            encoding=encoding,
        )
    resolved = summary.having("resolved")
    ambiguous = summary.having("ambiguous")
    missing = summary.having("not found")
    note(
        f"{path.name}: {len(resolved)} resolved, {len(ambiguous)} ambiguous, {len(missing)} not found"
    )
    for outcome in ambiguous:
        note(f"  line {outcome.line}: ambiguous, not stored: {outcome.describe()}")
        _candidates(outcome.candidates)
    for outcome in missing:
        note(f"  line {outcome.line}: not found on PubMed: {outcome.describe()}")
    if not resolved:
        raise api.RefdbError(f"{path}: nothing found on PubMed; nothing stored")
    report(summary.saved)


def enrich_command(
    ctx: typer.Context,
    refs: SomeRefs = None,
    all_studies: bool = typer.Option(False, "--all", help="Every study, not only incomplete ones."),
    dry_run: DryRun = False,
    force: bool = typer.Option(False, "--force", help="Overwrite fields edited by hand too."),
) -> None:
    """Fill and refresh fields from PubMed; shows what changed (REFs, --all, or incomplete)."""
    if refs and all_studies:
        raise typer.BadParameter("give REFs or --all, not both")
    with progress_bar("enriching") as progress:
        summary = api.enrich(
            library(ctx),
            refs or (),
            all=all_studies,
            dry_run=dry_run,
            force=force,
            command=command_line(),
            progress=progress,
        )
    _changes(summary.saved)
    for item in summary.unresolved:
        note(f"{item.key}: {item.reason}: {item.title[:70]!r}")
        _candidates(item.candidates)
    report(summary.saved)


def check_command(ctx: typer.Context) -> None:
    """Re-query PubMed for retractions, corrections and expressions of concern; flag them."""
    with progress_bar("checking") as progress:
        result = api.check(library(ctx), command=command_line(), progress=progress)
    note(f"checked {result.checked} studies with a PMID: {len(result.flagged)} flagged")
    for flag in result.flagged:
        marker = " (new)" if flag.new else ""
        note(
            f"  {flag.key}: {flag.status.upper()}{marker}"
            + (f": {flag.status_note}" if flag.status_note else "")
        )
        if flag.pubmed_status != (None if flag.status == "none" else flag.status):
            said = flag.pubmed_status or "nothing"
            note(f"    PubMed says {said}; kept the status set by hand")
        note(f"    {flag.title[:90]}")
    for key in result.missing:
        note(f"  {key}: PMID not found on PubMed")


def register(app: typer.Typer) -> None:
    """Add the PubMed commands to the app."""
    app.command("add")(handled(add_command))
    app.command("enrich")(handled(enrich_command))
    app.command("check")(handled(check_command))
