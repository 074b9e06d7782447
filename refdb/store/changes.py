"""Queries over the operation log for readers of the page: when each study entered the library
(the site's feed), and what changed since a date or an operation (`refdb changes`).

Read only: this module never writes the log (`history.py` does). A study's row is "created"
by a change whose `before` is null; an undo that puts a removed study back restores it, it
does not add it again, so the study keeps the time it first entered the library.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Text, case, cast, func, or_, select

from refdb.dates import utc
from refdb.errors import RefdbError
from refdb.store.database import Database
from refdb.store.models import Change, Indication, KeptOutput, Operation, Study
from refdb.store.rows import chunks

_CREATED = case((or_(Change.before.is_(None), cast(Change.before, Text) == "null"), 1), else_=0)
"""1 for a change that created its row (`before` is SQL NULL or JSON null), else 0."""


@dataclass
class StudyTimes:
    """When a study entered the library, and when it last changed (UTC)."""

    added: datetime | None
    changed: datetime


def study_times(db: Database, ids: Iterable[int]) -> dict[int, StudyTimes]:
    """For each of these studies (by id): when it entered the library and last changed.

    One pass over the log's study changes (no snapshot is read). A study whose creation the
    log does not hold (a library older than its log) falls back to its row's `created_at`.
    """
    wanted = set(ids)
    times: dict[int, StudyTimes] = {}
    query = (
        select(Change.entity_id, Operation.at, Operation.undoes, _CREATED)
        .join(Operation, Operation.id == Change.operation_id)
        .where(Change.entity == "study")
        .order_by(Change.id)
    )
    with db.reading() as session:
        for study_id, at, undoes, created in session.execute(query):
            if study_id not in wanted:
                continue
            at = utc(at)
            found = times.setdefault(study_id, StudyTimes(None, at))
            # An undo that creates the row puts a study back; any other creation adds one
            # (the first, or a new study under an id an undone import had used).
            if created and (found.added is None or undoes is None):
                found.added = at
            found.changed = at
        missing = sorted(i for i in wanted if i not in times or times[i].added is None)
        for part in chunks(missing):
            rows = session.execute(select(Study.id, Study.created_at).where(Study.id.in_(part)))
            for study_id, created_at in rows:
                found = times.setdefault(study_id, StudyTimes(None, utc(created_at)))
                found.added = utc(created_at)
    return times


def last_operation(db: Database) -> int | None:
    """The newest operation's id (None for a library never changed)."""
    with db.reading() as session:
        found = session.scalar(select(func.max(Operation.id)))
    return int(found) if found is not None else None


def last_change(db: Database) -> datetime | None:
    """When the library last changed (the newest operation), None for a library never changed."""
    with db.reading() as session:
        at = session.scalar(select(func.max(Operation.at)))
    return utc(at) if at else None


def last_page_written(db: Database) -> tuple[datetime, str] | None:
    """When a person last wrote a kept page or site with its own command (`refdb page -o F
    --keep`, `refdb site DIR --keep`: publishing it), and its path; None when none is kept.
    The rewrites after each change do not count: the page always shows the library, and the
    question is what is new on it since it was last published."""
    with db.reading() as session:
        row = session.execute(
            select(KeptOutput.created_at, KeptOutput.path)
            .where(KeptOutput.kind.in_(("page", "site")))
            .order_by(KeptOutput.created_at.desc())
            .limit(1)
        ).first()
    return (utc(row[0]), row[1]) if row and row[0] else None


# --- what changed since ------------------------------------------------------------------


@dataclass
class StudyChange:
    """One thing a reader of the page would notice about one study.

    `kind` is "added", "removed", "status" (retracted, corrected, an expression of concern,
    or such a mark taken away) or "level" (its evidence level changed).
    """

    kind: str
    key: str
    title: str
    first_author: str
    year: int | None
    journal: str | None
    pmid: str | None
    doi: str | None
    indications: list[tuple[str, str]]
    """(name, heading) of the indications it is filed under (when removed: was)."""
    level: str
    previous_level: str | None = None
    status: str | None = None
    previous_status: str | None = None
    status_note: str | None = None
    operation: int = 0
    at: datetime | None = None


@dataclass
class ChangeReport:
    """What changed in the library after a point: a time, an operation, or its beginning."""

    since: datetime | None
    since_operation: int | None
    basis: str
    """"date", "operation", "kept" (the last write of a kept page or site) or "all"."""
    basis_path: str | None = None
    operations: list[int] = field(default_factory=list)
    changes: list[StudyChange] = field(default_factory=list)


def _level(state: dict[str, Any]) -> str:
    return str(state["study"].get("evidence_level") or "unclassified")


def _describe(
    kind: str, state: dict[str, Any], names: dict[int, tuple[str, str]], op: int, at: datetime
) -> StudyChange:
    study = state["study"]
    ids = {i["kind"]: i["value"] for i in state.get("identifiers", [])}
    authors = state.get("authors") or []
    first = (authors[0].get("family") or authors[0].get("literal") or "") if authors else ""
    linked = {link["indication_id"] for link in state.get("links", [])}
    filed = [names[i] for i in names if i in linked]  # `names` is in page order
    return StudyChange(
        kind=kind,
        key=study["key"],
        title=study["title"],
        first_author=first,
        year=study.get("year"),
        journal=study.get("container_title"),
        pmid=ids.get("pmid"),
        doi=ids.get("doi"),
        indications=filed,
        level=_level(state),
        status=study.get("status"),
        status_note=study.get("status_note"),
        operation=op,
        at=at,
    )


def _indication_names(session: Any, ids: set[int]) -> dict[int, tuple[str, str]]:
    """(name, heading) of indications by id, in page order; ones deleted since from the log."""
    names: dict[int, tuple[str, str]] = {}
    order: dict[int, int] = {}
    for row in session.execute(
        select(Indication.id, Indication.name, Indication.heading, Indication.position)
    ):
        names[row.id], order[row.id] = (row.name, row.heading), row.position
    for change in session.scalars(
        select(Change).where(Change.entity == "indication", Change.entity_id.in_(ids - set(names)))
    ):
        state = change.after or change.before
        if state:
            names[change.entity_id] = (state["name"], state["heading"])
            order[change.entity_id] = int(state.get("position") or 0)
    return dict(sorted(names.items(), key=lambda item: (order.get(item[0], 0), item[0])))


def changes_since(
    db: Database,
    *,
    since: datetime | None = None,
    since_operation: int | None = None,
    basis: str = "all",
    basis_path: str | None = None,
) -> ChangeReport:
    """What a reader would notice changed after `since_operation` (exclusive) or at `since` or
    later (neither: since the beginning): each study's state before the first of those
    operations against its state after the last. A change undone within the window shows
    nothing; one undone after it shows as it went."""
    report = ChangeReport(since, since_operation, basis, basis_path)
    with db.reading() as session:
        if since_operation is not None and session.get(Operation, since_operation) is None:
            raise RefdbError(
                f"operation {since_operation}: no such operation (see `refdb history`)"
            )
        window = select(Operation.id, Operation.at).order_by(Operation.id)
        if since_operation is not None:
            window = window.where(Operation.id > since_operation)
        if since is not None:
            window = window.where(Operation.at >= since.astimezone(UTC))
        ops = {op_id: utc(at) for op_id, at in session.execute(window)}
        report.operations = sorted(ops)
        if not ops:
            return report
        first: dict[int, Any] = {}
        last: dict[int, tuple[Any, int]] = {}
        rows = session.execute(
            select(Change.entity_id, Change.before, Change.after, Change.operation_id)
            .where(Change.entity == "study", Change.operation_id >= min(ops))
            .order_by(Change.id)
        )
        for study_id, before, after, op_id in rows:
            if op_id not in ops:
                continue
            first.setdefault(study_id, before)
            last[study_id] = (after, op_id)
        wanted = {
            link["indication_id"]
            for state in [*first.values(), *(a for a, _ in last.values())]
            if state
            for link in state.get("links", [])
        }
        names = _indication_names(session, wanted)
    for study_id, before in first.items():
        after, op_id = last[study_id]
        at = ops[op_id]
        if before is None and after is not None:
            report.changes.append(_describe("added", after, names, op_id, at))
        elif before is not None and after is None:
            report.changes.append(_describe("removed", before, names, op_id, at))
        elif before is not None and after is not None:
            old, new = before["study"].get("status"), after["study"].get("status")
            if old != new:
                item = _describe("status", after, names, op_id, at)
                item.previous_status = old
                report.changes.append(item)
            if _level(before) != _level(after):
                item = _describe("level", after, names, op_id, at)
                item.previous_level = _level(before)
                report.changes.append(item)
    report.changes.sort(key=lambda c: (c.operation, c.key))
    return report
