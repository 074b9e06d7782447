"""The one precedence rule: which value a study keeps when two records of it meet.

Wherever records meet (an import, an add, enrich, check, an edit, a merge of duplicates, two
entries of one file that are one study), `merge_into` decides each field the same way:

1. An empty incoming value never erases anything (a person may clear a field by hand).
2. A person's edit wins; a field set by hand is kept against every other source (unless
   `force`: `enrich --force`), and an evidence level set by hand even then.
3. A known evidence level never yields to `unclassified`; a status never yields to none, and
   `retracted` never yields to a milder status.
4. An empty stored value takes the incoming one; a value that only adds to the stored one
   (the full author list of a list that ended in "et al.", a month for a bare year) is taken
   from any source.
5. Otherwise the more trusted source wins: a person's edit, then PubMed (and a level derived
   from the study's own publication types), then the clinic's verified seeds, then files;
   between equals the fuller value (the longer text, the longer or complete author list, the
   date with more parts), and between equally full values the newer.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from refdb.fields import BY_NAME, LIST, PEOPLE, UNITS
from refdb.records import Author, FieldSource, Notice, Reference, credit, fold

SOURCE_RANK = {"hand": 4, "pubmed": 3, "derived": 3, "seed": 2}
"""How much each source is trusted; any other named source (a file: `bibtex:refs.bib`) is 1,
and a value no source is recorded for is 0. `derived` is a level derived from the study's own
publication types and MeSH headings."""

HAND = "hand"
DATE_PARTS = ("year", "month", "day", "season", "date_text")


def source_rank(source: str | None) -> int:
    """How much a source is trusted (see SOURCE_RANK)."""
    if not source:
        return 0
    return SOURCE_RANK.get(source.split(":", 1)[0], 1)


@dataclass
class FieldChange:
    """One field of one study that a write changed, or left alone and why."""

    field: str
    old: Any
    new: Any
    skipped: str | None = None


@dataclass
class Merged:
    """What `merge_into` made: the study as it now is, and each field changed or kept."""

    reference: Reference
    changes: list[FieldChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether any field was taken."""
        return any(c.skipped is None for c in self.changes)


def _is_empty(unit: str, values: dict[str, Any]) -> bool:
    if unit == "date":
        return all(values[name] in (None, "") for name in DATE_PARTS)
    if unit == "level":
        return values["evidence_level"] in (None, "", "unclassified")
    primary = next(iter(values.values()))
    return primary in (None, "", []) or primary is False


def _fullness(unit: str, values: dict[str, Any]) -> tuple[int, int]:
    if unit == "date":
        return (sum(values[name] not in (None, "") for name in DATE_PARTS), 0)
    if unit == "authors":
        return (len(values["authors"]), int(bool(values["authors_complete"])))
    primary = next(iter(values.values()))
    kind = BY_NAME[next(iter(values))].kind
    if kind in (LIST, PEOPLE):
        return (len(primary), 0)
    if isinstance(primary, str):
        return (len(" ".join(primary.split())), 0)
    return (0, 0)


def _same_person(a: Author, b: Author) -> bool:
    return fold(a.family or a.literal or "") == fold(b.family or b.literal or "")


def _extends(unit: str, old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether the incoming value only adds to the stored one."""
    if unit == "authors":
        stored, incoming = old["authors"], new["authors"]
        return (
            not old["authors_complete"]
            and len(incoming) > len(stored)
            and all(_same_person(a, b) for a, b in zip(stored, incoming, strict=False))
        )
    if unit == "date":
        if old["date_text"] or old["year"] is None or old["year"] != new["year"]:
            return False
        agrees = all(old[p] in (None, new[p]) for p in ("month", "day", "season"))
        return agrees and _fullness(unit, new) > _fullness(unit, old)
    return False


def _decide(
    unit: str,
    old: dict[str, Any],
    new: dict[str, Any],
    old_source: str | None,
    new_source: str | None,
    force: bool,
) -> str | None:
    """None when the incoming value is taken, else why the stored one stays."""
    if new_source == HAND:
        return None
    if old_source == HAND and (unit == "level" or not force):
        return "edited by hand"
    if unit == "status" and old["status"] == "retracted" and new["status"] != "retracted":
        return "a retraction never yields to a milder status"
    if _is_empty(unit, old) or force or _extends(unit, old, new):
        return None
    old_rank, new_rank = source_rank(old_source), source_rank(new_source)
    if new_rank != old_rank:
        return None if new_rank > old_rank else f"kept {old_source} value"
    if _fullness(unit, new) < _fullness(unit, old):
        return "kept the fuller value"
    return None


def _source(ref: Reference, names: tuple[str, ...]) -> FieldSource | None:
    for name in names:
        found = ref.provenance.get(name)
        if found is not None:
            return found
    return None


def merge_into(
    current: Reference,
    incoming: Reference,
    *,
    force: bool = False,
    only: Collection[str] | None = None,
    clear: Collection[str] = (),
    at: str = "",
) -> Merged:
    """`current` with what `incoming` brings, field by field, by the precedence rule.

    Each incoming field's source is its provenance; `only` limits the fields considered; `clear` names fields an empty incoming value clears
    (a person's edit). Indications, aliases and notices are joined, never lost. Neither
    argument is changed."""
    merged = current.copy()
    merged.provenance = dict(current.provenance)
    result = Merged(merged)
    for unit, names in UNITS:
        if only is not None and not any(n in only for n in names):
            continue
        old = {n: getattr(current, n) for n in names}
        new = {n: getattr(incoming, n) for n in names}
        clearing = any(n in clear for n in names)
        if old == new or (_is_empty(unit, new) and not clearing):
            continue
        source = _source(incoming, names)
        new_source = source.source if source else None
        held = _source(current, names)
        reason = _decide(unit, old, new, held.source if held else None, new_source, force)
        if unit == "level" and reason is None and new["evidence_basis"] is None:
            new["evidence_basis"] = f"given by {new_source}" if new_source else None
        for name in names:
            if old[name] != new[name]:
                result.changes.append(FieldChange(name, old[name], new[name], reason))
        if reason is not None:
            continue
        for name in names:
            setattr(merged, name, copy.copy(new[name]))
            if new[name] in (None, "", [], False):
                if name in clear:
                    merged.provenance[name] = credit(HAND, at)
                else:
                    merged.provenance.pop(name, None)
            elif source is not None:
                merged.provenance[name] = source if source.at else credit(source.source, at)
    _join(merged, incoming, result)
    return result


def _join(merged: Reference, incoming: Reference, result: Merged) -> None:
    """Indications, aliases and notices: the union, in the order first seen."""
    for name in ("indications", "aliases"):
        old: list[str] = getattr(merged, name)
        added = [v for v in getattr(incoming, name) if v not in old]
        if added:
            setattr(merged, name, [*old, *added])
    known = {(n.kind, n.pmid, n.citation) for n in merged.notices}
    notices = [n for n in incoming.notices if (n.kind, n.pmid, n.citation) not in known]
    if notices:
        new: list[Notice] = [*merged.notices, *notices]
        result.changes.append(FieldChange("notices", merged.notices, new))
        merged.notices = new
