"""The operation log: what each command changed, and undo."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from refdb.errors import RefdbError
from refdb.store.models import Change, Identifier, Indication, Operation, Study
from refdb.store.rows import (
    indication_snapshot,
    restore_indication,
    study_from_snapshot,
    study_snapshot,
)

Entity = tuple[str, int]


def now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def current_user() -> str:
    """The OS user, for the change log."""
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers)
        return "unknown"


def snapshot(session: Session, entity: Entity) -> dict[str, Any] | None:
    """The current state of a study or an indication, as JSON (None when it does not exist)."""
    kind, entity_id = entity
    if kind == "study":
        return study_snapshot(session.get(Study, entity_id))
    return indication_snapshot(session.get(Indication, entity_id))


class Recorder:
    """Collects the before-state of every row an operation touches, then logs what changed."""

    def __init__(self, session: Session, command: str) -> None:
        self.session = session
        self.command = command
        self._before: dict[Entity, dict[str, Any] | None] = {}
        self.operation_id: int | None = None
        # After `finish`: the studies that really changed (the search index refreshes these).
        self.changed_studies: list[int] = []

    def touch(self, entity: Entity) -> None:
        """Call before changing an existing study or indication."""
        if entity not in self._before:
            self.session.flush()
            self._before[entity] = snapshot(self.session, entity)

    def created(self, entity: Entity) -> None:
        """Call after adding (and flushing) a new study or indication."""
        self._before.setdefault(entity, None)

    def finish(self, undoes: Operation | None = None) -> Operation | None:
        """Log the operation with each row's before and after; None when nothing changed."""
        self.session.flush()
        changes = []
        for entity, before in self._before.items():
            after = snapshot(self.session, entity)
            if before != after:
                changes.append(
                    Change(entity=entity[0], entity_id=entity[1], before=before, after=after)
                )
        self.changed_studies = [c.entity_id for c in changes if c.entity == "study"]
        if not changes:
            return None
        operation = Operation(
            at=now(),
            user=current_user(),
            command=self.command,
            undoes=undoes.id if undoes else None,
            changes=changes,
        )
        self.session.add(operation)
        self.session.flush()
        self.operation_id = operation.id
        if undoes is not None:
            undoes.undone_by = operation.id
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
    """The operations, newest first."""
    query = select(Operation).order_by(Operation.id.desc())
    if limit:
        query = query.limit(limit)
    return [
        OperationInfo(op.id, op.at, op.user, op.command, len(op.changes), op.undoes, op.undone_by)
        for op in session.scalars(query)
    ]


def _net_changes(operation: Operation) -> dict[Entity, tuple[Any, Any]]:
    """Per row: its state before the operation and after it."""
    net: dict[Entity, tuple[Any, Any]] = {}
    for change in operation.changes:
        entity = (change.entity, change.entity_id)
        before = net[entity][0] if entity in net else change.before
        net[entity] = (before, change.after)
    return net


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


def _check_identifiers_free(
    session: Session, target: Operation, net: dict[Entity, tuple[Any, Any]]
) -> None:
    """Refuse, naming who holds it, when a study to put back has a key or identifier that
    another study took since (a study removed, then the same PMID imported again)."""
    ours = {entity_id for (kind, entity_id) in net if kind == "study"}
    for (kind, _entity_id), (before, _after) in net.items():
        if kind != "study" or before is None:
            continue
        wanted = [("key", before["study"]["key"])] + [
            (i["kind"], i["value"]) for i in before["identifiers"]
        ]
        for ident_kind, value in wanted:
            holder = session.scalars(
                select(Study).where(Study.key == value, Study.id.notin_(ours))
                if ident_kind == "key"
                else select(Study)
                .join(Identifier, Identifier.study_id == Study.id)
                .where(
                    Identifier.kind == ident_kind,
                    Identifier.value == value,
                    Study.id.notin_(ours),
                )
            ).first()
            if holder is None:
                continue
            blocker = _blocker(session, target, ("study", holder.id))
            who = f" (operation {blocker.id}: {blocker.command})" if blocker else ""
            label = "key" if ident_kind in ("key", "alias") else ident_kind.upper()
            raise RefdbError(
                f"cannot undo operation {target.id}: {label} {value} now belongs to study "
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


def undo(session: Session, operation_id: int | None, command: str) -> Operation:
    """Reverse an operation, provided nothing later changed the same rows; log it as one."""
    target = pick_operation(session, operation_id)
    net = _net_changes(target)
    for entity, (_before, after) in net.items():
        if snapshot(session, entity) != after:
            blocker = _blocker(session, target, entity)
            who = (
                f"operation {blocker.id} ({blocker.command}) changed {_describe(entity, after)} later;"
                f" undo it first"
                if blocker
                else f"{_describe(entity, after)} has changed since"
            )
            raise RefdbError(f"cannot undo operation {target.id}: {who}")
    _check_identifiers_free(session, target, net)
    recorder = Recorder(session, command)
    for entity in net:
        recorder.touch(entity)
    # Studies are removed first and put back afterwards, so that identifiers that moved
    # between studies (a merge) never collide; indications are updated in place so that
    # the links of studies outside this operation survive.
    studies = [(e, states) for e, states in net.items() if e[0] == "study"]
    indications = [(e, states) for e, states in net.items() if e[0] == "indication"]
    for entity, (before, _after) in indications:
        if before is not None:
            restore_indication(session, entity[1], before)
    session.flush()
    for entity, _states in studies:
        current = session.get(Study, entity[1])
        if current is not None:
            session.delete(current)
    session.flush()
    session.expunge_all()
    for _entity, (before, _after) in studies:
        if before is not None:
            session.add(study_from_snapshot(before))
    session.flush()
    for entity, (before, _after) in indications:
        if before is None:
            restore_indication(session, entity[1], None)
    target = session.get(Operation, target.id) or target
    operation = recorder.finish(undoes=target)
    if operation is None:
        raise RefdbError(f"operation {target.id}: nothing left to undo")
    return operation
