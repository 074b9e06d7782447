"""RIS import and export."""

from __future__ import annotations

from pathlib import Path

import pytest
import rispy

from refdb.errors import RefdbError
from refdb.records import Author, Reference
from refdb.render.ris import render_ris
from refdb.sources.files import read_references
from refdb.sources.ris import parse_ris

ZOTERO_STYLE = """TY  - JOUR
TI  - Outpatient intravenous ketamine for the treatment of complex regional pain syndrome
AU  - Schwartzman, Robert J.
A1  - Alexander, Guillermo M.
AU  - International Association for the Study of Pain
AU  - Grothusen JR
T2  - Pain
J2  - Pain
PY  - 2009
DA  - 2009/12//
VL  - 147
IS  - 1-3
SP  - 107
EP  - 115
DO  - https://doi.org/10.1016/j.pain.2009.08.015
AN  - 19783371
UR  - https://pubmed.ncbi.nlm.nih.gov/19783371/
KW  - CRPS
KW  - ketamine
AB  - Complex regional pain syndrome (CRPS) is a severe
  chronic pain condition.
ER  -

TY  - JOUR
T1  - R-ketamine: a rapid-onset antidepressant
AU  - Yang, C.
JO  - Translational Psychiatry
PY  - 2015///
N1  - PMID: 26327690
N1  - PMCID: PMC4564560
ER  -
"""


def test_reads_tags_from_common_exporters() -> None:
    first, second = parse_ris(ZOTERO_STYLE).references
    assert [a.family or a.literal for a in first.authors] == [
        "Schwartzman",
        "International Association for the Study of Pain",
        "Grothusen",
        "Alexander",
    ]
    assert first.authors[2].initials == "JR"
    assert (first.container_title, first.year, first.month) == ("Pain", 2009, 12)
    assert (first.volume, first.issue, first.pages) == ("147", "1-3", "107-115")
    assert first.doi == "10.1016/j.pain.2009.08.015" and first.pmid == "19783371"
    assert first.url == "https://pubmed.ncbi.nlm.nih.gov/19783371/"
    assert first.keywords == ["CRPS", "ketamine"]
    assert (
        first.abstract
        == "Complex regional pain syndrome (CRPS) is a severe chronic pain condition."
    )
    assert second.title == "R-ketamine: a rapid-onset antidepressant"
    assert second.container_title == "Translational Psychiatry"
    assert (second.year, second.month, second.pmid, second.pmcid) == (
        2015,
        None,
        "26327690",
        "PMC4564560",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<html>not ris</html>", "refs.ris: line 1: not an RIS line"),
        ("TY  - JOUR\nTI  - x\n", "refs.ris: line 1: record never ends (no ER)"),
        ("TI  - x\nER  - \n", "refs.ris: line 1: TI outside a record"),
        ("TY  - JOUR\nTI  - a\n\nTY  - JOUR\nER  - ", "refs.ris: line 4: a new record starts"),
        ("TY  - JOUR\nAU  - Smith, J\nER  - \n", "refs.ris: line 1: record 1: has no title"),
        (
            "TY  - JOUR\nTI  - T\nER  - \nTY  - JOUR\nID  - k2\nTI  - T\nPY  - abc\nER  - \n",
            "refs.ris: line 7: record 2 ('k2'): PY 'abc' is not a date",
        ),
        (
            "TY  - JOUR\nTI  - T\nN1  - PMID: 12x\nER  - \n",
            "refs.ris: line 3: record 1: PMID '12x'",
        ),
    ],
)
def test_malformed_ris_is_one_line_with_its_line_number(text: str, expected: str) -> None:
    with pytest.raises(RefdbError) as caught:
        parse_ris(text, source="refs.ris")
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


def test_export_tags_and_rispy_reads_it_back() -> None:
    ref = Reference(
        title="Ketamine and Other NMDA Antagonists",
        authors=[Author(family="Newport", given="D. J."), Author(literal="APA Council")],
        container_title="The American Journal of Psychiatry",
        container_title_short="Am J Psychiatry",
        year=2015,
        month=10,
        volume="172",
        issue="10",
        pages="950-966",
        doi="10.1176/appi.ajp.2015.15040465",
        pmid="26423481",
        url="https://doi.org/10.1176/appi.ajp.2015.15040465",
        indications=["Depression"],
        key="newport2015ketamine",
    )
    text = render_ris([ref])
    lines = text.splitlines()
    assert lines[0] == "TY  - JOUR" and lines[-1].rstrip() == "ER  -"
    for line in (
        "AU  - Newport, D. J.",
        "AU  - APA Council",
        "T2  - The American Journal of Psychiatry",
        "J2  - Am J Psychiatry",
        "PY  - 2015",
        "DA  - 2015/10//",
        "SP  - 950",
        "EP  - 966",
        "AN  - 26423481",
        "KW  - Depression",
        "ID  - newport2015ketamine",
    ):
        assert line in lines
    (record,) = rispy.loads(text)
    assert record["authors"] == ["Newport, D. J.", "APA Council"]
    assert record["doi"] == "10.1176/appi.ajp.2015.15040465"


def test_ris_file_through_the_dispatcher(tmp_path: Path) -> None:
    path = tmp_path / "export.RIS"
    path.write_text(ZOTERO_STYLE, encoding="utf-8")
    refs = read_references(path).references
    assert len(refs) == 2
    assert refs[0].provenance["pmid"].source == "ris:export.RIS"


def test_unknown_extensions_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "titles.txt"
    path.write_text("Some title\n", encoding="utf-8")
    with pytest.raises(RefdbError, match=r"titles\.txt: unsupported file type '\.txt'"):
        read_references(path)


def test_line_breaks_in_values_cannot_start_a_tag() -> None:
    hostile = Reference(
        title="Evil\nER  - \nTY  - JOUR\nTI  - injected",
        authors=[Author(family="Doe\nAU  - Roe", given="Jane")],
        year=2020,
    )
    text = render_ris([hostile])
    assert [line[:2] for line in text.splitlines() if line].count("AU") == 1
    (back,) = parse_ris(text).references
    assert back.authors[0].family == "Doe AU - Roe"
