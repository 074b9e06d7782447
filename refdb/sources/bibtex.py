"""BibTeX and BibLaTeX files (`.bib`) to References, through bibtexparser 2.

The middleware stack is chosen on purpose. Names are split (SeparateCoAuthors, then
SplitNameParts) while their braces are still there, so that `{International Association for
the Study of Pain}` stays one collective author; bibtexparser's LatexDecodingMiddleware is
not used, because it would strip those braces first. Each value is then decoded from LaTeX
to Unicode here, with pylatexenc, field by field: titles and names are decoded, identifiers
(DOI, URL, PMID) only lose their escaping backslashes.

Two steps run before bibtexparser's own: field names are lower-cased (BibTeX ignores their
case, the name middlewares do not), and `#` concatenations are joined into one value, with
the @string macros defined above them and the standard month macros (an unknown macro is an
error). A bare `%` or `&` in a value is literal text, as it is to BibTeX, not LaTeX markup.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bibtexparser import middlewares as mw
from bibtexparser.entrypoint import parse_string
from bibtexparser.library import Library
from bibtexparser.middlewares.names import NameParts
from bibtexparser.model import (
    Block,
    DuplicateBlockKeyBlock,
    Entry,
    MiddlewareErrorBlock,
    ParsingFailedBlock,
    String,
)
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from refdb.errors import RefdbError
from refdb.records import (
    Author,
    IndicationSpec,
    Reference,
    expand_page_range,
    initials_of,
    normalise_doi,
    normalise_pmcid,
)
from refdb.sources.textfile import read_text, stamp_provenance

ENTRY_TYPES = {
    "article": "article-journal",
    "book": "book",
    "inbook": "chapter",
    "incollection": "chapter",
    "inproceedings": "paper-conference",
    "conference": "paper-conference",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "thesis": "thesis",
    "techreport": "report",
    "report": "report",
    "online": "webpage",
    "electronic": "webpage",
    "www": "webpage",
    "unpublished": "manuscript",
    "booklet": "pamphlet",
    "dataset": "dataset",
    "software": "software",
}
"""BibTeX/BibLaTeX entry types and their CSL types; any other type becomes 'document'."""

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
_YEAR = re.compile(r"\d{4}")
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:/.*)?")
_PMID = re.compile(r"\d{1,9}")
_IDENTIFIER_ESCAPE = re.compile(r"\\([_%&#$~])")
_LITERAL_SPECIALS = re.compile(r"\\.|[%&]", re.S)
_MACRO_NAME = re.compile(r"[^\W\d][^\s\"#%'(),={}]*")
_NUMBER = re.compile(r"\d+")


def _decoder() -> LatexNodes2Text:
    context = get_default_latex_context_db()
    # \url{...} decodes to its bare argument, as bibtexparser's own decoder does;
    # \textasciicircum is a plain caret (pylatexenc gives a modifier letter).
    context.add_context_category(
        "refdb",
        prepend=True,
        macros=[
            MacroTextSpec("url", simplify_repl="%s"),
            MacroTextSpec("textasciicircum", simplify_repl="^"),
            # refdb's writer spells a lone brace so, as BibTeX counts `\{` as a brace.
            MacroTextSpec("textbraceleft", simplify_repl="{"),
            MacroTextSpec("textbraceright", simplify_repl="}"),
        ],
    )
    return LatexNodes2Text(latex_context=context, math_mode="text")


_LATEX = _decoder()


class _EntryError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


class _LowerCaseFieldKeys(mw.BlockMiddleware):
    """`Author`, `TITLE` -> `author`, `title` (bibtexparser's NormalizeFieldKeys), but the same
    field twice in two cases is an error, where NormalizeFieldKeys silently keeps the last."""

    def __init__(self) -> None:
        super().__init__(allow_inplace_modification=True, allow_parallel_execution=True)
        self._normalise = mw.NormalizeFieldKeys(allow_inplace_modification=True)

    def transform_entry(self, entry: Entry, library: Library) -> Block:
        seen: set[str] = set()
        for field in entry.fields:
            key = field.key.lower()
            if key in seen:
                return MiddlewareErrorBlock(
                    entry, _EntryError(_line(field), f"field '{key}' is given twice")
                )
            seen.add(key)
        normalised: Block = self._normalise.transform_entry(entry, library)
        return normalised


def _split_concatenation(value: str) -> list[str]:
    """`jp # { Suppl} # "x"` -> ['jp', '{ Suppl}', '"x"']: split at `#` outside braces/quotes."""
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


class _ResolveConcatenations(mw.BlockMiddleware):
    """Joins `a # "b" # {c} # 12` into one braced value, as BibTeX does.

    Macros are the @string definitions above the value (BibTeX reads them in order) and
    the month macros. A value without `#` is left to ResolveStringReferencesMiddleware.
    """

    def __init__(self) -> None:
        super().__init__(allow_inplace_modification=True, allow_parallel_execution=False)
        self._macros: dict[str, str] = {}

    def transform(self, library: Library) -> Library:
        self._macros = dict(zip(MONTHS, MONTH_NAMES, strict=True))
        result: Library = super().transform(library)
        return result

    def _join(self, value: str, line: int, where: str = "") -> str:
        parts: list[str] = []
        for piece in _split_concatenation(value):
            if _is_braced_whole(piece) or (len(piece) >= 2 and piece[0] == piece[-1] == '"'):
                parts.append(piece[1:-1])
            elif _NUMBER.fullmatch(piece):
                parts.append(piece)
            elif _MACRO_NAME.fullmatch(piece):
                if piece.lower() not in self._macros:
                    raise _EntryError(line, f"{where}unknown @string macro '{piece}'")
                parts.append(self._macros[piece.lower()])
            else:
                raise _EntryError(line, f"{where}cannot read '{value}' as a concatenation")
        return "".join(parts)

    def transform_string(self, string: String, library: Library) -> Block:
        value = str(string.value)
        try:
            joined = self._join(value, _line(string))
        except _EntryError as exc:
            return MiddlewareErrorBlock(string, exc)
        self._macros[string.key.lower()] = joined
        string.value = f"{{{joined}}}"
        return string

    def transform_entry(self, entry: Entry, library: Library) -> Block:
        for field in entry.fields:
            value = field.value
            if not isinstance(value, str) or len(_split_concatenation(value)) < 2:
                continue
            try:
                field.value = f"{{{self._join(value, _line(field), f'field {field.key!r}: ')}}}"
            except _EntryError as exc:
                return MiddlewareErrorBlock(entry, exc)
        return entry


def _parse_stack() -> list[Any]:
    return [
        _LowerCaseFieldKeys(),
        _ResolveConcatenations(),
        mw.ResolveStringReferencesMiddleware(allow_inplace_modification=True),
        mw.RemoveEnclosingMiddleware(allow_inplace_modification=True),
        mw.SeparateCoAuthors(allow_inplace_modification=True),
        mw.SplitNameParts(allow_inplace_modification=True),
        mw.MonthIntMiddleware(allow_inplace_modification=True),
    ]


@contextmanager
def _quiet(*names: str) -> Iterator[None]:
    """Keep the parsers' own log lines off stderr: errors are reported as one RefdbError."""
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _literal_specials(value: str) -> str:
    """A bare `%` or `&` escaped: to LaTeX they start a comment or a table cell, but in a
    .bib value they are almost always meant literally (`50% of patients`)."""
    return _LITERAL_SPECIALS.sub(
        lambda m: "\\" + m.group() if len(m.group()) == 1 else m.group(), value
    )


def latex_to_unicode(value: str) -> str:
    """LaTeX markup to plain Unicode: `M{\\"u}ller` -> 'Müller', `{CRPS}` -> 'CRPS'."""
    with _quiet("pylatexenc"):
        text = _LATEX.latex_to_text(_literal_specials(value))
    return " ".join(text.split())


def _line(item: Any) -> int:
    """bibtexparser counts lines from 0."""
    return int(item.start_line or 0) + 1


def _block_key(block: Block) -> str:
    match = _NO_BLOCKS.match(block.raw or "")
    return match.group(2) if match else "?"


def _failure_message(block: Block) -> str:
    if isinstance(block, DuplicateBlockKeyBlock):
        return f"entry '{block.key}': duplicate entry key"
    if isinstance(block, MiddlewareErrorBlock):
        inner = block.ignore_error_block
        key = getattr(inner, "key", None) or _block_key(block)
        kind = "@string" if isinstance(inner, String) else "entry"
        return f"{kind} '{key}': {block.error}"
    error = getattr(block, "error", None)
    detail = getattr(error, "abort_reason", None) or str(error or "")
    if not detail.strip():
        detail = "cannot be parsed"
    if isinstance(block, ParsingFailedBlock):
        detail = f"cannot be parsed: {detail.strip()}"
    detail = " ".join(detail.split())
    return f"entry '{_block_key(block)}': {detail.rstrip('.:')}"


def _is_braced_whole(text: str) -> bool:
    """True for `{...}` where the first brace closes at the very end."""
    if not (text.startswith("{") and text.endswith("}")):
        return False
    depth = 0
    for index, char in enumerate(text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0 and index < len(text) - 1:
            return False
    return True


def _authors(names: Any) -> tuple[list[Author], bool]:
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


def _month(value: Any, line: int) -> int:
    if isinstance(value, int):
        return value
    text = latex_to_unicode(str(value)).strip().rstrip(".").lower()
    if text[:3] in MONTHS and len(text) >= 3:
        return MONTHS.index(text[:3]) + 1
    raise _EntryError(line, f"month '{value}' is not a month")


def _entry_to_reference(entry: Entry) -> Reference:
    fields = {f.key.lower(): f for f in entry.fields}

    def text(*names: str) -> tuple[str | None, int]:
        for name in names:
            found = fields.get(name)
            if found is not None and str(found.value).strip():
                return str(found.value), _line(found)
        return None, _line(entry)

    title, _ = text("title")
    title = latex_to_unicode(title) if title else ""
    if not title:
        raise _EntryError(_line(entry), "has no title")
    ref = Reference(title=title, type=ENTRY_TYPES.get(entry.entry_type.lower(), "document"))
    ref.key = entry.key
    if "author" in fields:
        ref.authors, ref.authors_complete = _authors(fields["author"].value)

    container, _ = text("journaltitle", "journal", "booktitle")
    ref.container_title = latex_to_unicode(container) if container else None
    short, _ = text("shortjournal")
    ref.container_title_short = latex_to_unicode(short) if short else None
    for attr, names in (
        ("volume", ("volume",)),
        ("issue", ("number", "issue")),
        ("publisher", ("publisher",)),
        ("issn", ("issn",)),
        ("abstract", ("abstract",)),
    ):
        value, _ = text(*names)
        if value:
            setattr(ref, attr, latex_to_unicode(value) or None)
    pages, _ = text("pages")
    if pages:
        ref.pages = expand_page_range(
            re.sub(r"\s*(?:-+|\u2013|\u2014|\\textendash\s*)\s*", "-", _identifier(pages))
        )

    date, date_line = text("date")
    if date:
        match = _DATE.fullmatch(date.strip())
        if not match:
            raise _EntryError(date_line, f"date '{date}' is not a date")
        ref.year, ref.month, ref.day = (int(g) if g else None for g in match.groups())
    else:
        year, year_line = text("year")
        if year:
            if not _YEAR.fullmatch(year.strip()):
                raise _EntryError(year_line, f"year '{year}' is not a year")
            ref.year = int(year)
        month = fields.get("month")
        if month is not None and str(month.value).strip():
            ref.month = _month(month.value, _line(month))
    if ref.month is not None and not 1 <= ref.month <= 12:
        raise _EntryError(date_line, f"month '{ref.month}' is not a month")

    doi, _ = text("doi")
    ref.doi = normalise_doi(_identifier(doi)) if doi else None
    url, _ = text("url")
    ref.url = _identifier(url) if url else None

    pmid, pmid_line = text("pmid")
    eprint, eprint_line = text("eprint")
    eprinttype = (text("eprinttype", "archiveprefix")[0] or "").strip().lower()
    if not pmid and eprint and eprinttype in ("pubmed", "pmid"):  # Zotero writes "pmid"
        pmid, pmid_line = eprint, eprint_line
    if pmid:
        pmid = _identifier(pmid)
        pmid = pmid[5:].strip() if pmid.lower().startswith("pmid:") else pmid
        if not _PMID.fullmatch(pmid):
            raise _EntryError(pmid_line, f"pmid '{pmid}' is not a PMID")
        ref.pmid = pmid
    pmcid, _ = text("pmcid")
    if not pmcid and eprint and eprinttype == "pmc":
        pmcid = eprint
    ref.pmcid = normalise_pmcid(_identifier(pmcid)) if pmcid else None

    keywords, _ = text("keywords")
    if keywords:
        words = (latex_to_unicode(w) for w in re.split(r"[,;]", keywords))
        ref.keywords = list(dict.fromkeys(w for w in words if w))
    return ref


def parse_bibtex(text: str, *, source: str = "<string>") -> list[Reference]:
    """Parse BibTeX/BibLaTeX text; the first malformed entry raises RefdbError naming it."""
    with _quiet("bibtexparser", "pylatexenc"):
        library = parse_string(text, parse_stack=_parse_stack())
    failed = sorted(library.failed_blocks, key=lambda b: b.start_line or 0)
    if failed:
        block = failed[0]
        # A middleware of ours names the field's own line; the others, the entry's.
        line = getattr(block.error, "line", None) or _line(block)
        raise RefdbError(f"{source}: line {line}: {_failure_message(block)}")
    if not library.entries and text.strip():
        raise RefdbError(f"{source}: no BibTeX entries found")
    refs: list[Reference] = []
    for entry in library.entries:
        try:
            refs.append(_entry_to_reference(entry))
        except _EntryError as exc:
            raise RefdbError(f"{source}: line {exc.line}: entry '{entry.key}': {exc}") from None
    return refs


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


def read_bibtex(path: Path) -> list[Reference]:
    """Read a `.bib` file; each field it sets is credited to `bibtex:<file name>`."""
    text = read_text(path)
    refs = _file_declared(parse_bibtex(text, source=str(path)), declared_indications(text))
    return stamp_provenance(refs, f"bibtex:{path.name}")
