"""Dates as files write them, read into year, month, day, season and circa.

What is unambiguous is kept: the year, the first year of a range, a month or season named in
words. Whatever more the text said ('1997/2000', 'in press', '1985a', '199X') is kept as the
original text (CSL's `raw`), and the reader warns. Two readers: `parse_edtf` for BibLaTeX's
`date` and CSL's `raw` (ISO 8601 and EDTF), `parse_free_date` for free text (a BibTeX `year`,
a CSL `literal`, the fourth part of an RIS date).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

SEASONS = ("spring", "summer", "autumn", "winter")
"""CSL's seasons 1 to 4 (EDTF writes them as months 21 to 24)."""

_SEASON_WORDS = {"spring": 1, "summer": 2, "autumn": 3, "fall": 3, "winter": 4}
_MONTH_WORDS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_EDTF_DATE = re.compile(
    r"^(?P<year>-?[0-9X]{4,})(?:-(?P<month>[0-9X]{2})(?:-(?P<day>[0-9X]{2}))?)?"
    r"(?:T[0-9:.,]+(?:Z|[+-][0-9:]+)?)?(?P<qualifier>[?~%]?)$"
)
_PLAIN_YEAR = re.compile(r"^-?\d{1,4}$")
_YEAR_IN_TEXT = re.compile(r"(?<![\d-])(\d{4})(?!\d)")
_CIRCA = re.compile(r"^(?:c|ca|circa|approx)\.?\s*(\d{3,4})$", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z]+")


@dataclass
class ParsedDate:
    """A date read from text; `text` is the original when it said more than the parts can."""

    year: int | None = None
    month: int | None = None
    day: int | None = None
    season: int | None = None
    circa: bool = False
    text: str | None = None

    @property
    def is_plain(self) -> bool:
        """True when year, month and day say it all (nothing was lost or guessed)."""
        return self.text is None


def season_number(word: str) -> int | None:
    """'Summer' -> 2; None for anything that is not a season."""
    return _SEASON_WORDS.get(word.strip().rstrip(".").lower())


def month_number(word: str) -> int | None:
    """'June', 'jun', 'Jun.' or '6' -> 6; None for anything else."""
    text = word.strip().rstrip(".").lower()
    if text.isdigit():
        number = int(text)
        return number if 1 <= number <= 12 else None
    return _MONTH_WORDS.get(text)


_MONTH_AND_DAY = re.compile(r"([A-Za-z]+)\.?(?:\s*(\d{1,2}))?|(\d{1,2})")


def month_and_day(text: str) -> tuple[int, int | None] | None:
    """A month named or numbered, and a day after it: 'jan', 'Sept.', '9', 'Oct 15' ->
    (month, day); None when the text is not a month."""
    match = _MONTH_AND_DAY.fullmatch(text.strip())
    if match is None:
        return None
    number = month_number(match[1] or match[3])
    if number is None:
        return None
    return number, int(match[2]) if match[2] else None


def _valid_day(year: int | None, month: int | None, day: int | None) -> bool:
    if day is None:
        return True
    if month is None or not 1 <= day <= 31:
        return False
    leap_year = year if year is not None and year > 0 else 2000
    return day <= calendar.monthrange(leap_year, month)[1]


def _edtf_point(text: str) -> ParsedDate | None:
    """One EDTF/ISO date ('2014-05', '1034~', '199X', '-0044', '2001-21'); None if it is not."""
    match = _EDTF_DATE.match(text.strip())
    if not match:
        return None
    parsed = ParsedDate(circa=match.group("qualifier") in ("~", "%"))
    year, month, day = match.group("year", "month", "day")
    if "X" in year:
        return ParsedDate(text=text.strip())  # an unspecified year: only the text says it
    parsed.year = int(year)
    if month and "X" not in month:
        number = int(month)
        if 21 <= number <= 24:
            parsed.season = number - 20
        elif 1 <= number <= 12:
            parsed.month = number
        else:
            return None
        if day and "X" not in day:
            parsed.day = int(day)
            if parsed.season or not _valid_day(parsed.year, parsed.month, parsed.day):
                return None
    plain = not (match.group("qualifier") == "?" or "T" in text)
    plain = plain and "X" not in (month or "") + (day or "")
    if not plain:
        parsed.text = text.strip()
    return parsed


def parse_edtf(text: str) -> ParsedDate | None:
    """An ISO 8601 / EDTF date or range (BibLaTeX `date`); None when the text is not one.

    A range keeps its first date ('1997/2000' -> 1997; '2014/' -> 2014; '../2000' -> no year).
    """
    text = text.strip()
    if "/" not in text:
        return _edtf_point(text)
    start, _, end = text.partition("/")
    if start in ("", "..") and end in ("", ".."):
        return None
    if end not in ("", "..") and _edtf_point(end) is None:
        return None
    first = ParsedDate() if start in ("", "..") else _edtf_point(start)
    if first is None:
        return None
    first.text = text
    return first


def parse_free_date(text: str) -> ParsedDate:
    """Free text such as a BibTeX `year`: '2015', 'in press', '1995--1996', '1985a',
    'June 1980', 'Summer 2001', 'ca. 1034'. A year only when exactly one is written."""
    text = " ".join(text.split())
    if _PLAIN_YEAR.match(text):
        return ParsedDate(year=int(text))
    parsed = ParsedDate(text=text)
    circa = _CIRCA.match(text)
    if circa:
        parsed.year, parsed.circa = int(circa.group(1)), True
        return parsed
    edtf = parse_edtf(text)
    if edtf is not None and (edtf.year is not None or "/" in text):
        edtf.text = text if not edtf.is_plain or "/" in text else None
        return edtf
    years = _YEAR_IN_TEXT.findall(text)
    range_match = re.fullmatch(r"(\d{4})\s*(?:-+|\u2013|\u2014|/)\s*(\d{2,4})", text)
    if range_match:
        parsed.year = int(range_match.group(1))
    elif len(years) == 1:
        parsed.year = int(years[0])
        words = [w for w in _WORD.findall(text) if len(w) > 1 or w.lower() not in "abcdefgh"]
        if len(words) == 1:
            parsed.month = month_number(words[0])
            parsed.season = season_number(words[0])
    return parsed


def edtf_of(year: int | None, month: int | None, day: int | None, season: int | None,
            circa: bool) -> str | None:  # fmt: skip
    """The EDTF form of a date's parts: '2015-09-01', '2001-22' (summer), '1034~', '-0044'."""
    if year is None:
        return None
    text = f"-{abs(year):04d}" if year < 0 else f"{year:04d}"
    if month:
        text += f"-{month:02d}"
        if day:
            text += f"-{day:02d}"
    elif season:
        text += f"-{season + 20}"
    return text + ("~" if circa else "")
