"""Lookups that reading and writing share: a study by what a person types, indications by
name, who holds an identifier or a key."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from refdb.errors import NotFoundError
from refdb.identifiers import doi_key, pmid_or_none
from refdb.store.models import Identifier, Indication, Study
from refdb.store.rows import chunks

TAKEN_KEYS = "refdb_taken_keys"
"""A session's `info` key: every citation key and alias in use, loaded once per transaction."""


def find_study_id(session: Session, ref: str) -> int:
    """The id of the study a person means: a citation key or old key (alias), a PMID
    ('PMID:123' too), a DOI (any case, with or without resolver), a PMCID or the numeric id;
    NotFoundError naming what was asked."""
    text = ref.strip()
    study_id = session.scalar(select(Study.id).where(Study.key == text))
    if study_id is None:
        pmid = pmid_or_none(text) or text
        conditions = [
            (Identifier.kind == "alias") & (Identifier.value == text),
            (Identifier.kind == "doi") & (func.lower(Identifier.value) == doi_key(text)),
            (Identifier.kind == "pmid") & (Identifier.value == pmid),
            (Identifier.kind == "pmcid") & (Identifier.value == text.upper()),
        ]
        study_id = session.scalar(select(Identifier.study_id).where(or_(*conditions)).limit(1))
        if study_id is None and text.isascii() and text.isdigit() and len(text) < 10:
            study_id = session.scalar(select(Study.id).where(Study.id == int(text)))
    if study_id is None:
        raise NotFoundError(f"{ref}: no study with this key, PMID, DOI or id")
    return int(study_id)


def indication_named(session: Session, name: str) -> Indication | None:
    """The indication of this name, compared without regard to case ("crps" is "CRPS").

    Compared in Python: SQLite's lower() folds only ASCII ("É", "ß" would not match)."""
    wanted = name.strip().casefold()
    return next(
        (i for i in session.scalars(select(Indication)) if i.name.casefold() == wanted), None
    )


def indication(session: Session, name: str) -> Indication:
    """The indication of this name; NotFoundError (one line) when there is none."""
    found = indication_named(session, name)
    if found is None:
        raise NotFoundError(f"indication {name!r}: no such indication (see `refdb indications`)")
    return found


def taken_keys(session: Session) -> set[str]:
    """Every key and alias in use, loaded once per transaction; writers keep it current."""
    taken: set[str] | None = session.info.get(TAKEN_KEYS)
    if taken is None:
        taken = set(session.scalars(select(Study.key))) | set(
            session.scalars(select(Identifier.value).where(Identifier.kind == "alias"))
        )
        session.info[TAKEN_KEYS] = taken
    return taken


def key_owners(session: Session, keys: Iterable[str]) -> dict[str, int]:
    """Which study holds each of these citation keys, as its key or an alias."""
    wanted = sorted(set(keys))
    owners: dict[str, int] = {}
    for chunk in chunks(wanted):
        for key, study_id in session.execute(
            select(Study.key, Study.id).where(Study.key.in_(chunk))
        ):
            owners[key] = study_id
        for key, study_id in session.execute(
            select(Identifier.value, Identifier.study_id).where(
                Identifier.kind == "alias", Identifier.value.in_(chunk)
            )
        ):
            owners[key] = study_id
    return {str(k): int(v) for k, v in owners.items()}


def identifier_owners(session: Session, kind: str, values: Iterable[str]) -> dict[str, int]:
    """Which study holds each of these identifiers (DOIs compared in lower case, and
    returned as `doi_key`)."""
    wanted = sorted({doi_key(v) if kind == "doi" else v for v in values})
    column = func.lower(Identifier.value) if kind == "doi" else Identifier.value
    owners: dict[str, int] = {}
    for chunk in chunks(wanted):
        for value, study_id in session.execute(
            select(Identifier.value, Identifier.study_id).where(
                Identifier.kind == kind, column.in_(chunk)
            )
        ):
            owners[value.lower() if kind == "doi" else value] = int(study_id)
    return owners
