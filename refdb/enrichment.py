"""PubMed joined to the store: add, import titles, enrich and check studies.

These functions look records up through the PubMed client (refdb/sources/pubmed) and store them
through the Library (refdb/store). Every lookup happens before anything is written, and each
command's writes are one transaction: a PubMed failure midway writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from refdb.errors import AmbiguousTitleError, LookupFailedError, RefdbError
from refdb.identifiers import normalise_doi, typed_pmid
from refdb.records import Notice, Reference
from refdb.sources.idlist import ListLine, read_id_list
from refdb.sources.pubmed import (
    Candidate,
    EutilsClient,
    continue_title,
    fetch_pmids,
    first_title_search,
    open_client,
    record_with_doi,
    resolution_from,
    resolve_doi,
    resolve_title,
)
from refdb.store.library import Library
from refdb.store.writer import SaveSummary

PUBMED_SOURCE = "pubmed"

Progress = Callable[[int, int], None]
"""Called with (done, total) as lookups finish."""

INCOMPLETE_FIELDS = ("pmid", "container_title", "year", "volume", "issue", "pages")
"""A study missing any of these is enriched by a bare `refdb enrich`."""

CHECK_FIELDS = ("status", "status_note", "publication_types", "evidence_level")
"""What `refdb check` refreshes (notices are always merged in)."""

KEPT_WHEN_SET = ("container_title",)
"""Fields PubMed only fills: its journal title is the catalogue's ("The journal of pain :
official journal of the American Pain Society"), not the form a citation prints."""


@dataclass
class TitleOutcome:
    """One line of a list file (a PMID, DOI, PubMed link or title) and what PubMed made of it."""

    line: int
    title: str
    """The line as written."""
    reference: Reference | None = None
    candidates: list[Candidate] = field(default_factory=list)
    kind: str = "title"
    """'pmid', 'doi' or 'title'."""
    value: str | None = None
    """The PMID or DOI the line names (None for a title)."""

    @property
    def state(self) -> str:
        """'resolved', 'ambiguous' (candidates below the threshold) or 'not found'."""
        if self.reference is not None:
            return "resolved"
        return "ambiguous" if any(not c.notice for c in self.candidates) else "not found"

    def describe(self) -> str:
        """How a report names the line: 'PMID 12345678', 'DOI 10.1/x' or the title quoted."""
        if self.kind == "pmid":
            return f"PMID {self.value}"
        if self.kind == "doi":
            return f"DOI {self.value}"
        return repr(self.title[:80])


@dataclass
class TitleImportSummary:
    """The outcome of `refdb import titles.txt`: every title's lookup and what was stored."""

    outcomes: list[TitleOutcome]
    saved: SaveSummary

    def having(self, state: str) -> list[TitleOutcome]:
        """The titles that ended in this state."""
        return [o for o in self.outcomes if o.state == state]


@dataclass
class Unresolved:
    """A stored study that enrichment could not find on PubMed."""

    key: str
    title: str
    reason: str
    candidates: list[Candidate] = field(default_factory=list)


@dataclass
class EnrichSummary:
    """What `refdb enrich` changed, and the studies it could not find."""

    saved: SaveSummary
    unresolved: list[Unresolved] = field(default_factory=list)


@dataclass
class Flagged:
    """A study PubMed marks as retracted, corrected or under an expression of concern."""

    key: str
    title: str
    status: str
    status_note: str | None
    notices: list[Notice]
    new: bool
    pubmed_status: str | None = None
    """What PubMed says, when a status set by hand kept the stored one different."""


@dataclass
class CheckReport:
    """The outcome of `refdb check`."""

    checked: int
    flagged: list[Flagged]
    missing: list[str]
    saved: SaveSummary


def candidates_text(candidates: Sequence[Candidate], limit: int = 5) -> list[str]:
    """Candidates as lines for a person: score, PMID, year, first author, title."""
    lines = []
    for candidate in candidates[:limit]:
        ref = candidate.reference
        kind = " (notice, never taken)" if candidate.notice else ""
        lines.append(
            f"{candidate.score:5.1f}  PMID {ref.pmid or '-'}  {ref.year or '----'}  "
            f"{ref.first_author or '-'}: {ref.title[:90]}{kind}"
        )
    return lines


def lookup(
    client: EutilsClient,
    *,
    pmid: str | None = None,
    doi: str | None = None,
    title: str | None = None,
) -> Reference:
    """The PubMed record for one PMID, DOI or title; LookupFailedError when there is none."""
    given = [v for v in (pmid, doi, title) if v is not None and v.strip()]
    if len(given) != 1:
        raise RefdbError("give exactly one of --pmid, --doi or --title")
    if pmid is not None:
        wanted = typed_pmid(pmid)
        found = fetch_pmids(client, [wanted])
        if not found:
            raise LookupFailedError(f"PMID {wanted}: not found on PubMed")
        return found[0]
    if doi is not None:
        wanted_doi = normalise_doi(doi)
        ref = resolve_doi(client, wanted_doi or "")
        if ref is None:
            raise LookupFailedError(f"DOI {wanted_doi or doi}: not found on PubMed")
        return ref
    title = title or ""
    resolution = resolve_title(client, title)
    if resolution.accepted is None:
        if not resolution.candidates:
            raise LookupFailedError(f"title {title.strip()[:80]!r}: not found on PubMed")
        best = resolution.best
        raise AmbiguousTitleError(
            f"title {title.strip()[:80]!r}: no PubMed record matches closely enough "
            f"(best score {best.score:.0f} of 100; nothing stored)"
            if best
            else f"title {title.strip()[:80]!r}: PubMed found only notices (nothing stored)",
            resolution.candidates,
        )
    return resolution.accepted


def add(
    library: Library,
    *,
    pmid: str | None = None,
    doi: str | None = None,
    title: str | None = None,
    indications: Sequence[str] = (),
    command: str,
    client: EutilsClient | None = None,
) -> SaveSummary:
    """Look one study up on PubMed (by PMID, DOI or title) and store it under indications."""
    with open_client(client) as eutils:
        ref = lookup(eutils, pmid=pmid, doi=doi, title=title)
    return library.save([ref], source=PUBMED_SOURCE, command=command, indications=indications)


def import_titles(
    library: Library,
    path: Path,
    *,
    indications: Sequence[str] = (),
    dry_run: bool = False,
    command: str,
    client: EutilsClient | None = None,
    progress: Progress | None = None,
    encoding: str | None = None,
) -> TitleImportSummary:
    """Look each line of a list file up on PubMed; store the studies found in one transaction.

    PMIDs and PubMed links are fetched by PMID, in batches of up to 200 per efetch; each DOI
    takes one esearch (`[aid]`/`[lid]`) and its record rides in the same batches; every other
    line is a title: one esearch for its phrase, whose candidates ride in the same batches,
    and only when none of them is close enough the further queries `refdb add --title` tries.
    So a list of n PMIDs, DOIs and titles costs one esearch per DOI and title and
    ceil(records / 200) efetch requests. Identifiers PubMed does not know, ambiguous titles
    and titles not found are reported, not stored. A PubMed failure midway raises before
    anything is written.
    """
    with open_client(client) as eutils:
        lines = read_id_list(path, encoding)
        outcomes = {
            item.line: TitleOutcome(
                item.line,
                item.text,
                kind=item.kind,
                value=None if item.kind == "title" else item.value,
            )
            for item in lines
        }
        try:
            found = _fetch_identifiers(eutils, lines, progress)
        except LookupFailedError as exc:
            raise LookupFailedError(f"{path}: {exc}; nothing stored") from None
        for item in lines:
            outcome = outcomes[item.line]
            if item.kind != "title":
                outcome.reference = found.records.get(item.line)
                continue
            candidates = [found.by_pmid[p] for p in found.searched[item.line] if p in found.by_pmid]
            resolution = resolution_from(item.value, candidates)
            if resolution.accepted is None:
                try:
                    continue_title(eutils, resolution)
                except LookupFailedError as exc:
                    raise LookupFailedError(
                        f"{path}: line {item.line}: {exc}; nothing stored"
                    ) from None
            outcome.reference = resolution.accepted
            outcome.candidates = resolution.candidates
    ordered = [outcomes[item.line] for item in lines]
    unique = {id(o.reference): o.reference for o in ordered if o.reference is not None}
    saved = library.save(
        list(unique.values()),
        source=PUBMED_SOURCE,
        command=command,
        indications=indications,
        dry_run=dry_run,
    )
    return TitleImportSummary(ordered, saved)


@dataclass
class _Fetched:
    """What a list's identifiers and titles found: the record each PMID or DOI line names
    (lines PubMed does not know are absent), each title line's first candidates, and every
    record fetched, by PMID."""

    records: dict[int, Reference]
    searched: dict[int, list[str]]
    by_pmid: dict[str, Reference]


def _fetch_identifiers(
    eutils: EutilsClient, items: Sequence[ListLine], progress: Progress | None
) -> _Fetched:
    """One esearch per DOI and per title, then every PMID (asked for, or found by those
    searches) in efetch batches of 200."""
    searched: dict[int, list[str]] = {}
    searches = [i for i in items if i.kind != "pmid"]
    for done, item in enumerate(searches, start=1):
        try:
            if item.kind == "doi":
                searched[item.line] = eutils.lookup_doi(item.value)
            else:
                searched[item.line] = first_title_search(eutils, item.value)
        except LookupFailedError as exc:
            raise LookupFailedError(f"line {item.line}: {exc}") from None
        if progress is not None:
            progress(done, len(items))
    asked = [i.value for i in items if i.kind == "pmid"]
    asked += [pmid for pmids in searched.values() for pmid in pmids]
    reported = [len(searches)]

    def fetched_so_far(done: int, of: int) -> None:
        now = len(searches) + ((len(items) - len(searches)) * done) // max(of, 1)
        if progress is not None and now > reported[0]:
            reported[0] = now
            progress(now, len(items))

    by_pmid = {ref.pmid: ref for ref in fetch_pmids(eutils, asked, fetched_so_far) if ref.pmid}
    records: dict[int, Reference] = {}
    for item in items:
        if item.kind == "pmid":
            ref = by_pmid.get(item.value)
        elif item.kind == "doi":
            candidates = [by_pmid[p] for p in searched[item.line] if p in by_pmid]
            ref = record_with_doi(candidates, item.value)
        else:
            continue
        if ref is not None:
            records[item.line] = ref
    return _Fetched(records, searched, by_pmid)


def studies_to_enrich(
    library: Library, refs: Sequence[str] = (), all: bool = False
) -> list[Reference]:
    """The named studies; every study with `all`; else those missing a PMID or citation field."""
    if refs:
        return [library.get(ref) for ref in refs]
    studies = library.studies()
    if all:
        return studies
    return [s for s in studies if any(getattr(s, f) in (None, "") for f in INCOMPLETE_FIELDS)]


def enrich(
    library: Library,
    refs: Sequence[str] = (),
    *,
    all: bool = False,
    dry_run: bool = False,
    force: bool = False,
    command: str,
    client: EutilsClient | None = None,
    progress: Progress | None = None,
) -> EnrichSummary:
    """Fill and refresh stored studies from PubMed, field by field, in one transaction.

    Studies with a PMID are fetched in batches; the others by DOI, else by title (scored with
    their year and first author). Fields edited by hand are kept unless `force`. The fetched
    record is applied to the study it was looked up for, so a PMID found for a seed study
    lands on that study even when PubMed spells the title a little differently.
    """
    with open_client(client) as eutils:
        studies = studies_to_enrich(library, refs, all)
        total = len(studies)
        done = 0
        updates: list[tuple[int, Reference]] = []
        unresolved: list[Unresolved] = []

        with_pmid = [s for s in studies if s.pmid]
        if with_pmid:
            by_pmid = {
                r.pmid: r for r in fetch_pmids(eutils, [s.pmid for s in with_pmid if s.pmid])
            }
            for study in with_pmid:
                fetched = by_pmid.get(study.pmid)
                if fetched is None:
                    unresolved.append(
                        Unresolved(_key(study), study.title, f"PMID {study.pmid} not found")
                    )
                else:
                    updates.append((_id(study), _fill_only(study, fetched)))
            done += len(with_pmid)
            if progress is not None:
                progress(done, total)

        for study in (s for s in studies if not s.pmid):
            try:
                fetched, missing = _look_up_stored(eutils, study)
            except LookupFailedError as exc:
                raise LookupFailedError(f"{_key(study)}: {exc}; nothing stored") from None
            if missing is not None:
                unresolved.append(missing)
            if fetched is not None:
                updates.append((_id(study), _fill_only(study, fetched)))
            done += 1
            if progress is not None:
                progress(done, total)

    saved = library.save(
        [ref for _, ref in updates],
        targets=[study_id for study_id, _ in updates],
        source=PUBMED_SOURCE,
        command=command,
        dry_run=dry_run,
        force=force,
    )
    return EnrichSummary(saved, unresolved)


def check(
    library: Library,
    *,
    command: str,
    client: EutilsClient | None = None,
    progress: Progress | None = None,
) -> CheckReport:
    """Re-fetch every study with a PMID and flag retractions, errata and expressions of concern.

    The status, its note, the publication types and any new notices are stored (one
    transaction); the report lists every flagged study, marking those flagged just now.
    """
    with open_client(client) as eutils:
        studies = [s for s in library.studies() if s.pmid]
        pmids = [s.pmid for s in studies if s.pmid]
        fetched = {ref.pmid: ref for ref in fetch_pmids(eutils, pmids, progress) if ref.pmid}
    updates = [(_id(s), fetched[s.pmid]) for s in studies if s.pmid in fetched]
    saved = library.save(
        [ref for _, ref in updates],
        targets=[study_id for study_id, _ in updates],
        source=PUBMED_SOURCE,
        command=command,
        only=CHECK_FIELDS,
    )
    before = {_id(s): s.status for s in studies}
    after = {s.id: s for s in library.references([study_id for study_id, _ in updates])}
    flagged = []
    for study_id, ref in updates:
        stored = after[study_id]
        if stored.status is None and ref.status is None:
            continue
        flagged.append(
            Flagged(
                key=_key(stored),
                title=ref.title,
                status=stored.status or "none",
                status_note=stored.status_note,
                notices=ref.notices,
                new=before.get(study_id) != stored.status,
                pubmed_status=ref.status,
            )
        )
    missing = [_key(s) for s in studies if s.pmid not in fetched]
    return CheckReport(len(studies), flagged, missing, saved)


def _look_up_stored(
    eutils: EutilsClient, study: Reference
) -> tuple[Reference | None, Unresolved | None]:
    """A stored study without PMID on PubMed: by its DOI, else by title, year, first author."""
    fetched = resolve_doi(eutils, study.doi) if study.doi else None
    if fetched is not None:
        return fetched, None
    resolution = resolve_title(
        eutils,
        study.page_title or study.title,
        year=study.year,
        first_author=study.first_author or None,
    )
    if resolution.accepted is not None:
        return resolution.accepted, None
    reason = "no PubMed record matches closely enough" if resolution.best else "not found on PubMed"
    return None, Unresolved(_key(study), study.title, reason, resolution.candidates)


def _fill_only(study: Reference, fetched: Reference) -> Reference:
    for name in KEPT_WHEN_SET:
        if getattr(study, name):
            setattr(fetched, name, None)
    return fetched


def _key(study: Reference) -> str:
    return study.key or str(study.id)


def _id(study: Reference) -> int:
    """A stored study's id (studies read from the store always carry one)."""
    assert study.id is not None
    return study.id
