"""Formatted bibliographies through citeproc-py and the official CSL styles.

citeproc-py 0.11.1 renders the shipped AMA, APA and NLM (Vancouver) styles close to, but not
exactly like, citeproc-js (the processor inside Zotero and Mendeley, which users compare against).
Each gap is closed here by one small named rule, applied either to the parsed style (once, when it
is loaded) or to a CSL item's fields before rendering, never to the rendered text of one study:

- `align_second_field`: citeproc-py ignores ``second-field-align``; the entry number is split off
  and joined with a space ("1. Douglas").
- `apply_locale_date_delimiters`: citeproc-py drops a localized date's ``delimiter`` ("2015Jan").
- `typographic_quotes`: citeproc-py keeps straight quotes where citeproc-js prints typographic
  ones ("O'Neill" with U+2019 for the apostrophe).
- `number_range_delimiter`: citeproc-py leaves the hyphen in an issue range ("147(1-3)").
- `suffix_without_periods`: citeproc-py keeps "Jr." where a style that initializes without periods
  prints "Jr".
- `suppress_substituted_variables`: citeproc-py prints a variable twice when a ``<substitute>``
  renders it through a macro (a study with no authors: its title in the author's place, then
  again as the title).
- `merge_punctuation`: citeproc-py joins a field's own final punctuation with the style's
  delimiter ("them?." and "legacy”.") where citeproc-js merges them ("them?" and "legacy.”",
  the en-US locale putting punctuation inside quotes).
- `format_page_ranges`: citeproc-py splits any page text on hyphens ("1-191" minimal becomes
  "1-91"); citeproc-js formats only the parts that are page ranges.
- `narrow_spaces`: citeproc-js prints a space before ":", ";", "!", "?" as U+202F.
- `add_year_suffixes`: citeproc-py never adds "2001a", "2001b" for the same authors and year.
- `title_case_skip_words`: citeproc-js's title case leaves more words in lower case ("de").
- `collate_sort_keys`: citeproc-py sorts by code point ("Götze" after "Gunnars").
- `initialize_given_names`: citeproc-py prints "V. van ." for "Vincent van" in APA.

`tests/test_citeproc_js.py` compares the three styles with citeproc-js itself (node) on NLM's
2019 PubMed sample, where node and the `citeproc` package are installed.

Studies whose author list is known to be incomplete end their author list with the style's own
"et al." (`incomplete_authors`), and safe inline markup in titles (``<i>``, ``<b>``, ``<sup>``,
``<sub>``, ``<u>``) stays markup in HTML and markdown and is dropped in plain text; any other
markup is text, escaped in HTML.
"""

from __future__ import annotations

import functools
import html
import re
import string
import threading
import unicodedata
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.model import Key, Label, Name, Substitute, Text, TextCased
from citeproc.source.json import CiteProcJSON

from refdb.csl import to_csl
from refdb.errors import RefdbError
from refdb.records import Reference, initials_of

STYLES_DIR = Path(__file__).resolve().parent / "styles"
STYLES: dict[str, str] = {
    "ama": "american-medical-association.csl",
    "apa": "apa.csl",
    "vancouver": "nlm-citation-sequence.csl",
}
"""Style names refdb knows, and their CSL files in refdb/render/styles/."""

_CSL_NS = "http://purl.org/net/xbiblio/csl"
_NS = {"cs": _CSL_NS}
_FIELD_MARK = "\ue0ff"
"""Appended to the first field of second-field-align styles, to split it off after rendering."""

# Safe inline markup in titles travels through citeproc-py as private-use characters, so that
# citeproc-py escapes everything else and the tags come back only where they were balanced.
_SAFE_TAGS = ("i", "b", "sup", "sub", "u")
_OPEN_MARK = {tag: chr(0xE000 + 2 * n) for n, tag in enumerate(_SAFE_TAGS)}
_CLOSE_MARK = {tag: chr(0xE001 + 2 * n) for n, tag in enumerate(_SAFE_TAGS)}
_MARK_TO_TAG = {
    **{mark: f"<{tag}>" for tag, mark in _OPEN_MARK.items()},
    **{mark: f"</{tag}>" for tag, mark in _CLOSE_MARK.items()},
}
_SAFE_PAIR = re.compile(r"<(i|b|sup|sub|u)>(.*?)</\1>", re.IGNORECASE | re.DOTALL)

_IDENTIFIER_FIELDS = frozenset({"DOI", "URL", "PMID", "PMCID", "ISSN", "ISBN", "page"})
_RANGE_FIELDS = ("issue", "volume")
_NAME_FIELDS = ("author", "editor", "translator", "container-author", "collection-editor")

# citeproc-py sets the output formatter on the shared style object, and `incomplete_authors`
# changes name options for one entry: rendering is serialised.
_RENDER_LOCK = threading.Lock()


@dataclass(frozen=True)
class Entry:
    """One rendered bibliography entry.

    `label` is the first field of a second-field-align style ("1." in AMA and Vancouver), kept
    apart from the body so that lists can number entries themselves; `number` is the entry's
    citation number in numbered styles (its position in the list), None otherwise.
    """

    reference: Reference
    number: int | None
    label: str
    body_html: str

    @property
    def body_text(self) -> str:
        """The entry without its label, as plain text."""
        return html_to_text(self.body_html)

    @property
    def body_markdown(self) -> str:
        """The entry without its label, as inline markdown (italics as `*...*`)."""
        return html_to_markdown(self.body_html)

    @property
    def text(self) -> str:
        """The whole entry as citeproc-js prints it in plain text ("1. Douglas SR, ...")."""
        return f"{self.label} {self.body_text}" if self.label else self.body_text

    @property
    def html(self) -> str:
        """The whole entry as an HTML fragment (text escaped)."""
        return f"{html.escape(self.label)} {self.body_html}" if self.label else self.body_html

    @property
    def ordinal_label(self) -> bool:
        """True when the label is the plain list number ("3."), so a numbered list can show it."""
        return self.number is not None and self.label == f"{self.number}."


@dataclass(frozen=True)
class _Style:
    """A parsed style plus the facts the workaround rules need."""

    style: Any
    numbered: bool
    range_delimiter: str
    strip_suffix_periods: bool
    et_al_min: int
    et_al_use_first: int
    page_range_format: str | None = None
    year_suffix: bool = False


# --- styles ---------------------------------------------------------------------------------


def resolve_style(style: str) -> Path:
    """The CSL file for a style name (ama, apa, vancouver) or a path to a `.csl` file."""
    if style in STYLES:
        return STYLES_DIR / STYLES[style]
    path = Path(style).expanduser()
    if style.lower().endswith(".csl") or path.parent != Path("."):
        if not path.is_file():
            raise RefdbError(f"{style}: no such CSL style file")
        return path.resolve()
    names = ", ".join(STYLES)
    raise RefdbError(f"unknown style {style!r} (use {names}, or a path to a .csl file)")


@functools.lru_cache(maxsize=16)
def _load_style(path: Path) -> _Style:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            style = CitationStylesStyle(str(path), validate=False)
    except (SyntaxError, OSError, ValueError) as exc:  # lxml errors are SyntaxErrors
        raise RefdbError(f"{path}: not a readable CSL style ({exc})") from None
    root = style.root
    bibliography = root.find("cs:bibliography", _NS)
    if bibliography is None:
        raise RefdbError(f"{path}: the CSL style has no bibliography")
    apply_locale_date_delimiters(root)
    align_second_field(bibliography)
    # Terms need a formatter to render; plain text is what the rules compare with.
    CitationStylesBibliography(style, CiteProcJSON([]), formatter.plain)
    term = root.get_term("page-range-delimiter")
    range_delimiter = str(term.single) if term is not None else "\u2013"
    initialize_with = bibliography.get("initialize-with", root.get("initialize-with"))
    return _Style(
        style=style,
        numbered=bool(
            bibliography.xpath(".//cs:text[@variable='citation-number']", namespaces=_NS)
        ),
        range_delimiter=range_delimiter,
        strip_suffix_periods=initialize_with is not None and "." not in initialize_with,
        et_al_min=int(bibliography.get("et-al-min", root.get("et-al-min", "0"))),
        et_al_use_first=int(bibliography.get("et-al-use-first", root.get("et-al-use-first", "1"))),
        page_range_format=root.get("page-range-format"),
        year_suffix=bool(
            root.xpath("cs:citation[@disambiguate-add-year-suffix='true']", namespaces=_NS)
            and root.xpath(".//cs:text[@variable='year-suffix']", namespaces=_NS)
        ),
    )


def apply_locale_date_delimiters(root: Any) -> None:
    """Give each localized date call the `delimiter` of the locale's date format.

    citeproc-py gap: for ``<date form="text" variable="issued"/>`` it joins the locale's date
    parts with the delimiter of the calling element (none) instead of the locale date's own, so
    NLM's ``<date delimiter=" " form="text">`` prints "2015Jan" where citeproc-js prints
    "2015 Jan". CSL does not let the calling element set a delimiter, so copying the locale's one
    onto it changes nothing else.
    """
    for date in root.iter(f"{{{_CSL_NS}}}date"):
        form = date.get("form")
        if form is None or date.get("delimiter") is not None or date.is_locale_date():
            continue
        localized = root.get_date(form)
        if localized is not None and localized.get("delimiter") is not None:
            date.set("delimiter", localized.get("delimiter"))


def align_second_field(bibliography: Any) -> None:
    """Mark the first field of a ``second-field-align`` bibliography so it can be split off.

    citeproc-py gap: it ignores ``second-field-align`` and prints the first field (the entry
    number) glued to the rest ("1.Douglas"). citeproc-js prints the two as separate blocks, a
    space apart in plain text ("1. Douglas"). The mark lets `Entry` keep the field as its label.
    """
    if not bibliography.get("second-field-align"):
        return
    layout = bibliography.find("cs:layout", _NS)
    first = layout[0] if layout is not None and len(layout) else None
    if first is not None:
        first.set("suffix", first.get("suffix", "") + _FIELD_MARK)


# --- item preparation (the per-field rules) -------------------------------------------------


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


_CLOSING_TAGS = r"((?:</[a-z]+>)*)"


def merge_punctuation(body: str, punctuation_in_quote: bool = True) -> str:
    """Merge a field's own final punctuation with the delimiter the style adds after it.

    citeproc-py gap: it concatenates them ("Should I stop?. Harv Health Lett", "legacy”.").
    citeproc-js keeps "?" or "!" and drops the period after it, never doubles a period (an
    ellipsis stays), and, where the locale puts punctuation inside quotes (en-US), moves a
    period or comma that follows a closing quote inside it ("legacy.”"). Works on the HTML
    body, so closing tags between the two marks are kept in place.
    """
    body = re.sub(r"([?!])" + _CLOSING_TAGS + r"\.(?!\.)", r"\1\2", body)
    body = re.sub(r"(?<!\.)\." + _CLOSING_TAGS + r"\.(?!\.)", r".\1", body)
    if punctuation_in_quote:
        body = re.sub("\u201d" + _CLOSING_TAGS + r"([.,])", "\\2\u201d\\1", body)
    return body


_SUBSTITUTED: ContextVar[list[tuple[str, str]] | None] = ContextVar(
    "refdb_substituted", default=None
)


def suppress_substituted_variables() -> None:
    """Make citeproc-py suppress what a ``<substitute>`` printed through a macro.

    citeproc-py gap: the CSL spec says substituted variables are suppressed in the rest of the
    output; citeproc-py does so for ``<text variable>`` and ``<names>`` but not for
    ``<text macro>``, so AMA prints an authorless study's title twice ("Bibliography of
    toxinology. Bibliography of toxinology. Toxicon."). While a substitute renders, every
    variable that prints is noted; once it has printed, those join citeproc-py's own list of
    suppressed variables for the rest of the entry. Applied once, at import.
    """
    if getattr(Substitute.render, "_refdb_patched", False):
        return
    original_render = Substitute.render
    original_variable = Text._variable

    def render(self: Any, item: Any, context: Any = None, **kwargs: Any) -> Any:
        printed: list[tuple[str, str]] = []
        token = _SUBSTITUTED.set(printed)
        try:
            text = original_render(self, item, context=context, **kwargs)
        finally:
            _SUBSTITUTED.reset(token)
        if text and context is not None:
            repressed = context.get_layout().repressed
            for tag, variable in printed:
                repressed.setdefault(tag, []).append(variable)
        return text

    def variable(self: Any, item: Any, context: Any) -> Any:
        value = original_variable(self, item, context)
        printed = _SUBSTITUTED.get()
        if printed is not None and value not in (None, ""):
            printed.append((self.tag, self.get("variable")))
        return value

    render._refdb_patched = True  # type: ignore[attr-defined]
    Substitute.render = render
    Text._variable = variable


suppress_substituted_variables()

# citeproc-js's words that title case leaves in lower case (CSL.SKIP_WORDS, 2.4.63): the CSL
# spec's stop words plus more prepositions and name particles.
_SKIP_WORDS = frozenset(
    [
        "about",
        "above",
        "across",
        "afore",
        "after",
        "against",
        "along",
        "alongside",
        "amid",
        "amidst",
        "among",
        "amongst",
        "anenst",
        "apropos",
        "apud",
        "around",
        "as",
        "aside",
        "astride",
        "at",
        "athwart",
        "atop",
        "barring",
        "before",
        "behind",
        "below",
        "beneath",
        "beside",
        "besides",
        "between",
        "beyond",
        "but",
        "by",
        "circa",
        "despite",
        "down",
        "during",
        "except",
        "for",
        "forenenst",
        "from",
        "given",
        "in",
        "inside",
        "into",
        "lest",
        "like",
        "modulo",
        "near",
        "next",
        "notwithstanding",
        "of",
        "off",
        "on",
        "onto",
        "out",
        "over",
        "per",
        "plus",
        "pro",
        "qua",
        "sans",
        "since",
        "than",
        "through",
        "thru",
        "throughout",
        "thruout",
        "till",
        "to",
        "toward",
        "towards",
        "under",
        "underneath",
        "until",
        "unto",
        "up",
        "upon",
        "versus",
        "vs.",
        "v.",
        "vs",
        "v",
        "via",
        "vis-à-vis",
        "with",
        "within",
        "without",
        "or",
        "yet",
        "so",
        "and",
        "nor",
        "a",
        "an",
        "the",
        "de",
        "d'",
        "von",
        "van",
        "c",
        "et",
        "ca",
    ]
)


class _SkipWords:
    """Membership as citeproc-js decides it: a skip word, or an elided one ("d'anesthesie")."""

    def __contains__(self, word: object) -> bool:
        text = str(word).replace("\u2019", "'")
        return text in _SKIP_WORDS or bool(re.match(r"^[dl]'\w", text))


def title_case_skip_words() -> None:
    """Give citeproc-py's title case citeproc-js's longer list of words left in lower case.

    citeproc-py gap: its list is the CSL spec's 26 stop words, so APA prints "Journal
    International De Bioethique" and "Journal Canadien D'anesthesie" where citeproc-js keeps
    "de" and "d'anesthesie" in lower case. Applied once, at import.
    """
    TextCased._stop_words = _SkipWords()


title_case_skip_words()


def title_case_labels() -> None:
    """Title-case a label (a term of the style's English locale) when the style asks.

    citeproc-py gap: `cs:label` calls its text case without a language, and title case is
    only applied to English, so APA's `<label form="short" text-case="title"/>` prints
    "(eds.)" where citeproc-js prints "(Eds.)". A term is in the locale's language. Applied
    once.
    """
    if getattr(Label.markup, "_refdb_patched", False):
        return

    def markup(self: Any, text: Any) -> Any:
        if not text:
            return None
        return self.wrap(self.format(self.case(self.strip_periods(text), language="en")))

    markup._refdb_patched = True  # type: ignore[attr-defined]
    Label.markup = markup


title_case_labels()


def initialize_given_names() -> None:
    """Initials as citeproc-js makes them when a given name holds a lower-case word.

    citeproc-py gap: it appends the initial's mark even after a lower-case particle, so APA
    prints "Gogh, V. van ." for "Vincent van" and "Zhang, J.-. chun ." for "Ji-chun", where
    citeproc-js prints "Gogh, V. van" and "Zhang, J." (a lower-case part after a hyphen is
    dropped). Names without lower-case words initialise exactly as before. Applied once.
    """
    if getattr(Name.initialize, "_refdb_patched", False):
        return

    def initialize(self: Any, given: str, mark: str, context: Any) -> str:
        if self.get_option("initialize-with-hyphen", context):
            hyphen_parts = given.split("-")
            hyphen_parts = hyphen_parts[:1] + [p for p in hyphen_parts[1:] if p[:1].isupper()]
        else:
            hyphen_parts = [given.replace("-", " ")]
        result_parts = []
        for hyphen_part in hyphen_parts:
            words: list[str] = []
            group: list[str] = []
            for part in hyphen_part.replace(".", " ").split():
                if part[0].isupper():
                    group.append(part[0])
                    continue
                if group:  # a particle, not initialised
                    words.append(mark.join(group) + mark)
                    group = []
                words.append(part)
            if group:
                words.append(mark.join(group) + mark)
            result_parts.append(" ".join(" ".join(words).split()))
        return "-".join(result_parts)

    initialize._refdb_patched = True  # type: ignore[attr-defined]
    Name.initialize = initialize


initialize_given_names()


def collate_sort_keys() -> None:
    """Sort with accents folded, as citeproc-js's locale collation does ("Götze" before "Grant").

    citeproc-py gap: it compares code points, so "Götze" sorts after "Gunnars" and
    "Järveläinen" after "Jendryczko" in APA. Applied once, at import.
    """
    if getattr(Key.sort_keys, "_refdb_patched", False):
        return
    original = Key.sort_keys

    def sort_keys(self: Any, items: Any, context: Any) -> list[Any]:
        return [_collation_key(key) for key in original(self, items, context)]

    sort_keys._refdb_patched = True  # type: ignore[attr-defined]
    Key.sort_keys = sort_keys


def _collation_key(key: Any) -> Any:
    if not isinstance(key, str):
        return key
    decomposed = unicodedata.normalize("NFKD", key)
    return type(key)("".join(c for c in decomposed if not unicodedata.combining(c)))


collate_sort_keys()


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


def protect_inline_markup(text: str) -> str:
    """Balanced safe tags (<i>, <b>, <sup>, <sub>, <u>) to placeholders; other markup stays text.

    citeproc-py's HTML formatter escapes all field text, so PubMed's inline markup would show as
    "&lt;i&gt;"; the placeholders survive escaping and `_restore_markup` turns them back.
    """
    previous = None
    while previous != text:
        previous = text
        text = _SAFE_PAIR.sub(
            lambda m: _OPEN_MARK[m.group(1).lower()] + m.group(2) + _CLOSE_MARK[m.group(1).lower()],
            text,
        )
    return text


_NOCASE = re.compile(r'(<span class="nocase">.*?</span>)', re.IGNORECASE | re.DOTALL)


def escape_field(text: str) -> str:
    """Field text HTML-escaped, except the placeholders and CSL's ``nocase`` spans.

    citeproc-py's HTML formatter escapes only its own affixes and terms, not field values, so a
    title with "<script>" or "&" would pass into the HTML raw. Escaping before rendering keeps
    every field inert; plain text and markdown are read back from this HTML.
    """
    parts = _NOCASE.split(text)
    for n in range(0, len(parts), 2):
        parts[n] = html.escape(parts[n], quote=False)
    for n in range(1, len(parts), 2):
        inner = parts[n][len('<span class="nocase">') : -len("</span>")]
        parts[n] = f'<span class="nocase">{html.escape(inner, quote=False)}</span>'
    return "".join(parts)


# Page text travels through citeproc-py with its hyphens and dashes as private-use marks, so
# that citeproc-py's own range handling (which mangles "1-191" into "1-91") leaves it alone.
_PAGE_MARK = str.maketrans({"-": "\ue0f0", "\u2013": "\ue0f1"})
# citeproc-py's title case splits words on any white space and rejoins them with a space, so
# the narrow no-break space travels as a mark too.
_NARROW_MARK = "\ue0f2"
_UNMARK = str.maketrans({"\ue0f0": "-", "\ue0f1": "\u2013", _NARROW_MARK: "\u202f"})
_PAGE_RANGE_PART = re.compile(r"^([A-Za-z]*)(\d+)\s*[-\u2013]\s*([A-Za-z]*)(\d+)$")


def narrow_spaces(text: str) -> str:
    """A space before ``: ; ! ?`` or ``»`` (and after ``«``) as a narrow no-break space (marked).

    citeproc-py gap: it keeps the typed space. citeproc-js turns it into U+202F in every text
    field, so PubMed's journal titles ("Toxicon : official journal ...") print with U+202F
    before the colon, and a line never breaks there.
    """
    text = re.sub(r"[ \t]+([:;!?\u00bb])", _NARROW_MARK + r"\1", text)
    return re.sub(r"\u00ab[ \t]+", "\u00ab" + _NARROW_MARK, text)


def _clean_text(text: str) -> str:
    return escape_field(protect_inline_markup(narrow_spaces(typographic_quotes(text))))


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
    return "".join(parts).translate(_PAGE_MARK)


def _prepare_item(ref: Reference, item_id: str, style: _Style) -> dict[str, Any]:
    item = to_csl(ref, with_custom=False)
    item["id"] = item_id
    for name, value in list(item.items()):
        if not isinstance(value, str) or name in ("id", "type", "language"):
            continue
        if name == "page":
            item[name] = format_page_ranges(
                html.escape(value, quote=False), style.page_range_format, style.range_delimiter
            )
        elif name in _IDENTIFIER_FIELDS:
            item[name] = html.escape(value, quote=False)
        elif name in _RANGE_FIELDS:
            item[name] = escape_field(number_range_delimiter(value, style.range_delimiter))
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
                if style.strip_suffix_periods:
                    suffix = suffix_without_periods(suffix)
                person["suffix"] = escape_field(suffix)
    if not ref.authors_complete and item.get("author"):
        item["author"].append({"literal": "et al."})
    return item


@contextmanager
def incomplete_authors(style: _Style, known: int) -> Iterator[None]:
    """Render the next entry with its author list truncated to `known` names plus "et al.".

    The entry carries one placeholder author after the `known` ones; the style's own et-al
    machinery then prints its "et al." term with its own delimiter, so AMA and NLM give
    "Newport DJ, Carpenter LL, McDonald WM, et al." and APA gives "Newport, D. J., Carpenter,
    L. L., McDonald, W. M., et al." (no "&": the list is open-ended, so there is no last name).
    When the style would truncate the list anyway, its own limits stay; APA's "… last author"
    form is turned off, since the last author is unknown.
    """
    bibliography = style.style.root.find("cs:bibliography", _NS)
    names = ("et-al-min", "et-al-use-first", "et-al-use-last")
    saved = {name: bibliography.get(name) for name in names}
    if style.et_al_min and known + 1 >= style.et_al_min:
        minimum, use_first = style.et_al_min, style.et_al_use_first
    else:
        minimum, use_first = known + 1, known
    bibliography.set("et-al-min", str(minimum))
    bibliography.set("et-al-use-first", str(use_first))
    bibliography.set("et-al-use-last", "false")
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                del bibliography.attrib[name]
            else:
                bibliography.set(name, value)


# --- rendering ------------------------------------------------------------------------------


def format_entries(refs: Sequence[Reference], style: str) -> list[Entry]:
    """Render references in the style's own order (APA sorted by author; AMA, NLM as given)."""
    parsed = _load_style(resolve_style(style))
    ids = [f"item-{n}" for n in range(len(refs))]
    by_id = dict(zip(ids, refs, strict=True))
    items = [_prepare_item(ref, item_id, parsed) for item_id, ref in by_id.items()]
    entries: list[Entry] = []
    with _RENDER_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bibliography = CitationStylesBibliography(parsed.style, CiteProcJSON(items), formatter.html)
        for item_id in ids:
            bibliography.register(Citation([CitationItem(item_id)]))
        bibliography.sort()
        if parsed.year_suffix:
            add_year_suffixes(bibliography.items, by_id)
        for position, item in enumerate(bibliography.items, start=1):
            ref = by_id[item.key]
            if ref.authors_complete or not ref.authors:
                rendered = parsed.style.render_bibliography([item])
            else:
                with incomplete_authors(parsed, len(ref.authors)):
                    rendered = parsed.style.render_bibliography([item])
            label, _, body = str(rendered[0]).rpartition(_FIELD_MARK)
            entries.append(
                Entry(
                    reference=ref,
                    number=position if parsed.numbered else None,
                    label=html_to_text(label).strip(),
                    body_html=merge_punctuation(_restore_markup(body.strip())),
                )
            )
    return entries


def add_year_suffixes(items: Sequence[Any], by_id: dict[str, Reference]) -> None:
    """Letters after the year for works of the same authors and year: "2001a", "2001b".

    citeproc-py gap: it never disambiguates, so APA prints two "Comeglio, P., ... (2001)." where
    citeproc-js prints "(2001a)" and "(2001b)" in bibliography order. Here a style that asks
    for year suffixes gets them for entries whose authors (family names and initials) and year
    are the same.
    """
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for item in items:
        ref = by_id[item.key]
        if not ref.authors or ref.year is None:
            continue
        names = tuple(
            (a.family, a.initials or initials_of(a.given or ""), a.literal) for a in ref.authors
        )
        groups.setdefault((names, ref.authors_complete, ref.year), []).append(item)
    for group in groups.values():
        if len(group) > 1:
            for letter, item in zip(string.ascii_lowercase, group, strict=False):
                item.reference["year_suffix"] = letter


def format_bibliography(refs: Sequence[Reference], style: str, fmt: str = "text") -> str:
    """The references as a bibliography: one line per entry (text), a list (markdown, html)."""
    entries = format_entries(refs, style)
    if fmt == "text":
        return "".join(f"{entry.text}\n" for entry in entries)
    if fmt == "markdown":
        return "".join(f"{markdown_item(entry)}\n" for entry in entries)
    if fmt == "html":
        items = [entry.body_html if entry.ordinal_label else entry.html for entry in entries]
        return html_list(entries, items)
    raise RefdbError(f"unknown format {fmt!r} (use text, markdown or html)")


def markdown_item(entry: Entry, extra: str = "") -> str:
    """One entry as a markdown list item: numbered for numbered styles, a bullet otherwise."""
    if entry.ordinal_label:
        return f"{entry.number}. {entry.body_markdown}{extra}"
    label = f"{markdown_escape(entry.label)} " if entry.label else ""
    return f"- {label}{entry.body_markdown}{extra}"


def html_list(entries: Sequence[Entry], items: Sequence[str]) -> str:
    """An `<ol>` (numbered styles) or `<ul>` of already-escaped list item contents."""
    tag = "ol" if entries and all(entry.ordinal_label for entry in entries) else "ul"
    lines = [f'<{tag} class="csl-bib-body">']
    lines += [f"  <li>{item}</li>" for item in items]
    lines.append(f"</{tag}>")
    return "\n".join(lines) + "\n"


# --- output conversions ---------------------------------------------------------------------


def _restore_markup(fragment: str) -> str:
    for mark, tag in _MARK_TO_TAG.items():
        fragment = fragment.replace(mark, tag)
    return fragment.translate(_UNMARK)


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>&~|#])")


def markdown_escape(text: str) -> str:
    """Backslash-escape characters that markdown would read as markup."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


class _Converter(HTMLParser):
    """Walks an entry's HTML fragment (citeproc-py's tags and the safe inline tags)."""

    _MARKDOWN: ClassVar[dict[str, str]] = {"i": "*", "em": "*", "b": "**", "strong": "**"}
    _INLINE_HTML = ("sup", "sub", "u")

    def __init__(self, markdown: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.markdown = markdown
        self.out: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, closing=False)

    def handle_endtag(self, tag: str) -> None:
        self._tag(tag, closing=True)

    def _tag(self, tag: str, *, closing: bool) -> None:
        if not self.markdown:
            return
        if tag in self._MARKDOWN:
            self.out.append(self._MARKDOWN[tag])
        elif tag in self._INLINE_HTML:
            self.out.append(f"</{tag}>" if closing else f"<{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(markdown_escape(data) if self.markdown else data)


def html_to_text(fragment: str) -> str:
    """An entry's HTML fragment as plain text: tags dropped, entities decoded."""
    converter = _Converter(markdown=False)
    converter.feed(fragment)
    converter.close()
    return "".join(converter.out)


def html_to_markdown(fragment: str) -> str:
    """An entry's HTML fragment as inline markdown, all text escaped."""
    converter = _Converter(markdown=True)
    converter.feed(fragment)
    converter.close()
    return "".join(converter.out)
