"""Formatted bibliographies: equal to citeproc-js for the seeds, and each workaround on its own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from refdb.errors import RefdbError
from refdb.records import Author, Reference
from refdb.render.citations import (
    STYLES,
    format_bibliography,
    format_entries,
    number_range_delimiter,
    resolve_style,
    suffix_without_periods,
    typographic_quotes,
)
from refdb.sources.csljson import read_csl_json

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / ".." / "shared" / "golden" / "citeproc-js"


def _golden_cases() -> list[tuple[str, int, str]]:
    """One case per golden line: (style, line index, the line citeproc-js printed)."""
    cases = []
    for style in STYLES:
        lines = (GOLDEN / f"seed-studies.{style}.txt").read_text(encoding="utf-8").splitlines()
        cases += [(style, number, line) for number, line in enumerate(lines)]
    return cases


@pytest.fixture(scope="module")
def golden_refs() -> list[Reference]:
    return read_csl_json(GOLDEN / "seed-studies.json")


@pytest.mark.parametrize(("style", "number", "expected"), _golden_cases())
def test_text_matches_citeproc_js_line_for_line(
    golden_refs: list[Reference], style: str, number: int, expected: str
) -> None:
    lines = format_bibliography(golden_refs, style, "text").splitlines()
    assert len(lines) == len(golden_refs)
    assert lines[number] == expected


@pytest.mark.parametrize("style", list(STYLES))
def test_golden_order_and_count(golden_refs: list[Reference], style: str) -> None:
    """APA sorts by author; AMA and Vancouver keep the input order, numbered from 1."""
    expected = (GOLDEN / f"seed-studies.{style}.txt").read_text(encoding="utf-8").splitlines()
    entries = format_entries(golden_refs, style)
    firsts = [entry.reference.first_author for entry in entries]
    assert firsts == [re.split(r"[ ,]", re.sub(r"^\d+\. ", "", line))[0] for line in expected]
    if style == "apa":
        assert all(entry.number is None for entry in entries)
    else:
        assert [entry.number for entry in entries] == list(range(1, len(entries) + 1))


def _made_up(**changes: object) -> Reference:
    ref = Reference(
        title="Esketamine in late-life depression",
        authors=[Author(family="Quinn", given="Ada"), Author(family="Rowe", given="Ben")],
        container_title="Journal of Invented Results",
        container_title_short="J Invent Res",
        year=2021,
        volume="12",
        issue="4",
        pages="101-109",
    )
    for name, value in changes.items():
        setattr(ref, name, value)
    return ref


def _text(ref: Reference, style: str) -> str:
    return format_bibliography([ref], style, "text").strip()


# --- each citeproc-py workaround -------------------------------------------------------------


@pytest.mark.parametrize("style", ["ama", "vancouver"])
def test_numbered_styles_put_a_space_after_the_number(style: str) -> None:
    refs = [_made_up(), _made_up(title="A second study", year=2022)]
    lines = format_bibliography(refs, style, "text").splitlines()
    assert lines[0].startswith("1. Quinn A, Rowe B. Esketamine")
    assert lines[1].startswith("2. Quinn A, Rowe B. A second study")


def test_apostrophes_in_names_and_titles_become_typographic() -> None:
    ref = _made_up(
        title="Patients' views of ketamine in the '90s and now",
        authors=[Author(family="D'Arcy", given="Sean")],
        doi="10.1000/it's-a-doi",
    )
    for style in STYLES:
        line = _text(ref, style)
        assert "D\u2019Arcy" in line
        assert "Patients\u2019 views of ketamine in the \u201990s" in line
        assert "10.1000/it's-a-doi" in line, "the DOI is an identifier and keeps its apostrophe"
        assert "D'Arcy" not in line


def test_typographic_quotes_pairs_quotes_and_leaves_markup() -> None:
    assert typographic_quotes("the 'magic' of \"ketamine\"") == (
        "the \u2018magic\u2019 of \u201cketamine\u201d"
    )
    assert typographic_quotes("ETFA '09") == "ETFA \u201909"
    assert typographic_quotes('<span class="nocase">O\'Hara</span>') == (
        '<span class="nocase">O\u2019Hara</span>'
    )


def test_vancouver_dates_keep_their_spaces() -> None:
    line = _text(_made_up(month=3, day=5), "vancouver")
    assert "Invent Res. 2021 Mar 5;12(4):101" in line
    assert "2021 Mar;" in _text(_made_up(month=3), "vancouver")


@pytest.mark.parametrize(
    ("style", "expected"),
    [("apa", "147(1\u20133)"), ("vancouver", "147(1\u20133)"), ("ama", "147(1-3)")],
)
def test_issue_ranges_use_the_styles_range_delimiter(style: str, expected: str) -> None:
    assert expected in _text(_made_up(volume="147", issue="1-3"), style)


def test_number_range_delimiter_touches_only_numeric_ranges() -> None:
    assert number_range_delimiter("1-3", "\u2013") == "1\u20133"
    assert number_range_delimiter("S1-S3", "\u2013") == "S1\u2013S3"
    assert number_range_delimiter("Suppl-A", "\u2013") == "Suppl-A"


@pytest.mark.parametrize(
    ("style", "expected"),
    [("ama", "Quinn A Jr,"), ("vancouver", "Quinn A Jr,"), ("apa", "Quinn, A., Jr.,")],
)
def test_name_suffixes_follow_the_styles_initials(style: str, expected: str) -> None:
    ref = _made_up(
        authors=[
            Author(family="Quinn", given="Ada", suffix="Jr."),
            Author(family="Rowe", given="Ben"),
        ]
    )
    assert expected in _text(ref, style)
    assert suffix_without_periods("Jr.") == "Jr"


# --- incomplete author lists ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("ama", "Newport DJ, Carpenter LL, McDonald WM, et al. Ketamine"),
        ("vancouver", "Newport DJ, Carpenter LL, McDonald WM, et al. Ketamine"),
        ("apa", "Newport, D. J., Carpenter, L. L., McDonald, W. M., et al. (2015)"),
    ],
)
def test_incomplete_authors_end_with_et_al(style: str, expected: str) -> None:
    ref = _made_up(
        title="Ketamine and other NMDA antagonists",
        authors=[
            Author(family="Newport", given="D. Jeffrey"),
            Author(family="Carpenter", given="Linda L."),
            Author(family="McDonald", given="William M."),
        ],
        authors_complete=False,
        year=2015,
    )
    line = _text(ref, style)
    assert line.startswith(("1. " + expected, expected))
    assert "&" not in line
    complete = _text(_made_up(authors=ref.authors, year=2015), style)
    assert "et al." not in complete


@pytest.mark.parametrize("style", list(STYLES))
def test_long_incomplete_lists_keep_the_styles_truncation(style: str) -> None:
    authors = [Author(family=f"Author{c}", given="Zed") for c in "ABCDEFGHIJKLMNOPQRSTUVWXY"]
    line = _text(_made_up(authors=authors, authors_complete=False), style)
    assert line.count("et al.") == 1
    assert "AuthorY" not in line, "the last known author is not the last author"


def test_incomplete_flag_does_not_leak_to_other_entries() -> None:
    incomplete = _made_up(authors_complete=False)
    complete = _made_up(title="Another study", authors=[Author(family="Sole", given="Kim")])
    lines = format_bibliography([incomplete, complete], "ama", "text").splitlines()
    assert "et al." in lines[0]
    assert lines[1] == "2. Sole K. Another study. J Invent Res. 2021;12(4):101-109."


# --- html and markdown ---------------------------------------------------------------------


def test_html_escapes_hostile_titles_and_keeps_safe_markup() -> None:
    ref = _made_up(title="<script>alert('x')</script> & <i>in vivo</i> CO<sub>2</sub> <img src=x>")
    for style in STYLES:
        out = format_bibliography([ref], style, "html")
        assert "<script>" not in out and "<img" not in out
        assert "&lt;script&gt;" in out and "&amp;" in out
        assert "<i>in vivo</i>" in out and "CO<sub>2</sub>" in out
        text = _text(ref, style)
        assert "in vivo CO2" in text and "<i>" not in text
        assert "<script>" in text, "plain text shows the title as written"


def test_html_italicises_the_journal_as_the_style_says() -> None:
    assert "<i>J Invent Res</i>" in format_bibliography([_made_up()], "ama", "html")
    assert "<i>Journal of Invented Results</i>" in format_bibliography([_made_up()], "apa", "html")
    assert "<i>" not in format_bibliography([_made_up()], "vancouver", "html")


def test_html_lists_are_ordered_for_numbered_styles() -> None:
    assert format_bibliography([_made_up()], "ama", "html").startswith("<ol")
    assert format_bibliography([_made_up()], "apa", "html").startswith("<ul")


def test_markdown_escapes_title_markup_and_italicises_the_journal() -> None:
    ref = _made_up(title="A *starred* _under_ [bracketed] title <b>bold</b>")
    out = format_bibliography([ref], "ama", "markdown")
    assert out.startswith(
        "1. Quinn A, Rowe B. A \\*starred\\* \\_under\\_ \\[bracketed\\] title **bold**"
    )
    assert "*J Invent Res*" in out
    assert format_bibliography([ref], "apa", "markdown").startswith("- Quinn, A., ")


# --- styles --------------------------------------------------------------------------------


def test_unknown_style_is_one_line_error() -> None:
    with pytest.raises(RefdbError) as excinfo:
        format_bibliography([_made_up()], "harvard-made-up", "text")
    assert "harvard-made-up" in str(excinfo.value) and "\n" not in str(excinfo.value)


def test_missing_style_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RefdbError, match="no such CSL style file"):
        resolve_style(str(tmp_path / "nowhere.csl"))


def test_broken_style_file_is_an_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.csl"
    broken.write_text("<style><unclosed></style>", encoding="utf-8")
    with pytest.raises(RefdbError, match=r"broken\.csl"):
        format_bibliography([_made_up()], str(broken), "text")


def test_a_style_path_works_like_a_name(tmp_path: Path) -> None:
    copy = tmp_path / "my-ama.csl"
    copy.write_bytes(resolve_style("ama").read_bytes())
    assert format_bibliography([_made_up()], str(copy), "text") == format_bibliography(
        [_made_up()], "ama", "text"
    )
