"""The one way into the library: every change a command makes goes through a `Writer`.

A Writer belongs to one transaction (`Library.change`), records each study and indication
it touches for the operation log, and decides every field with the one precedence rule
(`refdb.precedence`). Saving References (import, add, seed, enrich, check, watch accept),
edits, tags, removal, merges and undo all write through the primitives here: `_insert` for
new studies, `update` for a study that becomes another Reference, `delete_studies` for
studies that go.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from refdb.errors import RefdbError
from refdb.evidence import settle_level
from refdb.fields import IDENTIFIER_FIELDS, SOURCE_FIELDS, stamp
from refdb.identifiers import doi_key
from refdb.precedence import FieldChange, merge_into
from refdb.records import (
    FieldSource,
    IndicationSpec,
    Reference,
    base_citation_key,
    credit,
    is_citation_key,
    normalise_title,
)
from refdb.store.history import Recorder, now
from refdb.store.matching import Match, match_all
from refdb.store.models import AuthorRow, Identifier, Indication, Study, StudyIndication, table
from refdb.store.queries import find_study_id, identifier_owners, indication_named, taken_keys
from refdb.store.rows import STUDY_COLUMNS, chunks, insert_with_ids, jsonable, references_for
from refdb.store.search import reindex

_COLUMNS = frozenset(STUDY_COLUMNS) & frozenset(SOURCE_FIELDS)
_AUTHOR_FIELDS = ("family", "given", "literal", "suffix", "initials")


@dataclass
class SaveResult:
    """What happened to one incoming Reference."""

    action: str  # "added", "updated", "unchanged"
    key: str | None
    title: str
    changes: list[FieldChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What the store did that the person must hear of: a key replaced or kept as an alias,
    an identifier another study holds, two entries of the file found to be one study."""


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
class _Group:
    """Entries of one batch that are one study (the same PMID or DOI), combined."""

    indexes: list[int]
    ref: Reference
    keys: list[str | None]
    """Each entry's own key (None: it had none), in the order of `indexes`."""
    members: list[Reference]
    """The entries as they came (the group is the study any of them is)."""


class Writer:
    """The writes of one transaction, each recorded for the operation log."""

    def __init__(self, session: Session, recorder: Recorder) -> None:
        self.session = session
        self.recorder = recorder
        self.stamp = now()
        self.at = self.stamp.isoformat(timespec="seconds")
        self._must_change: str | None = None
        self.operation_id: int | None = None
        """The operation this transaction logged, once it has finished."""
        self._snapshots: dict[int, dict[str, Any]] = {}
        """New studies' rows as written (the change log's after-state, not read back)."""
        self._provenance_json: dict[int, tuple[FieldSource, dict[str, str]]] = {}

    def finish(self) -> int | None:
        """Log the operation and refresh the search index; the operation's id, or None when
        nothing changed (RefdbError when this transaction had to change something)."""
        operation = self.recorder.finish()
        reindex(self.session, self.recorder.changed_studies)
        if operation is None and self._must_change is not None:
            raise RefdbError(self._must_change)
        return operation.id if operation else None

    def require_change(self, message: str) -> None:
        """Refuse (RefdbError `message`) to commit this transaction if it changes nothing."""
        self._must_change = message

    def find(self, ref: str) -> int:
        """The id of a study by key, alias, PMID, DOI, PMCID or id (NotFoundError)."""
        return find_study_id(self.session, ref)

    def _key_of(self, study_id: int) -> str:
        """A study's key, for messages ('another study of this file' for one not yet in)."""
        key = self.session.scalar(select(Study.key).where(Study.id == study_id))
        return str(key) if key else "another entry of this file"

    def current(self, study_id: int) -> Reference:
        """A study as it is now, in this transaction."""
        (found,) = references_for(self.session, [study_id])
        return found

    # --- saving References ------------------------------------------------------------------

    def save(
        self,
        refs: Sequence[Reference],
        *,
        source: str,
        indications: Sequence[str] = (),
        force: bool = False,
        only: Collection[str] | None = None,
        targets: Sequence[int] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[SaveResult]:
        """Store each Reference: added as a new study, or merged by the precedence rule into
        the study it is (`targets`: the study of each, for enrich and check; else by
        identity). Each is filed under `indications`, its own, and the known indications its
        keywords name. `source` is credited where a reader recorded no provenance. One
        SaveResult per Reference, in order."""
        known = {i.name.casefold(): i.name for i in self.session.scalars(select(Indication))}
        prepared = [self._prepare(ref, source, known) for ref in refs]
        if targets is not None:
            groups = [_Group([i], ref, [ref.key], [ref]) for i, ref in enumerate(prepared)]
            matches: list[Match | None] = [Match(t, "named") for t in targets]
        else:
            groups = _group(prepared)
            matches = match_all(self.session, [[g.ref, *g.members] for g in groups])
        results: list[SaveResult | None] = [None] * len(prepared)
        study_of: dict[int, int] = {}
        matched = [(g, m) for g, m in zip(groups, matches, strict=True) if m is not None]
        self.recorder.touch_all(("study", m.study_id) for _, m in matched)
        current = {r.id: r for r in references_for(self.session, [m.study_id for _, m in matched])}
        for done, (group, match) in enumerate(matched, start=1):
            before = current[match.study_id]
            merged = merge_into(before, group.ref, force=force, only=only, at=self.at)
            after = merged.reference
            after.aliases = list(before.aliases)
            notes = self.update(match.study_id, before, after, merged.changes)
            kept = self.keep_aliases(match.study_id, after, _wanted_aliases(group))
            if kept and match.reason != "named":
                notes.insert(0, f"the same study as {after.key} ({match.reason})")
            current[match.study_id] = after
            action = "updated" if merged.changed or kept else "unchanged"
            self._report(group, results, action, after, merged.changes, notes, kept)
            study_of.update(dict.fromkeys(group.indexes, match.study_id))
            if progress is not None:
                progress(done, len(prepared))
        new = [g for g, m in zip(groups, matches, strict=True) if m is None]
        for group, (study_id, ref, notes) in zip(
            new, self._insert([g.ref for g in new]), strict=True
        ):
            kept = self.keep_aliases(study_id, ref, _wanted_aliases(group, stored_key=ref.key))
            self._report(group, results, "added", ref, [], notes, kept)
            study_of.update(dict.fromkeys(group.indexes, study_id))
        if progress is not None:
            progress(len(prepared), len(prepared))
        wanted = [[*indications, *ref.indications] for ref in prepared]
        for index in self._link_all(wanted, study_of):
            result = results[index]
            if result is not None and result.action == "unchanged":
                result.action = "updated"
        return [r for r in results if r is not None]

    def _prepare(self, ref: Reference, source: str, known: dict[str, str]) -> Reference:
        """A copy to store: keywords that name an indication file it there instead, every
        field credited (to `source` where the reader recorded nothing), its level settled."""
        incoming = ref.copy()
        incoming.provenance = dict(ref.provenance)
        tagged = [known[k.casefold()] for k in ref.keywords if k.casefold() in known]
        incoming.keywords = [k for k in ref.keywords if k.casefold() not in known]
        incoming.indications = list(dict.fromkeys([*ref.indications, *tagged]))
        given = credit(source, self.at)
        stamp(incoming, given)
        settle_level(incoming)
        if incoming.evidence_level and "evidence_level" not in incoming.provenance:
            incoming.provenance["evidence_level"] = given
        return incoming

    def _report(
        self,
        group: _Group,
        results: list[SaveResult | None],
        action: str,
        ref: Reference,
        changes: list[FieldChange],
        notes: list[str],
        kept: dict[str, str],
    ) -> None:
        """One result per entry of the group: the first carries the study's changes and
        notes, each later one says which entry it is one study with. A note about a key
        goes to the entry that gave that key."""
        first_key = group.keys[0]
        for position, (index, key) in enumerate(zip(group.indexes, group.keys, strict=True)):
            own = [kept.pop(key)] if key and key in kept else []
            if position == 0:
                results[index] = SaveResult(action, ref.key, ref.title, changes, notes + own)
                continue
            same = f"the same PMID or DOI as {first_key or 'the entry before it'}: one study"
            results[index] = SaveResult(
                "unchanged" if action == "unchanged" else "updated",
                ref.key,
                ref.title,
                [],
                ["; ".join([same, *own])],
            )
        first = results[group.indexes[0]]
        if first is not None:
            first.notes += kept.values()

    # --- the write primitives ---------------------------------------------------------------

    def _insert(self, refs: Sequence[Reference]) -> list[tuple[int, Reference, list[str]]]:
        """Insert new studies (Core, in bulk), each with its key, identifiers and provenance
        as its Reference says, less an identifier another study holds. Returns each new
        study's id, what was stored, and notes on what was not."""
        if not refs:
            return []
        taken = taken_keys(self.session)
        owners = {
            kind: identifier_owners(
                self.session, kind, [getattr(r, kind) for r in refs if getattr(r, kind)]
            )
            for kind in IDENTIFIER_FIELDS
        }
        rows: list[dict[str, Any]] = []
        stored: list[tuple[Reference, list[str]]] = []
        for incoming in refs:
            ref = incoming.copy()
            ref.provenance = dict(incoming.provenance)
            notes: list[str] = []
            for kind in IDENTIFIER_FIELDS:
                value = getattr(ref, kind)
                if not value:
                    continue
                identity = doi_key(value) if kind == "doi" else value
                if identity in owners[kind]:
                    holder = self._key_of(owners[kind][identity])
                    notes.append(f"{kind} {value} belongs to {holder}; not stored")
                    setattr(ref, kind, None)
                    ref.provenance.pop(kind, None)
                else:
                    owners[kind][identity] = 0  # later entries of this batch see it held
            wanted = ref.key
            ref.key = new_key(ref, taken)
            if wanted and wanted != ref.key:
                why = "another study's key" if wanted in taken else "not a key BibTeX reads"
                notes.append(f"the key is {why}")
            taken.add(ref.key)
            ref.aliases = []
            rows.append(self._row(ref))
            stored.append((ref, notes))
        ids = insert_with_ids(self.session, Study, rows)
        authors: list[dict[str, Any]] = []
        identifiers: list[dict[str, Any]] = []
        for study_id, row, (ref, _notes) in zip(ids, rows, stored, strict=True):
            ref.id = study_id
            authors += _author_rows(study_id, ref)
            identifiers += [
                {"study_id": study_id, "kind": k, "value": getattr(ref, k)}
                for k in IDENTIFIER_FIELDS
                if getattr(ref, k)
            ]
            # The row itself becomes the snapshot's study (a second dict of 35 columns for
            # each of 100,000 studies, held until the commit, was 0.1 GB).
            row["id"] = study_id
            for name in ("created_at", "updated_at"):
                row[name] = jsonable(row[name])
            self._snapshots[study_id] = {
                "study": row,
                "authors": [],
                "identifiers": [],
                "links": [],
            }
        for rows_of, model, part in (
            (authors, AuthorRow, "authors"),
            (identifiers, Identifier, "identifiers"),
        ):
            if rows_of:
                # The rows' own ids, so the change log (undo) holds them as they are.
                made = insert_with_ids(self.session, model, rows_of)
                for row_id, row in zip(made, rows_of, strict=True):
                    # The row becomes its snapshot (`rows.study_snapshots`' shape) in place.
                    row["id"] = row_id
                    self._snapshots[row.pop("study_id")][part].append(row)
        for study_id in ids:
            snapshot = self._snapshots[study_id]
            snapshot["identifiers"].sort(key=lambda i: (i["kind"], i["value"]))
            self.recorder.created(("study", study_id), after=snapshot)
        return [(i, ref, notes) for i, (ref, notes) in zip(ids, stored, strict=True)]

    def _row(self, ref: Reference) -> dict[str, Any]:
        row: dict[str, Any] = dict.fromkeys(c for c in STUDY_COLUMNS if c != "id")
        for name in _COLUMNS:
            value = getattr(ref, name)
            row[name] = asdict_list(value) if name == "editors" else value
        row |= {
            "key": ref.key,
            "title_norm": normalise_title(ref.title),
            "evidence_basis": ref.evidence_basis,
            "notices": [vars(n).copy() for n in ref.notices],
            "provenance": _provenance(ref, self._provenance_json),
            "created_at": self.stamp,
            "updated_at": self.stamp,
        }
        for name in ("editors", "publication_types", "mesh_terms", "keywords"):
            row[name] = row[name] or []
        row["circa"] = bool(row["circa"])
        row["authors_complete"] = bool(row["authors_complete"])
        return row

    def update(
        self, study_id: int, before: Reference, after: Reference, changes: list[FieldChange]
    ) -> list[str]:
        """Make a stored study `after`: its columns, authors and identifiers. An identifier
        another study holds stays as it was; returns a note for each."""
        notes: list[str] = []
        self._changed(study_id)
        for kind in IDENTIFIER_FIELDS:
            old, new = getattr(before, kind), getattr(after, kind)
            if old == new:
                continue
            if new is not None:
                held = identifier_owners(self.session, kind, [new])
                owner = next(iter(held.values()), None)
                if owner is not None and owner != study_id:
                    setattr(after, kind, old)
                    if kind in before.provenance:
                        after.provenance[kind] = before.provenance[kind]
                    else:
                        after.provenance.pop(kind, None)
                    holder = self._key_of(owner)
                    for change in changes:
                        if change.field == kind and change.skipped is None:
                            change.skipped = f"{kind} {new} belongs to {holder}"
                    notes.append(f"{kind} {new} belongs to {holder}; not stored")
                    continue
            self.session.execute(
                delete(Identifier).where(Identifier.study_id == study_id, Identifier.kind == kind)
            )
            if new is not None:
                self.session.execute(
                    insert(Identifier).values(study_id=study_id, kind=kind, value=new)
                )
        values = {
            name: getattr(after, name)
            for name in (*_COLUMNS, "evidence_basis")
            if getattr(after, name) != getattr(before, name)
        }
        if "editors" in values:
            values["editors"] = asdict_list(after.editors)
        if after.notices != before.notices:
            values["notices"] = [vars(n).copy() for n in after.notices]
        if after.provenance != before.provenance:
            values["provenance"] = _provenance(after, self._provenance_json)
        if "title" in values:
            values["title_norm"] = normalise_title(after.title)
        if after.authors != before.authors:
            self.session.execute(delete(AuthorRow).where(AuthorRow.study_id == study_id))
            if after.authors:
                self.session.execute(insert(table(AuthorRow)), _author_rows(study_id, after))
        if values or after.authors != before.authors:
            values["updated_at"] = self.stamp
            self.session.execute(update(Study).where(Study.id == study_id).values(**values))
        return notes

    def keep_aliases(self, study_id: int, ref: Reference, aliases: Sequence[str]) -> dict[str, str]:
        """Keep each of these keys as an alias of the study where no other study holds it;
        a note for each key, by key."""
        taken = taken_keys(self.session)
        notes: dict[str, str] = {}
        for alias in dict.fromkeys(aliases):
            if alias == ref.key or alias in ref.aliases:
                continue
            if alias in taken:
                notes[alias] = f"{alias} is another study's key; not kept as an alias"
                continue
            self.session.execute(
                insert(Identifier).values(study_id=study_id, kind="alias", value=alias)
            )
            self._changed(study_id)
            taken.add(alias)
            ref.aliases.append(alias)
            notes[alias] = f"{alias} kept as an alias"
        return notes

    # --- indications --------------------------------------------------------------------------

    def ensure_indication(self, spec: IndicationSpec) -> Indication:
        """The indication of this name, created (at the end of the page) when new."""
        found = indication_named(self.session, spec.name)
        if found is not None:
            return found
        if not spec.name.strip():
            raise RefdbError("an indication needs a name")
        position = spec.position
        if position is None:
            position = (self.session.scalar(select(func.max(Indication.position))) or 0) + 1
        indication = Indication(name=spec.name.strip(), heading=spec.heading, position=position)
        self.session.add(indication)
        self.session.flush()
        self.recorder.created(("indication", indication.id))
        return indication

    def link(self, study_id: int, indication_id: int, position: int | None = None) -> bool:
        """File a study under an indication (at the end of its list unless `position` is
        given); False when it is filed there already."""
        held = self.session.scalar(
            select(StudyIndication.position).where(
                StudyIndication.study_id == study_id,
                StudyIndication.indication_id == indication_id,
            )
        )
        if held is not None:
            return False
        self.recorder.touch(("study", study_id))
        self._changed(study_id)
        if position is None:
            position = self._last_position(indication_id) + 1
        self.session.execute(
            insert(StudyIndication).values(
                study_id=study_id, indication_id=indication_id, position=position
            )
        )
        return True

    def _link_all(self, wanted: Sequence[Sequence[str]], study_of: dict[int, int]) -> set[int]:
        """File each entry's study under the indications it names, at the end of each list;
        returns the entries whose study was filed somewhere new."""
        by_name: dict[str, list[int]] = {}
        for index, names in enumerate(wanted):
            for name in dict.fromkeys(n.strip() for n in names):
                if name:
                    by_name.setdefault(name, []).append(index)
        if not by_name:
            return set()
        linked = {
            (study_id, indication_id)
            for chunk in chunks(sorted(set(study_of.values())))
            for study_id, indication_id in self.session.execute(
                select(StudyIndication.study_id, StudyIndication.indication_id).where(
                    StudyIndication.study_id.in_(chunk)
                )
            )
        }
        rows: list[dict[str, Any]] = []
        filed: set[int] = set()
        for name, indexes in by_name.items():
            indication = self.ensure_indication(IndicationSpec(name, f"For {name}"))
            position = self._last_position(indication.id)
            for index in indexes:
                study_id = study_of[index]
                if (study_id, indication.id) in linked:
                    continue
                self.recorder.touch(("study", study_id))
                linked.add((study_id, indication.id))
                position += 1
                rows.append(
                    {"study_id": study_id, "indication_id": indication.id, "position": position}
                )
                snapshot = self._snapshots.get(study_id)
                if snapshot is not None:  # a new study: its snapshot gains the link
                    snapshot["links"].append({"indication_id": indication.id, "position": position})
                    snapshot["links"].sort(key=lambda link: link["indication_id"])
                filed.add(index)
        if rows:
            self.session.execute(insert(table(StudyIndication)), rows)
        return filed

    def _changed(self, study_id: int) -> None:
        """A new study changed again: its snapshot as written is no longer its state."""
        if self._snapshots.pop(study_id, None) is not None:
            self.recorder.changed(("study", study_id))

    def _last_position(self, indication_id: int) -> int:
        return int(
            self.session.scalar(
                select(func.max(StudyIndication.position)).where(
                    StudyIndication.indication_id == indication_id
                )
            )
            or 0
        )


def asdict_list(people: Sequence[Any]) -> list[dict[str, Any]]:
    """Editors as the JSON the studies table holds."""
    return [vars(p).copy() for p in people]


def _provenance(
    ref: Reference, shared: dict[int, tuple[FieldSource, dict[str, str]]]
) -> dict[str, dict[str, str]]:
    """A study's provenance as the JSON the studies table holds (plain dicts: `asdict` deep
    copies, which costs seconds over 100,000 studies). Readers credit every field of a file
    to one FieldSource, so each becomes one dict, shared through `shared` (by identity, the
    object kept beside it so that its id is never reused): 35 dicts a study held until the
    commit were a third of an import's memory."""
    out = {}
    for name, given in ref.provenance.items():
        found = shared.get(id(given))
        if found is None:
            found = shared[id(given)] = (given, {"source": given.source, "at": given.at})
        out[name] = found[1]
    return out


def _author_rows(study_id: int, ref: Reference) -> list[dict[str, Any]]:
    return [
        {"study_id": study_id, "position": p, **{k: getattr(a, k) for k in _AUTHOR_FIELDS}}
        for p, a in enumerate(ref.authors)
    ]


def new_key(ref: Reference, taken: set[str]) -> str:
    """The Reference's own key when BibTeX accepts it and no study holds it, else
    familyYEARfirstword with a, b, ... on clashes."""
    if ref.key and is_citation_key(ref.key) and ref.key not in taken:
        return str(ref.key)
    base = base_citation_key(ref)
    for suffix in ("", *"abcdefghijklmnopqrstuvwxyz"):
        candidate = f"{base}{suffix}"
        if candidate not in taken:
            return candidate
    number = 2
    while f"{base}{number}" in taken:
        number += 1
    return f"{base}{number}"


def _group(refs: Sequence[Reference]) -> list[_Group]:
    """Entries that share a PMID, or a DOI with no other PMID, are one study; every other
    entry is a study of its own (the file's author kept them apart)."""
    groups: list[_Group] = []
    by_pmid: dict[str, _Group] = {}
    by_doi: dict[str, _Group] = {}
    for index, ref in enumerate(refs):
        found = by_pmid.get(ref.pmid or "")
        if found is None and ref.doi:
            candidate = by_doi.get(doi_key(ref.doi))
            if candidate is not None and not (ref.pmid and candidate.ref.pmid):
                found = candidate
        if found is None:
            found = _Group([index], ref, [ref.key], [ref])
            groups.append(found)
        else:
            merged = merge_into(found.ref, ref).reference
            merged.key = found.ref.key
            found.ref = merged
            found.indexes.append(index)
            found.keys.append(ref.key)
            found.members.append(ref)
        if found.ref.pmid:
            by_pmid[found.ref.pmid] = found
        if found.ref.doi:
            by_doi[doi_key(found.ref.doi)] = found
    return groups


def _wanted_aliases(group: _Group, stored_key: str | None = None) -> list[str]:
    """The keys a group's entries gave and its aliases: each one not the stored key stays
    findable as an alias."""
    keys = [*group.keys, *group.ref.aliases]
    return [k for k in keys if k and k != stored_key]
