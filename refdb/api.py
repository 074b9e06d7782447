"""refdb as a Python library: one function for each command, the one surface the CLI uses.

Each function opens nothing but what its command needs: the modules behind it load when it
is called (a lazy import points down the flow), so that importing `refdb.api`, and with it
every command's start-up, stays cheap. The flow behind: sources → Reference records → store
(one write path, `Library.change`) → queries → renderers; kept outputs are rewritten after
each change that commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from refdb.errors import AmbiguousTitleError as AmbiguousTitleError
from refdb.errors import LookupFailedError as LookupFailedError
from refdb.errors import NotFoundError as NotFoundError
from refdb.errors import RefdbError as RefdbError
from refdb.formats import DEFAULT_STYLE as DEFAULT_STYLE
from refdb.formats import STYLE_HELP as STYLE_HELP
from refdb.formats import ExportFormat as ExportFormat
from refdb.formats import OutputOptions as OutputOptions
from refdb.formats import PageFormat as PageFormat

if TYPE_CHECKING:
    from refdb.enrichment import CheckReport as CheckReport
    from refdb.enrichment import EnrichSummary as EnrichSummary
    from refdb.enrichment import TitleImportSummary as TitleImportSummary
    from refdb.importing import ImportReport as ImportReport
    from refdb.records import Author as Author
    from refdb.records import Reference as Reference
    from refdb.sites import SiteReport as SiteReport
    from refdb.sources.pubmed import Candidate as Candidate
    from refdb.store.changes import ChangeReport as ChangeReport
    from refdb.store.curation import EditResult as EditResult
    from refdb.store.database import Committed as Committed
    from refdb.store.duplicates import DuplicatePair as DuplicatePair
    from refdb.store.history import OperationInfo as OperationInfo
    from refdb.store.info import DbInfo as DbInfo
    from refdb.store.kept_outputs import KeptOutputInfo as KeptOutputInfo
    from refdb.store.library import Library as Library
    from refdb.store.watches import WatchInfo as WatchInfo
    from refdb.store.writer import SaveSummary as SaveSummary
    from refdb.watching import RunReport as RunReport
    from refdb.watching import WatchRun as WatchRun

Progress = Callable[[int, int], None]
"""Called with (done, total) as long work goes on (a progress bar)."""


def open_library(url: str | None = None) -> Library:
    """Open (creating and migrating on first use) the library at a SQLAlchemy URL, or the
    default one; every change committed through it rewrites the kept outputs."""
    from refdb.config import default_database_url
    from refdb.store.library import Library

    library = Library(url or default_database_url())
    library.db.after_change.append(lambda committed: _refresh_kept(library, committed))
    return library


def _refresh_kept(library: Library, committed: Committed) -> None:
    """After a change committed: rewrite the kept outputs, as far as the change reaches
    (loaded only by a command that changed something, not by every read)."""
    from refdb.kept import refresh_kept_outputs

    refresh_kept_outputs(library, committed)


# --- into the library --------------------------------------------------------------------------


def seed(library: Library, *, command: str = "refdb seed") -> SaveSummary:
    """Load the clinic's list from `seeds/`; a second run changes nothing."""
    from refdb import importing

    return importing.seed(library, command=command)


def import_file(
    library: Library,
    path: Path,
    *,
    indications: Sequence[str] = (),
    dry_run: bool = False,
    strict: bool = False,
    encoding: str | None = None,
    command: str = "refdb import",
    progress: Progress | None = None,
) -> ImportReport:
    """Import a `.bib`, `.ris`, CSL-JSON or MEDLINE file, entry by entry (see `importing`)."""
    from refdb import importing

    return importing.import_file(
        library,
        path,
        indications=indications,
        dry_run=dry_run,
        strict=strict,
        encoding=encoding,
        command=command,
        progress=progress,
    )


def is_list_file(path: Path) -> bool:
    """True for a `.txt` of PMIDs, DOIs, PubMed links and titles (looked up on PubMed); False
    for RIS or MEDLINE saved as `.txt`."""
    from refdb import importing

    return importing.is_titles_file(path)


def import_list(
    library: Library,
    path: Path,
    *,
    indications: Sequence[str] = (),
    dry_run: bool = False,
    encoding: str | None = None,
    command: str = "refdb import",
    progress: Progress | None = None,
) -> TitleImportSummary:
    """Look each line of a list up on PubMed (identifiers in batches, titles one by one) and
    store what was found, in one transaction."""
    from refdb import enrichment

    return enrichment.import_titles(
        library,
        path,
        indications=indications,
        dry_run=dry_run,
        command=command,
        progress=progress,
        encoding=encoding,
    )


def add(
    library: Library,
    *,
    pmid: str | None = None,
    doi: str | None = None,
    title: str | None = None,
    indications: Sequence[str] = (),
    command: str = "refdb add",
) -> SaveSummary:
    """Look one study up on PubMed (by PMID, DOI or title) and store it under indications;
    AmbiguousTitleError (with its candidates) when no record matches a title closely."""
    from refdb import enrichment

    return enrichment.add(
        library, pmid=pmid, doi=doi, title=title, indications=indications, command=command
    )


def enrich(
    library: Library,
    refs: Sequence[str] = (),
    *,
    all: bool = False,
    dry_run: bool = False,
    force: bool = False,
    command: str = "refdb enrich",
    progress: Progress | None = None,
) -> EnrichSummary:
    """Fill and refresh stored studies from PubMed, field by field, in one transaction."""
    from refdb import enrichment

    return enrichment.enrich(
        library, refs, all=all, dry_run=dry_run, force=force, command=command, progress=progress
    )


def check(
    library: Library, *, command: str = "refdb check", progress: Progress | None = None
) -> CheckReport:
    """Re-fetch every study with a PMID and flag retractions, errata, expressions of concern."""
    from refdb import enrichment

    return enrichment.check(library, command=command, progress=progress)


def candidates_text(candidates: Sequence[Candidate]) -> list[str]:
    """PubMed candidates for a title as lines for a person (score, PMID, year, author, title)."""
    from refdb import enrichment

    return enrichment.candidates_text(candidates)


# --- curation: each call is one undoable operation --------------------------------------------


def tag(
    library: Library, ref: str, names: Sequence[str], *, command: str = "refdb tag"
) -> list[str]:
    """File a study under indications (created on first use); the ones newly added."""
    from refdb.store import curation

    with library.change(command) as writer:
        return curation.tag(writer, ref, names)


def untag(
    library: Library, ref: str, names: Sequence[str], *, command: str = "refdb untag"
) -> list[str]:
    """Take a study out of indications; the ones it was removed from."""
    from refdb.store import curation

    with library.change(command) as writer:
        return curation.untag(writer, ref, names)


def edit(
    library: Library, ref: str, assignments: Sequence[str], *, command: str = "refdb edit"
) -> EditResult:
    """Set fields of a study by hand (`FIELD=VALUE`, the names `refdb edit` shows); each is
    then kept against every other source. A bad value is RefdbError and nothing is written."""
    from refdb.fields import parse_assignments
    from refdb.store import curation

    try:
        values = parse_assignments(assignments)
    except ValueError as exc:
        raise RefdbError(str(exc)) from None
    with library.change(command) as writer:
        result = curation.edit(writer, ref, values)
    result.operation_id = writer.operation_id
    return result


def remove(library: Library, refs: Sequence[str], *, command: str = "refdb remove") -> list[str]:
    """Delete studies (undo brings them back); their keys."""
    from refdb.store import curation

    with library.change(command) as writer:
        return curation.remove(writer, refs)


def update_indication(
    library: Library,
    name: str,
    *,
    rename: str | None = None,
    heading: str | None = None,
    position: int | None = None,
    command: str = "refdb indications",
) -> None:
    """Rename an indication, change its page heading or its place on the page."""
    from refdb.store import curation

    if rename is None and heading is None and position is None:
        raise RefdbError("give --rename, --heading or --position to change an indication")
    with library.change(command) as writer:
        curation.update_indication(writer, name, rename=rename, heading=heading, position=position)


def duplicates(library: Library) -> list[DuplicatePair]:
    """Likely duplicate pairs, best match first (nothing is changed)."""
    return library.duplicates()


def merge_duplicates(
    library: Library, *, command: str = "refdb duplicates --merge"
) -> list[DuplicatePair]:
    """Merge every likely duplicate pair into its older study, as one operation."""
    from refdb.store import curation

    with library.change(command) as writer:
        return curation.merge_duplicates(writer)


@dataclass
class UndoReport:
    """Which operation was undone, and the operation that undid it."""

    undone: int
    operation: int | None


def undo(
    library: Library, operation: int | None = None, *, command: str = "refdb undo"
) -> UndoReport:
    """Reverse the last operation (or a named one) when nothing later touched its rows."""
    from refdb.store import curation

    with library.change(command) as writer:
        target = curation.undo(writer, operation)
    return UndoReport(target.id, writer.operation_id)


def history(library: Library, limit: int | None = None) -> list[OperationInfo]:
    """The change log, newest first."""
    return library.history(limit)


def db_info(library: Library) -> DbInfo:
    """The database in use (URL with the password hidden), its schema revision, the counts of
    studies, indications and operations, and the kept outputs."""
    from refdb.store.info import database_info

    return database_info(library.db)


# --- what readers see ----------------------------------------------------------------------------


def page(
    library: Library,
    *,
    style: str = DEFAULT_STYLE,
    fmt: str = "markdown",
    indication: str | None = None,
    levels: bool = True,
) -> str:
    """The evidence page (see `views.page`)."""
    from refdb import views

    return views.page(library, style=style, fmt=fmt, indication=indication, levels=levels)


def export(
    library: Library,
    fmt: str,
    *,
    style: str = DEFAULT_STYLE,
    indication: str | None = None,
    ascii: bool = False,
) -> str:
    """The library (or one indication) in an exchange format or as a bibliography."""
    from refdb import views

    return views.export(library, fmt, style=style, indication=indication, ascii=ascii)


def site(
    library: Library,
    outdir: Path,
    *,
    style: str = DEFAULT_STYLE,
    indications: Sequence[str] = (),
) -> SiteReport:
    """Write the static evidence site into `outdir`, atomically (built beside it, swapped in).

    Studies are grouped under their indications in page order (only the named ones, when
    `indications` is given; otherwise studies filed under none follow as "Other studies").
    A folder there that refdb did not write, and that is not empty, is refused (RefdbError).
    """
    from refdb.sites import write_site

    return write_site(library, outdir, style=style, indications=indications)


def describe(ref: Reference) -> str:
    """A study in full, one field a line, with where each came from (`refdb show`)."""
    from refdb.render.summary import describe as describe_study

    return describe_study(ref)


def level_label(ref: Reference) -> str:
    """The short label of a study's evidence level ("RCT", "Preclinical (animal)")."""
    from refdb.evidence import label_of

    return label_of(ref)


def changes(library: Library, since: str | None = None) -> ChangeReport:
    """What changed since a date or after an operation, as a reader of the page would say it
    (see `views.changes`)."""
    from refdb import views

    return views.changes(library, since)


def changes_text(report: ChangeReport) -> str:
    """A changes report as text, in a page reader's words (`refdb changes`)."""
    from refdb.render.changes import render_changes

    return render_changes(report)


def changes_json(report: ChangeReport) -> dict[str, Any]:
    """A changes report as JSON (`refdb changes --json`)."""
    from refdb.render.changes import changes_json as to_json

    return to_json(report)


# --- kept outputs ----------------------------------------------------------------------------


def render_output(library: Library, options: OutputOptions) -> str:
    """The text of a page or an export with these options."""
    from refdb import kept

    return kept.render_output(library, options)


def keep_output(library: Library, path: str | Path, options: OutputOptions) -> Path:
    """Write an output and keep it current: it is rewritten after every later change."""
    from refdb import kept

    return kept.keep_output(library, path, options)


def kept(library: Library) -> list[KeptOutputInfo]:
    """The outputs kept current, in the order they were registered."""
    from refdb import kept as kept_module

    return kept_module.kept(library)


def stop_keeping(library: Library, path: str | Path) -> Path:
    """Stop keeping an output current (the file stays); RefdbError when it is not kept."""
    from refdb import kept

    return kept.stop_keeping(library, path)


# --- watched PubMed searches ------------------------------------------------------------------


def watch_add(
    library: Library, name: str, query: str, *, indication: str | None = None
) -> WatchInfo:
    """Save a PubMed search under a name, for an indication (not an undoable operation)."""
    from refdb import watching

    return watching.add(library, name, query, indication)


def watch_list(library: Library) -> list[WatchInfo]:
    """The watches, with their last run and pending proposals."""
    from refdb import watching

    return watching.watches(library)


def watch_remove(library: Library, name: str) -> int:
    """Delete a watch and its pending proposals; returns how many were dropped."""
    from refdb import watching

    return watching.remove(library, name)


def watch_run(
    library: Library,
    names: Sequence[str] = (),
    *,
    days: int = 90,
    progress: Progress | None = None,
) -> RunReport:
    """Run watches (all when none is named): what PubMed added since each last ran, not in the
    library and not dismissed, with earlier proposals still pending."""
    from refdb import watching

    return watching.run(library, names, days=days, progress=progress)


def watch_accept(
    library: Library,
    pmids: Sequence[str],
    *,
    indication: str | None = None,
    command: str = "refdb watch accept",
) -> SaveSummary:
    """Add proposed (or any) PubMed studies in one undoable operation, filed under the
    proposing watch's indication unless `indication` is given."""
    from refdb import watching

    return watching.accept(library, pmids, indication=indication, command=command)


def watch_dismiss(library: Library, pmids: Sequence[str]) -> list[str]:
    """Never propose these PMIDs again (not an undoable operation)."""
    from refdb import watching

    return watching.dismiss(library, pmids)
