"""RIS import and export."""

from __future__ import annotations

from pathlib import Path

import pytest
import rispy

from refdb.errors import RefdbError
from refdb.fields import SOURCE_FIELDS
from refdb.records import CSL_TYPES, Author, Reference, initials_of
from refdb.render.ris import CSL_TO_RIS as WRITTEN_TYPES
from refdb.render.ris import render_ris
from refdb.sources.files import read_references
from refdb.sources.ris import RIS_TO_CSL as READ_TYPES
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
        "Alexander",
        "International Association for the Study of Pain",
        "Grothusen",
    ]
    assert first.authors[3].initials == "JR"
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
        (
            "TY  - JOUR\nTI  - T\nER  - \nTY  - JOUR\nID  - k2\nTI  - T\nPY  - abc\nER  - \n",
            (4, "k2", "PY 'abc' is not a date; no year in it; kept the text"),
        ),
        (
            "TY  - JOUR\nTI  - T\nN1  - PMID: 12x\nER  - \n",
            (1, "record 1", "N1 PMID '12x' is not a PMID; dropped it"),
        ),
        (
            "TY  - JOUR\nTI  - T\nDA  - 2020/14//\nER  - \n",
            (1, "record 1", "DA '2020/14//': month 14 is not a month; dropped it"),
        ),
    ],
)
def test_a_record_with_a_bad_value_is_kept_with_a_warning(
    text: str, expected: tuple[int, str, str]
) -> None:
    result = parse_ris(text, source="refs.ris")
    assert [(p.line, p.key, p.message) for p in result.problems] == [expected]
    assert not any(p.skipped for p in result.problems)
    assert result.references[-1].title == "T"


def test_a_record_with_no_title_and_no_identifier_is_skipped() -> None:
    result = parse_ris(
        "TY  - JOUR\nAU  - Smith, J\nER  - \nTY  - JOUR\nTI  - Kept\nER  - \n",
        source="refs.ris",
    )
    assert [r.title for r in result.references] == ["Kept"]
    assert [(p.line, p.key, p.message, p.skipped) for p in result.problems] == [
        (1, "record 1", "skipped: no title and no identifier", True)
    ]


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


TEXT_FIELDS = (
    "container_title",
    "container_title_short",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "pmcid",
    "url",
    "abstract",
    "language",
    "publisher",
    "issn",
)


def test_line_breaks_in_values_cannot_start_a_tag() -> None:
    injected = "\nER  - \nTY  - JOUR\nTI  - injected"
    hostile = Reference(
        title="Evil" + injected,
        authors=[Author(family="Doe\nAU  - Roe", given="Jane")],
        editors=[Author(literal="Board" + injected)],
        year=2020,
        keywords=["k\u2028ER  - ", "kw\r\nTY  - BOOK"],
        indications=["CRPS\nER  - "],
        date_text="in\vpress" + injected,
    )
    for name in TEXT_FIELDS:
        setattr(hostile, name, f"{name}{injected}")
    text = render_ris([hostile])
    assert [line[:2] for line in text.splitlines() if line].count("AU") == 1
    assert [line[:2] for line in text.splitlines()].count("TY") == 1
    assert [line[:2] for line in text.splitlines()].count("ER") == 1
    (record,) = rispy.loads(text)
    assert record["title"] == "Evil ER - TY - JOUR TI - injected"
    (back,) = parse_ris(text).references
    assert back.authors[0].family == "Doe AU - Roe"
    assert back.volume == "volume ER - TY - JOUR TI - injected"


def person(family: str, given: str | None = None, suffix: str | None = None) -> Author:
    """A name as the reader gives it back: initials from the given name."""
    return Author(
        family=family, given=given, suffix=suffix, initials=initials_of(given) if given else None
    )


ROUND_TRIP = [
    Reference(
        title="Kétamine chez l'enfant: une étude « pilote »",
        type="chapter",
        authors=[
            person("van der Berg", "Jan"),
            person("King", "Martin Luther", "Jr."),
            person("Müller-Lüdenscheidt", "Jörg-Åke"),
            person("Ibáñez", "Núria"),
            person("de Filippis", "Rocco"),
            person("Zhang", "J.-C."),
            Author(family="Grothusen", initials="JR"),
            person("van der Berg"),
            person("Plato"),
            person("Dupont", None, "Jr."),
            Author(literal="International Association for the Study of Pain"),
            Author(literal="Cochrane"),
            Author(literal="中国疾病预防控制中心"),
            Author(literal="Ketamine Study Group UK"),
            Author(literal="Médecins Sans Frontières"),
        ],
        editors=[person("Ørsted", "Hans Christian"), person("Smith", "A. B.", "III")],
        container_title="Pædiatric Pain: Essays",
        container_title_short="Paediatr Pain",
        year=2015,
        month=10,
        day=3,
        volume="12",
        issue="3",
        pages="e101-e109",
        doi="10.5555/RMS.2016.003",
        pmid="26327690",
        pmcid="PMC4564560",
        url="https://example.org/a?b=1;c=2",
        abstract="Line one. Line two; with a semicolon.",
        language="fr",
        publisher="Springer",
        issn="1234-5678",
        keywords=["Colitis, Ulcerative/*therapy", "pain; chronic", "Ketamine"],
        indications=["CRPS", "Depression"],
    ),
    Reference(title="A summer issue", year=2001, season=2),
    Reference(title="An old manuscript", type="manuscript", year=1034, circa=True),
    Reference(title="Circa a winter", year=1890, season=4, circa=True),
    Reference(title="Not yet out", date_text="in press"),
    Reference(title="A range of years", year=1997, date_text="1997/2000"),
    Reference(title="A year with a letter", year=1985, date_text="1985a"),
    Reference(title="Caesar's death", type="classic", year=-44, month=3, day=15),
    Reference(title="A report", type="report", year=2020, month=2, doi="10/fqd6hj"),
    Reference(title="Undated webpage", type="webpage", url="https://example.org/page"),
]

# RIS has no tag for these: every other field of the registry must come back.
NOT_IN_RIS = frozenset(
    ("authors_complete", "evidence_basis", "evidence_level", "mesh_terms", "page_title")
) | frozenset(("publication_types", "status", "status_note"))
COMPARED = (*(f for f in SOURCE_FIELDS if f not in NOT_IN_RIS), "indications")


def test_export_then_import_keeps_every_field_ris_can_say() -> None:
    result = parse_ris(render_ris(ROUND_TRIP))
    assert result.problems == []
    assert len(result.references) == len(ROUND_TRIP)
    for before, after in zip(ROUND_TRIP, result.references, strict=True):
        for name in COMPARED:
            assert getattr(after, name) == getattr(before, name), (before.title, name)


def test_an_independent_reader_sees_every_record_and_title() -> None:
    text = render_ris(ROUND_TRIP)
    records = rispy.loads(text)
    assert [r["title"] for r in records] == [ref.title for ref in ROUND_TRIP]
    first = records[0]
    assert first["keywords"] == [
        "CRPS",
        "Depression",
        "Colitis, Ulcerative/*therapy",
        "pain; chronic",
        "Ketamine",
    ]
    assert first["language"] == "fr" and first["type_of_reference"] == "CHAP"
    assert first["unknown_tag"]["ED"] == ["Ørsted, Hans Christian", "Smith, A. B., III"]
    assert "DA  - 2001///Summer" in text.splitlines()
    assert "DA  - ///in press" in text.splitlines()
    assert "DA  - -44/03/15/" in text.splitlines()


@pytest.mark.parametrize("csl_type", sorted(CSL_TYPES))
def test_every_csl_type_is_written_as_an_ris_type_that_reads_back(csl_type: str) -> None:
    text = render_ris([Reference(title="T", type=csl_type)])
    (back,) = parse_ris(text).references
    if csl_type in WRITTEN_TYPES:
        assert back.type == csl_type
        assert READ_TYPES[WRITTEN_TYPES[csl_type]] == csl_type
    else:
        assert text.startswith("TY  - GEN\n") and back.type == "document"


def test_every_type_the_reader_gives_can_be_written() -> None:
    assert set(READ_TYPES.values()) <= set(WRITTEN_TYPES)
