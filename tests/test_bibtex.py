"""BibTeX/BibLaTeX import and export: the bibtexparser traps, error lines, real readers."""

from __future__ import annotations

import json
import re
import subprocess
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pybtex.database
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refdb.csl import from_csl
from refdb.errors import RefdbError
from refdb.records import Author, Reference
from refdb.render.bibtex import (
    protect_each_word,
    protect_title,
    render_biblatex,
    render_bibtex,
    value_escaper,
)
from refdb.sources.bibtex import parse_bibtex, read_bibtex
from refdb.sources.files import read_references
from tests.conftest import needs, pandoc_citeproc
from tests.test_realworld_files import REAL

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


def seed_refs() -> list[Reference]:
    items = json.loads((REPO / "seeds" / "studies.json").read_text(encoding="utf-8"))
    return [from_csl(item) for item in items]


def entry(text: str, key: str) -> str:
    """The text of one exported entry."""
    match = re.search(rf"@\w+\{{{re.escape(key)},\n(.*?)\n\}}", text, re.DOTALL)
    assert match, f"no entry {key} in:\n{text}"
    return match.group(1)


# --- import ---------------------------------------------------------------------------------


def test_case_protecting_braces_keep_the_words_case_on_import() -> None:
    (ref,) = parse_bibtex(
        "@article{k, title = {Ketamine in {CRPS} and {NMDA} {microRNA}}}"
    ).references
    assert ref.title == "Ketamine in CRPS and NMDA microRNA"
    # ... and the export protects them again
    assert "{CRPS}" in render_bibtex([ref]) and "{microRNA}" in render_bibtex([ref])


def test_braced_corporate_author_is_one_literal_author() -> None:
    text = r"""@article{iasp,
      author = {{International Association for the Study of Pain} and M{\"u}ller, J{\"o}rg},
      title = {Taxonomy}}"""
    (ref,) = parse_bibtex(text).references
    assert ref.authors[0] == Author(literal="International Association for the Study of Pain")
    assert (ref.authors[1].family, ref.authors[1].given) == ("Müller", "Jörg")


def test_macros_comments_accents_months_and_identifiers() -> None:
    text = r"""% a comment line
@comment{ignored}
@string{jpain = "The Journal of Pain"}
@article{a,
  author = {de Filippis, Rocco and Garc{\'e}s, L. H. and others},
  title = {Ketamine \& {\'e}tude},
  journal = jpain, year = 2015, month = jan,
  number = {9}, pages = {814--824},
  doi = {https://doi.org/10.1016/J.JPAIN.2015.05.008},
  pmid = {25234478}, url = {https://example.org/a\_b},
  keywords = {CRPS; Depression, ketamine},
  abstract = {Fifty {\%} responded.}}
@article{b, title = {B}, year = {2014}, month = {March}}
@article{c, title = {C}, year = {2013}, month = 11}
@article{d, title = {D}, date = {2015-09-04}, journaltitle = {Pain}, issue = {3},
  eprint = {19783371}, eprinttype = {pubmed}}
"""
    a, b, c, d = parse_bibtex(text).references
    assert a.container_title == "The Journal of Pain"
    assert [(x.family, x.given) for x in a.authors] == [
        ("de Filippis", "Rocco"),
        ("Garcés", "L. H."),
    ]
    assert a.authors_complete is False
    assert a.title == "Ketamine & étude"
    assert (a.year, a.month, a.issue, a.pages) == (2015, 1, "9", "814-824")
    assert a.doi == "10.1016/J.JPAIN.2015.05.008"  # prefix gone, case kept for display
    assert a.pmid == "25234478" and a.url == "https://example.org/a_b"
    # A top-level semicolon separates keywords; commas then belong to them (MeSH headings).
    assert a.keywords == ["CRPS", "Depression, ketamine"]
    assert a.abstract == "Fifty % responded."
    assert (b.year, b.month) == (2014, 3)
    assert (c.year, c.month) == (2013, 11)
    assert (d.year, d.month, d.day, d.pmid, d.issue) == (2015, 9, 4, "19783371", "3")
    assert d.container_title == "Pain"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "@article{ok, title={A}}\n\n@article{smith2020,\n  title = {T},\n  year = {abc}\n}",
            (3, "smith2020", "year 'abc' is not a plain year; no year in it; kept the text"),
        ),
        (
            "@article{m,\n title={T},\n month={13}}",
            (1, "m", "month '13' is not a month; dropped it"),
        ),
        (
            "@article{p, title={T},\n pmid={12a}}",
            (1, "p", "pmid '12a' is not a PMID; dropped it"),
        ),
        (
            "@article{x, title={a}}\n@article{x, title={b}}",
            (2, "x", "citation key used before (line 1); given a fresh one"),
        ),
        (
            "@article{c,\n title = {T},\n journal = jx # { Suppl}}",
            (1, "c", "field 'journal': 'jx' is not a defined @string macro; kept it as text"),
        ),
        (
            '@string{jq = jx # " Q"}\n@article{c, title = {T}}',
            (1, "@string jq", "'jx' is not a defined @string macro; kept it as text"),
        ),
        (
            "@article{t,\n  title = {T},\n  Title = {U}}",
            (1, "t", "field 'title' is given twice; kept the first ('T')"),
        ),
    ],
)
def test_an_entry_with_a_problem_is_kept_with_one_warning(
    text: str, expected: tuple[int, str, str]
) -> None:
    result = parse_bibtex(text, source="refs.bib")
    assert [(p.line, p.key, p.message) for p in result.problems] == [expected]
    assert all(ref.title for ref in result.references)
    assert not any(p.skipped for p in result.problems)


def test_an_entry_that_cannot_be_a_reference_is_skipped() -> None:
    result = parse_bibtex(
        "@article{n,\n  year = {2000}\n}\n@article{k, title={Kept}}", source="refs.bib"
    )
    assert [r.title for r in result.references] == ["Kept"]
    assert [(p.line, p.key, p.message, p.skipped) for p in result.problems] == [
        (1, "n", "skipped: no title and no identifier", True)
    ]


def test_a_file_of_no_entries_is_one_line_naming_the_file() -> None:
    with pytest.raises(RefdbError) as caught:
        parse_bibtex("just some words", source="refs.bib")
    assert str(caught.value) == "refs.bib: no BibTeX entries found"


@pytest.mark.parametrize(
    "text",
    [
        "@article{u, title = {open\n@article{v, title={z}}",  # the next entry starts a line
        "@article{u, title = {open\n  @article{v, title={z}}\n",  # indented
        '@article{u, title = "open,\n year = 2000}\n@article{v, title={z}}',  # a quote
    ],
)
def test_a_value_that_never_closes_costs_its_entry_and_reading_goes_on(text: str) -> None:
    result = parse_bibtex(text, source="refs.bib")
    assert [r.key for r in result.references] == ["v"]
    [problem] = result.problems
    assert (problem.line, problem.key, problem.skipped) == (1, "u", True)
    assert "never closes" in problem.message


def test_reading_a_file_names_it_and_records_provenance(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    path.write_text("@article{k, title={T}, year={2001}, doi={10.1000/x}}", encoding="utf-8")
    (ref,) = read_references(path).references
    assert ref.provenance["doi"].source == "bibtex:refs.bib"
    assert ref.provenance["year"].at.startswith("20")
    assert "volume" not in ref.provenance


def test_non_utf8_and_oversized_files_are_refused(tmp_path: Path) -> None:
    latin = tmp_path / "latin.bib"
    latin.write_bytes("@article{k,\n title={Müller}}".encode("latin-1"))
    with pytest.raises(RefdbError, match=r"latin\.bib: line 2: not UTF-8"):
        read_bibtex(latin)
    big = tmp_path / "big.bib"
    with big.open("wb") as handle:
        handle.truncate(512 * 1024 * 1024 + 1)
    with pytest.raises(RefdbError, match="larger than 512 MB"):
        read_bibtex(big)


def test_a_real_world_bib_imports_with_accents_and_braced_names() -> None:
    refs = read_bibtex(DATA / "real-world.bib").references
    by_key = {r.key: r for r in refs}
    assert len(refs) == 9
    assert by_key["Alanara1992"].authors[0].family == "Alanärä"
    contreras = by_key["Contreras2015"].authors
    assert contreras[0].family == "Contreras-Lynch"
    assert contreras[4].family == "González-Stegmaier"
    assert by_key["Coyne2004"].authors[2].given == "Ø."
    assert by_key["Aguayo2002"].pages == "33-38"  # an en dash in the source
    assert by_key["Bravo1989"].container_title == "AFS / FHS Newsletter"
    assert by_key["Black1991"].doi == "10.1111/j.1365-2885.1991.tb00848.x"  # upper-case DOI key
    assert by_key["Bates2015"].title == "Fitting Linear Mixed-Effects Models Using lme4"


def test_capitalised_field_names_are_read_like_lower_case_ones() -> None:
    # JabRef and older files write `Author = {...}`; BibTeX ignores the case of field names.
    text = r"""@Article{Smith2001,
      Author = {Smith, John and M{\"u}ller, Anna},
      Title = {Ketamine},
      JOURNAL = {Pain}, SHORTJOURNAL = {P}, Year = {2001}, Month = mar,
      DOI = {10.1000/x}, Eprint = {123}, EprintType = {pubmed}}"""
    (ref,) = parse_bibtex(text).references
    assert [(a.family, a.given) for a in ref.authors] == [("Smith", "John"), ("Müller", "Anna")]
    assert (ref.title, ref.container_title, ref.container_title_short) == ("Ketamine", "Pain", "P")
    assert (ref.year, ref.month, ref.doi, ref.pmid) == (2001, 3, "10.1000/x", "123")
    assert (ref.key, ref.type) == ("Smith2001", "article-journal")


def test_concatenations_with_strings_macros_numbers_and_months_are_joined() -> None:
    text = r"""@STRING{jp = "J Pain"}
@string{jps = JP # " Suppl"}
@article{a, title = "Ketamine" # { in } # {CRPS}, journal = "J" # " X"}
@article{b, title = "Trial " # 2 # " of " # mar, journal = jp # { Suppl}, month = jan # "~15"}
@article{c, title = {C}, journal = jps # {.}}
"""
    a, b, c = parse_bibtex(text).references
    assert (a.title, a.container_title) == ("Ketamine in CRPS", "J X")
    assert (b.title, b.container_title, b.month) == ("Trial 2 of March", "J Pain Suppl", 1)
    assert c.container_title == "J Pain Suppl."


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{Ketamine in 50% of patients}", "Ketamine in 50% of patients"),
        ("{Ketamine in 50\\% of patients}", "Ketamine in 50% of patients"),
        ('"Pain & mood, 50%-75%"', "Pain & mood, 50%-75%"),
        ("{Pain \\& mood}", "Pain & mood"),
    ],
)
def test_percent_and_ampersand_are_literal_on_import(value: str, expected: str) -> None:
    (ref,) = parse_bibtex(f"@article{{k, title = {value}, abstract = {value}}}").references
    assert (ref.title, ref.abstract) == (expected, expected)


def test_percent_and_ampersand_round_trip_escaped() -> None:
    ref = Reference(title="Responders: 50% & more", abstract="100% of A&B")
    text = render_bibtex([ref])
    assert "50\\% \\& more" in text and "100\\% of A\\&B" in text
    (back,) = parse_bibtex(text).references
    assert (back.title, back.abstract) == (ref.title, ref.abstract)


# --- export ---------------------------------------------------------------------------------


def tricky_ref() -> Reference:
    return Reference(
        title="DNA methylation & R-ketamine in 50% of CRPS_1 cases: a café study",
        authors=[
            Author(literal="International Association for the Study of Pain"),
            Author(family="Müller", given="Jörg"),
        ],
        container_title="Pain & Therapy",
        container_title_short="Pain Ther",
        year=2015,
        month=3,
        volume="84",
        issue="1",
        pages="89-96",
        doi="10.1/abc",
        pmid="123",
        pmcid="PMC99",
        key="müller2015dna",
        indications=["CRPS"],
    )


def test_bibtex_export_dialect() -> None:
    body = entry(render_bibtex([tricky_ref()]), "muller2015dna")
    assert "  month = mar" in body and "{mar}" not in body
    assert "author = {{International Association for the Study of Pain} and Müller, Jörg}" in body
    assert "title = {{DNA} methylation \\& {R}-ketamine in 50\\% of {CRPS}\\_1 cases" in body
    assert "journal = {Pain \\& Therapy}" in body
    assert "shortjournal = {Pain Ther}" in body  # the abbreviation, as in BibLaTeX
    assert "pages = {89--96}" in body
    # The PMID as eprint, not `pmid`: biber's datamodel validation warns on `pmid`.
    assert "eprint = {123}" in body and "eprinttype = {pubmed}" in body
    assert "pmid" not in body
    # The PMCID has no slot of its own: `pmcid`, as Zotero and pandoc write and read it.
    assert "pmcid = {PMC99}" in body
    assert "keywords = {CRPS}" in body and "café" in body


def test_ascii_export_escapes_accents_but_not_the_protecting_braces() -> None:
    text = render_bibtex([tricky_ref()], ascii=True)
    assert text.isascii()
    assert "{DNA}" in text and "\\{DNA\\}" not in text
    assert 'M{\\"u}ller, J{\\"o}rg' in text and "caf{\\'e}" in text


def test_biblatex_export_dialect() -> None:
    body = entry(render_biblatex([tricky_ref()]), "muller2015dna")
    assert "journaltitle = {Pain \\& Therapy}" in body and "  journal =" not in body
    assert "shortjournal = {Pain Ther}" in body
    assert "date = {2015-03}" in body and "month" not in body and "year" not in body
    assert "eprint = {123}" in body and "eprinttype = {pubmed}" in body
    assert "pmid" not in body and "pmcid = {PMC99}" in body


def test_incomplete_author_lists_end_with_and_others() -> None:
    ref = tricky_ref()
    ref.authors_complete = False
    for text in (render_bibtex([ref]), render_biblatex([ref])):
        assert "Müller, Jörg and others}" in text


def test_keys_are_ascii_and_unique() -> None:
    refs = [tricky_ref(), tricky_ref(), Reference(title="Ölkrise", key="Ørsted2001ölkrise")]
    keys = re.findall(r"^@\w+\{(.*),$", render_bibtex(refs), re.MULTILINE)
    assert keys == ["muller2015dna", "muller2015dnaa", "Orsted2001olkrise"]


def test_hostile_values_cannot_break_out_of_their_field() -> None:
    ref = Reference(title="x} @misc{evil, title={y", abstract="} and {", url="http://a/{b} c")
    text = render_bibtex([ref])
    (back,) = parse_bibtex(text).references
    assert back.title == ref.title and back.abstract == ref.abstract
    assert back.url == "http://a/%7Bb%7D%20c"


def brace_ref() -> Reference:
    return Reference(
        title="A {b study",
        authors=[Author(family="Smi}th", given="J{o"), Author(literal="Group } of {")],
        abstract="} and { and {x}",
        container_title="J {Pain",
        year=2001,
        key="smith2001brace",
    )


def bibtex_brace_depths(value: str) -> list[int]:
    """Brace depth after each character, counted as BibTeX counts: a backslash escapes none."""
    depths, depth = [], 0
    for char in value:
        depth += {"{": 1, "}": -1}.get(char, 0)
        depths.append(depth)
    return depths


@pytest.mark.parametrize("render", [render_bibtex, render_biblatex])
def test_lone_braces_are_written_balanced_and_read_back(render: Callable[..., str]) -> None:
    text = render([brace_ref()])
    for line in entry(text, "smith2001brace").splitlines():
        value = line.split(" = ", 1)[1].rstrip(",")
        depths = bibtex_brace_depths(value)
        # the value's own braces close at its very end, and never earlier
        assert depths[-1] == 0 and 0 not in depths[:-1], line
    (back,) = parse_bibtex(text).references
    ref = brace_ref()
    assert (back.title, back.abstract, back.container_title) == (
        ref.title,
        ref.abstract,
        ref.container_title,
    )
    assert [(a.family, a.given, a.literal) for a in back.authors] == [
        ("Smi}th", "J{o", None),
        (None, None, "Group } of {"),
    ]


def test_pybtex_parses_the_bibtex_export() -> None:
    refs = seed_refs()
    data = pybtex.database.parse_string(render_bibtex(refs), "bibtex")
    assert len(data.entries) == len(refs)
    first = next(iter(data.entries.values()))
    assert first.persons["author"][0].last_names == ["Douglas"]


@needs("biber")
@pytest.mark.parametrize("render", [render_bibtex, render_biblatex])
def test_biber_validates_the_exports_against_its_datamodel(
    tmp_path: Path, render: Callable[..., str]
) -> None:
    refs = [*seed_refs(), tricky_ref(), brace_ref()]
    path = tmp_path / "export.bib"
    path.write_text(render(refs), encoding="utf-8")
    result = subprocess.run(
        ["biber", "--tool", "--validate-datamodel", path.name],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # The one field outside biber's datamodel is the PMCID, which it ignores (see the README).
    pmcid = "Field 'pmcid' invalid in data model - ignoring"
    warnings = [ln for ln in output.splitlines() if ln.startswith(("WARN", "ERROR"))]
    assert [ln for ln in warnings if pmcid not in ln] == [], output
    assert len(warnings) == 1


@needs("pandoc")
def test_pandoc_citeproc_reads_the_bibtex_export(tmp_path: Path) -> None:
    refs = seed_refs()
    bib = tmp_path / "export.bib"
    bib.write_text(render_bibtex(refs), encoding="utf-8")
    keys = re.findall(r"^@\w+\{(.*),$", bib.read_text(encoding="utf-8"), re.MULTILINE)
    printed = pandoc_citeproc(bib, keys)
    for ref in refs:
        assert ref.first_author in printed


def test_a_broken_entry_logs_nothing_besides_its_problem(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    result = parse_bibtex("@article{u, title = {open\n@article{v, title={z}}", source="refs.bib")
    assert len(result.problems) == 1
    assert [r.getMessage() for r in caplog.records if r.levelname != "DEBUG"] == []


_TITLE_TEXT = st.text(
    alphabet=st.sampled_from(
        [*"aZ9 -'`?!&%$#_{}~^\\\x01\t.,:;()[]\"/", "é", "Ø", "ß", "\u0306", "Ω", "中"]
    ),
    max_size=40,
)


@given(title=_TITLE_TEXT, ascii=st.booleans())
@settings(max_examples=400, deadline=None)
def test_the_one_pass_title_protection_is_the_word_by_word_one(title: str, ascii: bool) -> None:
    """A title with nothing to escape is braced in one pass; the text is the same as escaping
    each word and what lies between (the path every other title takes)."""
    escape = value_escaper(ascii)
    normalised = unicodedata.normalize("NFC", " ".join(title.split()))
    assert protect_title(title, escape) == protect_each_word(normalised, escape)


def test_real_titles_are_protected_the_same_by_both_paths() -> None:
    """Every title of every real `.bib` in tests/data/realworld/ (the one-pass path where it
    applies, word by word elsewhere)."""
    titles = [
        ref.title for path in sorted(REAL.glob("*.bib")) for ref in read_bibtex(path).references
    ]
    assert len(titles) > 500
    for ascii in (False, True):
        escape = value_escaper(ascii)
        for title in titles:
            normalised = unicodedata.normalize("NFC", " ".join(title.split()))
            assert protect_title(title, escape) == protect_each_word(normalised, escape), title


def test_a_pubmed_central_link_in_url_is_the_pmcid_as_in_ris() -> None:
    """BibTeX reads a study's links as RIS does: several in one `url`, the first kept as its
    URL, a PubMed link giving the PMID and a PubMed Central link the PMCID."""
    text = (
        "@article{a, title = {A study},\n"
        " url = {https://example.org/a https://pubmed.ncbi.nlm.nih.gov/19783371/;"
        " https://www.ncbi.nlm.nih.gov/pmc/articles/PMC4560098/}}\n"
    )
    (ref,) = parse_bibtex(text).references
    assert (ref.url, ref.pmid, ref.pmcid) == ("https://example.org/a", "19783371", "PMC4560098")
