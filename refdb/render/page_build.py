"""A kept page or bibliography (`page -o FILE --keep`, `export --format text|markdown|html -o
FILE --keep`), made again after a change only where the change reaches.

The document is its headings and one item per entry (`page.document`): what depends on the
entry's number ("3. "), and the rest, a fragment named with a digest of what it depends on
besides the study (its year suffix, its number where the style prints it elsewhere than in its
label, whether its list is numbered). A state kept with the file (where is the caller's
business) holds each study's sort values and year-suffix identity and where each fragment
stands in the file; after a change, told which studies changed, a build reads and renders only
those and the ones whose place changed what they print, and takes every other fragment from
the file as it is. Without a usable state the whole document is rendered: the same text, byte
for byte, as `page.render_bibliography` gives (tests/test_citation_cache.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from refdb.records import Reference
from refdb.render.citation_cache import CitationCache
from refdb.render.citations import (
    Entry,
    Slot,
    bibliography_order,
    render_slots,
    sort_keys,
    style_facts,
    suffix_identity,
    year_suffixes,
)
from refdb.render.page import document, entry_item
from refdb.render.pieces import Fragment, Piece, context_of
from refdb.render.site_state import code_digest

PAGE_FORMAT = 1
_NUMBER = "\ue000"
"""Where the number goes in a kept item's number part."""

PageReader = Callable[[Sequence[int]], Mapping[int, Reference]]
"""Reads studies by id."""


@dataclass
class PageBuild:
    """The document, and the state the next build needs."""

    text: bytes
    state: dict[str, Any]
    rendered: int
    """Studies read and rendered in this build."""


def build_page(
    groups: Sequence[tuple[str, Sequence[int]]],
    read: PageReader,
    *,
    style: str,
    fmt: str,
    title: str | None,
    levels: bool,
    operation: int | None,
    changed: Collection[int] | None = None,
    previous: tuple[dict[str, Any], bytes] | None = None,
    cache: CitationCache | None = None,
) -> PageBuild:
    """The document of these groups (heading, study ids in page order) in `fmt`. With
    `changed` (the studies changed since `previous` (its state and its text) was made), only
    what they reach is rendered again."""
    facts = style_facts(style)
    fingerprint = context_of(PAGE_FORMAT, facts.fingerprint, code_digest(), fmt, title, levels)
    if previous is None or changed is None or previous[0].get("fingerprint") != fingerprint:
        previous, changed = None, None
    return _PageBuild(groups, read, style, fmt, title, levels, cache, previous, changed).run(
        fingerprint, operation
    )


@dataclass
class _Slot:
    """A study's place in one group: its number and year suffix there, and what its entry's
    text depends on besides the study (`context`)."""

    group: int
    study: int
    number: int
    suffix: str
    name: str
    context: str


class _PageBuild:
    def __init__(
        self,
        groups: Sequence[tuple[str, Sequence[int]]],
        read: PageReader,
        style: str,
        fmt: str,
        title: str | None,
        levels: bool,
        cache: CitationCache | None,
        previous: tuple[dict[str, Any], bytes] | None,
        changed: Collection[int] | None,
    ) -> None:
        self.groups, self.read, self.style, self.fmt = groups, read, style, fmt
        self.title, self.levels, self.cache = title, levels, cache
        self.facts = style_facts(style)
        state = previous[0] if previous is not None else {}
        self.old_text = previous[1] if previous is not None else b""
        self.old: dict[str, list[Any]] = state.get("fragments", {})
        shown = list(dict.fromkeys(i for _, ids in groups for i in ids))
        old_studies: dict[str, Any] = state.get("studies", {})
        self.dirty = set(shown)
        if changed is not None:
            self.dirty = {i for i in shown if str(i) not in old_studies} | (
                set(changed) & set(shown)
            )
        self.refs: dict[int, Reference] = {}
        self.load(self.dirty)
        fresh = [i for i in shown if i in self.dirty and i in self.refs]
        keys = sort_keys([self.refs[i] for i in fresh], style, cache)
        self.studies: dict[int, list[Any]] = {}
        key_of = dict(zip(fresh, keys, strict=True)) if keys is not None else {}
        for i in shown:  # a study removed while the page was read is left out
            if i in self.dirty and i in self.refs:
                self.studies[i] = [key_of.get(i), suffix_identity(self.refs[i])]
            elif i not in self.dirty:
                self.studies[i] = old_studies[str(i)]

    def load(self, ids: Collection[int]) -> None:
        wanted = sorted(i for i in ids if i not in self.refs)
        if wanted:
            self.refs.update(self.read(wanted))

    def _slots(self) -> list[tuple[str, list[_Slot]]]:
        """Each group in the style's order, each study's place in it."""
        placed = []
        for k, (heading, group) in enumerate(self.groups):
            ids = [i for i in group if i in self.studies]
            if self.facts.sorts and ids:
                order = bibliography_order([self.studies[i][0] or [] for i in ids], self.style)
                ids = [ids[n] for n in order]
            identities = [self.studies[i][1] for i in ids]
            suffixes = year_suffixes(identities) if self.facts.year_suffix else [""] * len(ids)
            slots = []
            for number, (i, suffix) in enumerate(zip(ids, suffixes, strict=True), start=1):
                cite = [suffix, None if self.facts.number_free else number]
                slots.append(_Slot(k, i, number, suffix, f"{heading}\t{i}", context_of(cite)))
            placed.append((heading, slots))
        return placed

    def run(self, fingerprint: str, operation: int | None) -> PageBuild:
        placed = self._slots()
        every = [slot for _, slots in placed for slot in slots]
        # An entry is kept when its study did not change and it stands as it stood ...
        kept: dict[int, list[Any]] = {}
        for n, slot in enumerate(every):
            old = self.old.get(slot.name)
            if slot.study not in self.dirty and old is not None and old[0] == slot.context:
                kept[n] = old
        # ... the others are rendered. A group is numbered when every entry's label is its
        # number; a kept entry of a group now numbered otherwise is rendered too (HTML prints
        # its label then), which can change the group's flag once more.
        entries: dict[int, Entry] = {}
        while True:
            todo = [n for n in range(len(every)) if n not in kept and n not in entries]
            self.load({every[n].study for n in todo})
            slots = [
                Slot(self.refs[every[n].study], every[n].number, every[n].suffix) for n in todo
            ]
            plain = self.fmt != "html"
            for n, entry in zip(
                todo, render_slots(slots, self.style, self.cache, plain=plain), strict=True
            ):
                entries[n] = entry
            ordinal = [
                bool(kept[n][4]) if n in kept else entries[n].ordinal_label
                for n in range(len(every))
            ]
            flags = [False] * len(placed)
            start = 0
            for k, (_, slots_of) in enumerate(placed):
                flags[k] = bool(slots_of) and all(ordinal[start : start + len(slots_of)])
                start += len(slots_of)
            stale = [n for n, old in kept.items() if bool(old[5]) != flags[every[n].group]]
            for n in stale:
                del kept[n]
            if not stale:
                break
        return self._assemble(placed, every, kept, entries, flags, fingerprint, operation)

    def _assemble(
        self,
        placed: Sequence[tuple[str, Sequence[_Slot]]],
        every: Sequence[_Slot],
        kept: Mapping[int, list[Any]],
        entries: Mapping[int, Entry],
        flags: Sequence[bool],
        fingerprint: str,
        operation: int | None,
    ) -> PageBuild:
        """The document as bytes, each entry taken or made, and the state for the next."""
        rows: dict[int, list[Any]] = {}  # what the state keeps of each entry, bar its place
        fragments: list[Fragment] = []
        groups: list[tuple[str, list[tuple[str, Piece]], bool]] = []
        n = 0
        for k, (heading, slots) in enumerate(placed):
            items: list[tuple[str, Piece]] = []
            for slot in slots:
                if n in kept:
                    old = kept[n]
                    head = str(old[3]).replace(_NUMBER, str(slot.number))
                    fragment = Fragment(
                        "e", slot.name, slot.study, slot.context, kept=(old[1], old[2])
                    )
                    rows[n] = [old[3], old[4], old[5]]
                else:
                    entry = entries[n]
                    head, rest = entry_item(self.fmt, entry, self.levels, flags[k])
                    marked = (
                        head.replace(str(slot.number), _NUMBER, 1) if entry.ordinal_label else head
                    )
                    fragment = Fragment(
                        "e", slot.name, slot.study, slot.context, make=functools.partial(str, rest)
                    )
                    rows[n] = [marked, entry.ordinal_label, flags[k]]
                fragments.append(fragment)
                items.append((head, fragment))
                n += 1
            groups.append((heading, items, flags[k]))
        where = {id(fragment): m for m, fragment in enumerate(fragments)}
        chunks: list[bytes] = []
        state_fragments: dict[str, list[Any]] = {}
        offset = 0
        for piece in document(self.fmt, self.title, groups):
            if isinstance(piece, str):
                data = piece.encode("utf-8")
            else:
                if piece.kept is not None:
                    data = self.old_text[piece.kept[0] : piece.kept[1]]
                else:
                    assert piece.make is not None  # made above
                    data = piece.make().encode("utf-8")
                row = rows[where[id(piece)]]
                state_fragments[piece.name] = [piece.context, offset, offset + len(data), *row]
            chunks.append(data)
            offset += len(data)
        state = {
            "format": PAGE_FORMAT,
            "fingerprint": fingerprint,
            "operation": operation,
            "studies": {str(i): facts for i, facts in self.studies.items()},
            "fragments": state_fragments,
        }
        return PageBuild(b"".join(chunks), state, len(self.refs))
