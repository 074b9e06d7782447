"""The operation log: what each command changed, and undo."""

from __future__ import annotations

import getpass
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from refdb.errors import RefdbError
from refdb.store.database import CHANGED, Committed
from refdb.store.models import Change, Identifier, Indication, Operation, Study, table
from refdb.store.rows import (
    CHUNK,
    chunks,
    delete_studies,
    indication_snapshot,
    insert_snapshots,
    restore_indication,
    study_snapshots,
)

Entity = tuple[str, int]


def now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def current_user() -> str:
    """The OS user, for the change log."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name (some containers)
        return "unknown"


def snapshots(session: Session, entities: Iterable[Entity]) -> dict[Entity, dict[str, Any] | None]:
    """The current state of studies and indications, as JSON (None for one that does not
    exist); studies are read in bulk."""
    wanted = list(entities)
    studies = study_snapshots(session, [i for kind, i in wanted if kind == "study"])
    states: dict[Entity, dict[str, Any] | None] = {}
    for kind, entity_id in wanted:
        if kind == "study":
            states[(kind, entity_id)] = studies.get(entity_id)
        else:
            states[(kind, entity_id)] = indication_snapshot(session.get(Indication, entity_id))
    return states


class Recorder:
    """Collects the before-state of every row an operation touches, then logs what changed."""

    def __init__(self, session: Session, command: str) -> None:
        self.session = session
        self.command = command
        self._before: dict[Entity, dict[str, Any] | None] = {}
        self.undoes: Operation | None = None
        """The operation this one undoes (set by `undo`; it records this one as its undo)."""
        self.undoes_id: int | None = None
        """Its id, which this operation's row holds."""
        self._after: dict[Entity, dict[str, Any]] = {}
        """The state of rows a writer built itself (new studies), so `finish` need not read
        them back."""
        # After `finish`: the studies that really changed (the search index refreshes these).
        self.changed_studies: list[int] = []
        self.changed_indications = False
        self._logged: Operation | None = None
        self._previous: int | None = None

    def touch(self, entity: Entity) -> None:
        """Call before changing an existing study or indication."""
        self.touch_all([entity])

    def touch_all(self, entities: Iterable[Entity]) -> None:
        """Call before changing existing studies or indications (read in bulk)."""
        new = [e for e in dict.fromkeys(entities) if e not in self._before]
        if new:
            self._before.update(snapshots(self.session, new))

    def created(self, entity: Entity, after: dict[str, Any] | None = None) -> None:
        """Call after adding (and flushing) a new study or indication; `after`, when given, is
        its snapshot as written (`study_snapshots`' shape), kept until `changed` says it no
        longer is."""
        self._before.setdefault(entity, None)
        if after is not None:
            self._after[entity] = after

    def changed(self, entity: Entity) -> None:
        """Call when a row whose snapshot was given to `created` is changed again: `finish`
        reads it back instead."""
        self._after.pop(entity, None)

    def log(self, changes: list[dict[str, Any]]) -> None:
        """Log changes the caller knows exactly (entity, entity_id, before, after), without
        reading any row back: undo, which has them from the log."""
        changes = [c for c in changes if c["before"] != c["after"]]
        if not changes:
            return
        operation = self._operation()
        for change in changes:
            change["operation_id"] = operation.id
        self.session.execute(insert(table(Change)), changes)
        self.changed_studies += [c["entity_id"] for c in changes if c["entity"] == "study"]
        # An indication made or removed reaches only the studies filed under it (logged with
        # them); one that changed (its name, heading or place) reaches every study under it.
        self.changed_indications |= any(
            c["entity"] == "indication" and c["before"] is not None and c["after"] is not None
            for c in changes
        )

    def _operation(self) -> Operation:
        """This operation's row, made (and flushed) on first need."""
        if self._logged is None:
            # Under the write lock: no other operation comes between this one and that.
            self._previous = self.session.scalar(select(func.max(Operation.id)))
            self._logged = Operation(
                at=now(),
                user=current_user(),
                command=self.command,
                undoes=self.undoes_id,
            )
            self.session.add(self._logged)
            self.session.flush()
        return self._logged

    def finish(self) -> Operation | None:
        """Log the operation with each row's before and after; None when nothing changed.

        Rows are compared and logged 500 at a time, each slice with one executemany, so an
        import of 100,000 studies never holds all their snapshots at once."""
        entities = list(self._before)
        for chunk in chunks(entities):
            after = snapshots(self.session, [e for e in chunk if e not in self._after])
            after.update((e, self._after[e]) for e in chunk if e in self._after)
            changes: list[dict[str, Any]] = [
                {"entity": e[0], "entity_id": e[1], "before": self._before[e], "after": after[e]}
                for e in chunk
                if self._before[e] != after[e]
            ]
            self.log(changes)
        operation = self._logged
        if operation is None:
            return None
        self.session.info[CHANGED] = Committed(
            operation.id,
            self._previous,
            frozenset(self.changed_studies),
            self.changed_indications,
        )
        if self.undoes is not None:
            self.undoes.undone_by = operation.id
        return operation


@dataclass
class OperationInfo:
    """One line of history."""

    id: int
    at: datetime
    user: str
    command: str
    changes: int
    undoes: int | None
    undone_by: int | None


def list_operations(session: Session, limit: int | None = None) -> list[OperationInfo]:
    """The operations, newest first, with how many rows each changed (counted, not loaded)."""
    counts = (
        select(Change.operation_id, func.count().label("n"))
        .group_by(Change.operation_id)
        .subquery()
    )
    query = (
        select(Operation, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.operation_id == Operation.id)
        .order_by(Operation.id.desc())
    )
    if limit:
        query = query.limit(limit)
    return [
        OperationInfo(op.id, op.at, op.user, op.command, int(n), op.undoes, op.undone_by)
        for op, n in session.execute(query)
    ]


def _describe(entity: Entity, state: dict[str, Any] | None) -> str:
    kind, entity_id = entity
    if state and kind == "study":
        return f"study {state['study']['key']}"
    if state and kind == "indication":
        return f"indication {state['name']}"
    return f"{kind} {entity_id}"


def _blocker(session: Session, operation: Operation, entity: Entity) -> Operation | None:
    later = session.scalars(
        select(Operation)
        .join(Change, Change.operation_id == Operation.id)
        .where(
            Operation.id > operation.id,
            Operation.undone_by.is_(None),
            Change.entity == entity[0],
            Change.entity_id == entity[1],
        )
        .order_by(Operation.id.desc())
    ).first()
    return later


def _check_keys_free(session: Session, target_id: int, befores: list[dict[str, Any]]) -> None:
    """Refuse, naming who holds it, when a study to put back has a key or identifier another
    study took since (a study removed, then the same PMID imported again). Called once the
    operation's own studies are removed: whoever holds one now is another study."""
    keys = {b["study"]["key"] for b in befores}
    wanted = {(i["kind"], i["value"]) for b in befores for i in b["identifiers"]}
    held: list[tuple[str, str, Study]] = []
    for chunk in chunks(sorted(keys)):
        held += [
            ("key", s.key, s) for s in session.scalars(select(Study).where(Study.key.in_(chunk)))
        ]
    values = sorted({value for _, value in wanted})
    for chunk in chunks(values):
        for kind, value, study in session.execute(
            select(Identifier.kind, Identifier.value, Study)
            .join(Study, Study.id == Identifier.study_id)
            .where(Identifier.value.in_(chunk))
        ):
            if (kind, value) in wanted:
                held.append((kind, value, study))
    if not held:
        return
    kind, value, holder = held[0]
    target = session.get(Operation, target_id)
    blocker = _blocker(session, target, ("study", holder.id)) if target else None
    who = f" (operation {blocker.id}: {blocker.command})" if blocker else ""
    label = "key" if kind in ("key", "alias") else kind.upper()
    raise RefdbError(
        f"cannot undo operation {target_id}: {label} {value} now belongs to study "
        f"{holder.key}{who}; undo or remove that first"
    )


def pick_operation(session: Session, operation_id: int | None) -> Operation:
    """The operation to undo: the one named, else the newest still in effect.

    An undo is undone only when named (`refdb undo N` is how a person redoes); a redo (the
    undo of an undo) counts as a change of its own, so a plain `refdb undo` reverses it.
    """
    if operation_id is not None:
        operation = session.get(Operation, operation_id)
        if operation is None:
            raise RefdbError(f"operation {operation_id}: no such operation (see `refdb history`)")
        if operation.undone_by is not None:
            raise RefdbError(
                f"operation {operation_id} was already undone by operation {operation.undone_by}"
            )
        return operation
    candidates = session.scalars(
        select(Operation).where(Operation.undone_by.is_(None)).order_by(Operation.id.desc())
    )
    for operation in candidates:
        if _undo_depth(session, operation) % 2 == 0:
            return operation
    raise RefdbError("nothing to undo")


def _undo_depth(session: Session, operation: Operation) -> int:
    """0 for a change, 1 for its undo, 2 for the redo (the undo of that undo), and so on."""
    depth = 0
    while operation.undoes is not None:
        undone = session.get(Operation, operation.undoes)
        if undone is None:
            break
        operation, depth = undone, depth + 1
    return depth


def _study_changes(session: Session, operation_id: int) -> Iterator[list[Any]]:
    """The operation's study changes, 500 at a time (id, entity id, before, after): an import
    of 100,000 studies is undone without holding its log in memory."""
    last = 0
    while True:
        rows = session.execute(
            select(Change.id, Change.entity_id, Change.before, Change.after)
            .where(Change.operation_id == operation_id, Change.entity == "study", Change.id > last)
            .order_by(Change.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            return
        yield list(rows)
        last = rows[-1][0]


def undo(session: Session, recorder: Recorder, operation_id: int | None) -> Operation:
    """Reverse an operation, provided nothing later changed the same rows, as the step of a
    transaction whose `recorder` logs it as an operation that undoes it; returns the
    operation undone.

    Studies are handled 500 at a time: each is checked to be as the operation left it, then
    removed; once all are removed, each is put back as it was before (so that identifiers
    that moved between studies, a merge, never collide) and the undo's own change logged
    from what the log already holds, nothing read back. Indications are few: updated in
    place, so that the links of studies outside the operation survive."""
    target = pick_operation(session, operation_id)
    target_id = target.id
    recorder.undoes_id = target_id  # before anything is logged: the row names what it undoes
    indications = {
        ("indication", c.entity_id): (c.before, c.after)
        for c in session.scalars(
            select(Change)
            .where(Change.operation_id == target_id, Change.entity == "indication")
            .order_by(Change.id)
        )
    }
    current = snapshots(session, indications)
    for entity, (_before, after) in indications.items():
        if current[entity] != after:
            _refuse_changed(session, target, entity, after)
    for rows in _study_changes(session, target_id):
        now_held = study_snapshots(session, [entity_id for _, entity_id, _, _ in rows])
        for _, entity_id, _before, after in rows:
            if now_held.get(entity_id) != after:
                _refuse_changed(session, target, ("study", entity_id), after)
    recorder.touch_all(indications)
    for entity, (before, _after) in indications.items():
        if before is not None:
            restore_indication(session, entity[1], before)
    session.flush()
    for rows in _study_changes(session, target_id):
        delete_studies(session, [entity_id for _, entity_id, _, _ in rows])
    session.expunge_all()
    for rows in _study_changes(session, target_id):
        befores = [before for _, _, before, _ in rows if before is not None]
        _check_keys_free(session, target_id, befores)
        insert_snapshots(session, befores)
        recorder.log(
            [
                {"entity": "study", "entity_id": entity_id, "before": after, "after": before}
                for _, entity_id, before, after in rows
            ]
        )
    session.flush()
    for entity, (before, _after) in indications.items():
        if before is None:
            restore_indication(session, entity[1], None)
    target = session.get(Operation, target_id) or target
    recorder.undoes = target  # the row as this session now holds it (expunged above)
    return target


def _refuse_changed(
    session: Session, target: Operation, entity: Entity, after: dict[str, Any] | None
) -> NoReturn:
    blocker = _blocker(session, target, entity)
    who = (
        f"operation {blocker.id} ({blocker.command}) changed {_describe(entity, after)} later;"
        f" undo it first"
        if blocker
        else f"{_describe(entity, after)} has changed since"
    )
    raise RefdbError(f"cannot undo operation {target.id}: {who}")
