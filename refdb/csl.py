"""CSL-JSON items to References and back.

refdb's own fields (indications, status, levels, aliases, provenance aside) travel under
CSL-JSON's `custom` key, which the official schema allows; the field registry
(`refdb.fields`) says which field is which CSL variable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from refdb.dates import ParsedDate, edtf_of, parse_edtf, parse_free_date, season_number
from refdb.evidence import parse_level
from refdb.fields import CSL_VARIABLES, CUSTOM_FIELDS, IDENTIFIER_FIELDS
from refdb.identifiers import parse_doi, parse_pmcid, parse_pmid
from refdb.records import CSL_TYPES, Author, Notice, Reference, check_date, initials_of

_CSL_SCALARS = {**CSL_VARIABLES, "doi": "DOI", "pmid": "PMID", "pmcid": "PMCID"}
"""Text fields and identifiers, and their CSL-JSON variables."""

_PARSE_IDENTIFIER: dict[str, Callable[[str], str]] = {
    "doi": parse_doi,
    "pmid": parse_pmid,
    "pmcid": parse_pmcid,
}


def _date_parts(year: int | None, month: int | None, day: int | None) -> list[int]:
    parts: list[int] = []
    for value in (year, month, day):
        if value is None:
            break
        parts.append(value)
    return parts


def _issued(ref: Reference) -> dict[str, Any]:
    """CSL's date object: date-parts, season and circa, and the source's own text as `raw`
    (as `literal` when there is no year to give)."""
    issued: dict[str, Any] = {}
    parts = _date_parts(ref.year, ref.month, ref.day)
    if parts:
        issued["date-parts"] = [parts]
    if ref.season:
        issued["season"] = ref.season
    if ref.circa:
        issued["circa"] = True
    if ref.date_text:
        issued["raw" if parts else "literal"] = ref.date_text
    return issued


def _iso_to_parts(iso: str) -> list[int]:
    return [int(p) for p in iso.split("-") if p.isdigit()]


def _author_to_csl(author: Author) -> dict[str, str]:
    if author.literal:
        return {"literal": author.literal}
    # Initials alone ('OV', as PubMed and RIS write them) are spaced, 'O V': a CSL processor
    # reads an unspaced 'OV' as one given name and prints 'O'.
    initials = " ".join(author.initials) if author.initials and author.initials.isalpha() else None
    name = {
        "family": author.family or "",
        "given": author.given or initials or author.initials or "",
    }
    if author.suffix:
        name["suffix"] = author.suffix
    return {k: v for k, v in name.items() if v}


def to_csl(ref: Reference, *, with_custom: bool = True) -> dict[str, Any]:
    """The CSL-JSON item for a Reference; refdb's own fields go under `custom`."""
    item: dict[str, Any] = {
        "id": ref.key or (f"ref-{ref.id}" if ref.id else "ref"),
        "type": ref.type,
    }
    item["title"] = ref.title
    if ref.authors:
        item["author"] = [_author_to_csl(a) for a in ref.authors]
    for attr, csl_name in _CSL_SCALARS.items():
        value = getattr(ref, attr)
        if value:
            item[csl_name] = value
    issued = _issued(ref)
    if issued:
        item["issued"] = issued
    if ref.editors:
        item["editor"] = [_author_to_csl(a) for a in ref.editors]
    if ref.epub_date:
        item["available-date"] = {"date-parts": [_iso_to_parts(ref.epub_date)]}
    if with_custom:
        custom: dict[str, Any] = {}
        for name in CUSTOM_FIELDS:
            value = getattr(ref, name)
            if name == "authors_complete":
                if not value:
                    custom[name] = False
            elif value:
                custom[name] = value
        if ref.notices:
            custom["notices"] = [asdict(n) for n in ref.notices]
        if custom:
            item["custom"] = custom
    return item


def _csl_name(name: dict[str, Any]) -> Author:
    """A CSL name; its parts' spaces (no-break spaces included) folded to plain ones."""
    literal = _csl_text(name.get("literal"))
    if literal:
        return Author(literal=literal)
    given = _csl_text(name.get("given"))
    family = _csl_text(name.get("family"))
    particle = _csl_text(name.get("non-dropping-particle"))
    if particle and family:
        family = f"{particle} {family}"
    dropping = _csl_text(name.get("dropping-particle"))
    if dropping and given:
        given = f"{given} {dropping}"
    return Author(
        family=family,
        given=given,
        suffix=_csl_text(name.get("suffix")),
        initials=initials_of(given) if given else None,
    )


CROSSREF_TYPES = {
    "journal-article": "article-journal",
    "book-chapter": "chapter",
    "book-section": "chapter",
    "book-part": "chapter",
    "proceedings-article": "paper-conference",
    "posted-content": "article",
    "reference-entry": "entry",
    "monograph": "book",
    "edited-book": "book",
    "reference-book": "book",
    "book-set": "book",
    "book-series": "book",
    "journal-issue": "periodical",
    "journal": "periodical",
    "proceedings": "book",
    "dissertation": "thesis",
    "report-series": "report",
    "component": "document",
    "peer-review": "review",
    "other": "document",
}
"""Crossref's own work types (its raw JSON) and the CSL types they are."""


def _csl_text(value: Any) -> str | None:
    """A CSL string variable; Crossref writes some as lists ('title': ['...'])."""
    if isinstance(value, list):
        value = next(
            (v for v in value if isinstance(v, str | int | float) and str(v).strip()), None
        )
    if value is None or isinstance(value, dict | list | bool):
        return None
    text = " ".join(str(value).split())
    return text or None


def _csl_part(value: Any) -> int | None:
    text = str(value).strip()
    return int(text) if re.fullmatch(r"-?\d{1,5}", text) else None


def _csl_date(value: Any, warn: Callable[[str], None]) -> ParsedDate | None:
    """A CSL date object (date-parts as numbers or strings, a range, season, circa, literal,
    raw) read into its parts; what the parts cannot say stays in `text`."""
    if not isinstance(value, dict):
        if isinstance(value, str) and value.strip():
            return parse_edtf(value) or parse_free_date(value)
        return None
    parsed: ParsedDate | None = None
    range_end: list[int | None] | None = None
    ranges = value.get("date-parts")
    if isinstance(ranges, list) and ranges and isinstance(ranges[0], list) and ranges[0]:
        parts = [_csl_part(p) for p in ranges[0][:3]]
        if parts[0] is not None:
            parsed = ParsedDate(year=parts[0])
            if len(parts) > 1 and parts[1] is not None:
                if 21 <= parts[1] <= 24:
                    parsed.season = parts[1] - 20
                else:
                    parsed.month = parts[1]
                    parsed.day = parts[2] if len(parts) > 2 else None
            if len(ranges) > 1 and isinstance(ranges[1], list) and ranges[1]:
                range_end = [_csl_part(p) for p in ranges[1][:3]]
    for name in ("raw", "literal"):
        text = _csl_text(value.get(name))
        if text is None:
            continue
        if parsed is None:
            parsed = parse_edtf(text) or parse_free_date(text)
            if parsed.text is None and name == "literal":
                parsed.text = text
        else:
            parsed.text = text
        break
    if parsed is None:
        return None
    season = value.get("season")
    if season not in (None, ""):
        number = _csl_part(season) or season_number(str(season))
        if number is not None and 1 <= number <= 4:
            parsed.season = number
        elif number is not None and 21 <= number <= 24:
            parsed.season = number - 20
        else:
            warn(f"season {season!r} is not a season; dropped it")
    circa = value.get("circa")
    if circa not in (None, "", 0, False, "0", "false"):
        parsed.circa = True
    if range_end is not None and parsed.text is None:
        parsed.text = _edtf_range(parsed, range_end)
    try:
        check_date(parsed.year, parsed.month, parsed.day)
    except ValueError as exc:
        warn(f"date {value!r}: {exc}; kept the year")
        parsed.month = parsed.day = None
        if parsed.year is not None and not -9999 <= parsed.year <= 9999:
            parsed.year = None
    return parsed


def _edtf_range(start: ParsedDate, end: list[int | None]) -> str:
    """A CSL date range as EDTF text ('2011-05-25~/2012-06-26~'; an open end: '2014/')."""
    first = edtf_of(start.year, start.month, start.day, start.season, start.circa) or ""
    year, month, day = [*end, None, None][:3]
    if not year:
        return f"{first}/"
    season = month - 20 if month and 21 <= month <= 24 else None
    month = None if season else month
    return f"{first}/{edtf_of(year, month, day, season, start.circa)}"


def _drop(message: str) -> None:
    raise ValueError(message)


def from_csl(item: dict[str, Any], warn: Callable[[str], None] | None = None) -> Reference:
    """A Reference from one CSL-JSON item (the inverse of `to_csl`).

    A value that is not what it claims (a DOI that is no DOI, an unknown type, a date that
    is no date) is dropped with a call to `warn`; without `warn` it raises ValueError. An
    item with no title and no identifier raises ValueError.
    """
    report = warn or _drop
    kind = str(item.get("type") or "article-journal")
    if kind not in CSL_TYPES:
        if kind in CROSSREF_TYPES:
            kind = CROSSREF_TYPES[kind]
        else:
            report(f"type '{kind}' is not a CSL type; stored as 'document'")
            kind = "document"
    ref = Reference(title=_csl_text(item.get("title")) or "", type=kind)
    ref.authors = [_csl_name(n) for n in _names(item.get("author"))]
    ref.editors = [_csl_name(n) for n in _names(item.get("editor"))]
    for attr, csl_name in _CSL_SCALARS.items():
        value = item.get(csl_name)
        if value is None and csl_name == "container-title-short":
            value = item.get("journalAbbreviation") or item.get("short-container-title")
        text = _csl_text(value)
        if text is not None:
            setattr(ref, attr, text)
    for name in IDENTIFIER_FIELDS:
        value = getattr(ref, name)
        if value is not None:
            try:
                setattr(ref, name, _PARSE_IDENTIFIER[name](value))
            except ValueError as exc:
                report(f"{_CSL_SCALARS[name]} {exc}; dropped it")
                setattr(ref, name, None)
    issued = item.get("issued")
    if issued is None:
        issued = item.get("published-print") or item.get("published-online")
    date = _csl_date(issued, report)
    if date is not None:
        ref.year, ref.month, ref.day = date.year, date.month, date.day
        ref.season, ref.circa, ref.date_text = date.season, date.circa, date.text
    epub = _csl_date(item.get("available-date"), report)
    if epub is not None and epub.year is not None and epub.year > 0:
        parts = [p for p in (epub.year, epub.month, epub.day) if p is not None]
        ref.epub_date = "-".join(f"{p:02d}" if i else str(p) for i, p in enumerate(parts))
    if item.get("id") is not None and not str(item["id"]).startswith("ref-"):
        ref.key = str(item["id"])
    custom = item.get("custom") or {}
    if isinstance(custom, dict):
        for name in CUSTOM_FIELDS:
            if name in custom:
                _set_custom(ref, name, custom[name], report)
        ref.notices = _notices(custom.get("notices"), report)
    if ref.evidence_level is not None:
        try:
            ref.evidence_level = parse_level(str(ref.evidence_level))
        except ValueError as exc:
            report(f"{exc}; derived the level instead")
            ref.evidence_level = ref.evidence_basis = None
    if not ref.title:
        if not (ref.doi or ref.pmid or ref.pmcid or ref.url):
            raise ValueError("no title and no identifier")
        ref.title = ref.url or "[Untitled]"
        report(f"no title; stored as {ref.title!r}")
    return ref


def _names(value: Any) -> list[dict[str, Any]]:
    return [n for n in value if isinstance(n, dict)] if isinstance(value, list) else []


def _set_custom(ref: Reference, name: str, value: Any, report: Callable[[str], None]) -> None:
    """One of refdb's own fields from `custom`, when it is of the field's shape."""
    current = getattr(ref, name)
    if isinstance(current, bool):
        if isinstance(value, bool):
            setattr(ref, name, value)
            return
    elif isinstance(current, list):
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            setattr(ref, name, [" ".join(v.split()) for v in value if v.strip()])
            return
    elif value is None or isinstance(value, str):
        setattr(ref, name, _csl_text(value))
        return
    report(f"custom.{name} {value!r:.40} is not what refdb writes there; dropped it")


def _notices(value: Any, report: Callable[[str], None]) -> list[Notice]:
    notices = []
    for entry in value if isinstance(value, list) else []:
        try:
            notices.append(Notice(**entry))
        except TypeError:
            report(f"custom.notices {entry!r:.40} is not a notice; dropped it")
    return notices
