"""pylatexenc's LaTeX-to-text decoder, with the few commands refdb's readers need beyond its
defaults: what other tools write in .bib files (`\\url`), and every form refdb's own
`--ascii` writer uses (`\\textbraceleft`, `\\textcommabelow{t}`, `\\symbol{"4E2D}`)."""

from __future__ import annotations

import unicodedata
from typing import Any

from pylatexenc import latexwalker
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db
from pylatexenc.macrospec import MacroSpec


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
