"""Curation through the one write path: edits by hand, tags, removal, indications, merging
duplicates and undo. Each function is a step of one `Library.change` transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from refdb.errors import RefdbError
from refdb.evidence import HAND_BASIS, derive_level
from refdb.fields import label_of
from refdb.precedence import HAND, merge_into
from refdb.records import IndicationSpec, check_date, credit
from refdb.store import history
from refdb.store.models import Indication, Operation, StudyIndication
from refdb.store.queries import indication, indication_named
from refdb.store.rows import delete_studies, references_for
from refdb.store.writer import Writer

if TYPE_CHECKING:
    from refdb.store.duplicates import DuplicatePair


@dataclass
class EditResult:
    """What an edit changed: field (by the name a person sees and `--set` takes), old
    value, new value."""

    key: str
    changed: list[tuple[str, Any, Any]]
    operation_id: int | None = None


def edit(writer: Writer, ref: str, values: dict[str, Any]) -> EditResult:
    """Set fields of one study by hand (values parsed by `refdb.fields.parse_assignments`);
    each is marked as set by hand, which every other source then keeps. An evidence level set
    empty is derived again from the study's publication types and MeSH."""
    study_id = writer.find(ref)
    writer.recorder.touch(("study", study_id))
    before = writer.current(study_id)
    dated = {n: values.get(n, getattr(before, n)) for n in ("year", "month", "day")}
    try:
        check_date(dated["year"], dated["month"], dated["day"], earliest=1000)
    except ValueError as exc:
        raise RefdbError(f"--set: {exc} ({before.key})") from None
    fields = {n: v for n, v in values.items() if n != "evidence_level"}
    incoming = before.copy()
    for name, value in fields.items():
        setattr(incoming, name, value)
    incoming.provenance = dict.fromkeys(fields, credit(HAND, writer.at))
    cleared = [n for n, v in fields.items() if v in (None, "", [])]
    merged = merge_into(before, incoming, only=set(fields), clear=cleared, at=writer.at)
    after = merged.reference
    changed = [(c.field, c.old, c.new) for c in merged.changes if c.skipped is None]
    if "evidence_level" in values:
        changed += _set_level(after, values["evidence_level"], writer.at)
    elif any(name == "publication_types" for name, _, _ in changed):
        changed += _derive_again(after, writer.at)
    refused = writer.update(study_id, before, after, merged.changes)
    if refused:
        raise RefdbError(f"--set {refused[0]}")
    return EditResult(after.key or ref, [(label_of(n), old, new) for n, old, new in changed])


def _set_level(after: Any, level: str | None, at: str) -> list[tuple[str, Any, Any]]:
    """A level by hand (kept against every source), or with None derived again from the
    study's publication types and MeSH (and open to sources again)."""
    old = after.evidence_level
    if level is None:
        derived = derive_level(after.publication_types, after.mesh_terms)
        after.evidence_level, after.evidence_basis = derived.level, derived.basis
        after.provenance.pop("evidence_level", None)
    else:
        after.evidence_level, after.evidence_basis = level, HAND_BASIS
        after.provenance["evidence_level"] = credit(HAND, at)
    return [("evidence_level", old, after.evidence_level)] if old != after.evidence_level else []


def _derive_again(after: Any, at: str) -> list[tuple[str, Any, Any]]:
    """New publication types by hand: the level is derived again, unless it was set by hand
    or the new types say nothing (then the known level stays)."""
    held = after.provenance.get("evidence_level")
    if held is not None and held.source == HAND:
        return []
    derived = derive_level(after.publication_types, after.mesh_terms)
    if derived.level in ("unclassified", after.evidence_level):
        return []
    old = after.evidence_level
    after.evidence_level, after.evidence_basis = derived.level, derived.basis
    after.provenance["evidence_level"] = credit("derived", at)
    return [("evidence_level", old, derived.level)]


def remove(writer: Writer, refs: Sequence[str]) -> list[str]:
    """Delete studies (their authors, identifiers and tags); undo brings them back."""
    ids = list(dict.fromkeys(writer.find(ref) for ref in refs))
    writer.recorder.touch_all(("study", i) for i in ids)
    keys = [r.key or str(r.id) for r in references_for(writer.session, ids)]
    delete_studies(writer.session, ids)
    return keys


def tag(writer: Writer, ref: str, names: Sequence[str]) -> list[str]:
    """File a study under indications (created on first use); the ones newly added."""
    study_id = writer.find(ref)
    added = []
    for name in names:
        found = writer.ensure_indication(IndicationSpec(name.strip(), f"For {name.strip()}"))
        if writer.link(study_id, found.id):
            added.append(found.name)
    return added


def untag(writer: Writer, ref: str, names: Sequence[str]) -> list[str]:
    """Take a study out of indications; the ones it was removed from."""
    study_id = writer.find(ref)
    wanted = [indication(writer.session, name) for name in names]
    removed = []
    for found in wanted:
        link = (StudyIndication.study_id == study_id) & (StudyIndication.indication_id == found.id)
        if writer.session.scalar(select(StudyIndication.position).where(link)) is not None:
            writer.recorder.touch(("study", study_id))
            writer.session.execute(delete(StudyIndication).where(link))
            removed.append(found.name)
    return removed


def update_indication(
    writer: Writer,
    name: str,
    *,
    rename: str | None = None,
    heading: str | None = None,
    position: int | None = None,
) -> None:
    """Rename an indication, change its page heading or its place on the page."""
    session = writer.session
    found = indication(session, name)
    writer.recorder.touch(("indication", found.id))
    if rename is not None:
        clash = indication_named(session, rename)
        if (clash is not None and clash.id != found.id) or not rename.strip():
            raise RefdbError(f"indication {rename!r}: that name is taken or empty")
        found.name = rename.strip()
    if heading is not None:
        if not heading.strip():
            raise RefdbError("a heading cannot be empty")
        found.heading = heading.strip()
    if position is not None:
        # Move it to that place on the page; the others keep their order around it.
        others = sorted(
            (i for i in session.scalars(select(Indication)) if i.id != found.id),
            key=lambda i: (i.position, i.name),
        )
        index = min(max(position, 1), len(others) + 1) - 1
        for number, item in enumerate([*others[:index], found, *others[index:]], 1):
            if item.position != number:
                writer.recorder.touch(("indication", item.id))
                item.position = number
    session.flush()


def merge_pair(writer: Writer, keep_id: int, other_id: int) -> list[str]:
    """Fold study `other` into `keep` by the precedence rule (as if `other` were imported
    onto it): each field by its source, identifiers, tags and notices joined, and `other`'s
    key and aliases kept as aliases of `keep`. Returns notes on what could not be kept."""
    writer.recorder.touch_all([("study", keep_id), ("study", other_id)])
    keep, other = references_for(writer.session, [keep_id, other_id])
    merged = merge_into(keep, other, at=writer.at)
    after = merged.reference
    after.aliases = list(keep.aliases)
    links = list(
        writer.session.execute(
            select(StudyIndication.indication_id, StudyIndication.position).where(
                StudyIndication.study_id == other_id
            )
        )
    )
    delete_studies(writer.session, [other_id])
    notes = writer.update(keep_id, keep, after, merged.changes)
    kept = writer.keep_aliases(keep_id, after, [other.key or "", *other.aliases])
    for indication_id, link_position in links:
        writer.link(keep_id, indication_id, link_position)
    return [*notes, *kept.values()]


def merge_duplicates(writer: Writer) -> list[DuplicatePair]:
    """Merge every likely duplicate pair into its older study."""
    from refdb.store.duplicates import find_duplicates  # rapidfuzz, for this step alone

    merged: list[DuplicatePair] = []
    gone: set[int] = set()
    for pair in find_duplicates(writer.session):
        keep_id, other_id = pair.keep.id, pair.other.id
        if keep_id is None or other_id is None or keep_id in gone or other_id in gone:
            continue
        merge_pair(writer, keep_id, other_id)
        gone.add(other_id)
        merged.append(pair)
    return merged


def undo(writer: Writer, operation_id: int | None) -> Operation:
    """Reverse the last operation (or a named one) when nothing later touched its rows;
    returns the operation undone."""
    target = history.undo(writer.session, writer.recorder, operation_id)
    writer.require_change(f"operation {target.id}: nothing left to undo")
    return target
