"""A Reference as the CSL item the styles get: each field prepared by one named rule.

Each rule closes a gap between citeproc-py 0.11.1 and citeproc-js (the processor inside Zotero
and Mendeley) by changing a field before rendering, never the rendered text of one study:

- `typographic_quotes`: citeproc-py keeps straight quotes where citeproc-js prints typographic
  ones ("O'Neill" with U+2019 for the apostrophe).
- `narrow_spaces`: citeproc-js prints a space before ":", ";", "!", "?" as U+202F.
- `number_range_delimiter`: citeproc-py leaves the hyphen in an issue range ("147(1-3)").
- `format_page_ranges`: citeproc-py splits any page text on hyphens ("1-191" minimal becomes
  "1-91"); citeproc-js formats only the parts that are page ranges.
- `suffix_without_periods`: citeproc-py keeps "Jr." where a style that initializes without
  periods prints "Jr".

Every text field is also escaped for citeproc-py's HTML output, its safe inline markup kept as
placeholders (`markup`), and a study whose author list is known to be incomplete gets a
placeholder author that `citations.incomplete_authors` turns into the style's "et al.".
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from refdb.csl import to_csl
from refdb.records import Reference
from refdb.render.markup import NARROW_MARK, PAGE_MARK, escape_field, protect_inline_markup

_IDENTIFIER_FIELDS = frozenset({"DOI", "URL", "PMID", "PMCID", "ISSN", "ISBN", "page"})
_RANGE_FIELDS = ("issue", "volume")
_NAME_FIELDS = ("author", "editor", "translator", "container-author", "collection-editor")


@dataclass(frozen=True)
class FieldRules:
    """What the per-field rules need to know of a style."""

    range_delimiter: str
    """The locale's (or the style's) ``page-range-delimiter`` term."""
    strip_suffix_periods: bool
    """True when the style initializes names without periods (AMA, NLM)."""
    page_range_format: str | None = None
    """The style's ``page-range-format`` (minimal, chicago, expanded...), None when unset."""


_OPENS_AFTER = frozenset(" \t\n([{\u2014-/")
_CLOSES_BEFORE = frozenset(" \t\n)]}.,;:!?\u2014-/")


def typographic_quotes(text: str) -> str:
    """Straight quotes to typographic ones, as citeproc-js does in every text field.

    citeproc-py gap: it prints field text as given. citeproc-js (its flip-flopper) prints
    paired quotes of the kind that opens first in the field (``'...'`` or ``"..."``) as the
    locale's outer quotes (U+201C/U+201D) and pairs of the other kind as its inner quotes
    (U+2018/U+2019), whatever their nesting; any other straight ``'`` is the apostrophe U+2019
    (in "O'Neill", "ETFA '09"). Markup tags are left alone; fields that are identifiers (DOI,
    URL) never reach this function.
    """
    chars = list(text)
    in_tag = False
    opened: list[tuple[str, int]] = []
    pairs: list[tuple[int, int]] = []
    for index, char in enumerate(chars):
        if char == "<":
            in_tag = True
        elif char == ">":
            in_tag = False
        if in_tag or char not in "'\"":
            continue
        before = chars[index - 1] if index else " "
        after = chars[index + 1] if index + 1 < len(chars) else " "
        closes = before not in _OPENS_AFTER and after in _CLOSES_BEFORE
        if closes and any(kind == char for kind, _ in opened):
            while opened[-1][0] != char:  # a quote left open inside this pair stays straight
                opened.pop()
            pairs.append((opened.pop()[1], index))
        elif before in _OPENS_AFTER and after not in " \t\n":
            opened.append((char, index))
    if pairs:
        outer = chars[min(pairs)[0]]
        for start, stop in pairs:
            chars[start], chars[stop] = (
                ("\u201c", "\u201d") if chars[start] == outer else ("\u2018", "\u2019")
            )
    return "".join(chars).replace("'", "\u2019")


def narrow_spaces(text: str) -> str:
    """A space before ``: ; ! ?`` or ``»`` (and after ``«``) as a narrow no-break space (marked).

    citeproc-py gap: it keeps the typed space. citeproc-js turns it into U+202F in every text
    field, so PubMed's journal titles ("Toxicon : official journal ...") print with U+202F
    before the colon, and a line never breaks there.
    """
    text = re.sub(r"[ \t]+([:;!?\u00bb])", NARROW_MARK + r"\1", text)
    return re.sub(r"\u00ab[ \t]+", "\u00ab" + NARROW_MARK, text)


def number_range_delimiter(value: str, delimiter: str) -> str:
    """A numeric range in an issue or volume joined with the style's range delimiter.

    citeproc-py gap: it prints ``issue`` and ``volume`` as given ("147(1-3)"), while citeproc-js
    joins a numeric range with the locale's ``page-range-delimiter`` term: an en dash in APA and
    NLM ("147(1" EN DASH "3)"), a hyphen in AMA, which redefines the term. Only a value that
    is a range as a whole is changed.
    """
    match = re.fullmatch(r"([A-Za-z]*\d+)\s*[-\u2013]+\s*([A-Za-z]*\d+)", value.strip())
    # Anything else ("Doc No 200-201", "Suppl 1-2") citeproc-js prints as typed.
    return f"{match.group(1)}{delimiter}{match.group(2)}" if match else value


def suffix_without_periods(suffix: str) -> str:
    """A name suffix without its periods ("Jr." -> "Jr"), for styles initializing without them.

    citeproc-py gap: it prints the suffix as given. citeproc-js passes the suffix through the
    style's ``initialize-with``, so a style whose initials carry no period (AMA, NLM:
    ``initialize-with=""``) prints "Jr"; APA (``". "``) keeps "Jr.".
    """
    return suffix.replace(".", "")


_PAGE_RANGE_PART = re.compile(r"^([A-Za-z]*)(\d+)\s*[-\u2013]\s*([A-Za-z]*)(\d+)$")


def _last_page(first: str, last: str, range_format: str | None) -> str:
    if len(last) < len(first):  # "107-15": the last page is abbreviated already
        last = first[: len(first) - len(last)] + last
    if range_format in ("chicago", "chicago-15", "chicago-16"):
        number = int(first)
        if number < 100 or number % 100 == 0:
            range_format = "expanded"
        elif number % 100 < 10:
            range_format = "minimal"
        else:
            range_format = "minimal-two"
    if range_format not in ("minimal", "minimal-two") or len(last) != len(first):
        return last
    common = 0
    while common < len(first) - 1 and first[common] == last[common]:
        common += 1
    if range_format == "minimal-two":
        common = min(common, max(len(last) - 2, 0))
    return last[common:]


def format_page_ranges(page: str, range_format: str | None, delimiter: str) -> str:
    """Each plain page range in the style's format and delimiter; any other text as typed.

    citeproc-py gap: it splits every page value on hyphens, so "1-191" in a minimal style comes
    out "1-91" (with the style's dash), and "Doc No 200-201" or "1S-20S" gain an en dash.
    citeproc-js formats only the parts that are page ranges ("1475-1476; author reply 1475-6"
    becomes "1475-6; author reply 1475-6" in NLM, "e12-e18" becomes "e12-8", each first dash
    the style's range delimiter) and leaves the rest alone. The result is marked so that
    citeproc-py prints it as it is.
    """
    parts = re.split(r"(\s*[,;&]\s*)", page)
    for index in range(0, len(parts), 2):
        match = _PAGE_RANGE_PART.match(parts[index].strip())
        if not match or (match.group(3) and match.group(3) != match.group(1)):
            continue
        prefix, first, _, last = match.groups()
        last = _last_page(first, last, range_format)
        if range_format in (None, "expanded"):
            last = prefix + last
        parts[index] = f"{prefix}{first}{delimiter}{last}"
    return "".join(parts).translate(PAGE_MARK)


def _clean_text(text: str) -> str:
    return escape_field(protect_inline_markup(narrow_spaces(typographic_quotes(text))))


def prepare_item(
    ref: Reference, item_id: str, rules: FieldRules, unused: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The study's CSL item under `item_id`, each field through its rules and escaped; the
    `unused` variables (ones the style never names, such as the abstract) left out."""
    item = to_csl(ref, with_custom=False)
    item["id"] = item_id
    for name, value in list(item.items()):
        if name in unused:
            del item[name]
            continue
        if not isinstance(value, str) or name in ("id", "type", "language"):
            continue
        if name == "page":
            item[name] = format_page_ranges(
                html.escape(value, quote=False), rules.page_range_format, rules.range_delimiter
            )
        elif name in _IDENTIFIER_FIELDS:
            item[name] = html.escape(value, quote=False)
        elif name in _RANGE_FIELDS:
            item[name] = escape_field(number_range_delimiter(value, rules.range_delimiter))
        else:
            item[name] = _clean_text(value)
    for field in _NAME_FIELDS:
        names = item.get(field)
        if not names:
            continue
        for person in names:
            for part in ("family", "given", "literal"):
                if part in person:
                    person[part] = escape_field(typographic_quotes(person[part]))
            if "suffix" in person:
                suffix = person["suffix"]
                if rules.strip_suffix_periods:
                    suffix = suffix_without_periods(suffix)
                person["suffix"] = escape_field(suffix)
    if not ref.authors_complete and item.get("author"):
        item["author"].append({"literal": "et al."})
    return item
