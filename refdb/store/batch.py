"""The one write path for References: a batch matched in a few queries, new studies inserted
with executemany, matched ones merged field by field. `refdb add` is a batch of one; an
import of 100,000 entries is a batch of 100,000, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, selectinload

from refdb.evidence import settle_level
from refdb.records import (
    SOURCE_FIELDS,
    IndicationSpec,
    Reference,
    doi_key,
    normalise_title,
)
from refdb.store.history import Recorder, now
from refdb.store.models import AuthorRow, Identifier, Indication, Study, StudyIndication, table
from refdb.store.rows import chunks

if TYPE_CHECKING:
    from refdb.store.library import FieldChange, Library, SaveResult

TitleKey = tuple[str, int | None]
"""A normalised title and a year: how a study without a shared identifier is matched."""

_NOT_COLUMNS = frozenset(["doi", "pmid", "pmcid"])
_STUDY_COLUMNS = tuple(c.name for c in table(Study).columns if c.name != "id")


@dataclass
class _Known:
    """What the database (and this batch so far) holds, for matching: identifier owners and
    studies by normalised title and year, with the identifiers that could contradict them."""

    owner: dict[tuple[str, str], int] = field(default_factory=dict)
    by_title: dict[tuple[str, int | None], list[int]] = field(default_factory=dict)
    ids_of: dict[int, dict[str, str]] = field(default_factory=dict)


def _identity_keys(ref: Reference) -> list[tuple[str, str]]:
    """The Reference's identifiers as the store compares them (a DOI in lower case)."""
    keys = []
    if ref.pmid:
        keys.append(("pmid", ref.pmid))
    if ref.doi:
        keys.append(("doi", doi_key(ref.doi)))
    if ref.pmcid:
        keys.append(("pmcid", ref.pmcid))
    return keys


def _load_known(
    session: Session, refs: Sequence[Reference], title_keys: Sequence[TitleKey]
) -> _Known:
    """Four kinds of query per 500 values, whatever the batch size."""
    known = _Known()
    values: dict[str, set[str]] = {"pmid": set(), "doi": set(), "pmcid": set()}
    for ref in refs:
        for kind, value in _identity_keys(ref):
            values[kind].add(value)
    for kind, wanted in values.items():
        column = func.lower(Identifier.value) if kind == "doi" else Identifier.value
        for chunk in chunks(sorted(wanted)):
            rows = session.execute(
                select(Identifier.value, Identifier.study_id).where(
                    Identifier.kind == kind, column.in_(chunk)
                )
            )
            for value, study_id in rows:
                known.owner[(kind, value.lower() if kind == "doi" else value)] = study_id
    titles = sorted({title for title, _year in title_keys})
    candidates: list[int] = []
    for chunk in chunks(titles):
        for study_id, title_norm, year in session.execute(
            select(Study.id, Study.title_norm, Study.year).where(Study.title_norm.in_(chunk))
        ):
            known.by_title.setdefault((title_norm, year), []).append(study_id)
            candidates.append(study_id)
    for id_chunk in chunks(candidates):
        for study_id, kind, value in session.execute(
            select(Identifier.study_id, Identifier.kind, Identifier.value).where(
                Identifier.study_id.in_(id_chunk), Identifier.kind.in_(("pmid", "doi"))
            )
        ):
            known.ids_of.setdefault(study_id, {})[kind] = value.lower()
    return known


def _match(known: _Known, ref: Reference, title_key: TitleKey) -> int | None:
    """The study this Reference is: same PMID, else DOI, else title and year with no
    identifier contradicting it."""
    for kind, value in _identity_keys(ref):
        if kind != "pmcid" and (kind, value) in known.owner:
            return known.owner[(kind, value)]
    incoming = {"pmid": ref.pmid, "doi": doi_key(ref.doi) if ref.doi else None}
    for candidate in known.by_title.get(title_key, []):
        ids = known.ids_of.get(candidate, {})
        if all(not v or ids.get(k) in (None, v) for k, v in incoming.items()):
            return candidate
    return None


def _remember(
    known: _Known, study_id: int, title_key: TitleKey, identifiers: dict[str, str]
) -> None:
    """A study this batch added is matched like a stored one by the entries after it."""
    for kind, value in identifiers.items():
        known.owner[(kind, value.lower() if kind == "doi" else value)] = study_id
    known.by_title.setdefault(title_key, []).append(study_id)
    known.ids_of[study_id] = {k: v.lower() for k, v in identifiers.items() if k != "pmcid"}


def save_batch(
    library: Library,
    session: Session,
    recorder: Recorder,
    refs: Sequence[Reference],
    *,
    source: str,
    indications: Sequence[str] = (),
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[SaveResult]:
    """Add each Reference, or merge it into the study it already is; file it under
    `indications`, its own, and the known indications its keywords name (not kept as
    keywords too). Returns one SaveResult per Reference, in order."""
    from refdb.store.library import SaveResult

    by_name = {i.name.casefold(): i for i in session.scalars(select(Indication))}
    prepared: list[tuple[Reference, list[str]]] = []
    for ref in refs:
        tagged = [k for k in ref.keywords if k.casefold() in by_name]
        keywords = [k for k in ref.keywords if k.casefold() not in by_name]
        incoming = replace(ref, keywords=keywords)
        settle_level(incoming)
        prepared.append((incoming, tagged))
    title_keys = [(normalise_title(ref.title), ref.year) for ref, _ in prepared]
    known = _load_known(session, [ref for ref, _ in prepared], title_keys)
    stamp = now()
    at = stamp.isoformat(timespec="seconds")
    results: list[SaveResult | None] = [None] * len(prepared)
    new_ids: dict[int, int] = {}
    matched: list[tuple[int, int]] = []  # (index of the Reference, id of its study)
    pending: list[_NewStudy] = []  # new studies not inserted yet
    pending_keys: dict[tuple[str, str], int] = {}
    pending_titles: set[tuple[str, int | None]] = set()

    def insert_pending() -> None:
        if not pending:
            return
        ids = session.scalars(
            insert(table(Study)).returning(table(Study).c.id, sort_by_parameter_order=True),
            [new.row for new in pending],
        ).all()
        authors: list[dict[str, Any]] = []
        identifiers: list[dict[str, Any]] = []
        for new, study_id in zip(pending, ids, strict=True):
            authors += [{"study_id": study_id, **a} for a in new.authors]
            identifiers += [
                {"study_id": study_id, "kind": k, "value": v} for k, v in new.identifiers.items()
            ]
            identifiers += [{"study_id": study_id, "kind": "alias", "value": new.alias}] * bool(
                new.alias
            )
            recorder.created(("study", study_id))
            _remember(known, study_id, title_keys[new.index], new.identifiers)
            results[new.index] = SaveResult("added", new.row["key"], new.row["title"], new.changes)
            new_ids[new.index] = study_id
        if authors:
            session.execute(insert(table(AuthorRow)), authors)
        if identifiers:
            session.execute(insert(table(Identifier)), identifiers)
        pending.clear()
        pending_keys.clear()
        pending_titles.clear()

    for index, (ref, _tagged) in enumerate(prepared):
        title_year = title_keys[index]
        if title_year in pending_titles or any(k in pending_keys for k in _identity_keys(ref)):
            insert_pending()  # an entry this batch already added: merge into it like a stored one
        study_id = _match(known, ref, title_year)
        if study_id is not None:
            matched.append((index, study_id))
            # Its merge (below) gives the study the identifiers it lacks: later entries
            # with them are that study too, as if the entries had been saved one by one.
            for identity in _identity_keys(ref):
                known.owner.setdefault(identity, study_id)
            continue
        new = _new_study(library, session, ref, index, title_year[0], source, at, known)
        new.row["created_at"] = new.row["updated_at"] = stamp
        pending.append(new)
        pending_keys.update(dict.fromkeys(_identity_keys(ref), index))
        pending_titles.add(title_year)
        if progress is not None:
            progress(len(new_ids) + len(pending), len(prepared))
    insert_pending()

    if matched:
        recorder.touch_all(("study", study_id) for _, study_id in matched)
        studies = {
            s.id: s
            for chunk in chunks(sorted({sid for _, sid in matched}))
            for s in session.scalars(
                select(Study)
                .where(Study.id.in_(chunk))
                .options(selectinload(Study.authors), selectinload(Study.identifiers))
            )
        }
        for done, (index, study_id) in enumerate(matched, start=1):
            study = studies[study_id]
            changes = library.apply(session, study, prepared[index][0], source, force=force)
            action = "updated" if any(c.skipped is None for c in changes) else "unchanged"
            results[index] = SaveResult(action, study.key, study.title, changes)
            if progress is not None:
                progress(len(new_ids) + done, len(prepared))
        session.flush()

    _link_all(library, session, recorder, prepared, indications, results, new_ids, matched)
    return [r for r in results if r is not None]


@dataclass
class _NewStudy:
    """A study to insert: its row, authors, identifiers, alias, and the changes to report."""

    index: int
    row: dict[str, Any]
    authors: list[dict[str, Any]]
    identifiers: dict[str, str]
    alias: str | None
    changes: list[FieldChange]


_AUTHOR_FIELDS = ("family", "given", "literal", "suffix", "initials")


def _new_study(
    library: Library,
    session: Session,
    ref: Reference,
    index: int,
    title_norm: str,
    source: str,
    at: str,
    known: _Known,
) -> _NewStudy:
    """A new study: what `Library.apply` does to an empty one (every field the Reference
    has, credited to `source`), with its identifiers unless another study holds one. Its
    changes are only the fields refused: the rest is the Reference itself (and a list of
    every field of 100,000 new studies would cost hundreds of megabytes)."""
    from refdb.store.library import FieldChange

    key = library.new_key(session, ref)
    row: dict[str, Any] = dict.fromkeys(_STUDY_COLUMNS)  # Core's executemany wants every key
    row |= {
        "key": key,
        "type": ref.type,
        "title": ref.title,
        "title_norm": title_norm,
        "authors_complete": ref.authors_complete,
        "editors": [],
        "circa": False,
        "publication_types": [],
        "mesh_terms": [],
        "keywords": [],
        "notices": [asdict(n) for n in ref.notices],
    }
    provenance: dict[str, Any] = {"title": {"source": source, "at": at}}
    changes: list[FieldChange] = []
    identifiers: dict[str, str] = {}
    for name in SOURCE_FIELDS:
        value = getattr(ref, name)
        if value in (None, "", []) or value is False:
            continue
        if name in _NOT_COLUMNS:
            owner = known.owner.get((name, value.lower() if name == "doi" else value))
            if owner is not None:
                holder = session.get(Study, owner)
                reason = f"{name} {value} belongs to {holder.key if holder else owner}"
                changes.append(FieldChange(name, None, value, skipped=reason))
                continue
            identifiers[name] = value
        elif name == "editors":
            row[name] = [asdict(a) for a in value]
        elif name == "evidence_level":
            row[name] = value
            row["evidence_basis"] = ref.evidence_basis or f"given by {source}"
        elif name != "authors":
            row[name] = list(value) if isinstance(value, list) else value
        provenance[name] = {"source": source, "at": at}
    row["provenance"] = provenance
    taken = library.taken_keys(session)
    alias = None
    if ref.key and ref.key != key and ref.key not in taken:
        # A file's own key that refdb could not keep stays findable as an alias.
        alias = ref.key
        taken.add(ref.key)
    authors = [
        {"position": p, **{k: getattr(a, k) for k in _AUTHOR_FIELDS}}
        for p, a in enumerate(ref.authors)
    ]
    return _NewStudy(index, row, authors, identifiers, alias, changes)


def _link_all(
    library: Library,
    session: Session,
    recorder: Recorder,
    prepared: list[tuple[Reference, list[str]]],
    indications: Sequence[str],
    results: list[SaveResult | None],
    new_ids: dict[int, int],
    matched: list[tuple[int, int]],
) -> None:
    """File every study under the indications it names, at the end of each list, in bulk."""
    study_of = {**new_ids, **dict(matched)}
    wanted: dict[str, list[int]] = {}
    for index, (ref, tagged) in enumerate(prepared):
        for name in dict.fromkeys(w.strip() for w in [*indications, *ref.indications, *tagged]):
            if name:
                wanted.setdefault(name, []).append(index)
    if not wanted:
        return
    linked_before = {
        (study_id, indication_id)
        for chunk in chunks(sorted(set(study_of.values())))
        for study_id, indication_id in session.execute(
            select(StudyIndication.study_id, StudyIndication.indication_id).where(
                StudyIndication.study_id.in_(chunk)
            )
        )
    }
    rows: list[dict[str, Any]] = []
    touched_existing: set[int] = set()
    for name, indexes in wanted.items():
        indication = library.ensure_indication(
            session, recorder, IndicationSpec(name=name, heading=f"For {name}")
        )
        position = (
            session.scalar(
                select(func.max(StudyIndication.position)).where(
                    StudyIndication.indication_id == indication.id
                )
            )
            or 0
        )
        for index in indexes:
            study_id = study_of[index]
            if (study_id, indication.id) in linked_before:
                continue
            linked_before.add((study_id, indication.id))
            position += 1
            rows.append(
                {"study_id": study_id, "indication_id": indication.id, "position": position}
            )
            if index not in new_ids:
                touched_existing.add(index)
    if not rows:
        return
    session.execute(insert(table(StudyIndication)), rows)
    for index in touched_existing:
        result = results[index]
        if result is not None and result.action == "unchanged":
            result.action = "updated"
    session.expire_all()
