"""citeproc-py fixes, in place only while refdb renders.

citeproc-py 0.11.1 differs from citeproc-js (the processor inside Zotero and Mendeley) in a few
places that no CSL item or style can reach; each fix below replaces one method or attribute of
a citeproc-py class:

- `suppress_substituted_variables`: citeproc-py prints a variable twice when a ``<substitute>``
  renders it through a macro (a study with no authors: its title in the author's place, then
  again as the title).
- `title_case_skip_words`: citeproc-js's title case leaves more words in lower case ("de").
- `title_case_labels`: citeproc-py never title-cases a label ("(eds.)" for APA's "(Eds.)").
- `initialize_given_names`: citeproc-py prints "V. van ." for "Vincent van" in APA.
- `collate_sort_keys`: citeproc-py sorts by code point ("Götze" after "Gunnars").

Importing refdb changes nothing in citeproc-py. `installed()` puts the fixes in place for one
rendering (`citations.format_entries` opens it under its render lock) and puts citeproc-py's
own methods back when the rendering ends, so a program that uses citeproc-py itself, before or
after refdb rendered, sees citeproc-py as it ships. While a rendering runs the classes are
changed for the whole process: another thread rendering with citeproc-py at that very moment
would get the fixes too.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from citeproc.model import Key, Label, Name, Substitute, Text, TextCased

from refdb.render.citeproc_speed import memoized_lookups


@dataclass(frozen=True)
class Patch:
    """One replacement: `owner.name` is `value` while the fixes are installed."""

    owner: type
    name: str
    value: Any


_SUBSTITUTED: ContextVar[list[tuple[str, str]] | None] = ContextVar(
    "refdb_substituted", default=None
)


def suppress_substituted_variables() -> list[Patch]:
    """Make citeproc-py suppress what a ``<substitute>`` printed through a macro.

    citeproc-py gap: the CSL spec says substituted variables are suppressed in the rest of the
    output; citeproc-py does so for ``<text variable>`` and ``<names>`` but not for
    ``<text macro>``, so AMA prints an authorless study's title twice ("Bibliography of
    toxinology. Bibliography of toxinology. Toxicon."). While a substitute renders, every
    variable that prints is noted; once it has printed, those join citeproc-py's own list of
    suppressed variables for the rest of the entry.
    """
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

    return [Patch(Substitute, "render", render), Patch(Text, "_variable", variable)]


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


def title_case_skip_words() -> list[Patch]:
    """Give citeproc-py's title case citeproc-js's longer list of words left in lower case.

    citeproc-py gap: its list is the CSL spec's 26 stop words, so APA prints "Journal
    International De Bioethique" and "Journal Canadien D'anesthesie" where citeproc-js keeps
    "de" and "d'anesthesie" in lower case.
    """
    return [Patch(TextCased, "_stop_words", _SkipWords())]


def title_case_labels() -> list[Patch]:
    """Title-case a label (a term of the style's English locale) when the style asks.

    citeproc-py gap: `cs:label` calls its text case without a language, and title case is
    only applied to English, so APA's `<label form="short" text-case="title"/>` prints
    "(eds.)" where citeproc-js prints "(Eds.)". A term is in the locale's language.
    """

    def markup(self: Any, text: Any) -> Any:
        if not text:
            return None
        return self.wrap(self.format(self.case(self.strip_periods(text), language="en")))

    return [Patch(Label, "markup", markup)]


def initialize_given_names() -> list[Patch]:
    """Initials as citeproc-js makes them when a given name holds a lower-case word.

    citeproc-py gap: it appends the initial's mark even after a lower-case particle, so APA
    prints "Gogh, V. van ." for "Vincent van" and "Zhang, J.-. chun ." for "Ji-chun", where
    citeproc-js prints "Gogh, V. van" and "Zhang, J." (a lower-case part after a hyphen is
    dropped). Names without lower-case words initialise exactly as citeproc-py does.
    """

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

    return [Patch(Name, "initialize", initialize)]


def collate_sort_keys() -> list[Patch]:
    """Sort with accents folded, as citeproc-js's locale collation does ("Götze" before "Grant").

    citeproc-py gap: it compares code points, so "Götze" sorts after "Gunnars" and
    "Järveläinen" after "Jendryczko" in APA.
    """
    original = Key.sort_keys

    def sort_keys(self: Any, items: Any, context: Any) -> list[Any]:
        return [_collation_key(key) for key in original(self, items, context)]

    return [Patch(Key, "sort_keys", sort_keys)]


def _collation_key(key: Any) -> Any:
    if not isinstance(key, str):
        return key
    decomposed = unicodedata.normalize("NFKD", key)
    return type(key)("".join(c for c in decomposed if not unicodedata.combining(c)))


def remembered_lookups() -> list[Patch]:
    """Not a fix but speed: citeproc-py's lookups of the style, computed once per rendering
    (`citeproc_speed`; the text is the same)."""
    return [Patch(owner, name, value) for owner, name, value in memoized_lookups()]


FIXES: tuple[Callable[[], list[Patch]], ...] = (
    suppress_substituted_variables,
    title_case_skip_words,
    title_case_labels,
    initialize_given_names,
    collate_sort_keys,
    remembered_lookups,
)
"""Every fix, each giving the replacements it makes (built from citeproc-py's own methods)."""

_ABSENT = object()


class _Installation:
    """The fixes in place while at least one `installed()` block is open (counted)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open = 0
        self.saved: list[tuple[type, str, object]] = []

    def enter(self) -> None:
        with self.lock:
            if not self.open:
                patches = [patch for fix in FIXES for patch in fix()]
                # What the class itself holds (not what it inherits), to put back exactly.
                self.saved = [
                    (p.owner, p.name, vars(p.owner).get(p.name, _ABSENT)) for p in patches
                ]
                for patch in patches:
                    setattr(patch.owner, patch.name, patch.value)
            self.open += 1

    def leave(self) -> None:
        with self.lock:
            self.open -= 1
            if self.open:
                return
            for owner, name, value in reversed(self.saved):
                if value is _ABSENT:
                    delattr(owner, name)
                else:
                    setattr(owner, name, value)
            self.saved = []


_INSTALLATION = _Installation()


@contextmanager
def installed() -> Iterator[None]:
    """citeproc-py with refdb's fixes inside the block, exactly as it ships after it.

    Blocks may nest or overlap (in threads): the fixes stay until the last one closes.
    """
    _INSTALLATION.enter()
    try:
        yield
    finally:
        _INSTALLATION.leave()
