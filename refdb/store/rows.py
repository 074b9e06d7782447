"""Rows to References and back, and whole-row snapshots (JSON) for the change log."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Text, delete, func, insert, inspect, select, text, type_coerce
from sqlalchemy.orm import Session

from refdb.dates import utc
from refdb.records import FIELD_NAMES, Reference
from refdb.store.models import (
    AuthorRow,
    Base,
    Identifier,
    Indication,
    Study,
    StudyIndication,
    table,
)

STUDY_COLUMNS = tuple(c.key for c in inspect(Study).column_attrs)
_DATETIME_COLUMNS = ("created_at", "updated_at")


def references_for(
    session: Session, ids: Sequence[int], *, provenance: bool = True
) -> list[Reference]:
    """The References of these studies, in the order given (see `study_records`)."""
    records = study_records(session, ids, provenance=provenance)
    return [Reference.from_dict(record) for record in records]


def study_records(
    session: Session, ids: Sequence[int], *, provenance: bool = True
) -> list[dict[str, Any]]:
    """These studies as JSON-ready dicts, in the order given: what `Reference.to_dict` gives,
    key for key, but made from the rows without building a Reference (`list --json` over
    100,000 studies). Four Core queries per 500 studies: the studies, their authors,
    identifiers and links. Without `provenance` (for renderers, which never print it), each
    study's is left empty instead of read: a sixth of an export's time."""
    session.flush()
    indications = {
        indication_id: (position, name)
        for indication_id, name, position in session.execute(
            select(Indication.id, Indication.name, Indication.position)
        )
    }
    studies, authors = table(Study), table(AuthorRow)
    identifiers, links = table(Identifier), table(StudyIndication)
    # JSON columns come as text and are decoded here: most hold `[]`, which needs no parser.
    names = _RECORD_COLUMNS if provenance else _RECORD_COLUMNS_BUT_PROVENANCE
    columns = [
        type_coerce(studies.c[name], Text) if name in _JSON_COLUMNS else studies.c[name]
        for name in names
    ]
    found: dict[int, dict[str, Any]] = {}
    for chunk in chunks(sorted(set(ids))):
        people: dict[int, list[dict[str, Any]]] = {}
        for study_id, family, given, literal, suffix, initials in session.execute(
            select(
                authors.c.study_id,
                authors.c.family,
                authors.c.given,
                authors.c.literal,
                authors.c.suffix,
                authors.c.initials,
            )
            .where(authors.c.study_id.in_(chunk))
            .order_by(authors.c.study_id, authors.c.position)
        ):
            people.setdefault(study_id, []).append(
                {
                    "family": family,
                    "given": given,
                    "literal": literal,
                    "suffix": suffix,
                    "initials": initials,
                }
            )
        ids_of: dict[int, dict[str, str]] = {}
        aliases: dict[int, list[str]] = {}
        for study_id, kind, value in session.execute(
            select(identifiers.c.study_id, identifiers.c.kind, identifiers.c.value).where(
                identifiers.c.study_id.in_(chunk)
            )
        ):
            if kind == "alias":
                aliases.setdefault(study_id, []).append(value)
            else:
                ids_of.setdefault(study_id, {})[kind] = value
        filed: dict[int, list[tuple[int, str]]] = {}
        for study_id, indication_id in session.execute(
            select(links.c.study_id, links.c.indication_id).where(links.c.study_id.in_(chunk))
        ):
            filed.setdefault(study_id, []).append(indications[indication_id])
        for row in session.execute(select(*columns).where(studies.c.id.in_(chunk))):
            values = dict(zip(names, row, strict=True))
            study_id = values["id"]
            own = ids_of.get(study_id, {})
            values |= {
                "authors": people.get(study_id, []),
                "doi": own.get("doi"),
                "pmid": own.get("pmid"),
                "pmcid": own.get("pmcid"),
                "aliases": sorted(aliases.get(study_id, [])),
                "indications": [name for _, name in sorted(filed.get(study_id, []))],
                "circa": bool(values["circa"]),
            }
            for name in _LIST_COLUMNS:
                values[name] = _json(values[name]) or []
            values["provenance"] = (_json(values["provenance"]) or {}) if provenance else {}
            found[study_id] = {name: values[name] for name in FIELD_NAMES}
    return [found[i] for i in ids if i in found]


_RECORD_COLUMNS = tuple(name for name in STUDY_COLUMNS if name in FIELD_NAMES)
"""The studies' columns that are Reference fields."""
_RECORD_COLUMNS_BUT_PROVENANCE = tuple(c for c in _RECORD_COLUMNS if c != "provenance")
_LIST_COLUMNS = ("editors", "notices", "publication_types", "mesh_terms", "keywords")
_JSON_COLUMNS = frozenset([*_LIST_COLUMNS, "provenance"])


def _json(value: Any) -> Any:
    """A JSON column's value: text from SQLite (decoded here; an empty list, the most common
    value, without the parser), already decoded from PostgreSQL's driver."""
    if not isinstance(value, str):
        return value
    return [] if value == "[]" else json.loads(value)


def insert_with_ids(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows in bulk; their new ids, in the order of the rows.

    The ids are taken first (the next ones after the table's largest on SQLite, whose write
    lock this transaction holds; from the table's sequence on PostgreSQL) and the rows sent
    as one executemany of a one-row statement: faster than RETURNING from a many-row VALUES
    statement, which psycopg even parses anew on every execution (it caches only short
    statements: that cost an import of 10,000 studies 8 of its 26 seconds)."""
    tbl = table(model)
    if session.get_bind().dialect.name == "postgresql":
        sequence = session.scalar(
            text("SELECT pg_get_serial_sequence(:name, 'id')"), {"name": tbl.name}
        )
        ids = list(
            session.scalars(
                text("SELECT nextval(:sequence) FROM generate_series(1, :n) ORDER BY 1"),
                {"sequence": sequence, "n": len(rows)},
            )
        )
    else:
        start = (session.scalar(select(func.max(tbl.c.id))) or 0) + 1
        ids = list(range(start, start + len(rows)))
    statement = insert(tbl)
    for start in range(0, len(rows), INSERT_CHUNK):  # the driver's parameters, a slice at a time
        part = zip(rows[start : start + INSERT_CHUNK], ids[start:], strict=False)
        session.execute(statement, [{**row, "id": i} for row, i in part])
    return ids


INSERT_CHUNK = 2000
"""Rows per executemany: all of an import's at once held their bound parameters (the JSON
columns serialised) beside the rows, 0.4 GB at 100,000 studies."""


def jsonable(value: Any) -> Any:
    """A column's value as the change log keeps it (a time as ISO 8601 in UTC)."""
    if isinstance(value, datetime):
        return utc(value).isoformat()
    return value


T = TypeVar("T")
_AUTHOR_KEYS = ("id", "position", "family", "given", "literal", "suffix", "initials")
CHUNK = 500
"""Ids per `IN (...)` list: under SQLite's and PostgreSQL's limits on bound parameters."""


def chunks(ids: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """The values in slices of at most `size`."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def study_snapshots(session: Session, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Every row that makes up each study, as JSON: enough to put it back exactly.

    Read with four Core queries per 500 studies, not an object graph: an import of 100,000
    studies logs (and an undo compares) 100,000 of these. A study that does not exist is left
    out of the result.
    """
    session.flush()
    wanted = sorted(set(ids))
    found: dict[int, dict[str, Any]] = {}
    studies, authors = Study.__table__, AuthorRow.__table__
    identifiers, links = Identifier.__table__, StudyIndication.__table__
    for chunk in chunks(wanted):
        for row in session.execute(select(studies).where(studies.c.id.in_(chunk))).mappings():
            found[row["id"]] = {
                "study": {name: jsonable(row[name]) for name in STUDY_COLUMNS},
                "authors": [],
                "identifiers": [],
                "links": [],
            }
        rows = session.execute(
            select(authors)
            .where(authors.c.study_id.in_(chunk))
            .order_by(authors.c.study_id, authors.c.position)
        ).mappings()
        for row in rows:
            found[row["study_id"]]["authors"].append({k: row[k] for k in _AUTHOR_KEYS})
        rows = session.execute(
            select(identifiers)
            .where(identifiers.c.study_id.in_(chunk))
            .order_by(identifiers.c.study_id, identifiers.c.kind, identifiers.c.value)
        ).mappings()
        for row in rows:
            found[row["study_id"]]["identifiers"].append(
                {"id": row["id"], "kind": row["kind"], "value": row["value"]}
            )
        rows = session.execute(
            select(links)
            .where(links.c.study_id.in_(chunk))
            .order_by(links.c.study_id, links.c.indication_id)
        ).mappings()
        for row in rows:
            found[row["study_id"]]["links"].append(
                {"indication_id": row["indication_id"], "position": row["position"]}
            )
    return found


def insert_snapshots(session: Session, snapshots: Sequence[dict[str, Any]]) -> None:
    """Put studies back exactly as their snapshots hold them (ids included), in bulk."""
    if not snapshots:
        return
    session.flush()
    study_rows = []
    for snapshot in snapshots:
        columns = dict(snapshot["study"])
        for name in _DATETIME_COLUMNS:
            if isinstance(columns.get(name), str):
                columns[name] = datetime.fromisoformat(columns[name])
        study_rows.append(columns)
    session.execute(insert(table(Study)), study_rows)
    children = (
        (AuthorRow, "authors"),
        (Identifier, "identifiers"),
        (StudyIndication, "links"),
    )
    for model, part in children:
        rows = [
            {"study_id": snap["study"]["id"], **row} for snap in snapshots for row in snap[part]
        ]
        if rows:
            session.execute(insert(table(model)), rows)


def delete_studies(session: Session, ids: Sequence[int]) -> None:
    """Delete studies with their authors, identifiers and links, in bulk."""
    session.flush()
    for model, column in (
        (AuthorRow, AuthorRow.study_id),
        (Identifier, Identifier.study_id),
        (StudyIndication, StudyIndication.study_id),
        (Study, Study.id),
    ):
        for chunk in chunks(list(ids)):
            session.execute(
                delete(model).where(column.in_(chunk)),
                execution_options={"synchronize_session": False},
            )
    session.expire_all()


def indication_snapshot(indication: Indication | None) -> dict[str, Any] | None:
    """An indication row as JSON."""
    if indication is None:
        return None
    return {
        "id": indication.id,
        "name": indication.name,
        "heading": indication.heading,
        "position": indication.position,
    }


def restore_indication(
    session: Session, indication_id: int, snapshot: dict[str, Any] | None
) -> None:
    """Put an indication back as the snapshot has it (None: it did not exist)."""
    current = session.get(Indication, indication_id)
    if snapshot is None:
        if current is not None:
            session.delete(current)
        return
    if current is None:
        session.add(Indication(**snapshot))
    else:
        current.name = snapshot["name"]
        current.heading = snapshot["heading"]
        current.position = snapshot["position"]
