"""The field registry: every field of a study, once, with what each part of refdb needs of it.

The precedence rule, the store, `refdb edit`, the readers' provenance and the CSL-JSON mapping
all read their field lists from here, so a field added in one place is added everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from refdb import values
from refdb.records import FieldSource, Reference

TEXT, NUMBER, FLAG, LIST, PEOPLE, IDENTIFIER, LEVEL, STATUS, UNION = (
    "text",
    "number",
    "flag",
    "list",
    "people",
    "identifier",
    "level",
    "status",
    "union",
)


@dataclass(frozen=True)
class Field:
    """One field of a study."""

    name: str
    """Its `Reference` attribute."""
    kind: str
    """What sort of value: text, number, flag, list, people, identifier, level, status, or
    union (lists that grow and never lose: indications, aliases, notices)."""
    group: str = ""
    """The unit the precedence rule decides: a date's parts, an author list and whether it is
    complete, a level and what it rests on are each taken or kept together."""
    label: str | None = None
    """The name a person sees and `edit --set` takes; None when it is not edited by hand."""
    parse: Callable[[str], Any] | None = None
    """Reads a person's text into the value (`refdb.values`)."""
    csl: str | None = None
    """Its CSL-JSON variable; None for refdb's own fields (under `custom`) and the date."""
    custom: bool = False
    """Carried under CSL-JSON's `custom`."""

    @property
    def unit(self) -> str:
        """The precedence unit: its group, else the field itself."""
        return self.group or self.name


FIELDS: tuple[Field, ...] = (
    Field("authors", PEOPLE, "authors", "authors", values.authors, "author"),
    Field("authors_complete", FLAG, "authors", "authors_complete", values.boolean, custom=True),
    Field("editors", PEOPLE, label="editors", parse=values.authors, csl="editor"),
    Field("type", TEXT, label="type", parse=values.csl_type, csl="type"),
    Field("title", TEXT, label="title", parse=values.title, csl="title"),
    Field("container_title", TEXT, label="journal", parse=values.text, csl="container-title"),
    Field(
        "container_title_short",
        TEXT,
        label="journal_abbrev",
        parse=values.text,
        csl="container-title-short",
    ),
    Field("year", NUMBER, "date", "year", values.year),
    Field("month", NUMBER, "date", "month", values.bounded("month", 1, 12)),
    Field("day", NUMBER, "date", "day", values.bounded("day", 1, 31)),
    Field("season", NUMBER, "date", "season", values.season),
    Field("circa", FLAG, "date", "circa", values.boolean),
    Field("date_text", TEXT, "date", "date_text", values.text),
    Field("epub_date", TEXT),
    Field("volume", TEXT, label="volume", parse=values.text, csl="volume"),
    Field("issue", TEXT, label="issue", parse=values.text, csl="issue"),
    Field("pages", TEXT, label="pages", parse=values.text, csl="page"),
    Field("doi", IDENTIFIER, label="doi", parse=values.doi, csl="DOI"),
    Field("pmid", IDENTIFIER, label="pmid", parse=values.pmid, csl="PMID"),
    Field("pmcid", IDENTIFIER, label="pmcid", parse=values.pmcid, csl="PMCID"),
    Field("url", TEXT, label="url", parse=values.text, csl="URL"),
    Field("abstract", TEXT, label="abstract", parse=values.text, csl="abstract"),
    Field("language", TEXT, label="language", parse=values.text, csl="language"),
    Field("publisher", TEXT, label="publisher", parse=values.text, csl="publisher"),
    Field("issn", TEXT, label="issn", parse=values.text, csl="ISSN"),
    Field(
        "publication_types",
        LIST,
        label="publication_types",
        parse=values.semicolon_list,
        custom=True,
    ),
    Field("mesh_terms", LIST, custom=True),
    Field("keywords", LIST, label="keywords", parse=values.semicolon_list, custom=True),
    Field("status", STATUS, label="status", parse=values.status, custom=True),
    Field("status_note", TEXT, label="note", parse=values.text, custom=True),
    Field("evidence_level", LEVEL, "level", "evidence_level", values.level, custom=True),
    Field("evidence_basis", TEXT, "level", custom=True),
    Field("page_title", TEXT, label="page_title", parse=values.text, custom=True),
    Field("indications", UNION, custom=True),
    Field("aliases", UNION, custom=True),
    Field("notices", UNION),
)

BY_NAME = {f.name: f for f in FIELDS}

SOURCE_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.kind != UNION)
"""The fields a source sets and the precedence rule decides, in the order reports list them."""

UNITS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (unit, tuple(f.name for f in FIELDS if f.unit == unit and f.kind != UNION))
    for unit in dict.fromkeys(f.unit for f in FIELDS if f.kind != UNION)
)
"""The precedence units in order, each with its fields (a date's six parts are one unit)."""

IDENTIFIER_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.kind == IDENTIFIER)

CSL_VARIABLES: dict[str, str] = {
    f.name: f.csl for f in FIELDS if f.csl and f.kind == TEXT and f.name not in ("type", "title")
}
"""Plain text fields and the CSL-JSON variables they are (type, title, names, dates and
identifiers are mapped on their own)."""

CUSTOM_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.custom)
"""refdb's own fields, which CSL-JSON carries under `custom`."""

SYNONYMS = {
    "container_title": "journal",
    "container-title": "journal",
    "journal_title": "journal",
    "container_title_short": "journal_abbrev",
    "journal-abbrev": "journal_abbrev",
    "page": "pages",
    "status_note": "note",
    "level": "evidence_level",
}
"""Other names `edit --set` accepts for a field (the internal ones, CSL's)."""

EDITABLE: dict[str, Field] = {f.label: f for f in FIELDS if f.label and f.parse}
"""The fields a person may set, by the name they see."""


def label_of(name: str) -> str:
    """The name a person sees for a Reference attribute ('container_title' -> 'journal')."""
    return _LABELS.get(name, name)


_LABELS = {f.name: f.label for f in FIELDS if f.label}


def editable(name: str) -> Field:
    """The field a person means by `name` ('journal', 'container-title', 'pmid');
    ValueError naming the fields when it is none."""
    wanted = name.strip().lower().replace(" ", "_")
    wanted = SYNONYMS.get(wanted, SYNONYMS.get(wanted.replace("-", "_"), wanted))
    found = EDITABLE.get(wanted) or EDITABLE.get(wanted.replace("-", "_"))
    if found is None:
        raise ValueError(f"unknown field (one of: {', '.join(sorted(EDITABLE))})")
    return found


def parse_assignments(assignments: Sequence[str]) -> dict[str, Any]:
    """`FIELD=VALUE` pairs read into {Reference attribute: value}; ValueError naming the
    first bad one ('--set year: ...')."""
    parsed: dict[str, Any] = {}
    for assignment in assignments:
        if "=" not in assignment:
            raise ValueError(f"--set {assignment!r}: expected FIELD=VALUE")
        name, value = assignment.split("=", 1)
        try:
            found = editable(name)
            parse = found.parse or values.text  # EDITABLE holds only fields with a parser
            parsed[found.name] = parse(value)
        except ValueError as exc:
            raise ValueError(f"--set {name.strip()}: {exc}") from None
    if not parsed:
        raise ValueError("nothing to change: give --set FIELD=VALUE")
    return parsed


def stamp(ref: Reference, credit: FieldSource) -> Reference:
    """Credit every field the Reference holds to `credit` (a source, e.g. 'bibtex:refs.bib'
    or 'pubmed', and a time), where no source is recorded yet: what the store keeps as its
    provenance. One FieldSource serves every field of a file: at 100,000 studies, one each
    was a quarter of the memory the References held."""
    for name in SOURCE_FIELDS:
        value = getattr(ref, name)
        if value in (None, "", []) or value is False or name in ref.provenance:
            continue
        ref.provenance[name] = credit
    return ref
