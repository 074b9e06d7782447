"""References to RIS text, one `TAG  - value` line each, as `refdb.sources.ris` reads it back.

Every value is written on one line, its whitespace (line breaks included) collapsed to single
spaces: a line break inside a value could otherwise start a tag of its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from refdb.dates import SEASONS
from refdb.records import Author, Reference
from refdb.render.bibtex import export_keys

CSL_TO_RIS = {
    "article-journal": "JOUR",
    "article-magazine": "MGZN",
    "article-newspaper": "NEWS",
    "book": "BOOK",
    "chapter": "CHAP",
    "paper-conference": "CPAPER",
    "thesis": "THES",
    "report": "RPRT",
    "webpage": "ELEC",
    "post-weblog": "BLOG",
    "dataset": "DATA",
    "software": "COMP",
    "graphic": "ART",
    "figure": "FIGURE",
    "speech": "SLIDE",
    "pamphlet": "PAMP",
    "map": "MAP",
    "patent": "PAT",
    "hearing": "HEAR",
    "bill": "BILL",
    "legal_case": "CASE",
    "legislation": "STAT",
    "regulation": "LEGAL",
    "song": "SOUND",
    "motion_picture": "MPCT",
    "personal_communication": "PCOMM",
    "manuscript": "MANSCPT",
    "standard": "STAND",
    "entry-encyclopedia": "ENCYC",
    "entry-dictionary": "DICT",
    "periodical": "SER",
    "classic": "CLSWK",
    "document": "GEN",
}
"""CSL types and the RIS type each is written as (read back as the same CSL type); a type
RIS cannot say ('article', 'interview', 'review', ...) is written as GEN."""


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def _name(author: Author) -> str:
    """'Family, Given[, Suffix]' as the reader splits it; a collective name as it is, or
    with a trailing comma where it could be read as a person."""
    if author.literal:
        literal = _one_line(author.literal)
        words = literal.split()
        if len(words) > 1 and any(c.islower() for c in words[-1]) and "," not in literal:
            return literal
        # EndNote's mark of a corporate author, which refdb's reader keeps: without it one
        # word reads as a family name, and 'Study Group UK' as a name ending in initials.
        return f"{literal},"
    family = _one_line(author.family or "")
    given = _one_line(author.given or author.initials or "")
    suffix = _one_line(author.suffix or "")
    if not family:
        return given
    if suffix:
        return f"{family}, {given}, {suffix}"
    if given:
        return f"{family}, {given}"
    # 'van der Berg, ,': bare, three words read as a collective name; 'van der Berg,' too.
    return f"{family}, ," if " " in family else family


def _date(ref: Reference) -> str | None:
    """`YYYY/MM/DD/other`, the fourth part the date's text, else its season and 'circa'."""
    other = ref.date_text or " ".join(
        word
        for word in (
            "circa" if ref.circa else "",
            SEASONS[ref.season - 1].capitalize() if ref.season in (1, 2, 3, 4) else "",
        )
        if word
    )
    if ref.year is None and not other:
        return None
    month = f"{ref.month:02d}" if ref.month else ""
    day = f"{ref.day:02d}" if ref.month and ref.day else ""
    year = "" if ref.year is None else str(ref.year)
    return f"{year}/{month}/{day}/{other}"


def _lines(ref: Reference, key: str) -> Iterator[tuple[str, object]]:
    yield "TY", CSL_TO_RIS.get(ref.type, "GEN")
    yield "ID", key
    yield "TI", ref.title
    for author in ref.authors:
        yield "AU", _name(author)
    for editor in ref.editors:
        yield "ED", _name(editor)
    yield "T2", ref.container_title
    yield "J2", ref.container_title_short
    yield "PY", ref.year
    yield "DA", _date(ref)
    yield "VL", ref.volume
    yield "IS", ref.issue
    if ref.pages:
        first, _, last = ref.pages.partition("-")
        yield "SP", first
        yield "EP", last
    yield "PB", ref.publisher
    yield "SN", ref.issn
    yield "LA", ref.language
    yield "DO", ref.doi
    yield "AN", ref.pmid
    yield "UR", ref.url
    for keyword in dict.fromkeys([*ref.indications, *ref.keywords]):
        yield "KW", keyword
    yield "AB", ref.abstract
    if ref.pmid:
        yield "N1", f"PMID: {ref.pmid}"
    if ref.pmcid:
        yield "N1", f"PMCID: {ref.pmcid}"
    if ref.indications:
        # Keywords mix indications with other keywords; this note tells refdb which are which.
        yield "N1", f"refdb indications: {'; '.join(ref.indications)}"
    if ref.evidence_level and ref.evidence_level != "unclassified":
        # RIS has no tag for it; a note other tools show as it is and refdb reads back.
        yield "N1", f"refdb evidence level: {ref.evidence_level}"


def ris_record(ref: Reference, key: str) -> str:
    """One record under this key (`render_ris` joins them with blank lines)."""
    lines = [
        f"{tag}  - {text}"
        for tag, value in _lines(ref, key)
        if value is not None and (text := _one_line(value))
    ]
    return "\n".join([*lines, "ER  - "]) + "\n"


def render_ris(refs: Sequence[Reference]) -> str:
    """RIS text for `refs`, in the order given (TY first, ER last in each record)."""
    keys = export_keys(refs)
    return "\n".join(ris_record(ref, key) for ref, key in zip(refs, keys, strict=True))
