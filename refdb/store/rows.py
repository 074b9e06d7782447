"""Rows to References and back, and whole-row snapshots (JSON) for the change log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session, object_session

from refdb.records import Author, FieldSource, Notice, Reference, normalise_title
from refdb.store.models import AuthorRow, Identifier, Indication, Study, StudyIndication

STUDY_COLUMNS = tuple(c.key for c in inspect(Study).column_attrs)
_DATETIME_COLUMNS = ("created_at", "updated_at")


def to_reference(study: Study) -> Reference:
    """The Reference a study row holds."""
    ids = {i.kind: i.value for i in study.identifiers if i.kind != "alias"}
    ordered_links = sorted(study.links, key=lambda link: link.indication.position)
    return Reference(
        id=study.id,
        key=study.key,
        type=study.type,
        title=study.title,
        page_title=study.page_title,
        authors=[
            Author(
                family=a.family,
                given=a.given,
                literal=a.literal,
                suffix=a.suffix,
                initials=a.initials,
            )
            for a in study.authors
        ],
        authors_complete=study.authors_complete,
        editors=[Author(**e) for e in study.editors or []],
        container_title=study.container_title,
        container_title_short=study.container_title_short,
        year=study.year,
        month=study.month,
        day=study.day,
        season=study.season,
        circa=bool(study.circa),
        date_text=study.date_text,
        epub_date=study.epub_date,
        volume=study.volume,
        issue=study.issue,
        pages=study.pages,
        doi=ids.get("doi"),
        pmid=ids.get("pmid"),
        pmcid=ids.get("pmcid"),
        url=study.url,
        abstract=study.abstract,
        language=study.language,
        publisher=study.publisher,
        issn=study.issn,
        publication_types=list(study.publication_types or []),
        mesh_terms=list(study.mesh_terms or []),
        keywords=list(study.keywords or []),
        aliases=sorted(i.value for i in study.identifiers if i.kind == "alias"),
        indications=[link.indication.name for link in ordered_links],
        status=study.status,
        status_note=study.status_note,
        notices=[Notice(**n) for n in study.notices or []],
        evidence_level=study.evidence_level,
        provenance={k: FieldSource(**v) for k, v in (study.provenance or {}).items()},
    )


def set_authors(study: Study, authors: list[Author]) -> None:
    """Replace a study's authors, keeping their order."""
    study.authors.clear()
    session = object_session(study)
    if session is not None and study.id is not None:
        session.flush()  # delete the old rows before their positions are reused
    for position, author in enumerate(authors):
        study.authors.append(
            AuthorRow(
                position=position,
                family=author.family,
                given=author.given,
                literal=author.literal,
                suffix=author.suffix,
                initials=author.initials,
            )
        )


def set_title(study: Study, title: str) -> None:
    """Set the title and its normalised form (used to find duplicates)."""
    study.title = title
    study.title_norm = normalise_title(title)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        # SQLite hands back naive datetimes; they were stored as UTC.
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    return value


def study_snapshot(study: Study | None) -> dict[str, Any] | None:
    """Every row that makes up a study, as JSON: enough to put it back exactly."""
    if study is None:
        return None
    return {
        "study": {name: _jsonable(getattr(study, name)) for name in STUDY_COLUMNS},
        "authors": [
            {
                c: getattr(a, c)
                for c in ("id", "position", "family", "given", "literal", "suffix", "initials")
            }
            for a in sorted(study.authors, key=lambda a: a.position)
        ],
        "identifiers": sorted(
            ({"id": i.id, "kind": i.kind, "value": i.value} for i in study.identifiers),
            key=lambda i: (i["kind"], i["value"]),
        ),
        "links": sorted(
            (
                {"indication_id": link.indication_id, "position": link.position}
                for link in study.links
            ),
            key=lambda link: link["indication_id"],
        ),
    }


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


def study_from_snapshot(snapshot: dict[str, Any]) -> Study:
    """A new Study row (with its authors, identifiers and links) from a snapshot."""
    columns = dict(snapshot["study"])
    for name in _DATETIME_COLUMNS:
        if isinstance(columns.get(name), str):
            columns[name] = datetime.fromisoformat(columns[name])
    study = Study(**columns)
    study.authors = [AuthorRow(**a) for a in snapshot["authors"]]
    study.identifiers = [Identifier(**i) for i in snapshot["identifiers"]]
    study.links = [StudyIndication(**link) for link in snapshot["links"]]
    return study


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
