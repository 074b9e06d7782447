"""A .bib split into entries with their raw fields: bibtexparser's blocks, an entry that never
closes skipped and reading resumed, duplicate and empty keys given fresh ones, field names
lower-cased (the first of a field given twice wins), `#` concatenations and @string macros
resolved, names split (`refdb.sources.bibtex_names`), and `crossref`/`xdata` parents lending
their fields to their children as biber does."""

from __future__ import annotations

import copy
import dataclasses
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bibtexparser import middlewares as mw
from bibtexparser.entrypoint import parse_string
from bibtexparser.library import Library
from bibtexparser.model import (
    Block,
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    Field,
    ParsingFailedBlock,
    String,
)

from refdb.errors import RefdbError
from refdb.sources.bibtex_names import Notes, SplitNames, is_braced_whole, line_of
from refdb.sources.latex import quiet
from refdb.sources.problems import ReadResult, quoted

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
"""The values of the month macros in the standard BibTeX styles (plain.bst)."""


_NO_BLOCKS = re.compile(r"@\s*(\w+)\s*[{(]\s*([^,\s]*)")


_MACRO_NAME = re.compile(r"[^\W\d][^\s\"#%'(),={}]*")


_NUMBER = re.compile(r"-?\d+")


_NOT_INHERITED = frozenset(
    [
        "ids",
        "crossref",
        "xref",
        "xdata",
        "entryset",
        "entrysubtype",
        "execute",
        "label",
        "options",
        "presort",
        "related",
        "relatedoptions",
        "relatedstring",
        "relatedtype",
        "shorthand",
        "shorthandintro",
        "sortkey",
        "sorttitle",
        "shorttitle",
        "indextitle",
        "indexsorttitle",
    ]
)


_IN_TYPES = frozenset(
    [
        "inbook",
        "bookinbook",
        "suppbook",
        "incollection",
        "suppcollection",
        "inproceedings",
        "inreference",
    ]
)


_TITLE_TO = {"title": "booktitle", "subtitle": "booksubtitle", "titleaddon": "booktitleaddon"}


_ENTRY_START = re.compile(r"^\s*@\s*\w+\s*[{(]")


class _LowerCaseFieldKeys(mw.BlockMiddleware):
    """`Author`, `TITLE` -> `author`, `title`; of a field given twice, the first is kept."""

    def __init__(self, notes: Notes) -> None:
        super().__init__(allow_inplace_modification=True, allow_parallel_execution=True)
        self._notes = notes

    def transform_entry(self, entry: Entry, library: Library) -> Block:
        kept: dict[str, Field] = {}
        for field in entry.fields:
            name = field.key.lower()
            if name in kept:
                self._notes[line_of(entry)].append(
                    f"field '{name}' is given twice; kept the first "
                    f"({quoted(_unenclosed(kept[name].value))})"
                )
                continue
            field.key = name
            kept[name] = field
        entry.fields = list(kept.values())
        return entry


def _unenclosed(value: Any) -> str:
    text = str(value).strip()
    return text[1:-1] if text[:1] in ('"', "{") and text[-1:] in ('"', "}") else text


def _split_concatenation(value: str) -> list[str]:
    """`jp # { Suppl} # "x"` -> ['jp', '{ Suppl}', '"x"']: split at `#` outside braces/quotes."""
    if "#" not in value:
        return [value.strip()]
    pieces: list[str] = []
    depth, quoted, start = 0, False, 0
    for index, char in enumerate(value):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0:
            quoted = not quoted
        elif char == "#" and depth == 0 and not quoted:
            pieces.append(value[start:index].strip())
            start = index + 1
    pieces.append(value[start:].strip())
    return pieces


class _ResolveMacros(mw.BlockMiddleware):
    """Joins `a # "b" # {c} # 12` into one braced value and resolves bare macro names, as
    BibTeX does, from the @string definitions above the value and the month macros. An
    undefined macro keeps its name (what a reader of the file sees), with a warning."""

    def __init__(self, notes: Notes) -> None:
        super().__init__(allow_inplace_modification=True, allow_parallel_execution=False)
        self._macros: dict[str, str] = {}
        self._notes = notes

    def transform(self, library: Library) -> Library:
        self._macros = dict(zip(MONTHS, MONTH_NAMES, strict=True))
        result: Library = super().transform(library)
        return result

    def _join(self, value: str, warn: Callable[[str], None]) -> str:
        parts: list[str] = []
        for piece in _split_concatenation(value):
            if is_braced_whole(piece) or (len(piece) >= 2 and piece[0] == piece[-1] == '"'):
                parts.append(piece[1:-1])
            elif _NUMBER.fullmatch(piece):
                parts.append(piece)
            elif _MACRO_NAME.fullmatch(piece) and piece.lower() in self._macros:
                parts.append(self._macros[piece.lower()])
            else:
                warn(f"'{piece}' is not a defined @string macro; kept it as text")
                parts.append(piece)
        return "".join(parts)

    def transform_string(self, string: String, library: Library) -> Block:
        joined = self._join(str(string.value), self._notes[line_of(string)].append)
        self._macros[string.key.lower()] = joined
        string.value = f"{{{joined}}}"
        return string

    def transform_entry(self, entry: Entry, library: Library) -> Block:
        notes = self._notes[line_of(entry)]
        for field in entry.fields:
            value = field.value
            if not isinstance(value, str):
                continue
            if "#" not in value and value[:1] in ("{", '"'):
                continue  # one braced or quoted value: nothing to resolve
            name = field.key

            def warn(message: str, name: str = name) -> None:
                notes.append(f"field '{name}': {message}")

            field.value = f"{{{self._join(value, warn)}}}"
        return entry


def parse_stack(notes: Notes) -> list[Any]:
    return [
        _LowerCaseFieldKeys(notes),
        _ResolveMacros(notes),
        mw.RemoveEnclosingMiddleware(allow_inplace_modification=True),
        SplitNames(notes),
    ]


def block_key(block: Block) -> str:
    match = _NO_BLOCKS.match(block.raw or "")
    return match.group(2) if match else "?"


def split_blocks(text: str) -> tuple[Library, list[tuple[int, str]]]:
    """bibtexparser's blocks. It goes on by itself after an entry that never closes when the
    next entry starts a line; where such an entry ran to the end of the file instead, its
    lines are blanked (so line numbers stay) and the text read again from the next line that
    starts an entry. Returns the blocks, and the line and key of each entry so lost."""
    lost: list[tuple[int, str]] = []
    while True:
        with quiet("bibtexparser", "pylatexenc"):
            split = parse_string(text, parse_stack=[])
        failed = split.blocks[-1] if split.blocks else None
        if not isinstance(failed, ParsingFailedBlock) or "end of file" not in failure_detail(
            failed
        ):
            return split, lost
        lines = text.split("\n")
        start = int(failed.start_line or 0)
        later = next(
            (n for n in range(start + 1, len(lines)) if _ENTRY_START.match(lines[n])), None
        )
        if later is None:
            return split, lost
        text = "\n".join(
            [
                *lines[:start],
                "@comment{refdb: an entry that never closes}",
                *[""] * (later - start - 1),
                *lines[later:],
            ]
        )


def swallows(block: Block) -> bool:
    """True when a block failed because a value never closed: the parser reached the end of
    the file, or the next entry, still inside it (BibTeX would read on into every entry)."""
    detail = failure_detail(block)
    return "end of file" in detail or "Unexpected block start" in detail


def failure_detail(block: Block) -> str:
    error = getattr(block, "error", None)
    detail = getattr(error, "abort_reason", None) or str(error or "")
    return " ".join(detail.split()).rstrip(".:") or "cannot be parsed"


def inherit(entries: list[Entry], notes: Notes) -> None:
    """Children take what they lack from their `crossref` and `xdata` parents, as biber
    does: an inproceedings takes booktitle (its proceedings' title), year, publisher,
    editor. Keys compare without regard to case."""
    by_key = {e.key.lower(): e for e in entries if e.key}

    def parents(entry: Entry) -> list[tuple[str, Entry]]:
        found: list[tuple[str, Entry]] = []
        for kind in ("crossref", "xdata"):
            field = entry.fields_dict.get(kind)
            if field is None:
                continue
            for key in str(field.value).split(","):
                parent = by_key.get(key.strip().lower())
                if parent is None:
                    notes[line_of(entry)].append(
                        f"{kind} '{key.strip()}' is not in this file; nothing inherited"
                    )
                elif parent is not entry:
                    found.append((kind, parent))
        return found

    done: set[int] = set()

    def resolve(entry: Entry, chain: frozenset[int]) -> None:
        if id(entry) in done or id(entry) in chain:
            return
        for kind, parent in parents(entry):
            resolve(parent, chain | {id(entry)})
            have = set(entry.fields_dict)
            for field in parent.fields:
                name = field.key
                if name in _NOT_INHERITED:
                    continue
                if kind == "crossref" and name in _TITLE_TO:
                    if entry.entry_type.lower() in _IN_TYPES:
                        name = _TITLE_TO[name]
                    elif parent.entry_type.lower() == "periodical" and name == "title":
                        name = "journaltitle"
                    else:
                        continue
                if name not in have:
                    inherited = copy.copy(field)
                    inherited.key = name
                    entry.set_field(inherited)
                    have.add(name)
        done.add(id(entry))

    for entry in entries:
        resolve(entry, frozenset())


@dataclass
class Entries:
    """A .bib read into entries: each with its fields resolved and names split, the notes
    (warnings) by the line an entry starts on, the fresh keys given (by line: the key the file
    had), and the problems of blocks that are no entry."""

    entries: list[Entry]
    notes: Notes
    fresh: dict[int, str]
    result: ReadResult = dataclasses.field(default_factory=ReadResult)


def read_entries(text: str, source: str) -> Entries:
    """Split BibTeX text into entries (see the module's docstring); RefdbError when it holds
    no entry at all."""
    split, lost = split_blocks(text)
    result = ReadResult()
    for line, key in lost:
        result.skip(line, key, _NEVER_CLOSES)
    notes: Notes = defaultdict(list)
    blocks: list[Block] = []
    first_line: dict[str, int] = {}
    fresh: dict[int, str] = {}
    for block in split.blocks:
        if isinstance(block, DuplicateFieldKeyBlock | DuplicateBlockKeyBlock):
            if block.ignore_error_block is None:
                continue
            block = block.ignore_error_block
        elif isinstance(block, ParsingFailedBlock):
            line, key = line_of(block), block_key(block)
            if swallows(block):
                result.skip(line, key, _NEVER_CLOSES)
            else:
                result.skip(line, key, f"cannot be parsed ({failure_detail(block)})")
            continue
        if isinstance(block, Entry):
            key = (block.key or "").strip()
            line = line_of(block)
            if not key:
                notes[line].append("no citation key; given a fresh one")
                fresh[line] = "(no key)"
            elif key.lower() in first_line:
                notes[line].append(
                    f"citation key used before (line {first_line[key.lower()]}); given a fresh one"
                )
                fresh[line] = key
            else:
                first_line[key.lower()] = line
            if line in fresh:
                block.key = f"refdb fresh key {line}"  # unique until the store keys it
        blocks.append(block)
    if not split.entries and not split.failed_blocks and text.strip():
        raise RefdbError(f"{source}: no BibTeX entries found")
    library = Library(blocks)
    with quiet("bibtexparser", "pylatexenc"):
        for middleware in parse_stack(notes):
            library = middleware.transform(library)
    entries = list(library.entries)
    inherit(entries, notes)
    for string in library.strings:
        for message in notes.get(line_of(string), []):
            result.warn(line_of(string), f"@string {string.key}", message)
    return Entries(entries, notes, fresh, result)


_NEVER_CLOSES = "a brace or quote that never closes; reading went on at the next entry"
