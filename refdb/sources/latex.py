"""LaTeX markup in `.bib` values to plain Unicode: a table pass first, pylatexenc for the rest.

pylatexenc's decoder gets the few commands refdb's readers need beyond its defaults: what other
tools write in .bib files (`\\url`), and every form refdb's own `--ascii` writer uses
(`\\textbraceleft`, `\\textcommabelow{t}`, `\\symbol{"4E2D}`).

pylatexenc's parser is thorough and slow (a few milliseconds for a title with one `{\\"u}`),
while most markup in real files is accents, special letters (`{\\o}`, `{\\ss}`), escaped
symbols (`\\&`, `\\%`), dashes, ties and protective braces. `latex_to_unicode` decodes those
with one pass over the value, driven by tables taken once from pylatexenc's own context
databases (its parser's: which macros take an argument, which character runs are specials; its
converter's: what each macro and special becomes). The pass mirrors pylatexenc's reading of
that markup (a control word eats the spaces after it, an argument is one character, one
macro or one braced group, an accent puts its combining mark on each letter of its argument)
and gives up on anything else (math, unknown macros, an unbalanced brace, a paragraph break):
such a value goes to pylatexenc as before. Either way the output is the same;
`latex_to_unicode_reference` is the pylatexenc-only path, kept for the tests that say so.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from inspect import getfullargspec
from typing import Any

from pylatexenc import latexwalker
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db
from pylatexenc.macrospec import MacroSpec, MacroStandardArgsParser

_LITERAL_SPECIALS = re.compile(r"\\.|[%&]", re.S)
_LATEX_MARKUP = re.compile(r"[\\{}~$]|--|``|''|[?!]`")
"""What pylatexenc would change in a value: most values hold none of it, and skip both paths."""


@contextmanager
def quiet(*names: str) -> Iterator[None]:
    """Keep the parsers' own log lines off stderr: refdb reports problems itself."""
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


# pylatexenc passes the decoder by the keyword `l2tobj`.
def _argument(node: Any, l2tobj: LatexNodes2Text) -> str:
    return str(l2tobj.nodelist_to_text([node.nodeargd.argnlist[0]]))


def _comma_below(node: Any, l2tobj: LatexNodes2Text) -> str:
    """`\\textcommabelow{t}` -> 'ț' (biber's diacritic U+0326 on its argument)."""
    return unicodedata.normalize("NFC", _argument(node, l2tobj) + "\u0326")


def _symbol(node: Any, l2tobj: LatexNodes2Text) -> str:
    """`\\symbol{"4E2D}` (hex), `\\symbol{'47}` (octal) or `\\symbol{20013}` -> the character."""
    code = _argument(node, l2tobj).strip()
    bases = {'"': 16, "'": 8}
    try:
        number = int(code[1:], bases[code[0]]) if code[:1] in bases else int(code)
        return chr(number)
    except (ValueError, OverflowError):
        return code


class LatexDecoder(LatexNodes2Text):  # type: ignore[misc]
    """LatexNodes2Text whose parser knows refdb's extra commands and their arguments."""

    def __init__(self) -> None:
        context = get_default_latex_context_db()
        context.add_context_category(
            "refdb",
            prepend=True,
            macros=[
                # \url{...} decodes to its bare argument, as bibtexparser's own decoder does;
                # \textasciicircum is a plain caret (pylatexenc gives a modifier letter).
                MacroTextSpec("url", simplify_repl="%s"),
                MacroTextSpec("textasciicircum", simplify_repl="^"),
                # refdb's writer spells a lone brace so, as BibTeX counts `\{` as a brace.
                MacroTextSpec("textbraceleft", simplify_repl="{"),
                MacroTextSpec("textbraceright", simplify_repl="}"),
                # A discretionary hyphen only tells TeX where it may break a word.
                MacroTextSpec("-", simplify_repl=""),
                MacroTextSpec("textcommabelow", simplify_repl=_comma_below),
                MacroTextSpec("symbol", simplify_repl=_symbol),
            ],
        )
        super().__init__(latex_context=context, math_mode="text")
        self._parsing = latexwalker.get_default_latex_context_db()
        self._parsing.add_context_category(
            "refdb",
            prepend=True,
            macros=[MacroSpec("textcommabelow", "{"), MacroSpec("symbol", "{")],
        )

    def latex_to_text(self, latex: str, **parse_flags: Any) -> str:
        """The text of a LaTeX value, parsed with refdb's commands known."""
        parse_flags.setdefault("latex_context", self._parsing)
        return str(super().latex_to_text(latex, **parse_flags))


def _converter() -> LatexNodes2Text:
    """pylatexenc's converter with refdb's few additions (`LatexDecoder`)."""
    return LatexDecoder()


@cache
def _reference_converter() -> LatexNodes2Text:
    return _converter()


def _literal_specials(value: str) -> str:
    """A bare `%` or `&` escaped: to LaTeX they start a comment or a table cell, but in a
    .bib value they are almost always meant literally (`50% of patients`)."""
    return _LITERAL_SPECIALS.sub(
        lambda m: "\\" + m.group() if len(m.group()) == 1 else m.group(), value
    )


def _tidy(text: str) -> str:
    """Soft hyphens dropped, whitespace runs made one space."""
    if "\u00ad" in text:
        text = text.replace("\u00ad", "")
    return " ".join(text.split())


def latex_to_unicode_reference(value: str) -> str:
    """`latex_to_unicode` through pylatexenc alone, for every value: what the table pass must
    equal (the tests compare the two)."""
    if not _LATEX_MARKUP.search(value):
        return _tidy(value)
    with quiet("pylatexenc"):
        return _tidy(_reference_converter().latex_to_text(_literal_specials(value)))


def latex_to_unicode(value: str) -> str:
    """LaTeX markup to plain Unicode: `M{\\"u}ller` -> 'Müller', `{CRPS}` -> 'CRPS'."""
    if not _LATEX_MARKUP.search(value):
        return _tidy(value)
    escaped = _literal_specials(value)
    text = _table_pass().decode(escaped)
    if text is None:
        with quiet("pylatexenc"):
            text = _reference_converter().latex_to_text(escaped)
    return _tidy(text)


class _Unsure(Exception):
    """The table pass met something it cannot be sure to read as pylatexenc does."""


_WORD = re.compile(r"[A-Za-z]+")
_SPACE = re.compile(r"\s*")
_UNDOTTED = {"\N{LATIN SMALL LETTER DOTLESS I}": "i", "\N{LATIN SMALL LETTER DOTLESS J}": "j"}
# Control sequences pylatexenc's parser reads as something other than a macro.
_NOT_MACROS = frozenset(["(", ")", "[", "]", "begin", "end"])


def _accented(text: str, mark: str) -> str:
    """pylatexenc's accent: the mark on each character of the stripped argument."""
    return "".join(
        unicodedata.normalize("NFC", _UNDOTTED.get(ch, ch) + mark) for ch in text.strip()
    )


class _TablePass:
    """One pass over a value, driven by tables built from pylatexenc's context databases."""

    def __init__(self) -> None:
        converter = _converter()
        parser_db = latexwalker.get_default_latex_context_db()
        text_db = converter.latex_context
        self.plain: dict[str, str] = {}  # macros without arguments: their text
        self.one_arg: dict[str, Callable[[str], str]] = {}  # one mandatory argument
        names = {spec.macroname for spec in text_db.iter_macro_specs()} - _NOT_MACROS
        for name in sorted(names):
            spec = text_db.get_macro_spec(name)
            parsing = parser_db.get_macro_spec(name)
            argspec = getattr(parsing.args_parser, "argspec", None) if parsing else ""
            if argspec == "":
                text = _plain_text(converter, name, spec)
                if text is not None:
                    self.plain[name] = text
            elif argspec == "{" and _plain_argument(parsing.args_parser):
                render = _one_arg_text(converter, name, spec)
                if render is not None:
                    self.one_arg[name] = render
        specials = {s.specials_chars for s in parser_db.iter_specials_specs()}
        # The text of each specials; None where the pass leaves it to pylatexenc.
        self.specials = {chars: _specials_text(text_db, chars) for chars in specials}
        # Longest first, as pylatexenc takes the longest specials at each position.
        self.special = re.compile(
            "|".join(re.escape(s) for s in sorted(specials, key=len, reverse=True))
        )
        starts = "".join(sorted({s[0] for s in specials} | set("\\{}$%")))
        self.run = re.compile(f"[^{re.escape(starts)}]+")

    def decode(self, value: str) -> str | None:
        """The text of `value` (with `%` and `&` already escaped), or None when unsure."""
        if "\n\n" in value:  # a paragraph break: pylatexenc makes it a node of its own
            return None
        try:
            text, _ = self._sequence(value, 0, closing=False)
        except _Unsure:
            return None
        return text

    def _sequence(self, s: str, pos: int, *, closing: bool) -> tuple[str, int]:
        """The text from `pos` to the end, or (`closing`) to the `}` that closes a group."""
        out: list[str] = []
        end = len(s)
        while pos < end:
            run = self.run.match(s, pos)
            if run:
                out.append(run.group())
                pos = run.end()
                continue
            char = s[pos]
            if char == "\\":
                text, pos = self._macro(s, pos)
                out.append(text)
            elif char == "{":
                text, pos = self._sequence(s, pos + 1, closing=True)
                out.append(text)
            elif char == "}":
                if closing:
                    return "".join(out), pos + 1
                raise _Unsure
            elif char in "$%":
                raise _Unsure
            else:
                special = self.special.match(s, pos)
                if special:
                    replacement = self.specials[special.group()]
                    if replacement is None:
                        raise _Unsure
                    out.append(replacement)
                    pos = special.end()
                else:
                    out.append(char)
                    pos += 1
        if closing:
            raise _Unsure
        return "".join(out), pos

    def _macro(self, s: str, pos: int) -> tuple[str, int]:
        name, pos = _control_sequence(s, pos)
        text = self.plain.get(name)
        if text is not None:
            return text, pos
        render = self.one_arg.get(name)
        if render is None:
            raise _Unsure
        argument, pos = self._argument(s, pos)
        return render(argument), pos

    def _argument(self, s: str, pos: int) -> tuple[str, int]:
        """A mandatory argument, read as pylatexenc reads one: after any spaces, one
        character, one macro (without arguments of its own) or one braced group."""
        pos = _after_spaces(s, pos)
        if pos >= len(s):
            raise _Unsure
        char = s[pos]
        if char == "\\":
            name, end = _control_sequence(s, pos)
            text = self.plain.get(name)
            if text is None:
                raise _Unsure
            return text, end
        if char == "{":
            return self._sequence(s, pos + 1, closing=True)
        if char in "}$%" or self.special.match(s, pos):
            raise _Unsure
        return char, pos + 1


def _control_sequence(s: str, pos: int) -> tuple[str, int]:
    """The name of the control sequence at `pos` and where reading goes on: after a control
    word and its spaces (which it eats), or after a control symbol (which eats none)."""
    if pos + 1 >= len(s):
        raise _Unsure
    first = s[pos + 1]
    if not first.isalpha():
        return first, pos + 2
    word = _WORD.match(s, pos + 1)
    if word is None or (word.end() < len(s) and s[word.end()].isalpha()):
        raise _Unsure  # a letter beyond ASCII in the name
    return word.group(), _after_spaces(s, word.end())


def _after_spaces(s: str, pos: int) -> int:
    spaces = _SPACE.match(s, pos)
    return spaces.end() if spaces else pos


def _plain_argument(parser: Any) -> bool:
    """True for pylatexenc's standard parser of one argument read in text mode."""
    return (
        type(parser) is MacroStandardArgsParser
        and not parser._like_pylatexenc1x_ignore_leading_star
        and parser.args_math_mode in (None, [False])
    )


def _takes_converter(function: Callable[..., Any]) -> bool:
    """pylatexenc hands its converter to a replacement that asks for it; such a replacement
    may read the converter's state (`\\maketitle` reads `\\title`), so it is left to it."""
    return "l2tobj" in getfullargspec(function).args


def _plain_text(converter: LatexNodes2Text, name: str, spec: Any) -> str | None:
    """The text of a macro without arguments, or None to leave it to pylatexenc."""
    repl = spec.simplify_repl
    if isinstance(repl, str):
        if "%" in repl and repl != "%":
            return None  # pylatexenc formats it with no arguments: a warning and the raw text
        return repl
    if repl is None:
        return ""  # no arguments to keep or discard
    if _takes_converter(repl):
        return None
    with quiet("pylatexenc"):
        return str(converter.latex_to_text("\\" + name))  # a constant: `\%` is '%'


def _one_arg_text(converter: LatexNodes2Text, name: str, spec: Any) -> Callable[[str], str] | None:
    """How a macro with one argument renders that argument's text, or None."""
    repl = spec.simplify_repl
    if not repl:
        if spec.discard:
            return lambda argument: ""
        return lambda argument: argument
    if isinstance(repl, str):
        if "%" not in repl or repl == "%":
            return lambda argument: repl
        if not re.search("(^|[^%])(%%)*%s", repl):
            return None
        try:
            repl % ("x",)
        except (TypeError, ValueError):
            return None
        return lambda argument: str(repl % (argument,))
    mark = _accent_mark(converter, name)
    if mark is None:
        return None
    return lambda argument: _accented(argument, mark)


def _accent_mark(converter: LatexNodes2Text, name: str) -> str | None:
    """The combining mark of an accent macro, read from what pylatexenc makes of it; None
    when the macro is no accent, or pylatexenc does not place it as `_accented` does."""
    with quiet("pylatexenc"):
        probe = unicodedata.normalize("NFD", converter.latex_to_text(f"\\{name}{{a}}"))
        if len(probe) != 2 or probe[0] != "a" or not unicodedata.combining(probe[1]):
            return None
        mark = probe[1]
        for sample in ("ab", " o ", "\\i", "\\j"):
            if converter.latex_to_text(f"\\{name}{{{sample}}}") != _accented(
                converter.latex_to_text(sample), mark
            ):
                return None
    return mark


def _specials_text(text_db: Any, chars: str) -> str | None:
    """The text of a specials (`--`, `~`), or None to leave it to pylatexenc."""
    spec = text_db.get_specials_spec(chars)
    if spec is None:
        return chars  # pylatexenc leaves specials it has no text for as they are
    repl = spec.simplify_repl
    if not isinstance(repl, str) or not repl or "%" in repl:
        return None
    return repl


@cache
def _table_pass() -> _TablePass:
    return _TablePass()
