"""Curation: tags, indications, edits, removal and merging. Each call is one logged operation."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from refdb.dates import season_number
from refdb.errors import RefdbError
from refdb.evidence import HAND_BASIS, derive_level, parse_level
from refdb.records import (
    CSL_TYPES,
    STATUSES,
    Author,
    IndicationSpec,
    Reference,
    check_date,
    initials_of,
    is_valid_doi,
    normalise_doi,
    normalise_pmcid,
)
from refdb.store import history
from refdb.store.duplicates import DuplicatePair, find_duplicates
from refdb.store.history import Recorder, now
from refdb.store.library import Library, source_rank
from refdb.store.models import Identifier, Indication, Operation, Study, StudyIndication
from refdb.store.rows import set_authors, to_reference
from refdb.store.search import reindex

HAND = "hand"

FIELD_ALIASES = {
    "journal": "container_title",
    "journal_abbrev": "container_title_short",
    "journal-abbrev": "container_title_short",
    "container-title": "container_title",
    "page": "pages",
    "note": "status_note",
}


def _text(value: str) -> str | None:
    return value.strip() or None


def _year(value: str) -> int | None:
    if not value.strip():
        return None
    if not re.fullmatch(r"\d{4}", value.strip()) or not 1000 <= int(value) <= 2100:
        raise ValueError(f"'{value}' is not a year")
    return int(value)


def _bounded(name: str, low: int, high: int) -> Callable[[str], int | None]:
    def parse(value: str) -> int | None:
        if not value.strip():
            return None
        if not value.strip().isdigit() or not low <= int(value) <= high:
            raise ValueError(f"'{value}' is not a {name} ({low}-{high})")
        return int(value)

    return parse


def _season(value: str) -> int | None:
    if not value.strip():
        return None
    number = int(value) if value.strip().isdigit() else season_number(value)
    if number is None or not 1 <= number <= 4:
        raise ValueError(f"'{value}' is not a season (spring, summer, autumn, winter or 1-4)")
    return number


def _doi(value: str) -> str | None:
    doi = normalise_doi(value)
    if doi is not None and not is_valid_doi(doi):
        raise ValueError(f"'{value}' is not a DOI (10.NNNN/...)")
    return doi


def _pmid(value: str) -> str | None:
    text = value.strip()
    if text and not re.fullmatch(r"[1-9]\d{0,8}", text):
        raise ValueError(f"'{value}' is not a PMID")
    return text or None


def _pmcid(value: str) -> str | None:
    text = normalise_pmcid(value)
    if text and not re.fullmatch(r"PMC\d{1,9}(?:\.\d+)?", text):
        raise ValueError(f"'{value}' is not a PMCID (PMC1234567)")
    return text


def _status(value: str) -> str | None:
    text = value.strip().lower().replace(" ", "-")
    if text in ("", "none", "ok", "clear"):
        return None
    if text not in STATUSES:
        raise ValueError(f"'{value}' is not a status ({', '.join(STATUSES)} or none)")
    return text


def _boolean(value: str) -> bool:
    text = value.strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise ValueError(f"'{value}' is not true or false")


def _type(value: str) -> str:
    if value.strip() not in CSL_TYPES:
        raise ValueError(f"'{value}' is not a CSL type (article-journal, book, chapter, ...)")
    return value.strip()


def _title(value: str) -> str:
    if not value.strip():
        raise ValueError("a title cannot be empty")
    return " ".join(value.split())


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def parse_authors(value: str) -> list[Author]:
    """'Schwartzman, Robert J.; Alexander, G M; {Task Force}' -> authors, in order."""
    authors = []
    for part in value.split(";"):
        name = part.strip()
        if not name:
            continue
        if name.startswith("{") and name.endswith("}"):
            authors.append(Author(literal=name[1:-1].strip()))
            continue
        if "," in name:
            family, given = (p.strip() for p in name.split(",", 1))
        else:
            # "Schwartzman RJ": the last word is the initials when it is short and upper case.
            words = name.split()
            if len(words) < 2 or not re.fullmatch(r"[A-Z]{1,4}", words[-1]):
                raise ValueError(
                    f"author '{name}' is not 'Family, Given', 'Family INITIALS' or '{{Group}}'"
                )
            family, given = " ".join(words[:-1]), words[-1]
        if not family or not re.search(r"\w", family):
            raise ValueError(f"author '{name}' has no family name")
        initials = given if re.fullmatch(r"[A-Z]{1,4}", given) else initials_of(given)
        authors.append(Author(family=family, given=given or None, initials=initials or None))
    if not authors:
        raise ValueError("the author list is empty")
    return authors


def _level(value: str) -> str | None:
    """An evidence level slug or label; empty means: derive it again from PubMed's data."""
    return parse_level(value) if value.strip() else None


EDITABLE: dict[str, Callable[[str], Any]] = {
    "title": _title,
    "type": _type,
    "container_title": _text,
    "container_title_short": _text,
    "year": _year,
    "month": _bounded("month", 1, 12),
    "day": _bounded("day", 1, 31),
    "volume": _text,
    "issue": _text,
    "pages": _text,
    "doi": _doi,
    "pmid": _pmid,
    "pmcid": _pmcid,
    "url": _text,
    "abstract": _text,
    "language": _text,
    "publisher": _text,
    "issn": _text,
    "authors": parse_authors,
    "authors_complete": _boolean,
    "editors": parse_authors,
    "season": _season,
    "circa": _boolean,
    "date_text": _text,
    "publication_types": _list,
    "keywords": _list,
    "status": _status,
    "status_note": _text,
    "evidence_level": _level,
    "page_title": _text,
}


def parse_assignments(assignments: Sequence[str]) -> dict[str, Any]:
    """Validate `FIELD=VALUE` pairs; the first bad one raises RefdbError naming it."""
    values: dict[str, Any] = {}
    for assignment in assignments:
        if "=" not in assignment:
            raise RefdbError(f"--set {assignment!r}: expected FIELD=VALUE")
        raw_name, value = assignment.split("=", 1)
        name = FIELD_ALIASES.get(raw_name.strip(), raw_name.strip().replace("-", "_"))
        if name not in EDITABLE:
            raise RefdbError(
                f"--set {raw_name.strip()}: unknown field (one of: {', '.join(sorted(EDITABLE))})"
            )
        try:
            values[name] = EDITABLE[name](value)
        except ValueError as exc:
            raise RefdbError(f"--set {raw_name.strip()}: {exc}") from None
    if not values:
        raise RefdbError("nothing to change: give --set FIELD=VALUE")
    return values


@dataclass
class EditResult:
    """What an edit changed: field, old value, new value."""

    key: str
    changed: list[tuple[str, Any, Any]]
    operation_id: int | None


def edit(library: Library, ref: str, assignments: Sequence[str], *, command: str) -> EditResult:
    """Change fields of one study by hand; each is marked as set by hand (enrichment keeps it)."""
    values = parse_assignments(assignments)
    with library.operation(command) as (session, recorder):
        study = library.find(session, ref)
        recorder.touch(("study", study.id))
        before = to_reference(study)
        changed: list[tuple[str, Any, Any]] = []
        provenance = dict(study.provenance or {})
        stamp = now().isoformat(timespec="seconds")
        dated = {n: values.get(n, getattr(before, n)) for n in ("year", "month", "day")}
        try:
            check_date(dated["year"], dated["month"], dated["day"], earliest=1000)
        except ValueError as exc:
            raise RefdbError(f"--set: {exc} ({before.key})") from None
        for name, value in values.items():
            old = getattr(before, name)
            locking = name == "evidence_level" and value is not None and not _by_hand(provenance)
            if old == value and not locking:  # the same level by hand still locks it
                continue
            if name == "evidence_level":
                value = _set_level(study, value, provenance, stamp)
                changed.append((name, old, value))
                continue
            refused = library.set_field(session, study, name, value)
            if refused:
                raise RefdbError(f"--set {name}: {refused}")
            provenance[name] = {"source": HAND, "at": stamp}
            changed.append((name, old, value))
        if any(name == "publication_types" for name, _, _ in changed):
            _derive_again(study, before, provenance, stamp, changed)
        if changed:
            study.provenance = provenance
            study.updated_at = now()
        key = study.key
    return EditResult(key, changed, recorder.operation_id)


def _by_hand(provenance: dict[str, Any]) -> bool:
    """Whether the study's evidence level was set by hand."""
    return bool((provenance.get("evidence_level") or {}).get("source") == HAND)


def _derive_again(
    study: Study,
    before: Reference,
    provenance: dict[str, Any],
    stamp: str,
    changed: list[tuple[str, Any, Any]],
) -> None:
    """New publication types by hand: derive the level again, unless it was set by hand or
    the new types say nothing (then the known level stays)."""
    if _by_hand(provenance):
        return
    derived = derive_level(study.publication_types or [], study.mesh_terms or [])
    if derived.level in ("unclassified", before.evidence_level):
        return
    study.evidence_level, study.evidence_basis = derived.level, derived.basis
    provenance["evidence_level"] = {"source": "derived", "at": stamp}
    changed.append(("evidence_level", before.evidence_level, derived.level))


def _set_level(study: Study, level: str | None, provenance: dict[str, Any], stamp: str) -> str:
    """Set a study's level by hand (kept against every source), or with None derive it again
    from its publication types and MeSH (and let sources set it again)."""
    if level is None:
        derived = derive_level(study.publication_types or [], study.mesh_terms or [])
        study.evidence_level, study.evidence_basis = derived.level, derived.basis
        provenance.pop("evidence_level", None)
        return derived.level
    study.evidence_level, study.evidence_basis = level, HAND_BASIS
    provenance["evidence_level"] = {"source": HAND, "at": stamp}
    return level


def remove(library: Library, refs: Sequence[str], *, command: str) -> list[str]:
    """Delete studies (with their authors, identifiers and tags); undo brings them back."""
    with library.operation(command) as (session, recorder):
        studies = [library.find(session, ref) for ref in refs]
        keys = []
        for study in {s.id: s for s in studies}.values():
            recorder.touch(("study", study.id))
            keys.append(study.key)
            session.delete(study)
    return keys


def tag(library: Library, ref: str, names: Sequence[str], *, command: str) -> list[str]:
    """File a study under indications (created on first use); returns the ones newly added."""
    with library.operation(command) as (session, recorder):
        study = library.find(session, ref)
        added = []
        for name in names:
            spec = IndicationSpec(name=name.strip(), heading=f"For {name.strip()}")
            indication = library.ensure_indication(session, recorder, spec)
            if library.link(session, recorder, study, indication):
                added.append(indication.name)
    return added


def untag(library: Library, ref: str, names: Sequence[str], *, command: str) -> list[str]:
    """Take a study out of indications; returns the ones it was removed from."""
    with library.operation(command) as (session, recorder):
        study = library.find(session, ref)
        indications = [library.indication(session, name) for name in names]
        removed = []
        for indication in indications:
            link = next((x for x in study.links if x.indication_id == indication.id), None)
            if link is not None:
                recorder.touch(("study", study.id))
                study.links.remove(link)
                removed.append(indication.name)
    return removed


def update_indication(
    library: Library,
    name: str,
    *,
    command: str,
    rename: str | None = None,
    heading: str | None = None,
    position: int | None = None,
) -> None:
    """Rename an indication, change its page heading or its place on the page."""
    with library.operation(command) as (session, recorder):
        indication = library.indication(session, name)
        recorder.touch(("indication", indication.id))
        if rename is not None:
            clash = library.indication_named(session, rename)
            if (clash is not None and clash.id != indication.id) or not rename.strip():
                raise RefdbError(f"indication {rename!r}: that name is taken or empty")
            indication.name = rename.strip()
        if heading is not None:
            if not heading.strip():
                raise RefdbError("a heading cannot be empty")
            indication.heading = heading.strip()
        if position is not None:
            # Move it to that place on the page; the others keep their order around it.
            others = sorted(
                (i for i in session.scalars(select(Indication)) if i.id != indication.id),
                key=lambda i: (i.position, i.name),
            )
            index = min(max(position, 1), len(others) + 1) - 1
            for number, item in enumerate([*others[:index], indication, *others[index:]], 1):
                if item.position != number:
                    recorder.touch(("indication", item.id))
                    item.position = number


# --- merging ---------------------------------------------------------------------------------


def _richer(name: str, keep: Reference, other: Reference) -> Any:
    mine, theirs = getattr(keep, name), getattr(other, name)
    if theirs in (None, "", []):
        return mine
    if mine in (None, "", []):
        return theirs
    mine_rank = source_rank((keep.provenance.get(name) or _NoSource).source)
    their_rank = source_rank((other.provenance.get(name) or _NoSource).source)
    if their_rank > mine_rank:
        return theirs
    if their_rank == mine_rank and isinstance(theirs, str | list) and len(theirs) > len(mine):
        return theirs
    return mine


class _NoSource:
    source = None


MERGED_FIELDS = (
    "type", "container_title", "container_title_short", "year", "month", "day", "epub_date",
    "volume", "issue", "pages", "url", "abstract", "language", "publisher", "issn",
    "publication_types", "mesh_terms", "keywords", "status", "status_note", "evidence_level",
    "page_title",
)  # fmt: skip


def merge_pair(session: Any, recorder: Recorder, keep: Study, other: Study) -> None:
    """Fold `other` into `keep`: richer value per field, union of tags and identifiers.

    `other` is deleted; its citation key (and old keys) stay findable as aliases of `keep`.
    """
    recorder.touch(("study", keep.id))
    recorder.touch(("study", other.id))
    mine, theirs = to_reference(keep), to_reference(other)
    provenance = dict(other.provenance or {}) | dict(keep.provenance or {})
    for name in MERGED_FIELDS:
        value = _richer(name, mine, theirs)
        if value != getattr(mine, name):
            setattr(keep, name, value)
            if name in (other.provenance or {}):
                provenance[name] = other.provenance[name]
    if keep.evidence_level != mine.evidence_level:
        keep.evidence_basis = theirs.evidence_basis
    if len(theirs.authors) > len(mine.authors) or (
        not mine.authors_complete and theirs.authors_complete
    ):
        set_authors(keep, theirs.authors)
        keep.authors_complete = theirs.authors_complete
    keep.notices = [
        *(keep.notices or []),
        *[n for n in other.notices or [] if n not in (keep.notices or [])],
    ]
    keep.provenance = provenance
    moved = [(i.kind, i.value) for i in other.identifiers]
    held = {i.kind for i in keep.identifiers}
    other_key = other.key
    links = [(link.indication_id, link.position) for link in other.links]
    session.delete(other)
    session.flush()
    for kind, value in moved:
        if kind == "alias" or kind not in held:
            keep.identifiers.append(Identifier(kind=kind, value=value))
    keep.identifiers.append(Identifier(kind="alias", value=other_key))
    linked = {link.indication_id for link in keep.links}
    for indication_id, position in links:
        if indication_id not in linked:
            keep.links.append(StudyIndication(indication_id=indication_id, position=position))
    keep.updated_at = now()
    session.flush()


def merge_duplicates(library: Library, *, command: str) -> list[DuplicatePair]:
    """Merge every likely duplicate pair into its older study, as one operation."""
    with library.operation(command) as (session, recorder):
        pairs = find_duplicates(session)
        merged: list[DuplicatePair] = []
        gone: set[int] = set()
        for pair in pairs:
            keep_id, other_id = pair.keep.id, pair.other.id
            if keep_id is None or other_id is None or keep_id in gone or other_id in gone:
                continue
            keep, other = session.get(Study, keep_id), session.get(Study, other_id)
            if keep is None or other is None:
                continue
            merge_pair(session, recorder, keep, other)
            gone.add(other_id)
            merged.append(pair)
    return merged


def list_duplicates(library: Library) -> list[DuplicatePair]:
    """Likely duplicate pairs, best match first (nothing is changed)."""
    with library.db.reading() as session:
        return find_duplicates(session)


def undo(library: Library, operation_id: int | None, *, command: str) -> Operation:
    """Reverse the last operation (or a named one) when nothing later touched its rows."""
    with library.db.transaction() as session:
        operation = history.undo(session, operation_id, command)
        reindex(session, history.changed_studies(session, operation.id))
        return operation


def operations(library: Library, limit: int | None = None) -> list[history.OperationInfo]:
    """The change log, newest first."""
    with library.db.reading() as session:
        return history.list_operations(session, limit)
