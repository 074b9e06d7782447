"""The library: find, add, merge and query studies. Every write is one logged transaction."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from refdb.errors import NotFoundError, RefdbError
from refdb.evidence import parse_level, settle_level
from refdb.records import (
    SOURCE_FIELDS,
    IndicationSpec,
    Reference,
    base_citation_key,
    doi_key,
    normalise_doi,
)
from refdb.store.batch import save_batch
from refdb.store.database import Database
from refdb.store.history import Recorder, now
from refdb.store.models import Identifier, Indication, Study, StudyIndication
from refdb.store.rows import references_for, set_authors, set_title, to_reference
from refdb.store.search import reindex, search_ids

IDENTIFIER_FIELDS = ("pmid", "doi", "pmcid")
_KEY_SHAPE = re.compile(r"^[A-Za-z][A-Za-z0-9_:.\-]{0,99}$")
"""A citation key refdb keeps as given: what BibTeX, biber and pandoc accept without fuss."""

SOURCE_RANK = {"hand": 4, "pubmed": 3, "seed": 2}
"""Which source wins when two disagree: a person's edit, then PubMed, then the clinic's
verified seeds, then any imported file."""


def source_rank(source: str | None) -> int:
    """How much a field's source is trusted (files 1, seeds 2, PubMed 3, by hand 4)."""
    if source is None:
        return 0
    return SOURCE_RANK.get(source.split(":", 1)[0], 1)


@dataclass
class FieldChange:
    """One field of one study that an import or enrichment changed, or left alone."""

    field: str
    old: Any
    new: Any
    skipped: str | None = None


@dataclass
class SaveResult:
    """What happened to one incoming Reference."""

    action: str  # "added", "updated", "unchanged", "skipped"
    key: str | None
    title: str
    changes: list[FieldChange] = field(default_factory=list)
    reason: str | None = None


@dataclass
class SaveSummary:
    """The outcome of storing a batch of References."""

    results: list[SaveResult] = field(default_factory=list)
    operation_id: int | None = None
    dry_run: bool = False

    def count(self, action: str) -> int:
        """How many references ended with this action."""
        return sum(1 for r in self.results if r.action == action)


@dataclass
class IndicationInfo:
    """An indication with its heading, page order and number of studies."""

    name: str
    heading: str
    position: int
    count: int


class _DryRun(Exception):
    """Raised inside a transaction to roll it back after a dry run computed its summary."""


def _identifier_is(kind: str, value: str) -> Any:
    """A condition matching an identifier; DOIs compare without regard to case."""
    if kind == "doi":
        return (Identifier.kind == kind) & (func.lower(Identifier.value) == doi_key(value))
    return (Identifier.kind == kind) & (Identifier.value == value)


def _level_filter(level: str | None) -> Any:
    """The condition for studies of one evidence level (None: no condition); RefdbError
    naming the levels when `level` is none of them."""
    if level is None:
        return None
    try:
        slug = parse_level(level)
    except ValueError as exc:
        raise RefdbError(f"--level: {exc}") from None
    if slug == "unclassified":
        return or_(Study.evidence_level.is_(None), Study.evidence_level == slug)
    return Study.evidence_level == slug


def _study_query() -> Any:
    return select(Study).options(
        selectinload(Study.authors),
        selectinload(Study.identifiers),
        selectinload(Study.links).selectinload(StudyIndication.indication),
    )


class Library:
    """A reference library in one database (SQLite or PostgreSQL)."""

    def __init__(self, url: str) -> None:
        self.db = Database(url)

    def close(self) -> None:
        """Release the database connections."""
        self.db.close()

    @contextmanager
    def operation(self, command: str) -> Iterator[tuple[Session, Recorder]]:
        """One transaction that logs what it changed as one operation."""
        with self.db.transaction() as session:
            recorder = Recorder(session, command)
            yield session, recorder
            self.commit(session, recorder)

    def commit(self, session: Session, recorder: Recorder) -> int | None:
        """Log the operation and refresh the search index; returns the operation id."""
        operation = recorder.finish()
        reindex(session, recorder.changed_studies)
        return operation.id if operation else None

    # --- reading ---------------------------------------------------------------------------

    def find(self, session: Session, ref: str) -> Study:
        """A study by citation key (or old key), PMID, DOI or numeric id."""
        text = ref.strip()
        study = session.scalars(_study_query().where(Study.key == text)).first()
        if study is None:
            doi = normalise_doi(text)
            pmid = text[5:].strip() if text.lower().startswith("pmid:") else text
            conditions = [
                (Identifier.kind == "alias") & (Identifier.value == text),
                (Identifier.kind == "doi") & (func.lower(Identifier.value) == doi_key(doi or "")),
                (Identifier.kind == "pmid") & (Identifier.value == pmid),
                (Identifier.kind == "pmcid") & (Identifier.value == text.upper()),
            ]
            study_id = session.scalars(select(Identifier.study_id).where(or_(*conditions))).first()
            if study_id is None and text.isascii() and text.isdigit() and len(text) < 10:
                study_id = int(text) if session.get(Study, int(text)) else None
            if study_id is not None:
                study = session.scalars(_study_query().where(Study.id == study_id)).first()
        if study is None:
            raise NotFoundError(f"{ref}: no study with this key, PMID, DOI or id")
        found: Study = study
        return found

    def get(self, ref: str) -> Reference:
        """One study as a Reference (REF: key, PMID, DOI or id)."""
        with self.db.reading() as session:
            (found,) = references_for(session, [self.find(session, ref).id])
            return found

    def studies(self, indication: str | None = None, level: str | None = None) -> list[Reference]:
        """All studies (or one indication's, or those of one evidence level), in page order."""
        wanted = _level_filter(level)
        with self.db.reading() as session:
            if indication is None:
                query = select(Study.id).order_by(Study.id)
            else:
                found = self.indication(session, indication)
                query = (
                    select(StudyIndication.study_id)
                    .join(Study, Study.id == StudyIndication.study_id)
                    .where(StudyIndication.indication_id == found.id)
                    .order_by(StudyIndication.position, StudyIndication.study_id)
                )
            if wanted is not None:
                query = query.where(wanted)
            return references_for(session, list(session.scalars(query)))

    def unfiled(self) -> list[Reference]:
        """The studies filed under no indication, in the order they were added."""
        with self.db.reading() as session:
            filed = select(StudyIndication.study_id).where(StudyIndication.study_id == Study.id)
            query = select(Study.id).where(~filed.exists()).order_by(Study.id)
            return references_for(session, list(session.scalars(query)))

    def page_groups(self, indication: str | None = None) -> list[tuple[str, list[Reference]]]:
        """The page's sections in order: each indication's heading and its studies."""
        groups = []
        for info in self.indications():
            if indication is not None and info.name.casefold() != indication.casefold():
                continue
            refs = self.studies(info.name)
            if refs:
                groups.append((info.heading, refs))
        if indication is not None and not groups:
            with self.db.reading() as session:
                self.indication(session, indication)
        return groups

    def search(self, query: str, limit: int = 50) -> list[Reference]:
        """Studies matching every word of the query in title, abstract, authors, journal or key."""
        with self.db.reading() as session:
            return references_for(session, search_ids(session, query, limit))

    def indications(self) -> list[IndicationInfo]:
        """The indications in page order, with how many studies each holds."""
        with self.db.reading() as session:
            counts = (
                select(StudyIndication.indication_id, func.count().label("n"))
                .group_by(StudyIndication.indication_id)
                .subquery()
            )
            rows = session.execute(
                select(Indication, func.coalesce(counts.c.n, 0))
                .outerjoin(counts, counts.c.indication_id == Indication.id)
                .order_by(Indication.position, Indication.name)
            ).all()
            return [IndicationInfo(i.name, i.heading, i.position, int(n)) for i, n in rows]

    def indication_named(self, session: Session, name: str) -> Indication | None:
        """The indication of this name, compared without regard to case ("crps" is "CRPS").

        Compared in Python: SQLite's lower() folds only ASCII ("É", "ß" would not match).
        """
        wanted = name.strip().casefold()
        return next(
            (i for i in session.scalars(select(Indication)) if i.name.casefold() == wanted), None
        )

    def indication(self, session: Session, name: str) -> Indication:
        """The indication of this name; NotFoundError (one line) when there is none."""
        found = self.indication_named(session, name)
        if found is None:
            raise NotFoundError(
                f"indication {name!r}: no such indication (see `refdb indications`)"
            )
        return found

    # --- writing ---------------------------------------------------------------------------

    def ensure_indication(
        self, session: Session, recorder: Recorder, spec: IndicationSpec
    ) -> Indication:
        """The indication of this name, created (at the end of the page) when new."""
        found = self.indication_named(session, spec.name)
        if found is not None:
            return found
        if not spec.name.strip():
            raise RefdbError("an indication needs a name")
        position = spec.position
        if position is None:
            position = (session.scalar(select(func.max(Indication.position))) or 0) + 1
        indication = Indication(name=spec.name.strip(), heading=spec.heading, position=position)
        session.add(indication)
        session.flush()
        recorder.created(("indication", indication.id))
        return indication

    def link(
        self, session: Session, recorder: Recorder, study: Study, indication: Indication
    ) -> bool:
        """File a study under an indication, at the end of its list; False if already there."""
        if any(link.indication_id == indication.id for link in study.links):
            return False
        recorder.touch(("study", study.id))
        position = session.scalar(
            select(func.max(StudyIndication.position)).where(
                StudyIndication.indication_id == indication.id
            )
        )
        study.links.append(StudyIndication(indication=indication, position=(position or 0) + 1))
        return True

    def taken_keys(self, session: Session) -> set[str]:
        """Every key and old key in use; loaded once per transaction, kept up to date here."""
        taken: set[str] | None = session.info.get("refdb_taken_keys")
        if taken is None:
            taken = set(session.scalars(select(Study.key))) | set(
                session.scalars(select(Identifier.value).where(Identifier.kind == "alias"))
            )
            session.info["refdb_taken_keys"] = taken
        return taken

    def new_key(self, session: Session, ref: Reference) -> str:
        """A citation key no study holds: the Reference's own key when it is a well-formed key
        and free (a file's keys, which sites already link to, survive an import), else
        familyYEARfirstword with a, b, ... on clashes."""
        taken = self.taken_keys(session)
        key = ref.key if ref.key and _KEY_SHAPE.match(ref.key) and ref.key not in taken else None
        if key is None:
            base = base_citation_key(ref)
            candidates = [base, *(base + s for s in "abcdefghijklmnopqrstuvwxyz")]
            key = next((c for c in candidates if c not in taken), None)
            number = 2
            while key is None:
                key = f"{base}{number}" if f"{base}{number}" not in taken else None
                number += 1
        taken.add(key)
        return key

    @staticmethod
    def _kept(name: str, old: Any, new: Any, old_source: str | None, source: str) -> str | None:
        """Why the stored value of a field stays (None: the incoming value may replace it)."""
        if old_source == "hand" and source != "hand":
            return "edited by hand"
        if old in (None, "", []):
            return None
        if source_rank(old_source) > source_rank(source):
            return f"kept {old_source} value"
        same_rank = source_rank(old_source) == source_rank(source)
        if name == "authors" and same_rank and len(new) < len(old):
            return "kept the longer author list"
        return None

    def set_field(self, session: Session, study: Study, name: str, value: Any) -> str | None:
        """Set one field of a study (an identifier, the authors, the title or a column);
        returns why it was refused (an identifier another study holds), or None."""
        if name in IDENTIFIER_FIELDS:
            return self.set_identifier(session, study, name, value)
        if name == "authors":
            set_authors(study, list(value))
        elif name == "editors":
            study.editors = [asdict(author) for author in value]
        elif name == "title":
            set_title(study, value)
        else:
            setattr(study, name, list(value) if isinstance(value, list) else value)
        return None

    def set_identifier(
        self, session: Session, study: Study, kind: str, value: str | None
    ) -> str | None:
        """Set or clear an identifier; returns why it was refused, or None."""
        current = next((i for i in study.identifiers if i.kind == kind), None)
        if value is None:
            if current is not None:
                study.identifiers.remove(current)
            return None
        owner = session.scalars(
            select(Study.key)
            .join(Identifier, Identifier.study_id == Study.id)
            .where(_identifier_is(kind, value), Study.id != study.id)
        ).first()
        if owner is not None:
            return f"{kind} {value} belongs to {owner}"
        if current is None:
            study.identifiers.append(Identifier(kind=kind, value=value))
        else:
            current.value = value
        return None

    def apply(
        self,
        session: Session,
        study: Study,
        ref: Reference,
        source: str,
        *,
        force: bool = False,
        fields_only: Iterable[str] | None = None,
    ) -> list[FieldChange]:
        """Copy a Reference's fields onto a study, field by field, by source trust.

        A field set (or cleared) by hand is never overwritten by another source unless `force`;
        a more trusted source is not overwritten by a less trusted one, nor a longer author list
        by a shorter one from a source as trusted. Empty incoming values never erase anything.
        """
        current = to_reference(study) if study.id is not None else Reference(title="")
        provenance: dict[str, Any] = dict(study.provenance or {})
        stamp = now().isoformat(timespec="seconds")
        wanted = set(fields_only) if fields_only is not None else None
        changes: list[FieldChange] = []
        for name in SOURCE_FIELDS:
            if wanted is not None and name not in wanted:
                continue
            new = getattr(ref, name)
            old = getattr(current, name)
            if new in (None, "", []) or new is False or new == old:
                continue
            old_source = (provenance.get(name) or {}).get("source")
            if name == "evidence_level" and old_source == "hand" and source != "hand":
                # A level set by hand is a judgement no source overrules, not even --force.
                changes.append(FieldChange(name, old, new, skipped="edited by hand"))
                continue
            if name == "evidence_level":
                if new == "unclassified":
                    continue  # no evidence is not evidence against the stored level
                if old == "unclassified":
                    old = None  # nor does an unclassified level stand in the way of one
            if not force:
                skipped = self._kept(name, old, new, old_source, source)
                if skipped:
                    changes.append(FieldChange(name, old, new, skipped=skipped))
                    continue
            refused = self.set_field(session, study, name, new)
            if refused:
                changes.append(FieldChange(name, old, new, skipped=refused))
                continue
            if name == "authors":
                study.authors_complete = ref.authors_complete
            elif name == "evidence_level":
                study.evidence_basis = ref.evidence_basis or f"given by {source}"
            provenance[name] = {"source": source, "at": stamp}
            changes.append(FieldChange(name, old, new))
        if ref.notices:
            known = {(n.kind, n.pmid, n.citation) for n in current.notices}
            added = [n for n in ref.notices if (n.kind, n.pmid, n.citation) not in known]
            if added:
                study.notices = [*(study.notices or []), *(vars(n) for n in added)]
                changes.append(FieldChange("notices", current.notices, current.notices + added))
        if changes and any(c.skipped is None for c in changes):
            study.provenance = provenance
            study.updated_at = now()
        return changes

    def save(
        self,
        refs: Sequence[Reference],
        *,
        source: str,
        command: str,
        indications: Sequence[str] = (),
        dry_run: bool = False,
        force: bool = False,
        specs: Sequence[IndicationSpec] = (),
        progress: Callable[[int, int], None] | None = None,
    ) -> SaveSummary:
        """Store a batch of References in one transaction (all or nothing).

        `progress`, when given, is called with (done, total) after each Reference.
        """
        summary = SaveSummary(dry_run=dry_run)
        try:
            with self.db.transaction() as session:
                recorder = Recorder(session, command)
                for spec in specs:
                    self.ensure_indication(session, recorder, spec)
                summary.results = save_batch(
                    self,
                    session,
                    recorder,
                    refs,
                    source=source,
                    indications=indications,
                    force=force,
                    progress=progress,
                )
                if dry_run:
                    raise _DryRun
                summary.operation_id = self.commit(session, recorder)
        except _DryRun:
            pass
        return summary

    def refresh(
        self,
        updates: Sequence[tuple[str, Reference]],
        *,
        source: str,
        command: str,
        dry_run: bool = False,
        force: bool = False,
        fields_only: Iterable[str] | None = None,
    ) -> SaveSummary:
        """Apply fetched References onto the stored studies they belong to, in one transaction.

        Each update names its study (key, PMID, DOI or id), so a record whose title differs
        slightly from the stored one still lands on that study instead of becoming a new one.
        """
        summary = SaveSummary(dry_run=dry_run)
        wanted = tuple(fields_only) if fields_only is not None else None
        try:
            with self.db.transaction() as session:
                recorder = Recorder(session, command)
                for ref_text, fetched in updates:
                    ref = replace(fetched)
                    settle_level(ref)
                    study = self.find(session, ref_text)
                    recorder.touch(("study", study.id))
                    changes = self.apply(
                        session, study, ref, source, force=force, fields_only=wanted
                    )
                    action = "updated" if any(c.skipped is None for c in changes) else "unchanged"
                    session.flush()
                    summary.results.append(SaveResult(action, study.key, study.title, changes))
                if dry_run:
                    raise _DryRun
                summary.operation_id = self.commit(session, recorder)
        except _DryRun:
            pass
        return summary
