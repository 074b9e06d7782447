"""A person's text for one field (`refdb edit --set FIELD=VALUE`) read into its value.

Each parser returns the value the field holds (None: the field is cleared) or raises
ValueError saying what the text is not. The field registry (`refdb.fields`) names the parser
of each field a person may edit.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from refdb.dates import season_number
from refdb.evidence import parse_level
from refdb.identifiers import parse_doi, parse_pmcid, parse_pmid
from refdb.records import CSL_TYPES, STATUSES, Author, initials_of


def text(value: str) -> str | None:
    """Any text, spaces folded; empty clears the field."""
    return " ".join(value.split()) or None


def title(value: str) -> str:
    """A title: never empty."""
    if not value.strip():
        raise ValueError("a title cannot be empty")
    return " ".join(value.split())


def year(value: str) -> int | None:
    """A year from 1000 to 2100 (a typo is not taken for an ancient date)."""
    if not value.strip():
        return None
    if not re.fullmatch(r"\d{4}", value.strip()) or not 1000 <= int(value) <= 2100:
        raise ValueError(f"'{value}' is not a year")
    return int(value)


def bounded(name: str, low: int, high: int) -> Callable[[str], int | None]:
    """A whole number from `low` to `high` (a month, a day)."""

    def parse(value: str) -> int | None:
        if not value.strip():
            return None
        if not value.strip().isdigit() or not low <= int(value) <= high:
            raise ValueError(f"'{value}' is not a {name} ({low}-{high})")
        return int(value)

    return parse


def season(value: str) -> int | None:
    """A season by name or number (1 spring ... 4 winter)."""
    if not value.strip():
        return None
    number = int(value) if value.strip().isdigit() else season_number(value)
    if number is None or not 1 <= number <= 4:
        raise ValueError(f"'{value}' is not a season (spring, summer, autumn, winter or 1-4)")
    return number


def doi(value: str) -> str | None:
    """A DOI, with or without its resolver prefix."""
    return parse_doi(value) if value.strip() else None


def pmid(value: str) -> str | None:
    """A PMID."""
    return parse_pmid(value) if value.strip() else None


def pmcid(value: str) -> str | None:
    """A PMCID."""
    return parse_pmcid(value) if value.strip() else None


def status(value: str) -> str | None:
    """retracted, corrected, expression-of-concern, or none (clears it)."""
    wanted = value.strip().lower().replace(" ", "-")
    if wanted in ("", "none", "ok", "clear"):
        return None
    if wanted not in STATUSES:
        raise ValueError(f"'{value}' is not a status ({', '.join(STATUSES)} or none)")
    return wanted


def boolean(value: str) -> bool:
    """true/false, yes/no, 1/0."""
    wanted = value.strip().lower()
    if wanted in ("true", "yes", "1"):
        return True
    if wanted in ("false", "no", "0"):
        return False
    raise ValueError(f"'{value}' is not true or false")


def csl_type(value: str) -> str:
    """A CSL item type."""
    if value.strip() not in CSL_TYPES:
        raise ValueError(f"'{value}' is not a CSL type (article-journal, book, chapter, ...)")
    return value.strip()


def semicolon_list(value: str) -> list[str]:
    """`a; b; c` as a list."""
    return [part.strip() for part in value.split(";") if part.strip()]


def level(value: str) -> str | None:
    """An evidence level slug or label; empty derives it again from PubMed's data."""
    return parse_level(value) if value.strip() else None


def authors(value: str) -> list[Author]:
    """'Schwartzman, Robert J.; Alexander, G M; {Task Force}' -> people, in order."""
    people = []
    for part in value.split(";"):
        name = part.strip()
        if not name:
            continue
        if name.startswith("{") and name.endswith("}"):
            people.append(Author(literal=name[1:-1].strip()))
            continue
        if "," in name:
            family, given = (p.strip() for p in name.split(",", 1))
        else:
            # "Schwartzman RJ": the last word is the initials when it is short and upper case.
            words = name.split()
            if len(words) < 2 or not re.fullmatch(r"[A-Z]{1,4}", words[-1]):
                raise ValueError(
                    f"author '{name}' is not 'Family, Given', 'Family INITIALS' or '{{Group}}'"
                )
            family, given = " ".join(words[:-1]), words[-1]
        if not family or not re.search(r"\w", family):
            raise ValueError(f"author '{name}' has no family name")
        initials = given if re.fullmatch(r"[A-Z]{1,4}", given) else initials_of(given)
        people.append(Author(family=family, given=given or None, initials=initials or None))
    if not people:
        raise ValueError("the author list is empty")
    return people
