"""Formatted bibliographies through citeproc-py and the official CSL styles.

citeproc-py 0.11.1 renders the shipped AMA, APA and NLM (Vancouver) styles close to, but not
exactly like, citeproc-js (the processor inside Zotero and Mendeley, which users compare against).
Each gap is closed by one small named rule, never by editing the rendered text of one study:

- on the parsed style, once, when it is loaded (here): `align_second_field` (citeproc-py
  ignores ``second-field-align``; the entry number is split off and joined with a space,
  "1. Douglas") and `apply_locale_date_delimiters` (citeproc-py drops a localized date's
  ``delimiter``, "2015Jan");
- on a CSL item's fields before rendering (`csl_fields`): quotes, narrow spaces, issue and
  page ranges, name suffixes, and escaping for citeproc-py's HTML (`markup`);
- in citeproc-py's own classes, only while refdb renders (`citeproc_fixes.installed`):
  substituted variables, title case, labels, initials, sort collation;
- while rendering (here): `incomplete_authors` (a known-incomplete author list ends with the
  style's own "et al."), `add_year_suffixes` (citeproc-py never adds "2001a", "2001b" for the
  same authors and year) and `merge_punctuation` (citeproc-py joins a field's own final
  punctuation with the style's delimiter, "them?." and "legacy”.", where citeproc-js
  merges them, "them?" and "legacy.”").

`tests/test_citeproc_js.py` compares the three styles with citeproc-js itself (node) on NLM's
2019 PubMed sample, where node and the `citeproc` package are installed.
"""

from __future__ import annotations

import functools
import html
import re
import string
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON

from refdb.errors import RefdbError
from refdb.formats import STYLE_FILES
from refdb.records import Reference, initials_of
from refdb.render import citeproc_fixes
from refdb.render.csl_fields import FieldRules, prepare_item
from refdb.render.markup import html_to_markdown, html_to_text, markdown_escape, restore_markup

STYLES_DIR = Path(__file__).resolve().parent / "styles"
STYLES = STYLE_FILES
"""Style names refdb knows, and their CSL files in refdb/render/styles/."""

_CSL_NS = "http://purl.org/net/xbiblio/csl"
_NS = {"cs": _CSL_NS}
_FIELD_MARK = "\ue0ff"
"""Appended to the first field of second-field-align styles, to split it off after rendering."""

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
    fields: FieldRules
    et_al_min: int
    et_al_use_first: int
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
        fields=FieldRules(
            range_delimiter=range_delimiter,
            strip_suffix_periods=initialize_with is not None and "." not in initialize_with,
            page_range_format=root.get("page-range-format"),
        ),
        et_al_min=int(bibliography.get("et-al-min", root.get("et-al-min", "0"))),
        et_al_use_first=int(bibliography.get("et-al-use-first", root.get("et-al-use-first", "1"))),
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


# --- rules applied while rendering ----------------------------------------------------------


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
    items = [prepare_item(ref, item_id, parsed.fields) for item_id, ref in by_id.items()]
    entries: list[Entry] = []
    with _RENDER_LOCK, citeproc_fixes.installed(), warnings.catch_warnings():
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
                    body_html=merge_punctuation(restore_markup(body.strip())),
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
