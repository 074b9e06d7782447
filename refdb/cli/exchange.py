"""Commands that exchange files: import and export."""

from __future__ import annotations

from pathlib import Path

import typer

from refdb import api
from refdb.api import DEFAULT_STYLE
from refdb.cli.context import (
    command_line,
    handled,
    library,
    note,
    print_json,
    progress_bar,
    show_value,
    write_or_keep,
)
from refdb.cli.options import (
    AsJson,
    DryRun,
    ExportFormat,
    Indication,
    Indications,
    Keep,
    Output,
    Style,
)


def import_command(
    ctx: typer.Context,
    path: Path = typer.Argument(
        ...,
        help=".bib, .ris, .json (CSL-JSON), .nbib (PubMed's MEDLINE format, also as .txt), "
        "or .txt (one PMID, DOI, PubMed link or title a line, looked up on PubMed).",
    ),
    indications: Indications = None,
    dry_run: DryRun = False,
    strict: bool = typer.Option(
        False, "--strict", help="Refuse the whole file on any warning or skipped entry."
    ),
    encoding: str | None = typer.Option(
        None, "--encoding", help="Read the file in this encoding (e.g. windows-1252)."
    ),
    as_json: AsJson = False,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="A line for every entry."),
) -> None:
    """Import references: each is added, or merged into the study it already is.

    An entry with a problem is kept with what can be kept (one warning line each); one that
    cannot be a reference is skipped (one line each). A file that cannot be read is refused.
    A .txt is read by what it holds: RIS, MEDLINE (PMID- first), or a list whose PMIDs,
    DOIs and PubMed links are fetched in batches and whose other lines are titles.
    """
    indications = indications or []
    if path.suffix.lower() == ".txt" and api.is_list_file(path):
        from refdb.cli.pubmed import import_list

        import_list(ctx, path, indications, dry_run, encoding)
        return
    with progress_bar(f"importing {path.name}") as progress:
        report = api.import_file(
            library(ctx),
            path,
            indications=indications,
            dry_run=dry_run,
            strict=strict,
            encoding=encoding,
            command=command_line(),
            progress=progress,
        )
    for problem in report.problems:
        stored = report.stored_key(problem)
        where = f" (stored as {stored})" if stored and stored != problem.key else ""
        note(f"{report.path}:{problem.line}: {problem.key}: {problem.message}{where}")
    if verbose:
        for result in report.summary.results:
            if result.action in ("added", "updated"):
                note(f"{result.action} {result.key}")
            for change in result.changes:
                if change.skipped:
                    note(
                        f"  {result.key}: kept {change.field} {show_value(change.old)} "
                        f"({change.skipped})"
                    )
    counts = ", ".join(f"{n} {action}" for action, n in report.counts().items())
    note(("dry run, nothing written: " if dry_run else "") + counts)
    if as_json:
        print_json(report.to_json())


def export_command(
    ctx: typer.Context,
    fmt: ExportFormat,
    style: Style = DEFAULT_STYLE,
    indication: Indication = None,
    ascii: bool = typer.Option(False, "--ascii", help="BibTeX: LaTeX escapes instead of UTF-8."),
    output: Output = None,
    keep: Keep = False,
) -> None:
    """The library, or one indication, in an exchange format or as a formatted bibliography."""
    options = api.OutputOptions(
        kind="export",
        fmt=fmt,
        style=style,
        indications=(indication,) if indication else (),
        ascii=ascii,
    )
    write_or_keep(ctx, options, output, keep)


def register(app: typer.Typer) -> None:
    """Add the exchange commands to the app."""
    app.command("import")(handled(import_command))
    app.command("export")(handled(export_command))
