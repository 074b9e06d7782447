"""BibTeX and BibLaTeX files (`.bib`) to References, through bibtexparser 2.

bibtexparser splits the file into blocks. A block it cannot parse because a brace is never
closed (BibTeX itself would read every entry after it as part of that one) makes the file
unreadable; any other problem belongs to one entry, which is kept with what can be kept and
gets a warning, or is skipped when it cannot be a reference (no title and no identifier, a
`@set` or `@xdata` container).

Then a middleware stack chosen on purpose runs over the entries: field names lower-cased
(the first of a field given twice wins), `#` concatenations and @string macros resolved (an
undefined macro keeps its name, the text a reader sees), names split while their braces are
still there (`{International Association for the Study of Pain}` stays one collective
author; a list written with commas where `and` belongs is split at the commas). Each value
is then decoded from LaTeX to Unicode (`refdb.sources.latex`), field by field: titles and names
are decoded, identifiers (DOI, URL, PMID) only lose their escaping backslashes. `crossref`
and `xdata` parents lend their fields to their children, as biber does.
"""

from __future__ import annotations

import copy
import json
import re
from collections import defaultdict
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from bibtexparser import middlewares as mw
from bibtexparser.entrypoint import parse_string
from bibtexparser.library import Library
from bibtexparser.middlewares.names import (
    InvalidNameError,
    NameParts,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.model import (
    Block,
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    Field,
    ParsingFailedBlock,
    String,
)

from refdb.dates import (
    month_and_day,
    parse_edtf,
    parse_free_date,
    season_number,
    what_was_kept,
)
from refdb.errors import RefdbError
from refdb.evidence import parse_level
from refdb.identifiers import parse_doi, parse_pmcid, parse_pmid, pmid_from_url
from refdb.records import (
    CSL_TYPES,
    Author,
    IndicationSpec,
    Reference,
    check_date,
    expand_page_range,
    initials_of,
)
from refdb.sources.latex import latex_to_unicode, quiet
from refdb.sources.problems import ReadResult, quoted
from refdb.sources.textfile import read_text, stamp_provenance

ENTRY_TYPES = {
    "article": "article-journal",
    "book": "book",
    "mvbook": "book",
    "collection": "book",
    "mvcollection": "book",
    "proceedings": "book",
    "mvproceedings": "book",
    "reference": "book",
    "inbook": "chapter",
    "bookinbook": "chapter",
    "suppbook": "chapter",
    "incollection": "chapter",
    "suppcollection": "chapter",
    "inreference": "entry-encyclopedia",
    "inproceedings": "paper-conference",
    "conference": "paper-conference",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "thesis": "thesis",
    "techreport": "report",
    "report": "report",
    "manual": "report",
    "online": "webpage",
    "electronic": "webpage",
    "www": "webpage",
    "unpublished": "manuscript",
    "booklet": "pamphlet",
    "artwork": "graphic",
    "image": "graphic",
    "dataset": "dataset",
    "software": "software",
    "patent": "patent",
    "periodical": "periodical",
    "movie": "motion_picture",
    "video": "motion_picture",
    "music": "song",
    "audio": "song",
    "letter": "personal_communication",
    "legislation": "legislation",
    "jurisdiction": "legal_case",
    "standard": "standard",
    "performance": "performance",
}
"""BibTeX/BibLaTeX entry types and their CSL types; any other type becomes 'document'."""

ARTICLE_SUBTYPES = {
    "magazine": "article-magazine",
    "newspaper": "article-newspaper",
    "preprint": "article",
}
"""BibLaTeX's `entrysubtype` of an @article, and the CSL type it makes."""

CONTAINERS = frozenset(["set", "xdata"])
"""Entry types that hold other entries or fields, not a reference of their own."""

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
_IDENTIFIER_ESCAPE = re.compile(r"\\([_%&#$~])")
_MACRO_NAME = re.compile(r"[^\W\d][^\s\"#%'(),={}]*")
_NUMBER = re.compile(r"-?\d+")
_BRACE = re.compile(r"[{}]")
_FAMILY_COMMA_GIVEN = re.compile(r"^\s*([^,{}\\~]+?)\s*,\s*([^,{}\\~\s][^,{}\\~]*?)\s*$")
_SUFFIXES = frozenset(["jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "v"])
_NAME_FIELDS = ("author", "editor")
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

Notes = dict[int, list[str]]
"""Warnings gathered while reading, by the line an entry starts on."""


def _line(item: Any) -> int:
    """bibtexparser counts lines from 0."""
    return int(item.start_line or 0) + 1


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
                self._notes[_line(entry)].append(
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
            if _is_braced_whole(piece) or (len(piece) >= 2 and piece[0] == piece[-1] == '"'):
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
        joined = self._join(str(string.value), self._notes[_line(string)].append)
        self._macros[string.key.lower()] = joined
        string.value = f"{{{joined}}}"
        return string

    def transform_entry(self, entry: Entry, library: Library) -> Block:
        notes = self._notes[_line(entry)]
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


class _SplitNames(mw.BlockMiddleware):
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
                self._notes[_line(entry)].append(
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
                    self._notes[_line(entry)].append(
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
    parts = _top_level_split(name, ",")
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
        depth0 = _top_level_split(name, ",")
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


def _top_level_split(text: str, separators: str) -> list[str]:
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


def _parse_stack(notes: Notes) -> list[Any]:
    return [
        _LowerCaseFieldKeys(notes),
        _ResolveMacros(notes),
        mw.RemoveEnclosingMiddleware(allow_inplace_modification=True),
        _SplitNames(notes),
    ]


def _block_key(block: Block) -> str:
    match = _NO_BLOCKS.match(block.raw or "")
    return match.group(2) if match else "?"


_URLS = re.compile(r"\s+|;\s*(?=https?://)")
_ENTRY_START = re.compile(r"^\s*@\s*\w+\s*[{(]")


def _split_blocks(text: str) -> tuple[Library, list[tuple[int, str]]]:
    """bibtexparser's blocks. It goes on by itself after an entry that never closes when the
    next entry starts a line; where such an entry ran to the end of the file instead, its
    lines are blanked (so line numbers stay) and the text read again from the next line that
    starts an entry. Returns the blocks, and the line and key of each entry so lost."""
    lost: list[tuple[int, str]] = []
    while True:
        with quiet("bibtexparser", "pylatexenc"):
            split = parse_string(text, parse_stack=[])
        failed = split.blocks[-1] if split.blocks else None
        if not isinstance(failed, ParsingFailedBlock) or "end of file" not in _failure_detail(
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


def _swallows(block: Block) -> bool:
    """True when a block failed because a value never closed: the parser reached the end of
    the file, or the next entry, still inside it (BibTeX would read on into every entry)."""
    detail = _failure_detail(block)
    return "end of file" in detail or "Unexpected block start" in detail


def _failure_detail(block: Block) -> str:
    error = getattr(block, "error", None)
    detail = getattr(error, "abort_reason", None) or str(error or "")
    return " ".join(detail.split()).rstrip(".:") or "cannot be parsed"


def _is_braced_whole(text: str) -> bool:
    """True for `{...}` where the first brace closes at the very end."""
    if not (text.startswith("{") and text.endswith("}")):
        return False
    depth = 0
    for brace in _BRACE.finditer(text):
        depth += 1 if brace.group() == "{" else -1
        if depth == 0 and brace.end() < len(text):
            return False
    return True


def _people(names: Any) -> tuple[list[Author], bool]:
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
            if _is_braced_whole(only) and " " in only.strip():
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


def _identifier(value: str) -> str:
    value = value.strip()
    match = re.fullmatch(r"\\url\{(.*)\}", value)
    if match:
        value = match.group(1)
    return _IDENTIFIER_ESCAPE.sub(r"\1", value).strip()


def split_keywords(value: str) -> list[str]:
    """A keywords field as a list: split at `;` when the field uses them at the top level
    (MeSH headings hold commas: 'Colitis, Ulcerative/*therapy'), else at `,`; a braced
    keyword (`{Colitis, Ulcerative}`) is one keyword, as biblatex reads it."""
    separator = ";" if len(_top_level_split(value, ";")) > 1 else ","
    words = (latex_to_unicode(w) for w in _top_level_split(value, separator))
    return list(dict.fromkeys(w for w in words if w))


def _inherit(entries: list[Entry], notes: Notes) -> None:
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
                    notes[_line(entry)].append(
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


class _Fields:
    """An entry's fields by lower-case name, with the warnings its conversion raises."""

    def __init__(self, entry: Entry, notes: list[str]) -> None:
        self.values = {f.key: f.value for f in entry.fields}
        self.notes = notes

    def text(self, *names: str) -> str | None:
        for name in names:
            value = self.values.get(name)
            if value is not None and not isinstance(value, list) and str(value).strip():
                return str(value)
        return None

    def decoded(self, *names: str) -> str | None:
        value = self.text(*names)
        return (latex_to_unicode(value) or None) if value else None

    def warn(self, message: str) -> None:
        self.notes.append(message)


def _type(entry: Entry, fields: _Fields) -> str:
    kind = entry.entry_type.lower()
    subtype = (fields.text("entrysubtype") or "").strip().lower()
    if kind == "article":
        return ARTICLE_SUBTYPES.get(subtype, "article-journal")
    if kind == "misc" and subtype in CSL_TYPES:
        return subtype  # refdb's own export of a type BibLaTeX has no entry type for
    return ENTRY_TYPES.get(kind, "document")


def _set_date(ref: Reference, fields: _Fields) -> None:
    date = fields.text("date")
    edtf = True
    if date:
        parsed = parse_edtf(_identifier(date))
        if parsed is None:
            edtf = False
            parsed = parse_free_date(latex_to_unicode(date))
    else:
        year = fields.text("year")
        # Not decoded as LaTeX: EDTF's `~` (circa) is a tie to LaTeX.
        parsed = parse_free_date(re.sub(r"[{}]", "", _identifier(year))) if year else None
        if parsed is not None and not parsed.is_plain:
            said = " is not a plain year;" if parsed.year is None else ":"
            fields.warn(f"year {quoted(year)}{said} {what_was_kept(parsed)}")
        month = fields.decoded("month")
        if month:
            number = month_and_day(month)
            season = season_number(month)
            if parsed is None:
                parsed = parse_free_date("")
            if number is not None:
                parsed.month, parsed.day = number
                day = (fields.text("day") or "").strip()
                if day.isdigit() and parsed.day is None:
                    parsed.day = int(day)
            elif season is not None:
                parsed.season = season
            else:
                fields.warn(f"month {quoted(month)} is not a month; dropped it")
        elif parsed is None and (fields.text("pubstate") or "").strip().lower() == "inpress":
            parsed = parse_free_date("in press")
    if parsed is None:
        return
    if date and not parsed.is_plain:
        not_edtf = "" if edtf else " is not an ISO 8601/EDTF date;"
        fields.warn(f"date {quoted(date)}{not_edtf or ':'} {what_was_kept(parsed)}")
    if parsed.day is not None and parsed.month is None:
        parsed.day = None
    try:
        check_date(parsed.year, parsed.month, parsed.day)
    except ValueError as exc:
        fields.warn(f"{exc}; dropped it")
        if parsed.year is not None and not -9999 <= parsed.year <= 2100:
            parsed.year = None
        parsed.month = parsed.day = None
    ref.year, ref.month, ref.day = parsed.year, parsed.month, parsed.day
    ref.season, ref.circa, ref.date_text = parsed.season, parsed.circa, parsed.text


def _set_identifiers(ref: Reference, fields: _Fields) -> None:
    doi = fields.text("doi")
    if doi:
        try:
            ref.doi = parse_doi(_identifier(doi))
        except ValueError as exc:
            fields.warn(f"doi {exc}; dropped it")
    url = fields.text("url")
    urls = [u for u in _URLS.split(_identifier(url)) if u] if url else []
    ref.url = urls[0] if urls else None  # EndNote writes several, a line each

    pmid = fields.text("pmid")
    eprint = fields.text("eprint")
    eprinttype = (fields.text("eprinttype", "archiveprefix") or "").strip().lower()
    if not pmid and eprint and eprinttype in ("pubmed", "pmid"):  # Zotero writes "pmid"
        pmid = eprint
    if pmid:
        try:
            ref.pmid = parse_pmid(_identifier(pmid))
        except ValueError as exc:
            fields.warn(f"pmid {exc}; dropped it")
    if ref.pmid is None:  # a PubMed link is the record's own PMID
        ref.pmid = next((p for u in urls if (p := pmid_from_url(u))), None)
    pmcid = fields.text("pmcid")
    if not pmcid and eprint and eprinttype in ("pmc", "pmcid"):
        pmcid = eprint
    if pmcid:
        try:
            ref.pmcid = parse_pmcid(_identifier(pmcid))
        except ValueError as exc:
            fields.warn(f"pmcid {exc}; dropped it")
    # biblatex's `ids`: the entry's other keys (refdb writes a study's aliases there).
    ids = fields.text("ids")
    if ids:
        ref.aliases = [k for k in (p.strip() for p in _identifier(ids).split(",")) if k]
    # refdb writes the evidence level in biblatex's custom field `usera` (datamodel-clean);
    # another tool's `usera` that is no level is not refdb's and is left alone.
    level = fields.text("usera")
    if level:
        with suppress(ValueError):
            ref.evidence_level = parse_level(level)


def _entry_to_reference(entry: Entry, fields: _Fields) -> Reference | None:
    """The entry's Reference; None when it has no title and no identifier."""
    title = fields.decoded("title")
    ref = Reference(title=title or "", type=_type(entry, fields))
    ref.key = entry.key
    if "author" in fields.values:
        ref.authors, ref.authors_complete = _people(fields.values["author"])
    if "editor" in fields.values:
        ref.editors, _ = _people(fields.values["editor"])

    ref.container_title = fields.decoded("journaltitle", "journal", "booktitle")
    ref.container_title_short = fields.decoded("shortjournal")
    ref.volume = fields.decoded("volume")
    ref.issue = fields.decoded("number", "issue")
    ref.publisher = fields.decoded("publisher")
    ref.issn = fields.decoded("issn")
    ref.abstract = fields.decoded("abstract")
    ref.language = fields.decoded("langid", "language")
    pages = fields.text("pages")
    if pages:
        ref.pages = expand_page_range(
            re.sub(r"\s*(?:-+|\u2013|\u2014|\\textendash\s*)\s*", "-", _identifier(pages))
        )
    _set_date(ref, fields)
    _set_identifiers(ref, fields)
    keywords = fields.text("keywords")
    if keywords:
        ref.keywords = split_keywords(keywords)
    if not ref.title:
        if not (ref.doi or ref.pmid or ref.pmcid or ref.url):
            return None
        ref.title = ref.url or "[Untitled]"
        fields.warn(f"no title; stored as {ref.title!r}")
    return ref


def parse_bibtex(text: str, *, source: str = "<string>") -> ReadResult:
    """Parse BibTeX/BibLaTeX text into References and the problems of its entries.

    An entry with a brace or quote that never closes costs that entry, not the file: it is
    skipped, and reading goes on at the next line that starts an entry."""
    split, lost = _split_blocks(text)
    result = ReadResult()
    for line, key in lost:
        result.skip(
            line, key, "a brace or quote that never closes; reading went on at the next entry"
        )
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
            line, key = _line(block), _block_key(block)
            if _swallows(block):
                result.skip(
                    line,
                    key,
                    "a brace or quote that never closes; reading went on at the next entry",
                )
            else:
                result.skip(line, key, f"cannot be parsed ({_failure_detail(block)})")
            continue
        if isinstance(block, Entry):
            key = (block.key or "").strip()
            line = _line(block)
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
    library = Library(blocks)
    with quiet("bibtexparser", "pylatexenc"):
        for middleware in _parse_stack(notes):
            library = middleware.transform(library)
    entries = list(library.entries)
    _inherit(entries, notes)
    for entry in entries:
        line = _line(entry)
        label = fresh.get(line, entry.key)
        kind = entry.entry_type.lower()
        if kind in CONTAINERS:
            what = (
                "its members are imported"
                if kind == "set"
                else "the entries that name it inherit its fields"
            )
            result.skip(line, label, f"a @{kind} container ({what})")
            continue
        fields = _Fields(entry, notes[line])
        ref = _entry_to_reference(entry, fields)
        if ref is None:
            result.skip(line, label, "no title and no identifier")
            continue
        if line in fresh:
            ref.key = None
        result.keep(ref, line, label, notes[line])
    for string in library.strings:
        for message in notes.get(_line(string), []):
            result.warn(_line(string), f"@string {string.key}", message)
    if not split.entries and not split.failed_blocks and text.strip():
        raise RefdbError(f"{source}: no BibTeX entries found")
    return result


_DECLARED = re.compile(r"@comment\s*\{\s*refdb-indications:\s*(\[.*?\])\s*\}", re.I | re.S)


def declared_indications(text: str) -> list[IndicationSpec]:
    """Indications a refdb export declares in `@comment{refdb-indications: [...]}`, in order.

    BibTeX has no field for them (keywords mix indications with other words), and every
    BibTeX tool ignores `@comment`, so refdb's exports carry names and headings there.
    """
    match = _DECLARED.search(text)
    if not match:
        return []
    try:
        raw = json.loads(match.group(1))
        return [
            IndicationSpec(name=str(name), heading=str(heading), position=number)
            for number, (name, heading) in enumerate(raw, start=1)
        ]
    except (ValueError, TypeError):
        return []


def _file_declared(refs: list[Reference], specs: list[IndicationSpec]) -> list[Reference]:
    names = {spec.name.casefold(): spec.name for spec in specs}
    for ref in refs:
        ref.indications = [names[k.casefold()] for k in ref.keywords if k.casefold() in names]
        ref.keywords = [k for k in ref.keywords if k.casefold() not in names]
    return refs


def read_bibtex(path: Path, encoding: str | None = None) -> ReadResult:
    """Read a `.bib` file; each field it sets is credited to `bibtex:<file name>`."""
    text = read_text(path, encoding)
    result = parse_bibtex(text, source=str(path))
    result.indications = declared_indications(text)
    _file_declared(result.references, result.indications)
    stamp_provenance(result.references, f"bibtex:{path.name}")
    return result
