"""Markup in and out of citeproc-py: fields escaped for its HTML, entries back as text,
markdown or safe HTML.

Safe inline markup in titles (``<i>``, ``<b>``, ``<sup>``, ``<sub>``, ``<u>``) travels through
citeproc-py as private-use characters, so that everything else in a field is escaped and the
tags come back only where they were balanced: markup in HTML and markdown, dropped in plain
text; any other markup is text, escaped in HTML. Page dashes and narrow spaces travel as marks
too (`csl_fields` sets them), and `restore_markup` turns every mark back.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import ClassVar

_SAFE_TAGS = ("i", "b", "sup", "sub", "u")
_OPEN_MARK = {tag: chr(0xE000 + 2 * n) for n, tag in enumerate(_SAFE_TAGS)}
_CLOSE_MARK = {tag: chr(0xE001 + 2 * n) for n, tag in enumerate(_SAFE_TAGS)}
_MARK_TO_TAG = {
    **{mark: f"<{tag}>" for tag, mark in _OPEN_MARK.items()},
    **{mark: f"</{tag}>" for tag, mark in _CLOSE_MARK.items()},
}
_SAFE_PAIR = re.compile(r"<(i|b|sup|sub|u)>(.*?)</\1>", re.IGNORECASE | re.DOTALL)

# Page text travels through citeproc-py with its hyphens and dashes as private-use marks, so
# that citeproc-py's own range handling (which mangles "1-191" into "1-91") leaves it alone.
PAGE_MARK = str.maketrans({"-": "\ue0f0", "\u2013": "\ue0f1"})
"""A translation table: a page field's hyphens and en dashes to their marks."""
# citeproc-py's title case splits words on any white space and rejoins them with a space, so
# the narrow no-break space travels as a mark too.
NARROW_MARK = "\ue0f2"
"""The mark for a narrow no-break space (U+202F)."""
UNMARK = str.maketrans({"\ue0f0": "-", "\ue0f1": "\u2013", NARROW_MARK: "\u202f"})
"""A translation table: the page and narrow-space marks back to their characters."""


def protect_inline_markup(text: str) -> str:
    """Balanced safe tags (<i>, <b>, <sup>, <sub>, <u>) to placeholders; other markup stays text.

    citeproc-py's HTML formatter escapes all field text, so PubMed's inline markup would show as
    "&lt;i&gt;"; the placeholders survive escaping and `restore_markup` turns them back.
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


def restore_markup(fragment: str) -> str:
    """The placeholders of `protect_inline_markup` back as tags, and every other mark undone."""
    for mark, tag in _MARK_TO_TAG.items():
        fragment = fragment.replace(mark, tag)
    return fragment.translate(UNMARK)


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
