"""References to BibTeX or BibLaTeX text.

Entries are written here rather than through bibtexparser's writer, because its writer
encloses every value (`month = {mar}`, which biber rejects as a month) and its
LatexEncodingMiddleware escapes the braces that protect case (`{DNA}` -> `\\{DNA\\}`). Each
value is escaped first (`ascii_latex` for non-ASCII characters when `ascii=True`), and the
protecting braces are added afterwards, so they are never escaped.

Case protection, the rule: BibTeX styles lowercase a title's words except its first letter,
so every word (a run of letters and digits) holding a capital letter is braced, except an
ordinary capitalised first word (`Outpatient`). A capital single letter before a hyphen is
braced too (`{R}-ketamine`). So `{CRPS}`, `{NMDA}`, `{microRNA}`, `{Depression}` keep their
case exactly as stored; a stored sentence-case title prints unchanged.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Literal

from refdb.dates import SEASONS, edtf_of, parse_edtf
from refdb.records import Author, IndicationSpec, Reference, base_citation_key, is_citation_key
from refdb.render.ascii_latex import has_symbol, to_ascii_latex

Dialect = Literal["bibtex", "biblatex"]

MONTH_MACROS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

_SPECIALS = {
    ord("\\"): r"\textbackslash{}",
    # Not `\{`: BibTeX and biber count the brace in `\{` too, so a lone one unbalances the
    # value (`{a \} b}` ends at `\}`); the text commands hold a balanced `{}`.
    ord("{"): r"\textbraceleft{}",
    ord("}"): r"\textbraceright{}",
    ord("&"): r"\&",
    ord("%"): r"\%",
    ord("$"): r"\$",
    ord("#"): r"\#",
    ord("_"): r"\_",
    ord("~"): r"\textasciitilde{}",
    ord("^"): r"\textasciicircum{}",
}
"""ASCII characters that mean something to (La)TeX, and their literal forms."""

_WORD = re.compile(r"[^\W_]+")
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_:.+/-]")

_BIBLATEX_TYPES = {
    "article-journal": "article",
    "article": "article",
    "article-magazine": "article",
    "article-newspaper": "article",
    "book": "book",
    "chapter": "incollection",
    "paper-conference": "inproceedings",
    "thesis": "thesis",
    "report": "report",
    "webpage": "online",
    "pamphlet": "booklet",
    "dataset": "dataset",
    "software": "software",
    "patent": "patent",
    "manuscript": "unpublished",
    "periodical": "periodical",
    "entry-encyclopedia": "inreference",
}
"""CSL types and the BibLaTeX entry types biber's datamodel knows for them. Any other type
is written @misc with the CSL type as its `entrysubtype` (refdb reads it back from there)."""

_BIBTEX_TYPES = {**_BIBLATEX_TYPES, "thesis": "phdthesis", "report": "techreport"}
"""BibTeX's classic names where it has one; BibLaTeX's (which pandoc and biber read, and
classic styles print as @misc) for types BibTeX cannot say."""

_SUBTYPES = {
    "article-magazine": "magazine",
    "article-newspaper": "newspaper",
    "article": "preprint",
}
"""CSL article types an @article's `entrysubtype` tells apart (CSL's `article` is a preprint or
another article not in a journal); refdb reads them back from there."""


_PLAIN_WORD = re.compile(r"[^\W_]*")
_LIGATURES = ("--", "``", "''", "?`", "!`")


def _plain_escape(text: str) -> str:
    return text.translate(_SPECIALS)


def _ascii_escape(text: str) -> str:
    # The encoder leaves ASCII alone, so the specials go first.
    return to_ascii_latex(_plain_escape(text))


def value_escaper(ascii: bool) -> Callable[[str], str]:
    """How a value is written: LaTeX specials escaped (with `ascii`, every character as ASCII
    LaTeX), the ligatures kept apart."""

    def escape(text: str) -> str:
        if _PLAIN_WORD.fullmatch(text) and (text.isascii() or not ascii):
            return text  # letters and digits only: most calls, from protect_title's words
        encoded = (_ascii_escape if ascii else _plain_escape)(re.sub(r"\s+", " ", text))
        # '--', '``', "''", '?`' and '!`' are ligatures to LaTeX (a dash, quotes, inverted
        # marks): keep them apart.
        for pair in _LIGATURES:
            if pair in encoded:
                encoded = encoded.replace(pair, pair[0] + "{}" + pair[1])
                encoded = encoded.replace(pair, pair[0] + "{}" + pair[1])
        return encoded

    return escape


def _needs_protection(title: str, match: re.Match[str]) -> bool:
    word = match.group()
    if not any(c.isupper() for c in word):
        return False
    if len(word) == 1:
        return match.start() > 0 or title[match.end() : match.end() + 1] == "-"
    if match.start() == 0:
        return any(c.isupper() for c in word[1:])
    return True


_NEEDS_ESCAPE = re.compile(
    "[" + re.escape("".join(map(chr, _SPECIALS))) + "]|" + "|".join(map(re.escape, _LIGATURES))
)
_CAPITALISED_WORD = re.compile(r"[A-Za-z0-9]*[A-Z][A-Za-z0-9]*")
"""In ASCII text: each word (`_WORD`) that holds a capital, whole (the first place a match
can start in such a word is its start)."""


def protect_title(title: str, escape: Callable[[str], str]) -> str:
    """The title escaped, with the case of each word holding a capital protected by braces."""
    # NFC: a letter and its combining mark are one word character, never split by a brace.
    title = unicodedata.normalize("NFC", " ".join(title.split()))
    if title.isascii() and not _NEEDS_ESCAPE.search(title):
        # Nothing to escape (most titles): brace the words that need it, in one pass, the
        # same text as escaping word by word (an export's costliest step at 10,000 studies).
        return _CAPITALISED_WORD.sub(
            lambda m: f"{{{m.group()}}}" if _needs_protection(title, m) else m.group(), title
        )
    return protect_each_word(title, escape)


def protect_each_word(title: str, escape: Callable[[str], str]) -> str:
    """`protect_title` for any (NFC, single-spaced) title: each word and what lies between
    the words escaped in turn."""
    out: list[str] = []
    position = 0
    for match in _WORD.finditer(title):
        out.append(escape(title[position : match.start()]))
        word = escape(match.group())
        out.append(f"{{{word}}}" if _needs_protection(title, match) else word)
        position = match.end()
    out.append(escape(title[position:]))
    return "".join(out)


def _ascii_letter(char: str) -> str:
    """'Ø' -> 'O', 'ß' -> 'ss': the letters of the character's LaTeX form, else ''."""
    if char.isascii() or not char.isalpha():
        return char if char.isascii() else ""
    latex = to_ascii_latex(char)
    if has_symbol(latex):
        return ""  # CJK and the like: no letters to take
    return re.sub(r"[^A-Za-z]", "", re.sub(r"\\[^A-Za-z]", "", latex))


def _ascii_key(key: str) -> str:
    decomposed = unicodedata.normalize("NFKD", key)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _KEY_UNSAFE.sub("", "".join(_ascii_letter(c) for c in stripped))


def export_keys(refs: Sequence[Reference]) -> list[str]:
    """One ASCII citation key per reference: its own key, folded; clashes get a/b/c suffixes."""
    return unique_keys([export_key_base(ref) for ref in refs])


def export_key_base(ref: Reference) -> str:
    """A reference's ASCII citation key before clashes are resolved: its own key, folded."""
    return _ascii_key(ref.key or "") or _ascii_key(base_citation_key(ref)) or "ref"


def unique_keys(bases: Sequence[str]) -> list[str]:
    """The keys `export_keys` gives for these bases, in order: clashes get a/b/c suffixes."""
    keys: list[str] = []
    seen: set[str] = set()
    for key in bases:
        candidate, suffix = key, 0
        while candidate in seen:
            candidate = f"{key}{chr(ord('a') + suffix % 26)}{suffix // 26 or ''}"
            suffix += 1
        seen.add(candidate)
        keys.append(candidate)
    return keys


def _name(author: Author, escape: Callable[[str], str]) -> str:
    if author.literal:
        return f"{{{escape(author.literal)}}}"
    family = escape(author.family or "")
    if "," in (author.family or "") or " and " in f" {author.family} ":
        family = f"{{{family}}}"
    given = author.given or author.initials
    if author.suffix:
        # `Family, Jr, Given`; an empty given name is `{}`, or `Family, Jr` would read as
        # family and given name.
        return f"{family}, {escape(author.suffix)}, {escape(given) if given else '{}'}"
    # Without a given name, `van Aa` alone would read as given name 'van'; `{}` keeps the comma.
    return f"{family}, {escape(given) if given else '{}'}"


def _identifier(value: str) -> str:
    """DOIs and URLs are verbatim fields; only characters that break the syntax are encoded."""
    return re.sub(r"[{}\s]", lambda m: f"%{ord(m.group()):02X}", value.strip())


def _fields(ref: Reference, dialect: Dialect, ascii: bool) -> list[tuple[str, str]]:
    escape = value_escaper(ascii)
    fields: list[tuple[str, str]] = []

    def add(name: str, value: str | None) -> None:
        if value:
            fields.append((name, f"{{{value}}}"))

    if ref.authors:
        names = [_name(a, escape) for a in ref.authors]
        if not ref.authors_complete:
            names.append("others")
        add("author", " and ".join(names))
    if ref.editors:
        add("editor", " and ".join(_name(a, escape) for a in ref.editors))
    add("title", protect_title(ref.title, escape))
    container = escape(ref.container_title) if ref.container_title else None
    if ref.type in ("chapter", "paper-conference"):
        add("booktitle", container)
    else:
        add("journaltitle" if dialect == "biblatex" else "journal", container)
        # biber's datamodel knows `shortjournal` in both dialects; BibTeX styles ignore it.
        if ref.container_title_short:
            add("shortjournal", escape(ref.container_title_short))
    fields.extend(_date_fields(ref, dialect))
    if ref.type in _SUBTYPES:
        add("entrysubtype", _SUBTYPES[ref.type])
    elif ref.type not in _BIBLATEX_TYPES and ref.type != "document":
        add("entrysubtype", ref.type)
    add("volume", escape(ref.volume) if ref.volume else None)
    add("number", escape(ref.issue) if ref.issue else None)
    if ref.pages:
        pages = (_ascii_escape if ascii else _plain_escape)(ref.pages)
        add("pages", re.sub(r"\s*-+\s*", "--", pages))
    add("publisher", escape(ref.publisher) if ref.publisher else None)
    add("issn", escape(ref.issn) if ref.issn else None)
    # biblatex's `ids`: the study's other keys (an alias from a merge or a replaced key), so
    # that \cite{oldkey} still finds it; refdb reads them back as aliases.
    aliases = [a for a in ref.aliases if is_citation_key(a)]
    add("ids", ", ".join(aliases) if aliases else None)
    add("doi", _identifier(ref.doi) if ref.doi else None)
    if ref.pmid:
        # Both dialects carry the PMID as BibLaTeX's eprint, which biber's datamodel knows
        # (a `pmid` field draws a warning from `biber --validate-datamodel`), pandoc turns
        # into a PubMed link, and classic BibTeX styles ignore. The PMCID has no such slot.
        add("eprint", _identifier(ref.pmid))
        add("eprinttype", "pubmed")
    # BibTeX's `pmcid` (as Zotero and pandoc write and read it); biblatex has no slot of its
    # own for a second database id, so its datamodel check warns about this field.
    add("pmcid", _identifier(ref.pmcid) if ref.pmcid else None)
    add("url", _identifier(ref.url) if ref.url else None)
    # The evidence level goes in biblatex's custom field `usera`, which biber's datamodel
    # knows and the standard styles never print; refdb reads it back (README, "formats").
    level = ref.evidence_level
    add("usera", level if level and level != "unclassified" else None)
    add("language", escape(ref.language) if ref.language else None)
    keywords = list(dict.fromkeys([*ref.indications, *ref.keywords]))
    # biblatex splits keywords at commas; one holding a comma or semicolon (MeSH's
    # 'Colitis, Ulcerative/*therapy') is braced, which biblatex and refdb read as one keyword.
    add("keywords", ", ".join(_keyword(k, escape) for k in keywords))
    add("abstract", escape(ref.abstract) if ref.abstract else None)
    return fields


def _keyword(keyword: str, escape: Callable[[str], str]) -> str:
    text = escape(keyword)
    return f"{{{text}}}" if re.search(r"[,;]", keyword) else text


def _date_fields(ref: Reference, dialect: Dialect) -> list[tuple[str, str]]:
    """BibLaTeX's `date` in EDTF (season as month 21-24, circa as `~`), BibTeX's `year`,
    `month` macro and `day`. A date the source wrote in words ('in press', '1985a',
    'June 1980') is written back as that text in `year`, which both dialects read back the
    same way."""
    text = ref.date_text
    edtf = text is None or parse_edtf(text) is not None
    if dialect == "biblatex" and edtf:
        date = text or edtf_of(ref.year, ref.month, ref.day, ref.season, ref.circa)
        return [("date", f"{{{date}}}")] if date else []
    fields: list[tuple[str, str]] = []
    if text is not None and edtf and ref.year is not None:
        # An EDTF date BibTeX cannot say (a circa range): its year for BibTeX styles, and the
        # whole date in biblatex's `date`, which BibTeX ignores and refdb and biber read.
        year = edtf_of(ref.year, None, None, None, ref.circa)
        return [("year", f"{{{year}}}"), ("date", f"{{{text}}}")]
    if text is not None:
        fields.append(("year", f"{{{_plain_escape(text)}}}"))
    elif ref.year is not None:
        fields.append(("year", f"{{{edtf_of(ref.year, None, None, None, ref.circa)}}}"))
    if text is None and ref.month and 1 <= ref.month <= 12:
        fields.append(("month", MONTH_MACROS[ref.month - 1]))
        if ref.day:
            fields.append(("day", f"{{{ref.day}}}"))
    elif text is None and ref.season:
        fields.append(("month", f"{{{SEASONS[ref.season - 1].capitalize()}}}"))
    return fields


def indications_comment(indications: Sequence[IndicationSpec]) -> str:
    """`@comment{refdb-indications: [["CRPS", "For CRPS/RSD"], ...]}`: names and headings in
    page order, so that an import of this file files studies as they were (tools ignore it)."""
    pairs = json.dumps([[i.name, i.heading] for i in indications], ensure_ascii=True)
    pairs = pairs.replace("{", "\\u007b").replace("}", "\\u007d")
    return f"@comment{{refdb-indications: {pairs}}}\n"


def render_bib(
    refs: Sequence[Reference],
    *,
    dialect: Dialect = "bibtex",
    ascii: bool = False,
    indications: Sequence[IndicationSpec] = (),
) -> str:
    """BibTeX or BibLaTeX text for `refs`, in the order given.

    Unicode stays UTF-8 unless `ascii` is set, then it is written as LaTeX (`{\\"o}`).
    """
    chunks: list[str] = [indications_comment(indications)] if indications else []
    for ref, key in zip(refs, export_keys(refs), strict=True):
        chunks.append(bib_entry(ref, key, dialect=dialect, ascii=ascii))
    return "\n".join(chunks)


def bib_entry(ref: Reference, key: str, *, dialect: Dialect = "bibtex", ascii: bool = False) -> str:
    """One entry under this key (`render_bib` joins them with blank lines)."""
    types = _BIBLATEX_TYPES if dialect == "biblatex" else _BIBTEX_TYPES
    body = ",\n".join(f"  {name} = {value}" for name, value in _fields(ref, dialect, ascii))
    return f"@{types.get(ref.type, 'misc')}{{{key},\n{body}\n}}\n"


def render_bibtex(
    refs: Sequence[Reference],
    *,
    ascii: bool = False,
    indications: Sequence[IndicationSpec] = (),
) -> str:
    """BibTeX text: `journal`, `year`, `month = jan` (a bare macro), the PMID as `eprint`."""
    return render_bib(refs, dialect="bibtex", ascii=ascii, indications=indications)


def render_biblatex(
    refs: Sequence[Reference],
    *,
    ascii: bool = False,
    indications: Sequence[IndicationSpec] = (),
) -> str:
    """BibLaTeX text: `journaltitle`, `date`, the PMID as `eprint` with `eprinttype = {pubmed}`."""
    return render_bib(refs, dialect="biblatex", ascii=ascii, indications=indications)
