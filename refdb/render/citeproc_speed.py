"""citeproc-py's lookups of the style, remembered while refdb renders (installed with the fixes).

citeproc-py 0.11.1 walks the parsed CSL style again for every entry it renders: each macro
call is an XPath query on the style (`get_macro`), each term (`get_term`) and each name's
options an XPath query too, and a group asks every child again whether it calls a variable
(`calls_variable`, recursive through macros). A CitationItem's number is the index of its key
in the bibliography's list (`list.index`, so a list of n entries costs n² / 2 comparisons).
The answers depend on the style's structure alone (or, for numbers, on the list's order), so
each is computed once and kept for as long as the fixes are installed: the first
`citeproc_fixes.installed()` block that opens starts empty caches, the last one to close drops
them (`citeproc_fixes` installs them with its fixes). The rendered text is the same, byte for byte (tests/test_citations.py and the site's
byte-for-byte comparison of a full and an incremental build); only the time changes.

`numbered_as` lets a caller render some entries of a longer list with the numbers they have in
that list (a kept page re-renders only the studies that changed).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from citeproc.model import CitationStylesElement, Parent, SomewhatObjectifiedElement, Text
from citeproc.source import CitationItem

_NUMBERS: ContextVar[Mapping[str, int] | None] = ContextVar("refdb_numbers", default=None)


@contextmanager
def numbered_as(numbers: Mapping[str, int]) -> Iterator[None]:
    """Inside the block, the items with these (lower-case) keys have these citation numbers."""
    token = _NUMBERS.set(numbers)
    try:
        yield
    finally:
        _NUMBERS.reset(token)


def memoized_lookups() -> list[tuple[type, str, Any]]:
    """XPath queries on the style, `calls_variable` and citation numbers, each computed once.

    The caches are keyed by the style's elements themselves (an lxml proxy stays the same
    object while it is referenced, and the cache references it), and hold what citeproc-py
    would compute again: the style is not changed while it renders except for attributes
    (`incomplete_authors` sets et-al options, which are read afresh) and for a `cs:name` that
    citeproc-py adds to a `cs:names` without one, which no cached query looks at.
    """
    xpath_search = CitationStylesElement.xpath_search
    parent_calls = Parent.calls_variable
    text_calls = Text.calls_variable
    found: dict[tuple[Any, str], tuple[Any, ...]] = {}
    calls: dict[Any, bool] = {}

    def cached_xpath_search(self: Any, expression: str) -> list[Any]:
        key = (self, expression)
        hit = found.get(key)
        if hit is None:
            hit = found[key] = tuple(xpath_search(self, expression))
        return list(hit)

    def cached_parent_calls(self: Any) -> bool:
        hit = calls.get(self)
        if hit is None:
            hit = calls[self] = bool(parent_calls(self))
        return hit

    def cached_text_calls(self: Any) -> bool:
        hit = calls.get(self)
        if hit is None:
            hit = calls[self] = bool(text_calls(self))
        return hit

    def number(self: Any) -> int:
        numbers = _NUMBERS.get()
        if numbers is not None and self.key in numbers:
            return numbers[self.key]
        bibliography = self.bibliography
        keys = bibliography.keys
        index = getattr(bibliography, "_refdb_index", None)
        if index is None or index[0] is not keys or index[1] != len(keys):
            index = (keys, len(keys), {key: n for n, key in enumerate(keys, start=1)})
            bibliography._refdb_index = index
        try:
            return int(index[2][self.key])
        except KeyError:  # as list.index says it
            raise ValueError(f"{self.key!r} is not in the bibliography") from None

    children: dict[tuple[Any, str], Any] = {}
    roots: dict[Any, Any] = {}

    def cached_child(self: Any, name: str) -> Any:
        # `style.root.bibliography`, `names.name`...: the first child of that name. A missing
        # one is looked up again (citeproc-py adds a `cs:name` to a `cs:names` without one).
        key = (self, name)
        hit = children.get(key)
        if hit is None:
            hit = self.find("cs:" + name, self.nsmap)
            if hit is not None:
                children[key] = hit
        return hit

    def cached_root(self: Any) -> Any:
        hit = roots.get(self)
        if hit is None:
            hit = roots[self] = self.getroottree().getroot()
        return hit

    def reference(self: Any) -> Any:
        found = self.__dict__.get("_refdb_reference")
        if found is None:
            found = self.bibliography.source[self.key]
            object.__setattr__(self, "_refdb_reference", found)  # beside the item's own keys
        return found

    return [
        (SomewhatObjectifiedElement, "__getattr__", cached_child),
        (CitationStylesElement, "get_root", cached_root),
        (CitationItem, "reference", property(reference)),
        (CitationStylesElement, "xpath_search", cached_xpath_search),
        (Parent, "calls_variable", cached_parent_calls),
        (Text, "calls_variable", cached_text_calls),
        (CitationItem, "number", property(number)),
    ]
