"""Renderings kept between runs, so that a page, an export or a site is formatted again only
for the studies that changed.

A CitationCache belongs to one style (its `fingerprint`: the style file and refdb's rendering
code, `citations.StyleFacts`). It maps what an entry was rendered from to what it became:

- an entry's text, by the study's CSL data (the item citeproc-py gets, without its id), whether
  its author list is complete, its year suffix and, unless the style prints the number in the
  label alone (AMA, NLM), its number;
- a study's sort values (APA), by its CSL data.

Keyed by content, never by a row's id or time: an entry is reused only where it would be
rendered the same, whatever changed the study (an edit, an undo, another database). Where the
cache lives is the caller's business (`to_json` / `from_json`); a missing or unreadable cache
is an empty one.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from collections.abc import Mapping
from typing import Any

from refdb.csl import to_csl
from refdb.records import Reference

FORMAT = 1
"""The layout of `to_json`; a cache written in another is read as empty."""


class CitationCache:
    """Rendered entries and sort values of one style, by what they were made from."""

    def __init__(self, fingerprint: str, entries: Mapping[str, Any] | None = None) -> None:
        self.fingerprint = fingerprint
        self.entries: dict[str, Any] = dict(entries or {})
        self.used: set[str] = set()
        self.added = 0
        """Entries put since it was made or read (nothing to write back when 0)."""
        self._contents: dict[int, tuple[weakref.ref[Reference], str]] = {}

    def content(self, ref: Reference, unused: frozenset[str] = frozenset()) -> str:
        """A digest of what citeproc-py renders a study from (remembered per Reference):
        its CSL item without the variables the style never names (`unused`, the same for
        every call on one cache: it is one style's)."""
        found = self._contents.get(id(ref))
        if found is not None and found[0]() is ref:
            return found[1]
        item = to_csl(ref, with_custom=False)
        for name in ("id", *unused):
            item.pop(name, None)
        text = json.dumps([item, ref.authors_complete], sort_keys=True, ensure_ascii=False)
        digest = hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()
        self._contents[id(ref)] = (weakref.ref(ref), digest)
        return digest

    def entry_name(
        self, ref: Reference, suffix: str, number: int | None, unused: frozenset[str]
    ) -> str:
        """The name of a study's rendered entry with this year suffix and number (None when
        the entry's text does not depend on it)."""
        return f"e:{self.content(ref, unused)}:{suffix}:{'' if number is None else number}"

    def sort_name(self, ref: Reference, unused: frozenset[str]) -> str:
        """The name of a study's sort values."""
        return f"s:{self.content(ref, unused)}"

    def get(self, name: str) -> Any:
        """What is kept under `name`, or None."""
        found = self.entries.get(name)
        if found is not None:
            self.used.add(name)
        return found

    def put(self, name: str, value: Any) -> None:
        """Keep `value` under `name`."""
        self.entries[name] = value
        self.used.add(name)
        self.added += 1

    def to_json(self) -> dict[str, Any]:
        """The cache as JSON: the entries used since it was read, and as many others again
        (the rest, renderings of studies as they no longer are, are dropped)."""
        kept = {name: self.entries[name] for name in self.used if name in self.entries}
        room = len(kept) + 1000
        for name, value in self.entries.items():
            if len(kept) >= 2 * room:
                break
            kept.setdefault(name, value)
        return {"format": FORMAT, "fingerprint": self.fingerprint, "entries": kept}

    @classmethod
    def from_json(cls, data: Any, fingerprint: str) -> CitationCache:
        """A cache read back; empty when `data` is not one of this style and code."""
        if (
            isinstance(data, dict)
            and data.get("format") == FORMAT
            and data.get("fingerprint") == fingerprint
            and isinstance(data.get("entries"), dict)
        ):
            return cls(fingerprint, data["entries"])
        return cls(fingerprint)
