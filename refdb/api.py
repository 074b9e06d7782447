"""refdb as a Python library: each function is one command, sources → store → renderers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from refdb.config import default_database_url
from refdb.errors import RefdbError
from refdb.outputs import (
    OutputOptions,
    keep_output,
    kept,
    refresh_kept_outputs,
    render_output,
    stop_keeping,
)
from refdb.records import IndicationSpec, Reference
from refdb.sources.problems import EntryProblem
from refdb.store.library import Library
from refdb.store.writer import SaveSummary

if TYPE_CHECKING:
    from refdb.render.feed import StudyDates
    from refdb.sources.pubmed import EutilsClient
    from refdb.store.changes import ChangeReport
    from refdb.store.curation import EditResult
    from refdb.store.duplicates import DuplicatePair
    from refdb.store.history import OperationInfo
    from refdb.store.info import DbInfo
    from refdb.store.watches import WatchInfo
    from refdb.watching import RunReport


def open_library(url: str | None = None) -> Library:
    """Open (creating and migrating on first use) the library at a SQLAlchemy URL; every
    change committed through it rewrites the kept outputs (`keep_output`)."""
    library = Library(url or default_database_url())
    library.db.after_change.append(lambda: refresh_kept_outputs(library))
    return library


def seed(library: Library, *, command: str = "refdb seed") -> SaveSummary:
    """Load the clinic's list from `seeds/`; a second run changes nothing."""
    from refdb.sources.seeds import SEED_SOURCE, load_seeds

    data = load_seeds()
    return library.save(data.studies, source=SEED_SOURCE, command=command, specs=data.indications)


def page(
    library: Library,
    *,
    style: str = "ama",
    fmt: str = "markdown",
    indication: str | None = None,
    levels: bool = True,
) -> str:
    """The evidence page: studies grouped under their indications' headings, formatted, each
    with its evidence level unless `levels` is False. Without `indication`, studies filed
    under none follow as "Other studies", as in `export` and `site`."""
    from refdb.render.page import render_page

    return render_page(_grouped(library, indication), style=style, fmt=fmt, levels=levels)


def _grouped(library: Library, indication: str | None) -> list[tuple[str, list[Reference]]]:
    """The page's groups: one indication's, or every indication's and then "Other studies"."""
    groups = library.page_groups(indication)
    if indication is None:
        unfiled = library.unfiled()
        if unfiled:
            groups.append((UNFILED_HEADING, unfiled))
    return groups


@dataclass
class SiteReport:
    """What `site` wrote: the folder, how many studies it shows, and its files."""

    path: Path
    studies: int
    files: list[str]


def site(
    library: Library,
    outdir: Path,
    *,
    style: str = "ama",
    indications: Sequence[str] = (),
) -> SiteReport:
    """Write the static evidence site into `outdir`, atomically (built beside it, swapped in).

    Studies are grouped under their indications in page order (only the named ones, when
    `indications` is given; otherwise studies filed under none follow as "Other studies").
    A folder there that refdb did not write, and that is not empty, is refused (RefdbError).
    """
    from refdb.publish import publish_folder
    from refdb.render.site import MARKER, SiteGroup, distinct_studies, render_site

    wanted = {name.casefold() for name in indications}
    infos = library.indications()
    for name in indications:
        if not any(info.name.casefold() == name.casefold() for info in infos):
            library.page_groups(name)  # raises the store's "no such indication" error
    groups = [
        SiteGroup(info.name, heading, refs)
        for info in infos
        if not wanted or info.name.casefold() in wanted
        for heading, refs in library.page_groups(info.name)
    ]
    if not wanted:
        unfiled = library.unfiled()
        if unfiled:
            groups.append(SiteGroup("", UNFILED_HEADING, unfiled))
    shown = {group.name for group in groups}
    specs = [IndicationSpec(i.name, i.heading, i.position) for i in infos if i.name in shown]
    from refdb.store.changes import last_change

    distinct = distinct_studies(groups)
    files = render_site(
        groups,
        style=style,
        indications=specs,
        dates=_study_dates(library, distinct),
        updated=last_change(library.db),
    )
    publish_folder(outdir, files, marker=MARKER)
    return SiteReport(outdir, len(distinct), sorted(files))


def _study_dates(library: Library, refs: Sequence[Reference]) -> dict[str, StudyDates]:
    """When each study (by key) entered the library and last changed, from the log."""
    from refdb.render.feed import StudyDates
    from refdb.store.changes import study_times

    times = study_times(library.db, [ref.id for ref in refs if ref.id is not None])
    dates = {}
    for ref in refs:
        found = times.get(ref.id) if ref.id is not None else None
        if found is not None:
            dates[ref.key or ""] = StudyDates(found.added or found.changed, found.changed)
    return dates


def changes(library: Library, since: str | None = None) -> ChangeReport:
    """What changed since a date ("2026-11-01", local time; or an ISO 8601 time) or after an
    operation ("12"), as a reader of the page would say it. Without `since`: since a kept
    page or site was last written, or, when none is kept, since the library began."""
    from datetime import datetime

    from refdb.store.changes import changes_since, last_page_written

    if since is None:
        written = last_page_written(library.db)
        if written is None:
            return changes_since(library.db)
        return changes_since(library.db, since=written[0], basis="kept", basis_path=written[1])
    text = since.strip()
    if text.isdigit():
        return changes_since(library.db, since_operation=int(text), basis="operation")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RefdbError(
            f"--since {since!r}: neither a date (2026-11-01), a time (2026-11-01T09:30) "
            "nor an operation number (see `refdb history`)"
        ) from None
    return changes_since(library.db, since=moment.astimezone(), basis="date")


def changes_text(report: ChangeReport) -> str:
    """A changes report as text, in a page reader's words (`refdb changes`)."""
    from refdb.render.changes import render_changes

    return render_changes(report)


def changes_json(report: ChangeReport) -> dict[str, Any]:
    """A changes report as JSON (`refdb changes --json`)."""
    from refdb.render.changes import changes_json as to_json

    return to_json(report)


EXPORT_FORMATS = ("bibtex", "biblatex", "csl-json", "ris", "text", "markdown", "html")
UNFILED_HEADING = "Other studies"


@dataclass
class ImportReport:
    """What an import did: the store's summary and the problems of the file's entries."""

    path: str
    summary: SaveSummary
    problems: list[EntryProblem] = field(default_factory=list)

    def stored_key(self, problem: EntryProblem) -> str | None:
        """The key the entry of a problem is stored under (None when it was skipped)."""
        if problem.index is None or problem.index >= len(self.summary.results):
            return None
        return self.summary.results[problem.index].key

    def counts(self) -> dict[str, int]:
        """Entries added, updated, unchanged, skipped, and warned about (kept with a problem)."""
        counts = {a: self.summary.count(a) for a in ("added", "updated", "unchanged", "skipped")}
        counts["skipped"] += sum(1 for p in self.problems if p.skipped)
        warned = {
            (p.index, p.key if p.index is None else "") for p in self.problems if not p.skipped
        }
        counts["warned"] = len(warned)
        return counts

    def to_json(self) -> dict[str, Any]:
        """The report as JSON: counts, then each skipped or warned entry (key, line, reason)."""

        def entry(problem: EntryProblem) -> dict[str, Any]:
            data: dict[str, Any] = {"key": problem.key, "line": problem.line}
            data["reason"] = problem.message.removeprefix("skipped: ")
            stored = self.stored_key(problem)
            if stored is not None:
                data["stored_as"] = stored
            return data

        return {
            "file": self.path,
            "dry_run": self.summary.dry_run,
            "counts": self.counts(),
            "skipped": [entry(p) for p in self.problems if p.skipped],
            "warnings": [entry(p) for p in self.problems if not p.skipped],
        }


def is_titles_file(path: Path) -> bool:
    """True for a `.txt` of identifiers and titles (looked up on PubMed), False for RIS or
    MEDLINE saved as `.txt`;
    RefdbError for a file that cannot be imported (Web of Science text, a missing file)."""
    if not path.is_file():
        raise RefdbError(f"{path}: no such file")
    from refdb.sources.files import kind_of_text_file

    return kind_of_text_file(path) == "titles"


def import_file(
    library: Library,
    path: Path,
    *,
    indications: Sequence[str] = (),
    dry_run: bool = False,
    strict: bool = False,
    encoding: str | None = None,
    command: str = "refdb import",
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import a `.bib`, `.ris`, CSL-JSON or MEDLINE (`.nbib`) file: each entry added, or
    merged into its match.

    An entry with a problem is kept with what can be kept, one that cannot be a reference is
    skipped; both are in the report. With `strict`, any such problem refuses the whole file
    (RefdbError naming the first; nothing written).
    """
    if path.is_dir():
        raise RefdbError(f"{path}: a folder, not a file")
    if not path.is_file():
        raise RefdbError(f"{path}: no such file")
    from refdb.sources.files import read_references, source_name  # loaded for an import only

    read = read_references(path, encoding)
    if strict:
        _refuse(path, read.sorted_problems())
    source = source_name(path)
    summary = SaveSummary(dry_run=dry_run)
    with library.change(command, dry_run=dry_run) as writer:
        for spec in read.indications:
            writer.ensure_indication(spec)
        summary.results = writer.save(
            read.references, source=source, indications=indications, progress=progress
        )
        for index, result in enumerate(summary.results):
            for message in result.notes:
                read.warn(read.lines[index], read.labels[index], message, index=index)
        if strict:  # what the store had to say refuses the file too, and rolls it back
            _refuse(path, read.sorted_problems())
    summary.operation_id = writer.operation_id
    return ImportReport(str(path), summary, read.sorted_problems())


def _refuse(path: Path, problems: Sequence[EntryProblem]) -> None:
    """--strict: RefdbError naming the first problem, when there is one."""
    if problems:
        first = problems[0]
        raise RefdbError(
            f"{path}:{first.line}: {first.key}: {first.message} "
            f"(--strict: {len(problems)} problem{'s' if len(problems) > 1 else ''}; "
            "nothing written)"
        )


def export(
    library: Library,
    fmt: str,
    *,
    style: str = "ama",
    indication: str | None = None,
    ascii: bool = False,
) -> str:
    """The library (or one indication) in an exchange format or as a formatted bibliography."""
    if fmt not in EXPORT_FORMATS:
        raise RefdbError(f"unknown format {fmt!r} (use {', '.join(EXPORT_FORMATS)})")
    if fmt in ("text", "markdown", "html"):
        from refdb.render.page import render_bibliography

        return render_bibliography(_grouped(library, indication), style=style, fmt=fmt)
    refs = library.studies(indication)
    if fmt == "csl-json":
        from refdb.render.csljson import render_csl_json

        return render_csl_json(refs)
    if fmt == "ris":
        from refdb.render.ris import render_ris

        return render_ris(refs)
    from refdb.render.bibtex import render_biblatex, render_bibtex

    # Declare only the indications these studies are filed under, in page order.
    used = {name for ref in refs for name in ref.indications}
    specs = [
        IndicationSpec(i.name, i.heading, i.position)
        for i in library.indications()
        if i.name in used
    ]
    render = render_biblatex if fmt == "biblatex" else render_bibtex
    return render(refs, ascii=ascii, indications=specs)


# --- curation: each call is one undoable operation ------------------------------------------


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


# --- watched PubMed searches (refdb/watching.py) --------------------------------------------


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
    client: EutilsClient | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunReport:
    """Run watches (all when none is named): what PubMed added since each last ran, not in the
    library and not dismissed, with earlier proposals still pending."""
    from refdb import watching

    return watching.run(library, names, days=days, client=client, progress=progress)


def watch_accept(
    library: Library,
    pmids: Sequence[str],
    *,
    indication: str | None = None,
    command: str = "refdb watch accept",
    client: EutilsClient | None = None,
) -> SaveSummary:
    """Add proposed (or any) PubMed studies in one undoable operation, filed under the
    proposing watch's indication unless `indication` is given."""
    from refdb import watching

    return watching.accept(library, pmids, indication=indication, command=command, client=client)


def watch_dismiss(library: Library, pmids: Sequence[str]) -> list[str]:
    """Never propose these PMIDs again (not an undoable operation)."""
    from refdb import watching

    return watching.dismiss(library, pmids)


__all__: Sequence[str] = [
    "ImportReport",
    "Library",
    "OutputOptions",
    "SiteReport",
    "changes",
    "changes_json",
    "changes_text",
    "db_info",
    "export",
    "import_file",
    "keep_output",
    "kept",
    "open_library",
    "page",
    "render_output",
    "seed",
    "site",
    "stop_keeping",
    "watch_accept",
    "watch_add",
    "watch_dismiss",
    "watch_list",
    "watch_remove",
    "watch_run",
]
