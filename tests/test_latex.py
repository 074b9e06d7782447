"""LaTeX in `.bib` values: the table pass says exactly what pylatexenc says, only sooner.

`latex_to_unicode` decodes common markup (accents, special letters, escapes, dashes, braces)
with tables taken from pylatexenc and leaves the rest to pylatexenc;
`latex_to_unicode_reference` is pylatexenc alone. They must agree on every value of every
real `.bib` under tests/data/, on every file read as a whole, and on generated LaTeX.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import bibtexparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refdb.errors import RefdbError
from refdb.sources import bibtex_fields, bibtex_names
from refdb.sources.bibtex import parse_bibtex
from refdb.sources.latex import _table_pass, latex_to_unicode, latex_to_unicode_reference
from refdb.sources.problems import ReadResult
from refdb.sources.textfile import read_text
from tests.conftest import RunCli

DATA = Path(__file__).resolve().parent / "data"
BIB_FILES = sorted(DATA.rglob("*.bib"))


def _values(path: Path) -> list[str]:
    """Every field and @string value of the file, as written and without its delimiters."""
    library = bibtexparser.parse_string(read_text(path), parse_stack=[])
    raw = [str(f.value) for e in library.entries for f in e.fields]
    raw += [str(s.value) for s in library.strings]
    values = []
    for value in raw:
        values.append(value)
        if value[:1] in ('"', "{") and value[-1:] in ('"', "}"):
            values.append(value[1:-1])
    return values


def test_there_are_real_files_to_compare() -> None:
    assert len(BIB_FILES) >= 15, BIB_FILES


@pytest.mark.parametrize("path", BIB_FILES, ids=lambda p: p.name)
def test_every_value_of_a_real_file_decodes_as_pylatexenc_decodes_it(path: Path) -> None:
    values = _values(path)
    assert values
    for value in values:
        assert latex_to_unicode(value) == latex_to_unicode_reference(value), value


def _read(text: str, source: str) -> ReadResult | str:
    try:
        return parse_bibtex(text, source=source)
    except RefdbError as error:
        return str(error)


@pytest.mark.parametrize("path", BIB_FILES, ids=lambda p: p.name)
def test_a_real_file_reads_the_same_with_pylatexenc_alone(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = read_text(path)
    fast = _read(text, str(path))
    for module in (bibtex_fields, bibtex_names):  # every step of the reader that decodes
        monkeypatch.setattr(module, "latex_to_unicode", latex_to_unicode_reference)
    reference = _read(text, str(path))
    assert fast == reference


def test_the_markup_of_exports_needs_no_parser() -> None:
    """What Better BibTeX and JabRef write is decoded by the tables, not by pylatexenc."""
    forms = {
        'M{\\"u}ller': "Müller",
        "Gon{\\c{c}}alves": "Gonçalves",
        "Dvo{\\v{r}}{\\'a}k": "Dvořák",
        "Gon\\c{c}alves, Jos\\'e": "Gonçalves, José",
        "J{\\o}rgensen": "Jørgensen",
        "Strau{\\ss}": "Strauß",
        "{\\L}ukasiewicz": "Łukasiewicz",
        "{\\'\\i}ndice, {\\i}": "índice, \N{LATIN SMALL LETTER DOTLESS I}",
        "{\\v C}aslav": "Časlav",
        "V{\\~u} Ng{\\d o}c": "Vũ Ngọc",
        "Anesthesia \\& Analgesia": "Anesthesia & Analgesia",
        "25\\% of patients, 50% of controls & more": "25% of patients, 50% of controls & more",
        "{DNA} methylation in {Parkinson}'s disease": "DNA methylation in Parkinson's disease",
        "pages 12--19, 1914---1918": "pages 12\u201319, 1914\u20141918",
        "``quoted''": "\u201cquoted\u201d",
        "Dr.~Smith": "Dr. Smith",
        "\\emph{in vivo} and \\textit{E. coli}": "in vivo and E. coli",
        "\\url{https://example.org/a_b}": "https://example.org/a_b",
        "hyphen\\-ation \\textasciicircum \\textbraceleft x\\textbraceright": "hyphenation ^{x}",
    }
    table = _table_pass()
    for latex, text in forms.items():
        assert latex_to_unicode(latex) == text == latex_to_unicode_reference(latex)
        escaped = latex.replace("50%", "50\\%").replace(" & ", " \\& ")
        assert table.decode(escaped) is not None, latex


def test_math_and_unknown_macros_still_go_to_pylatexenc() -> None:
    table = _table_pass()
    for latex, text in {
        "$\\alpha$-synuclein": "\N{GREEK SMALL LETTER ALPHA}-synuclein",
        "0--1000$^\\circ$C": "0\u20131000^∘C",
        "\\mkbibquote{Intention}": "Intention",
        "line one\n\nline two": "line one line two",
    }.items():
        assert table.decode(latex) is None
        assert latex_to_unicode(latex) == text == latex_to_unicode_reference(latex)


def test_an_import_shows_decoded_names_and_titles(cli: RunCli, tmp_path: Path) -> None:
    bib = tmp_path / "export.bib"
    bib.write_text(
        "@article{a,\n"
        "  author = {M{\\\"u}ller, Anna and Gon{\\c{c}}alves, Jos\\'e and {\\O}stergaard, Wei},\n"
        "  title = {Ketamine and {NMDA} Receptors in {Parkinson}'s Disease},\n"
        "  journaltitle = {Anesthesia \\& Analgesia},\n"
        "  pages = {101--109},\n"
        "  date = {2019-03},\n"
        "}\n",
        encoding="utf-8",
    )
    assert cli("import", str(bib)).exit_code == 0
    [item] = json.loads(cli("export", "--format", "csl-json").stdout)
    assert item["title"] == "Ketamine and NMDA Receptors in Parkinson's Disease"
    assert [(a.get("family"), a.get("given")) for a in item["author"]] == [
        ("Müller", "Anna"),
        ("Gonçalves", "José"),
        ("Østergaard", "Wei"),
    ]
    assert item["container-title"] == "Anesthesia & Analgesia"
    assert item["page"] == "101-109"


# --- generated LaTeX ------------------------------------------------------------------------

SETTINGS = settings(
    max_examples=400,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow],
)

ACCENTS = ['\\"', "\\'", "\\`", "\\^", "\\~", "\\=", "\\.", "\\c", "\\v", "\\u", "\\H", "\\k"]
ACCENTS += ["\\r", "\\d", "\\b", "\\t"]
LETTER_MACROS = ["\\o", "\\O", "\\ss", "\\i", "\\j", "\\aa", "\\AA", "\\ae", "\\l", "\\L"]
LETTER_MACROS += ["\\oe", "\\textendash", "\\ldots", "\\alpha", "\\TeX", "\\foo"]
ESCAPES = ["\\&", "\\%", "\\$", "\\#", "\\_", "\\{", "\\}", "\\-", "\\ ", "\\,", "\\\\", "\\@"]
SPECIALS = ["--", "---", "~", "``", "''", "!`", "?`", "`", "'", "-", "!", "?", "&", "%"]
WRAPPERS = ["\\emph", "\\textit", "\\textbf", "\\url", "\\texttt", "\\mkbibquote"]
REFDB = ["\\textasciicircum", "\\textbraceleft", "\\textbraceright"]
LETTERS = st.text(
    alphabet="aAeEiIoOuUcCsSnNzZ éø1\N{LATIN SMALL LETTER DOTLESS I}", min_size=1, max_size=4
)
SPACE = st.sampled_from(["", " ", "  ", "\n", "\t", " \n "])


def _accent(parts: tuple[str, str, str]) -> str:
    return "".join(parts)


def _markup(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    argument = st.one_of(
        st.sampled_from("aeiouAEIOUcCszgny\N{LATIN SMALL LETTER DOTLESS I}"),
        st.sampled_from(["\\i", "\\j", "\\o", "\\ss"]),
        children.map(lambda text: "{" + text + "}"),
    )
    return st.one_of(
        children.map(lambda text: "{" + text + "}"),
        st.tuples(st.sampled_from(ACCENTS), SPACE, argument).map(_accent),
        st.tuples(st.sampled_from(WRAPPERS), SPACE, argument).map(_accent),
        st.lists(children, min_size=1, max_size=4).map("".join),
    )


ATOMS = st.one_of(
    LETTERS,
    st.sampled_from(SPECIALS),
    st.sampled_from(ESCAPES),
    st.sampled_from(REFDB),
    st.tuples(st.sampled_from(LETTER_MACROS), SPACE).map("".join),
)
WELL_FORMED = st.recursive(ATOMS, _markup, max_leaves=12)
SOUP = st.lists(
    st.one_of(
        ATOMS,
        st.sampled_from(ACCENTS + WRAPPERS + ["{", "}", "$", "\\", "\n\n", " "]),
    ),
    max_size=12,
).map("".join)


def _outcome(decode: object, value: str) -> str:
    assert callable(decode)
    try:
        return "ok: " + str(decode(value))
    except Exception as error:  # the same failure on both paths is agreement too
        return f"raised {type(error).__name__}"


@SETTINGS
@given(value=WELL_FORMED)
def test_generated_markup_decodes_as_pylatexenc_decodes_it(value: str) -> None:
    assert _outcome(latex_to_unicode, value) == _outcome(latex_to_unicode_reference, value)


@SETTINGS
@given(value=SOUP)
def test_generated_broken_markup_decodes_as_pylatexenc_decodes_it(value: str) -> None:
    assert _outcome(latex_to_unicode, value) == _outcome(latex_to_unicode_reference, value)
