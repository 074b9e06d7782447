"""Names in a .bib: `author` and `editor` split into people while their braces are there.

A list written with commas where `and` belongs is split at the commas; EndNote's trailing
comma marks an organisation; a name that cannot be split is kept whole as a collective name.
"""

from __future__ import annotations

import re
from typing import Any

from bibtexparser import middlewares as mw
from bibtexparser.library import Library
from bibtexparser.middlewares.names import (
    InvalidNameError,
    NameParts,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.model import Block, Entry

from refdb.records import Author, initials_of
from refdb.sources.latex import latex_to_unicode
from refdb.sources.problems import quoted

Notes = dict[int, list[str]]
"""Warnings gathered while reading, by the line an entry starts on."""


def line_of(item: Any) -> int:
    """The line a block starts on (bibtexparser counts lines from 0)."""
    return int(item.start_line or 0) + 1


_BRACE = re.compile(r"[{}]")


_FAMILY_COMMA_GIVEN = re.compile(r"^\s*([^,{}\\~]+?)\s*,\s*([^,{}\\~\s][^,{}\\~]*?)\s*$")


_SUFFIXES = frozenset(["jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "v"])


_NAME_FIELDS = ("author", "editor")


class SplitNames(mw.BlockMiddleware):
    """`author` and `editor` into lists of NameParts, as bibtexparser's SeparateCoAuthors and
    SplitNameParts do, but a list written with commas where `and` belongs is split at the
    commas, and a name that cannot be split is kept whole as a collective name."""

    def __init__(self, notes: Notes) -> None:
        super().__init__(allow_inplace_modification=True, allow_parallel_execution=True)
        self._notes = notes

    def transform_entry(self, entry: Entry, library: Library) -> Block:
        for field in entry.fields:
            if field.key not in _NAME_FIELDS or not isinstance(field.value, str):
                continue
            names = [_organisation(n) for n in split_multiple_persons_names(field.value)]
            repaired = _comma_separated(names)
            if repaired is not None:
                self._notes[line_of(entry)].append(
                    f"field '{field.key}': names separated by commas, not 'and'; "
                    f"read as {len(repaired)} names"
                )
                names = repaired
            parts: list[NameParts] = []
            for name in names:
                simple = _FAMILY_COMMA_GIVEN.match(name)
                if simple:  # `Family, Given` with no markup: most names, without the parser
                    parts.append(NameParts(last=simple[1].split(), first=simple[2].split()))
                    continue
                try:
                    parts.append(parse_single_name_into_parts(name, strict=True))
                except InvalidNameError as exc:
                    self._notes[line_of(entry)].append(
                        f"field '{field.key}': cannot split name {quoted(name)} ({exc}); "
                        "kept it whole"
                    )
                    parts.append(
                        NameParts(last=["{" + name.replace("{", "").replace("}", "") + "}"])
                    )
            field.value = parts
        return entry


def _organisation(name: str) -> str:
    """EndNote marks an organisation with a trailing comma (`American College of Surgeons,`):
    such a name is kept whole, braced, as BibTeX writes a collective name."""
    parts = top_level_split(name, ",")
    if len(parts) == 2 and not parts[1].strip() and parts[0].strip():
        return "{" + parts[0].strip() + "}"
    return name


_LIST_WORD = re.compile(r"^(?:and|&|\\&)\s+")


_INITIALS_PART = re.compile(r"(?:[A-Z]\.?\s*-?\s*){1,4}")


def _comma_separated(names: list[str]) -> list[str] | None:
    """`M. Halle, J. Bresnan, and G. Miller` (read as 'M. Halle, J. Bresnan,' and
    'G. Miller') -> the three names; None when the list is an ordinary BibTeX one.

    A name with a trailing comma, or with two commas of which the middle part is no suffix
    (`Ford, Jr., Henry` is one name), or with more commas, is a list, if each of its comma
    parts is a whole name (has a space: a given name and a family name)."""
    repaired: list[str] = []
    changed = False
    for name in names:
        depth0 = top_level_split(name, ",")
        parts = [p.strip() for p in depth0]
        trailing = len(parts) > 1 and parts[-1] == ""
        parts = [p for p in parts if p]
        if len(parts) >= 4 and len(parts) % 2 == 0 and _family_initials_pairs(parts):
            # `Miller, D., Firby, J.`: family names and initials in turn, two names
            repaired.extend(
                f"{_LIST_WORD.sub('', f)}, {i}"
                for f, i in zip(parts[::2], parts[1::2], strict=True)
            )
            changed = True
            continue
        listed = trailing or len(parts) > 3
        listed = listed or (len(parts) == 3 and parts[1].lower() not in _SUFFIXES)
        if listed and parts and all(" " in p or "." in p for p in parts):
            repaired.extend(_LIST_WORD.sub("", p) for p in parts)
            changed = True
            continue
        repaired.append(name)
    return repaired if changed else None


def _family_initials_pairs(parts: list[str]) -> bool:
    """Whether comma parts alternate between a family name and initials."""
    families, initials = parts[::2], parts[1::2]
    return all(_INITIALS_PART.fullmatch(p) for p in initials) and not any(
        _INITIALS_PART.fullmatch(p) for p in families
    )


def top_level_split(text: str, separators: str) -> list[str]:
    """Split at any of `separators` outside braces."""
    pieces: list[str] = []
    depth, start = 0, 0
    for index, char in enumerate(text):
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(depth - 1, 0)
        elif char in separators and depth == 0:
            pieces.append(text[start:index])
            start = index + 1
    pieces.append(text[start:])
    return pieces


def is_braced_whole(text: str) -> bool:
    """True for `{...}` where the first brace closes at the very end."""
    if not (text.startswith("{") and text.endswith("}")):
        return False
    depth = 0
    for brace in _BRACE.finditer(text):
        depth += 1 if brace.group() == "{" else -1
        if depth == 0 and brace.end() < len(text):
            return False
    return True


def people(names: Any) -> tuple[list[Author], bool]:
    authors: list[Author] = []
    complete = True
    for name in names if isinstance(names, list) else []:
        if not isinstance(name, NameParts):
            continue
        if not (name.first or name.von or name.jr) and len(name.last) == 1:
            only = name.last[0]
            if only.strip().lower() == "others":
                complete = False
                continue
            if is_braced_whole(only) and " " in only.strip():
                authors.append(Author(literal=latex_to_unicode(only[1:-1])))
                continue
        family = latex_to_unicode(" ".join(name.von + name.last))
        given = latex_to_unicode(" ".join(name.first)) or None
        suffix = latex_to_unicode(" ".join(name.jr)) or None
        if not (family or given):
            continue
        authors.append(
            Author(
                family=family or None,
                given=given,
                suffix=suffix,
                initials=initials_of(given) if given else None,
            )
        )
    return authors, complete
