"""A study in full, as plain text for `refdb show`."""

from __future__ import annotations

from refdb.evidence import label_of, level_of
from refdb.records import Reference


def _authors(ref: Reference) -> str:
    names = ", ".join(a.display() for a in ref.authors)
    return names + (", et al. (list incomplete)" if not ref.authors_complete else "")


def _level(ref: Reference) -> str:
    """'RCT (rct)'."""
    return f"{label_of(ref)} ({level_of(ref)})"


def describe(ref: Reference) -> str:
    """Every known field of a study, one per line, with where it came from."""
    date = "-".join(f"{p:02d}" for p in (ref.year, ref.month, ref.day) if p)
    rows: list[tuple[str, str | None]] = [
        ("key", ref.key),
        ("id", str(ref.id) if ref.id else None),
        ("title", ref.title),
        ("title on page", ref.page_title if ref.page_title != ref.title + "." else None),
        ("authors", _authors(ref) if ref.authors else None),
        ("journal", ref.container_title),
        ("journal abbrev.", ref.container_title_short),
        ("date", date or None),
        ("published online", ref.epub_date),
        ("volume", ref.volume),
        ("issue", ref.issue),
        ("pages", ref.pages),
        ("PMID", ref.pmid),
        ("DOI", ref.doi),
        ("PMCID", ref.pmcid),
        ("URL", ref.url),
        ("publication types", "; ".join(ref.publication_types) or None),
        ("indications", ", ".join(ref.indications) or None),
        ("evidence level", _level(ref)),
        ("level from", ref.evidence_basis or "no publication type or MeSH heading known yet"),
        ("keywords", "; ".join(ref.keywords) or None),
        (
            "status",
            f"{ref.status}" + (f" ({ref.status_note})" if ref.status_note else "")
            if ref.status
            else None,
        ),
        (
            "notices",
            "; ".join(f"{n.kind} {n.pmid or n.citation or ''}".strip() for n in ref.notices)
            or None,
        ),
        ("other keys", ", ".join(ref.aliases) or None),
        ("abstract", ref.abstract),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"{label.ljust(width)}  {value}" for label, value in rows if value]
    if ref.provenance:
        lines.append("sources:")
        for name, source in sorted(ref.provenance.items()):
            lines.append(f"  {name}: {source.source} at {source.at}")
    return "\n".join(lines)
