"""Unicode text as ASCII LaTeX, for `refdb export --format bibtex --ascii`.

Every character gets an ASCII form, in this order:

1. pylatexenc's table (`ö` -> `{\\"o}`, `½` -> `{\\textonehalf}`), after NFC, so a letter
   written as a base and a combining mark (`a` + U+0306) is the one letter `ă`;
2. a letter with accents LaTeX has a command for (`ț` -> `{\\textcommabelow{t}}`,
   `Ḥ` -> `{\\d{H}}`, `x` + U+0306 -> `{\\u{x}}`): the accents are biber's diacritics;
3. anything else (CJK, emoji, a mark on no letter or with no accent command) ->
   `{\\symbol{"4E2D}}`, LaTeX's command for a character by its code, which XeLaTeX and
   LuaLaTeX print with a Unicode font.

refdb's BibTeX reader reads each form back as the character. Nothing is printed on stderr.
"""

from __future__ import annotations

import re
import unicodedata

from pylatexenc.latexencode import UnicodeToLatexEncoder

ACCENTS = {
    "\u0300": "`",
    "\u0301": "'",
    "\u0302": "^",
    "\u0303": "~",
    "\u0304": "=",
    "\u0306": "u",
    "\u0307": ".",
    "\u0308": '"',
    "\u030a": "r",
    "\u030b": "H",
    "\u030c": "v",
    "\u0323": "d",
    "\u0326": "textcommabelow",
    "\u0327": "c",
    "\u0328": "k",
    "\u0331": "b",
}
"""Combining marks and the LaTeX accent commands that put them on a letter."""

_MARKS = re.compile(r"(.?)([\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+)")


def symbol(char: str) -> str:
    """LaTeX's `\\symbol` for one character: `{\\symbol{"4E2D}}`."""
    return f'{{\\symbol{{"{ord(char):04X}}}}}'


def _accented(base: str, marks: str) -> str:
    """A letter with combining marks: accent commands around it where LaTeX has one, the
    mark's `\\symbol` after it where not (and for every mark after that one)."""
    inner = _encode_plain(base)
    accented, trailing = False, ""
    for mark in marks:
        command = ACCENTS.get(mark)
        if command is None or trailing:
            trailing += symbol(mark)
        else:
            inner, accented = f"\\{command}{{{inner}}}", True
    return (f"{{{inner}}}" if accented else inner) + trailing


def _unknown(char: str) -> str:
    """A character pylatexenc has no form for: its accented letter, else its `\\symbol`."""
    decomposed = unicodedata.normalize("NFD", char)
    if len(decomposed) > 1 and all(c in ACCENTS for c in decomposed[1:]):
        return _accented(decomposed[0], decomposed[1:])
    return symbol(char)


_ENCODER = UnicodeToLatexEncoder(
    non_ascii_only=True,
    replacement_latex_protection="braces-all",
    unknown_char_policy=_unknown,
    unknown_char_warning=False,
)


def _encode_plain(text: str) -> str:
    return str(_ENCODER.unicode_to_latex(text))


def to_ascii_latex(text: str) -> str:
    """Text (its LaTeX specials already escaped) with every non-ASCII character as ASCII
    LaTeX; the result is pure ASCII."""
    text = unicodedata.normalize("NFC", text)
    if text.isascii():
        return text
    out: list[str] = []
    position = 0
    for match in _MARKS.finditer(text):
        out.append(_encode_plain(text[position : match.start()]))
        base, marks = match.groups()
        if base and unicodedata.combining(base):
            base, marks = "", base + marks
        elif base and not base.isalnum():
            out.append(_encode_plain(base))
            base = ""
        # A mark after a space or a special sits on no letter: its code, as it was.
        out.append(_accented(base, marks) if base else "".join(map(symbol, marks)))
        position = match.end()
    out.append(_encode_plain(text[position:]))
    return "".join(out)


def has_symbol(latex: str) -> bool:
    """True when an encoded text holds a `\\symbol` fallback (no letters to take from it)."""
    return "\\symbol{" in latex
