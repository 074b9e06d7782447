"""Dates as files write them, read into year, month, day, season and circa.

What is unambiguous is kept: the year, the first year of a range, a month or season named in
words, a day beside a named month. Whatever more the text said ('1997/2000', 'in press',
'1985a', '199X') is kept as the original text (CSL's `raw`), and the reader warns, saying what
it kept (`what_was_kept`). A text the parts say in full ('May 2020', 'May 15, 2020', 'Summer
2001', '2019-10-15T20:58:43Z': a time of day is not part of a publication date) is not kept,
and nothing warns. Two readers: `parse_edtf` for BibLaTeX's `date` and CSL's `raw` (ISO 8601
and EDTF), `parse_free_date` for free text (a BibTeX `year`, a CSL `literal`, an RIS `DA`).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime

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
_CIRCA_WORDS = ("c", "ca", "circa", "approx")
_ORDINALS = ("st", "nd", "rd", "th")
_WORD = re.compile(r"[A-Za-z]+")
_DAY = re.compile(r"(?<![\d-])(\d{1,2})(?:st|nd|rd|th)?(?!\d)")
_TOKEN = re.compile(r"\d+|[^\W\d_]+|[^\w\s]")
_RANGE_START = re.compile(r"(.*?(?<!\d)\d{4})\s*(?:-+|\u2013|\u2014|/|to\b)\s*\S")


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
    # A time ('2019-10-15T20:58:43Z', as Zotero writes it) says nothing a publication date
    # keeps; an uncertain date ('1565?') or unspecified digits ('1999-XX') do.
    plain = match.group("qualifier") != "?"
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
    'June 1980', 'May 15, 2020', 'Summer 2001', 'ca. 1034'. A year only when exactly one is
    written; the text is kept only when it says more than the parts."""
    text = " ".join(text.split())
    if _PLAIN_YEAR.match(text):
        return ParsedDate(year=int(text))
    parsed = ParsedDate(text=text)
    circa = _CIRCA.match(text)
    if circa:
        parsed.year, parsed.circa = int(circa.group(1)), True
        return _settled(parsed)
    edtf = parse_edtf(text)
    if edtf is not None and (edtf.year is not None or "/" in text):
        edtf.text = text if not edtf.is_plain or "/" in text else None
        return edtf
    years = _YEAR_IN_TEXT.findall(text)
    range_match = re.fullmatch(r"(\d{4})\s*(?:-+|\u2013|\u2014|/)\s*(\d{2,4})", text)
    start = _RANGE_START.match(text) if len(years) > 1 else None
    if range_match:
        parsed.year = int(range_match.group(1))
    elif start:  # 'Jun 2020 - Jul 2020', 'Dec 2019/Jan 2020': the date it starts on
        first = parse_free_date(start.group(1))
        parsed.year, parsed.month, parsed.day = first.year, first.month, first.day
        parsed.season = first.season
    elif len(years) == 1:
        parsed.year = int(years[0])
        words = [
            w
            for w in _WORD.findall(text)
            if (len(w) > 1 or w.lower() not in "abcdefgh") and w.lower() not in _ORDINALS
        ]
        months = [m for m in (month_number(w) for w in words) if m is not None]
        if len(words) == 1 or (len(words) == 2 and len(months) == 2):  # 'Jan/Feb 2020'
            parsed.month = month_number(words[0])
            parsed.season = season_number(words[0])
        days = _DAY.findall(text.replace(years[0], " "))
        if parsed.month is not None and len(days) == 1:
            day = int(days[0])
            parsed.day = day if _valid_day(parsed.year, parsed.month, day) else None
    return _settled(parsed)


def _unsaid(text: str, parsed: ParsedDate) -> list[str]:
    """The runs of a date's text that its parts do not hold: '1985a' -> ['a'],
    '1997/2000' -> ['/2000'], '[1990]' -> ['[', ']'], 'May 15, 2020' -> []."""
    runs: list[str] = []
    run: list[int] = []  # where the current run starts and ends
    used: set[str] = set()
    for match in _TOKEN.finditer(text):
        said = _said(match.group(), parsed, used)
        if said is None:  # a separator: part of a run it is inside, else nothing
            continue
        if said:
            if run:
                runs.append(text[run[0] : run[1]])
                run = []
            continue
        run = [run[0] if run else match.start(), match.end()]
    if run:
        runs.append(text[run[0] : run[1]])
    return runs


def _said(token: str, parsed: ParsedDate, used: set[str]) -> bool | None:
    """True when a token of a date's text is held by a part not yet used, None for a
    separator ('-', ',', '.', 'st' after a day), False for what the parts do not say."""
    word = token.lower()
    number = int(token) if token.isdigit() else None
    year = abs(parsed.year) if parsed.year is not None else None  # '-0044' is the year -44
    parts = [
        ("year", number is not None and len(token) >= 3 and number == year),
        ("month", number is not None and len(token) <= 2 and number == parsed.month),
        ("day", number is not None and len(token) <= 2 and number == parsed.day),
        ("month", number is None and bool(parsed.month) and month_number(word) == parsed.month),
        ("season", bool(parsed.season) and season_number(word) == parsed.season),
    ]
    for name, holds in parts:
        if holds and name not in used:
            used.add(name)
            return True
    if token in ("-", ",", ".") or (word in _ORDINALS and "day" in used):
        return None
    return bool(parsed.circa and word in _CIRCA_WORDS)


def _settled(parsed: ParsedDate) -> ParsedDate:
    """The parsed date without its text when the parts say all of it."""
    if parsed.text is not None and not _unsaid(parsed.text, parsed):
        parsed.text = None
    return parsed


def what_was_kept(parsed: ParsedDate) -> str:
    """How a reader's warning ends for a date whose text says more than its parts: what
    was kept, and what only the text holds ('kept the year 1985; the rest (a) only as
    text'). Meant for dates that are not plain."""
    if parsed.year is None:
        return "no year in it; kept the text"
    kept = [f"the year {parsed.year}"]
    if parsed.month:
        kept.append(f"month {parsed.month}")
        if parsed.day:
            kept.append(f"day {parsed.day}")
    elif parsed.season:
        kept.append(f"the season ({SEASONS[parsed.season - 1]})")
    if parsed.circa:
        kept.append("'circa'")
    said = ", ".join(kept[:-1]) + " and " + kept[-1] if len(kept) > 1 else kept[0]
    rest = ", ".join(repr(run) for run in _unsaid(parsed.text or "", parsed))
    return f"kept {said}; the rest ({rest}) only as text" if rest else f"kept {said}"


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


def utc(moment: datetime) -> datetime:
    """A time in UTC; a naive time (SQLite hands them back; refdb stores UTC) is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
