"""The library: one database's studies, read through queries and changed through one
transaction helper (`change`) whose Writer is the one way in."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from refdb.errors import RefdbError
from refdb.evidence import parse_level
from refdb.formats import UNFILED_HEADING
from refdb.records import IndicationSpec, Reference
from refdb.store.database import Database
from refdb.store.models import Indication, Study, StudyIndication
from refdb.store.queries import find_study_id
from refdb.store.queries import indication as indication_of
from refdb.store.rows import references_for, study_records
from refdb.store.search import search_ids


@dataclass(frozen=True)
class Section:
    """One section of the page: an indication (name and heading; "" and "Other studies" for
    the studies filed under none) and its studies' ids in page order."""

    name: str
    heading: str
    ids: list[int]


@dataclass
class IndicationInfo:
    """An indication with its heading, page order and number of studies."""

    name: str
    heading: str
    position: int
    count: int


if TYPE_CHECKING:
    from refdb.store.duplicates import DuplicatePair
    from refdb.store.history import OperationInfo
    from refdb.store.writer import SaveSummary, Writer


def _writer(session: Session, command: str) -> Writer:
    """The write path, loaded by the commands that write (a read never needs it)."""
    from refdb.store.history import Recorder
    from refdb.store.writer import Writer

    return Writer(session, Recorder(session, command))


class _DryRun(Exception):
    """Raised inside a transaction to roll it back once a dry run has computed its result."""


def _level_filter(level: str | None) -> ColumnElement[bool] | None:
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


def _study_ids(session: Session, indication: str | None, level: str | None) -> list[int]:
    """The ids of all studies (or one indication's, or one level's), in page order."""
    wanted = _level_filter(level)
    if indication is None:
        query = select(Study.id).order_by(Study.id)
    else:
        found = indication_of(session, indication)
        query = (
            select(StudyIndication.study_id)
            .join(Study, Study.id == StudyIndication.study_id)
            .where(StudyIndication.indication_id == found.id)
            .order_by(StudyIndication.position, StudyIndication.study_id)
        )
    if wanted is not None:
        query = query.where(wanted)
    return list(session.scalars(query))


class Library:
    """A reference library in one database (SQLite or PostgreSQL)."""

    def __init__(self, url: str) -> None:
        self.db = Database(url)

    def close(self) -> None:
        """Release the database connections."""
        self.db.close()

    @contextmanager
    def change(self, command: str, *, dry_run: bool = False) -> Iterator[Writer]:
        """One transaction through the one write path: the Writer's changes are logged as one
        operation (`command`) and committed together, or with `dry_run` computed and rolled
        back. Any error rolls everything back."""
        try:
            with self.db.transaction() as session:
                writer = _writer(session, command)
                yield writer
                writer.operation_id = writer.finish()
                if dry_run:
                    writer.operation_id = None
                    raise _DryRun
        except _DryRun:
            pass

    def save(
        self,
        refs: Sequence[Reference],
        *,
        source: str,
        command: str,
        indications: Sequence[str] = (),
        dry_run: bool = False,
        specs: Sequence[IndicationSpec] = (),
        targets: Sequence[int] | None = None,
        force: bool = False,
        only: Collection[str] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> SaveSummary:
        """Store a batch of References in one transaction (all or nothing): each added, or
        merged into the study it is (by identity, or the study of each id in `targets`:
        enrich and check). `specs` are indications the source declares; `force` and `only`
        as for the precedence rule (`refdb.precedence.merge_into`)."""
        from refdb.store.writer import SaveSummary

        summary = SaveSummary(dry_run=dry_run)
        with self.change(command, dry_run=dry_run) as writer:
            for spec in specs:
                writer.ensure_indication(spec)
            summary.results = writer.save(
                refs,
                source=source,
                indications=indications,
                force=force,
                only=only,
                targets=targets,
                progress=progress,
            )
        summary.operation_id = writer.operation_id
        return summary

    # --- reading ---------------------------------------------------------------------------

    def get(self, ref: str) -> Reference:
        """One study as a Reference (REF: key, alias, PMID, DOI, PMCID or id)."""
        with self.db.reading() as session:
            (found,) = references_for(session, [find_study_id(session, ref)])
            return found

    def studies(
        self, indication: str | None = None, level: str | None = None, *, provenance: bool = True
    ) -> list[Reference]:
        """All studies (or one indication's, or those of one evidence level), in page order;
        without `provenance` (renderers never print it), with none read."""
        with self.db.reading() as session:
            ids = _study_ids(session, indication, level)
            return references_for(session, ids, provenance=provenance)

    def records(
        self, indication: str | None = None, level: str | None = None
    ) -> list[dict[str, Any]]:
        """The same studies as `studies`, as JSON-ready dicts (`Reference.to_dict`'s shape),
        made from the rows without building References: `list --json`."""
        with self.db.reading() as session:
            return study_records(session, _study_ids(session, indication, level))

    def references(self, ids: Sequence[int]) -> list[Reference]:
        """These studies (by id), in the order given; an id of no study is left out (for
        renderers: their provenance is not read)."""
        with self.db.reading() as session:
            return references_for(session, ids, provenance=False)

    def sections(self, indications: Sequence[str] = ()) -> list[Section]:
        """The page without its studies, in page order: the sections of the named
        indications (NotFoundError for a name that is none, names compared as everywhere in
        the store), or of every indication and then the studies filed under none ("Other
        studies", name ""); each with its studies' ids in page order, none left empty."""
        with self.db.reading() as session:
            chosen = {indication_of(session, name).id for name in indications}
            filed: dict[int, list[int]] = {}
            for indication_id, study_id in session.execute(
                select(StudyIndication.indication_id, StudyIndication.study_id).order_by(
                    StudyIndication.indication_id,
                    StudyIndication.position,
                    StudyIndication.study_id,
                )
            ):
                filed.setdefault(indication_id, []).append(study_id)
            sections = [
                Section(i.name, i.heading, filed[i.id])
                for i in session.scalars(
                    select(Indication).order_by(Indication.position, Indication.name)
                )
                if (not chosen or i.id in chosen) and i.id in filed
            ]
            if not chosen:
                somewhere = select(StudyIndication.study_id).where(
                    StudyIndication.study_id == Study.id
                )
                unfiled = list(
                    session.scalars(select(Study.id).where(~somewhere.exists()).order_by(Study.id))
                )
                if unfiled:
                    sections.append(Section("", UNFILED_HEADING, unfiled))
            return sections

    def specs(self, names: Collection[str]) -> list[IndicationSpec]:
        """The indications of these names (as stored), in page order, as exports declare them."""
        return [
            IndicationSpec(i.name, i.heading, i.position)
            for i in self.indications()
            if i.name in names
        ]

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

    def duplicates(self) -> list[DuplicatePair]:
        """Likely duplicate pairs, best match first."""
        from refdb.store.duplicates import find_duplicates  # rapidfuzz and numpy: only here

        with self.db.reading() as session:
            return find_duplicates(session)

    def history(self, limit: int | None = None) -> list[OperationInfo]:
        """The change log, newest first."""
        from refdb.store.history import list_operations

        with self.db.reading() as session:
            return list_operations(session, limit)
