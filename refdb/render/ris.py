"""References to RIS text, through rispy's writer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import rispy

from refdb.records import Author, Reference
from refdb.render.bibtex import export_keys

RIS_TYPES = {
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
}


class _Writer(rispy.RisWriter):  # type: ignore[misc]
    """rispy's RIS writer without its numbered header line before each record."""

    def set_header(self, count: int) -> str:
        return ""


def _name(author: Author) -> str:
    # One line per tag: a line break inside a name would start a tag of its own.
    if author.literal:
        return " ".join(author.literal.split())
    parts = [author.family or "", author.given or author.initials or ""]
    if author.suffix:
        parts.append(author.suffix)
    return ", ".join(" ".join(p.split()) for p in parts if p)


def _record(ref: Reference, key: str) -> dict[str, Any]:
    record: dict[str, Any] = {"type_of_reference": RIS_TYPES.get(ref.type, "GEN"), "id": key}
    if ref.authors:
        record["authors"] = [_name(a) for a in ref.authors]
    record["title"] = " ".join(ref.title.split())
    optional = {
        "secondary_title": ref.container_title,
        "alternate_title1": ref.container_title_short,
        "year": str(ref.year) if ref.year else None,
        "volume": ref.volume,
        "number": ref.issue,
        "doi": ref.doi,
        "accession_number": ref.pmid,
        "publisher": ref.publisher,
        "issn": ref.issn,
        "abstract": " ".join(ref.abstract.split()) if ref.abstract else None,
    }
    record.update({k: v for k, v in optional.items() if v})
    if ref.year:
        month = f"{ref.month:02d}" if ref.month else ""
        day = f"{ref.day:02d}" if ref.month and ref.day else ""
        record["date"] = f"{ref.year}/{month}/{day}/"
    if ref.pages:
        first, _, last = ref.pages.partition("-")
        record["start_page"] = first
        if last:
            record["end_page"] = last
    if ref.url:
        record["urls"] = [ref.url]
    keywords = list(dict.fromkeys([*ref.indications, *ref.keywords]))
    if keywords:
        record["keywords"] = keywords
    notes = []
    if ref.pmid:
        notes.append(f"PMID: {ref.pmid}")
    if ref.pmcid:
        notes.append(f"PMCID: {ref.pmcid}")
    if ref.indications:
        # Keywords mix indications with other keywords; this note tells refdb which are which.
        notes.append(f"refdb indications: {'; '.join(ref.indications)}")
    if notes:
        record["notes"] = notes
    return record


def render_ris(refs: Sequence[Reference]) -> str:
    """RIS text for `refs`, in the order given (TY first, ER last in each record)."""
    records = [_record(ref, key) for ref, key in zip(refs, export_keys(refs), strict=True)]
    return str(rispy.dumps(records, implementation=_Writer))
