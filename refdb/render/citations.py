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

import html
import re
import string
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from citeproc import Citation, CitationItem, CitationStylesBibliography, formatter
from citeproc.model import Key
from citeproc.source.json import CiteProcJSON

from refdb.errors import RefdbError
from refdb.records import Reference, initials_of
from refdb.render import citeproc_fixes, citeproc_speed, forked
from refdb.render.citation_cache import CitationCache
from refdb.render.csl_fields import prepare_item
from refdb.render.csl_styles import FIELD_MARK, NS, ParsedStyle, load_style
from refdb.render.csl_styles import resolve_style as resolve_style
from refdb.render.markup import html_to_markdown, html_to_text, markdown_escape, restore_markup

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
    plain: tuple[str, str] | None = field(default=None, compare=False, repr=False)
    """`body_text` and `body_markdown`, when made beforehand (kept with the entry in a cache)."""

    @property
    def body_text(self) -> str:
        """The entry without its label, as plain text."""
        return self.plain[0] if self.plain else html_to_text(self.body_html)

    @property
    def body_markdown(self) -> str:
        """The entry without its label, as inline markdown (italics as `*...*`)."""
        return self.plain[1] if self.plain else html_to_markdown(self.body_html)

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
def incomplete_authors(style: ParsedStyle, known: int) -> Iterator[None]:
    """Render the next entry with its author list truncated to `known` names plus "et al.".

    The entry carries one placeholder author after the `known` ones; the style's own et-al
    machinery then prints its "et al." term with its own delimiter, so AMA and NLM give
    "Newport DJ, Carpenter LL, McDonald WM, et al." and APA gives "Newport, D. J., Carpenter,
    L. L., McDonald, W. M., et al." (no "&": the list is open-ended, so there is no last name).
    When the style would truncate the list anyway, its own limits stay; APA's "… last author"
    form is turned off, since the last author is unknown.
    """
    bibliography = style.style.root.find("cs:bibliography", NS)
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

SortKey = list[Any]
"""A study's values for the style's bibliography sort keys (str, int or None), in key order."""


@dataclass(frozen=True)
class Slot:
    """A study's place in one bibliography: its number there (from 1) and its year suffix."""

    ref: Reference
    number: int
    suffix: str = ""


@dataclass(frozen=True)
class StyleFacts:
    """What callers that keep renderings need to know of a style."""

    fingerprint: str
    """Changes when the style file or refdb's rendering code changes."""
    sorts: bool
    """The bibliography has its own order (APA: by author): `sort_keys` gives the keys."""
    numbered: bool
    year_suffix: bool
    number_free: bool
    """An entry's text does not depend on its number (the number is its label alone)."""


def style_facts(style: str) -> StyleFacts:
    """The facts of a style name or `.csl` path (RefdbError when there is no such style)."""
    parsed = load_style(resolve_style(style))
    return StyleFacts(
        parsed.fingerprint,
        parsed.sort is not None,
        parsed.numbered,
        parsed.year_suffix,
        parsed.number_free,
    )


def _bibliography(parsed: ParsedStyle, items: list[dict[str, Any]]) -> Any:
    """A citeproc-py bibliography of these CSL items (distinct ids), registered in the order
    given: as `register` does, without its `key not in keys` test on a list, which costs n² / 2
    comparisons for n items."""
    bibliography = CitationStylesBibliography(parsed.style, CiteProcJSON(items), formatter.html)
    for item in items:
        cite = CitationItem(item["id"])
        Citation([cite]).bibliography = bibliography
        bibliography.keys.append(cite.key)
        bibliography.items.append(cite)
    return bibliography


def sort_keys(
    refs: Sequence[Reference], style: str, cache: CitationCache | None = None
) -> list[SortKey] | None:
    """Each study's values for the style's bibliography sort (None when the style has none):
    what citeproc-py sorts by, with refdb's collation, as JSON values. A key on the citation
    number is the study's place in `refs`."""
    parsed = load_style(resolve_style(style))
    if parsed.sort is None:
        return None
    if cache is not None and cache.fingerprint != parsed.fingerprint:
        cache = None  # another style's
    by_number = bool(parsed.sort.xpath("cs:key[@variable='citation-number']", namespaces=NS))
    found: list[SortKey | None] = [None] * len(refs)
    names = (
        [] if by_number or cache is None else [cache.sort_name(ref, parsed.unused) for ref in refs]
    )
    missing = []
    for n in range(len(refs)):
        hit = cache.get(names[n]) if cache is not None and names else None
        if hit is None:
            missing.append(n)
        else:
            found[n] = list(hit)
    if missing:
        items = [prepare_item(refs[n], f"item-{n}", parsed.fields, parsed.unused) for n in missing]
        with _RENDER_LOCK, citeproc_fixes.installed(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bibliography = _bibliography(parsed, items)
            layout = parsed.sort.getparent().find("cs:layout", NS)
            numbers = {f"item-{n}": n + 1 for n in missing}
            with citeproc_speed.numbered_as(numbers):
                columns = [
                    key.sort_keys(bibliography.items, layout)
                    for key in parsed.sort.findall("cs:key", NS)
                ]
        for row, n in enumerate(missing):
            found[n] = [_json_key(column[row]) for column in columns]
            if cache is not None and names:
                cache.put(names[n], found[n])
    return [key for key in found if key is not None]


def _json_key(value: Any) -> Any:
    """A sort value as JSON holds it: citeproc-py compares a string's text (`str(x.lower())`)."""
    return value if value is None or isinstance(value, int) else str(value)


class _Keyed:
    """A stand-in for a CitationItem while sorting by keys already known."""

    def __init__(self, key: str) -> None:
        self.key = key


def bibliography_order(keys: Sequence[SortKey], style: str) -> list[int]:
    """The places (indices into `keys`) in the style's bibliography order: citeproc-py's own
    sort, on keys that `sort_keys` gave (a sort is stable: equal keys keep their places)."""
    parsed = load_style(resolve_style(style))
    sort = parsed.sort
    if sort is None or not keys:
        return list(range(len(keys)))
    stand_ins = [_Keyed(str(n)) for n in range(len(keys))]
    key_elements = list(sort.findall("cs:key", NS))

    def given(self: Any, items: Any, context: Any) -> list[Any]:
        column = key_elements.index(self)
        return [keys[int(item.key)][column] for item in items]

    with _RENDER_LOCK:
        # Sort.sort asks each cs:key for its values; here they are the ones given. Under the
        # render lock, as every rendering, and put back at once.
        own = Key.__dict__["sort_keys"]
        Key.sort_keys = given
        try:
            ordered = sort.sort(stand_ins, None)
        finally:
            Key.sort_keys = own
    return [int(item.key) for item in ordered]


def suffix_identity(ref: Reference) -> list[Any] | None:
    """What two entries share when they get year suffixes ("2001a", "2001b"): the authors'
    family names, initials and literal names, whether the list is complete, and the year; None
    for a study without authors or year."""
    if not ref.authors or ref.year is None:
        return None
    names = [[a.family, a.initials or initials_of(a.given or ""), a.literal] for a in ref.authors]
    return [names, ref.authors_complete, ref.year]


def year_suffixes(identities: Sequence[list[Any] | None]) -> list[str]:
    """The year suffix of each entry, in bibliography order ("" for most).

    citeproc-py gap: it never disambiguates, so APA prints two "Comeglio, P., ... (2001)." where
    citeproc-js prints "(2001a)" and "(2001b)" in bibliography order. Here a style that asks
    for year suffixes gets them for entries whose `suffix_identity` is the same.
    """
    groups: dict[str, list[int]] = {}
    for n, identity in enumerate(identities):
        if identity is not None:
            groups.setdefault(repr(identity), []).append(n)
    letters = [""] * len(identities)
    for group in groups.values():
        if len(group) > 1:
            for letter, n in zip(string.ascii_lowercase, group, strict=False):
                letters[n] = letter
    return letters


def render_slots(
    slots: Sequence[Slot],
    style: str,
    cache: CitationCache | None = None,
    *,
    plain: bool = False,
) -> list[Entry]:
    """The entries of these studies at these places, in the order given: from the cache where
    it holds them, the others rendered by citeproc-py (and kept in the cache). With `plain`,
    each entry's text and markdown are made too (and kept with it)."""
    parsed = load_style(resolve_style(style))
    if cache is not None and cache.fingerprint != parsed.fingerprint:
        cache = None  # another style's
    entries: list[Entry | None] = [None] * len(slots)
    names: list[str] = []
    missing: list[int] = []
    for n, slot in enumerate(slots):
        if cache is not None:
            number = None if parsed.number_free else slot.number
            names.append(cache.entry_name(slot.ref, slot.suffix, number, parsed.unused))
            hit = cache.get(names[n])
            if hit is not None:
                if plain and len(hit) < 4:  # kept before its text was asked for
                    hit = [*hit[:2], *_plain(str(hit[1]))]
                    cache.put(names[n], hit)
                entries[n] = _from_cache(slot, hit, parsed.numbered)
                continue
        missing.append(n)
    if missing:
        made = _render(parsed, [slots[n] for n in missing], plain)
        for n, entry in zip(missing, made, strict=True):
            entries[n] = entry
            if cache is not None:
                cache.put(names[n], _to_cache(entry, parsed.number_free))
    return [entry for entry in entries if entry is not None]


def _plain(body: str) -> tuple[str, str]:
    return html_to_text(body), html_to_markdown(body)


def _render(parsed: ParsedStyle, slots: Sequence[Slot], plain: bool) -> list[Entry]:
    """citeproc-py's rendering of each slot (a long list on two cores, `forked.in_two`)."""

    def render(chunk: Sequence[tuple[int, Slot]]) -> list[tuple[str, str, tuple[str, str] | None]]:
        items = [
            prepare_item(slot.ref, f"item-{n}", parsed.fields, parsed.unused) for n, slot in chunk
        ]
        bibliography = _bibliography(parsed, items)
        done = []
        with citeproc_speed.numbered_as({f"item-{n}": slot.number for n, slot in chunk}):
            for item, (_, slot) in zip(bibliography.items, chunk, strict=True):
                label, body = _render_one(parsed, item, slot)
                done.append((label, body, _plain(body) if plain else None))
        return done

    with _RENDER_LOCK, citeproc_fixes.installed(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rendered = forked.in_two(list(enumerate(slots)), render)
    return [
        Entry(
            reference=slot.ref,
            number=slot.number if parsed.numbered else None,
            label=label,
            body_html=body,
            plain=converted,
        )
        for slot, (label, body, converted) in zip(slots, rendered, strict=True)
    ]


def _render_one(parsed: ParsedStyle, item: Any, slot: Slot) -> tuple[str, str]:
    """One item's label and body (HTML), with refdb's rules."""
    if slot.suffix:
        item.reference["year_suffix"] = slot.suffix
    ref = slot.ref
    if ref.authors_complete or not ref.authors:
        rendered = parsed.style.render_bibliography([item])
    else:
        with incomplete_authors(parsed, len(ref.authors)):
            rendered = parsed.style.render_bibliography([item])
    label, _, body = str(rendered[0]).rpartition(FIELD_MARK)
    return html_to_text(label).strip(), merge_punctuation(restore_markup(body.strip()))


_NUMBER = "\ue000"
"""Where the number goes in a cached label of a style whose number is its label alone."""


def _to_cache(entry: Entry, number_free: bool) -> list[str]:
    label = entry.label
    if number_free and entry.number is not None:
        label = label.replace(str(entry.number), _NUMBER)
    return [label, entry.body_html, *(entry.plain or ())]


def _from_cache(slot: Slot, cached: Sequence[Any], numbered: bool) -> Entry:
    label, body = str(cached[0]), str(cached[1])
    return Entry(
        reference=slot.ref,
        number=slot.number if numbered else None,
        label=label.replace(_NUMBER, str(slot.number)),
        body_html=body,
        plain=(str(cached[2]), str(cached[3])) if len(cached) >= 4 else None,
    )


def format_entries(
    refs: Sequence[Reference],
    style: str,
    cache: CitationCache | None = None,
    *,
    plain: bool = False,
) -> list[Entry]:
    """Render references in the style's own order (APA sorted by author; AMA, NLM as given),
    numbered from 1, with year suffixes where the style asks for them. With a `cache`, the
    entries it holds are taken from it and the others kept in it; with `plain`, each entry's
    text and markdown are made with it (for a page or an export that prints them)."""
    facts = style_facts(style)
    keys = sort_keys(refs, style, cache)
    order = list(range(len(refs))) if keys is None else bibliography_order(keys, style)
    ordered = [refs[n] for n in order]
    if facts.year_suffix:
        suffixes = year_suffixes([suffix_identity(ref) for ref in ordered])
    else:
        suffixes = [""] * len(ordered)
    slots = [
        Slot(ref, number, suffix)
        for number, (ref, suffix) in enumerate(zip(ordered, suffixes, strict=True), start=1)
    ]
    return render_slots(slots, style, cache, plain=plain)


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
