"""RIS as each exporter writes it: Ovid, Embase, Scopus, EndNote, Zotero, and what is not RIS.

The samples in tests/data/ris/ are small records in each exporter's shape (its README says
where each shape comes from); tests/data/realworld/ holds the real exports they follow.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from refdb.cli import app
from refdb.errors import RefdbError
from refdb.records import Author, Reference
from refdb.sources.problems import ReadResult
from refdb.sources.ris import RIS_TO_CSL, parse_ris, read_ris, sniff_format

DATA = Path(__file__).resolve().parent / "data"
SAMPLES = DATA / "ris"


def read(name: str) -> ReadResult:
    return read_ris(SAMPLES / name)


def one(text: str) -> tuple[Reference, list[str]]:
    """The single record of `text` and its warnings."""
    result = parse_ris(text, source="refs.ris")
    (ref,) = result.references
    return ref, [p.message for p in result.problems]


def record(*lines: str) -> str:
    return "\n".join(["TY  - JOUR", "TI  - A title", *lines, "ER  - ", ""])


# --- Ovid ----------------------------------------------------------------------------------


def test_ovid_record_numbers_nl_after_er_and_link_lines() -> None:
    result = read("ovid.ris")
    assert result.problems == []
    first, second = result.references
    assert first.title == "The influence of self-criticism on depression symptoms."
    assert first.key == "2019-65183-001"
    assert first.doi == "10.5555/cpp.2398"
    assert [(a.family, a.given) for a in first.authors] == [
        ("Trindade", "Ines A"),
        ("Irons", "Chris"),
    ]
    assert first.editors == []  # Ovid's A2 in an article lists cited authors, not editors
    assert (first.year, first.month) == (2019, None)
    assert first.pages is None  # "No Pagination Specified"
    assert first.keywords == ["*Self-Criticism", "Depression"]
    # NL comes after ER: the NLM abbreviation of the record before it.
    assert first.container_title == "Clinical Psychology & Psychotherapy"
    assert first.container_title_short == "Clin Psychol Psychother"
    assert second.container_title_short == "J Health Psychol"
    assert (second.volume, second.pages) == ("24", "847-856")


@pytest.mark.parametrize(
    "text",
    [
        "1.\nTY  - JOUR\nTI  - T\nER  -\n",
        "\n\n  \nTY  - JOUR\nTI  - T\nER  - \n",
        "TY  - JOUR\nTI  - T\nER  - \nSome trailing words\n\nAB  - stray\n",
        "TY  - JOUR\nTI  - T\nER  - \n2.\nDownload more at https://example.org\n",
    ],
)
def test_lines_outside_records_are_ignored(text: str) -> None:
    result = parse_ris(text, source="refs.ris")
    assert [r.title for r in result.references] == ["T"]
    assert result.problems == []


def test_tags_outside_a_record_that_end_in_er_are_a_skipped_entry() -> None:
    text = "TY  - JOUR\nTI  - Kept\nER  - \n\nTI  - Lost TY\nAU  - Smith, J\nER  - \n"
    result = parse_ris(text, source="refs.ris")
    assert [r.title for r in result.references] == ["Kept"]
    assert [(p.line, p.key, p.message, p.skipped) for p in result.problems] == [
        (5, "lines 5-7", "skipped: tags outside a record (no TY)", True)
    ]


# --- Files that are not RIS, or not whole ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<html>not ris</html>", "refs.ris: line 1: not an RIS file (expected 'TY  - '"),
        ("\n\nTI  - x\nER  - \n", "refs.ris: line 3: not an RIS file"),
        ("1.\nAU  - Smith, J\nTY  - JOUR\nER  - \n", "refs.ris: line 2: not an RIS file"),
        ("TY  - JOUR\nTI  - x\n", "refs.ris: line 1: record never ends (no ER)"),
        (
            "TY  - JOUR\nTI  - a\n\nTY  - JOUR\nER  - ",
            "refs.ris: line 4: a new record starts before the record of line 1 ends (no ER)",
        ),
        (
            (SAMPLES / "wos.txt").read_text(encoding="utf-8"),
            "refs.ris: line 1: Web of Science field-tagged text, not RIS "
            "(export as RIS or BibTeX from Web of Science)",
        ),
    ],
)
def test_a_file_that_is_not_ris_or_not_whole_is_refused_in_one_line(
    text: str, expected: str
) -> None:
    with pytest.raises(RefdbError) as caught:
        parse_ris(text, source="refs.ris")
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


def test_an_empty_file_has_no_records() -> None:
    assert parse_ris("\n \n", source="refs.ris").references == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TY  - JOUR\nER  - \n", "ris"),
        ("\ufeff\n1.\nTY  - BOOK\n", "ris"),
        ((SAMPLES / "wos.txt").read_text(encoding="utf-8"), "wos"),
        ("\ufeffFN Thomson Reuters Web of Science\nVR 1.0\n", "wos"),
        ("PT J\nAU Smith, J\n", "wos"),
        ("VR 1.0\nPT J\n", "wos"),
        ("Ketamine for depression\nAnother title\n", None),
        ("", None),
        ("TI  - no type\n", None),
    ],
)
def test_sniff_format_names_the_first_line(text: str, expected: str | None) -> None:
    assert sniff_format(text) == expected


def test_a_byte_order_mark_before_ty_is_ignored() -> None:
    ref, warnings = one("\ufeffTY  - JOUR\nTI  - Kept\nER  - \n")
    assert (ref.title, ref.type, warnings) == ("Kept", "article-journal", [])


# --- Names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Liu R.", Author(family="Liu", given="R.", initials="R")),  # Embase
        ("Adler D.G.", Author(family="Adler", given="D.G.", initials="DG")),
        ("Zhang J.-C.", Author(family="Zhang", given="J.-C.", initials="JC")),
        ("Smith JA", Author(family="Smith", initials="JA")),  # PubMed
        ("Smith JA Jr", Author(family="Smith", initials="JA", suffix="Jr")),
        ("van der Berg JA", Author(family="van der Berg", initials="JA")),
        ("De la Cruz M.A.", Author(family="De la Cruz", given="M.A.", initials="MA")),
        ("Plato", Author(family="Plato")),
        ("APA Council", Author(literal="APA Council")),
        (
            "International Association for the Study of Pain",
            Author(literal="International Association for the Study of Pain"),
        ),
        ("Schwartzman, Robert J.", Author("Schwartzman", "Robert J.", initials="RJ")),
        ("King, Martin Luther, Jr.", Author("King", "Martin Luther", suffix="Jr.", initials="ML")),
        ("Grothusen, JR", Author(family="Grothusen", initials="JR")),
        ("van der Berg, ,", Author(family="van der Berg")),
        ("World Health Organization,", Author(literal="World Health Organization")),
        ("Cochrane,", Author(literal="Cochrane")),
        ("Sammy Davis Jr.", Author(literal="Sammy Davis Jr.")),
        ("Trindade, Ines A", Author(family="Trindade", given="Ines A", initials="IA")),
    ],
)
def test_names_as_exporters_write_them(name: str, expected: Author) -> None:
    ref, _ = one(record(f"AU  - {name}"))
    assert ref.authors == [expected]


def test_empty_names_are_no_authors() -> None:
    ref, warnings = one(record("AU  - ", "AU  - ,", "AU  - Kept, A."))
    assert [a.family for a in ref.authors] == ["Kept"] and warnings == []


def test_embase_names_journal_abbreviation_language_and_pmid_in_c5() -> None:
    result = read("embase.ris")
    assert result.problems == []
    first, second = result.references
    assert [(a.family, a.given, a.initials) for a in first.authors] == [
        ("Liu", "R.", "R"),
        ("Adler", "D.G.", "DG"),
    ]
    assert (first.container_title, first.container_title_short) == (
        "Endoscopic Ultrasound",
        "Endosc. Ultrasound",
    )
    assert (first.year, first.pages, first.issn) == (2014, "152-160", "2226-7190")
    assert first.language == "English"
    assert first.abstract == "Gastrointestinal tract duplication cysts are rare."
    assert first.pmid is None
    assert second.pmid == "15368318"  # Embase's C5 holds the Medline PMID
    assert [a.display() for a in second.authors] == ["Eloubeidi MA", "Jhala N"]


def test_c5_is_a_pmid_only_in_embase_records() -> None:
    ref, _ = one(record("C5  - 15368318"))
    assert ref.pmid is None


# --- Scopus and EndNote --------------------------------------------------------------------


def test_scopus_pmid_in_c2_and_an_undefined_fourth_date_part() -> None:
    result = read("scopus.ris")
    assert result.problems == []
    (ref,) = result.references
    assert ref.pmid == "31234567"
    assert (ref.year, ref.month, ref.day, ref.date_text) == (2019, 10, None, None)
    assert (ref.container_title, ref.container_title_short) == (
        "Journal of Affective Disorders",
        "J. Affective Disord.",
    )
    assert ref.language == "English"
    assert ref.url == "https://www.scopus.com/inward/record.uri?eid=2-s2.0-85067&partnerID=40"


def test_endnote_continuation_lines_pmcid_in_c2_and_chapter_editors() -> None:
    result = read("endnote.ris")
    assert result.problems == []
    (ref,) = result.references
    assert ref.type == "chapter"
    assert ref.title == "A chapter whose title runs over two lines"
    assert ref.abstract == "Ketamine was given to twelve patients over three days."
    # A field of several keywords (links, notes) is written one a line under one tag.
    assert ref.keywords == ["Ketamine", "Analgesics, Non-Narcotic", "Pain; Intractable"]
    assert ref.url == "http://www.example.org/chapter.pdf"
    assert ref.pmid == "26327690"  # from the second line of N1
    assert ref.pmcid == "PMC4564560"
    assert (ref.year, ref.month, ref.day) == (2012, 10, 15)  # PY 2012, DA 'Oct 15'
    assert ref.container_title == "Textbook of Pain"
    assert [(a.family, a.given) for a in ref.editors] == [("Smith", "John"), ("Doe", "Jane")]
    assert [(a.family, a.given) for a in ref.authors] == [("Berg", "Jan van der")]
    assert ref.key == "139"


def test_endnote_epub_date_in_et() -> None:
    ref, warnings = one(record("PY  - 2015", "DA  - Sep 18", "ET  - 2015/07/16"))
    assert (ref.year, ref.month, ref.day, ref.epub_date) == (2015, 9, 18, "2015-07-16")
    assert warnings == []


def test_editors_from_ed_for_any_type_and_a2_for_books_only() -> None:
    ref, _ = one(record("ED  - Doe, Jane", "A2  - Roe, R"))
    assert [a.family for a in ref.editors] == ["Doe"]
    book, _ = one("TY  - BOOK\nTI  - B\nA2  - Roe, Richard\nER  - \n")
    assert [a.family for a in book.editors] == ["Roe"]
    article, _ = one(record("A2  - Roe, Richard"))
    assert article.editors == []


def test_zotero_two_issns_on_one_line_keep_the_first() -> None:
    ref, _ = one(record("SN  - 1128-045X 1123-6337"))
    assert ref.issn == "1128-045X"


# --- Journal titles ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["T2  - Pain", "J2  - Pain"], ("Pain", "Pain")),
        (["JF  - Cancer Research", "JO  - Cancer Res."], ("Cancer Research", "Cancer Res.")),
        (["JF  - Cancer Research", "JA  - Cancer Res"], ("Cancer Research", "Cancer Res")),
        (["JO  - Translational Psychiatry"], ("Translational Psychiatry",) * 2),
        (["J2  - Am J Psychiatry"], ("Am J Psychiatry",) * 2),
        (["JA  - Am J Psychiatry"], ("Am J Psychiatry",) * 2),
        (["J1  - Am J Psychiatry"], ("Am J Psychiatry",) * 2),
        (["BT  - Textbook of Pain"], ("Textbook of Pain", None)),
        (["T2  - Pain"], ("Pain", None)),
    ],
)
def test_journal_titles_and_abbreviations(
    tags: list[str], expected: tuple[str, str | None]
) -> None:
    ref, _ = one(record(*tags))
    assert (ref.container_title, ref.container_title_short) == expected


def test_bt_is_the_title_of_a_whole_book() -> None:
    ref, _ = one("TY  - BOOK\nBT  - The Whole Book\nER  - \n")
    assert (ref.title, ref.container_title) == ("The Whole Book", None)


# --- Dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "expected", "warnings"),
    [
        (["PY  - 2012///"], (2012, None, None, None, False, None), []),
        (["Y1  - 2003/05/12/"], (2003, 5, 12, None, False, None), []),
        (["Y1  - 2019//"], (2019, None, None, None, False, None), []),
        (["PY  - 2019", "DA  - 2019/10//undefined"], (2019, 10, None, None, False, None), []),
        (["DA  - 2019/10/15/Fall"], (2019, 10, 15, 3, False, None), []),
        (["DA  - 2001///Summer"], (2001, None, None, 2, False, None), []),
        (["DA  - 1034///circa"], (1034, None, None, None, True, None), []),
        (["DA  - 1034///circa Winter"], (1034, None, None, 4, True, None), []),
        (["DA  - ///in press"], (None, None, None, None, False, "in press"), []),
        (["DA  - 1997///1997/2000"], (1997, None, None, None, False, "1997/2000"), []),
        (["DA  - ///Summer 2001"], (2001, None, None, 2, False, None), []),
        (["PY  - -44", "DA  - -44/03/15/"], (-44, 3, 15, None, False, None), []),
        (["PY  - 2014-05-12"], (2014, 5, 12, None, False, None), []),
        (["PY  - 1948", "DA  - July"], (1948, 7, None, None, False, None), []),
        (["PY  - 2009", "DA  - 2009/12//"], (2009, 12, None, None, False, None), []),
        (["Y1  - 2009///Dec"], (2009, 12, None, None, False, None), []),
        (
            ["PY  - 2015", "DA  - 2015///Summer 2015"],
            (2015, None, None, 2, False, None),
            [],
        ),
        (
            ["PY  - abc"],
            (None, None, None, None, False, "abc"),
            ["PY 'abc' is not a date; no year in it; kept the text"],
        ),
        (
            ["PY  - 1985a"],
            (1985, None, None, None, False, "1985a"),
            ["PY '1985a': kept the year 1985; the rest ('a') only as text"],
        ),
        (
            ["PY  - 2019", "DA  - 2019/13/40/"],
            (2019, None, None, None, False, None),
            ["DA '2019/13/40/': month 13 is not a month; dropped it"],
        ),
        (
            ["DA  - 2019/02/30/"],
            (2019, 2, None, None, False, None),
            ["DA '2019/02/30/': day 30 is not a day of that month; dropped it"],
        ),
        (
            ["PY  - 12345"],
            (None, None, None, None, False, "12345"),
            ["PY '12345' is not a date; no year in it; kept the text"],
        ),
        (
            ["PY  - 0"],
            (None, None, None, None, False, "0"),
            ["PY '0': year 0 is not a year; kept the text"],
        ),
    ],
)
def test_dates(
    tags: list[str],
    expected: tuple[int | None, int | None, int | None, int | None, bool, str | None],
    warnings: list[str],
) -> None:
    ref, problems = one(record(*tags))
    assert (ref.year, ref.month, ref.day, ref.season, ref.circa, ref.date_text) == expected
    assert problems == warnings


# --- Types, identifiers, titles -------------------------------------------------------------


@pytest.mark.parametrize(
    ("ris", "csl"),
    [
        ("ART", "graphic"),
        ("PAMP", "pamphlet"),
        ("RPRT", "report"),
        ("ELEC", "webpage"),
        ("WEB", "webpage"),
        ("MAP", "map"),
        ("PAT", "patent"),
        ("HEAR", "hearing"),
        ("BILL", "bill"),
        ("CASE", "legal_case"),
        ("STAT", "legislation"),
        ("SOUND", "song"),
        ("MUSIC", "song"),
        ("MPCT", "motion_picture"),
        ("VIDEO", "motion_picture"),
        ("PCOMM", "personal_communication"),
        ("MANSCPT", "manuscript"),
        ("STAND", "standard"),
        ("ENCYC", "entry-encyclopedia"),
        ("DICT", "entry-dictionary"),
        ("GEN", "document"),
        ("jour", "article-journal"),
    ],
)
def test_ris_types(ris: str, csl: str) -> None:
    ref, warnings = one(f"TY  - {ris}\nTI  - T\nER  - \n")
    assert (ref.type, warnings) == (csl, [])


def test_every_rispy_type_is_known() -> None:
    import rispy.config

    assert set(rispy.config.TYPE_OF_REFERENCE_MAPPING) <= set(RIS_TO_CSL)


def test_an_unknown_type_is_a_document_with_a_warning() -> None:
    ref, warnings = one("TY  - BANANA\nTI  - T\nER  - \n")
    assert ref.type == "document"
    assert warnings == ["TY 'BANANA' is not an RIS type; stored as 'document'"]


@pytest.mark.parametrize(
    ("tag", "warning", "field"),
    [
        ("N1  - PMID: 12x", "N1 PMID '12x' is not a PMID; dropped it", "pmid"),
        ("AN  - PMID: 0123", "AN PMID '0123' is not a PMID; dropped it", "pmid"),
        ("N1  - PMCID: PMC12a", "N1 PMCID 'PMC12a' is not a PMCID; dropped it", "pmcid"),
        ("C2  - PMCnone", "C2 PMCID 'PMCnone' is not a PMCID; dropped it", "pmcid"),
        ("DO  - n/a", "DO 'n/a' is not a DOI (10.NNNN/... or 10/...); dropped it", "doi"),
    ],
)
def test_a_bad_identifier_is_dropped_with_a_warning_and_the_record_kept(
    tag: str, warning: str, field: str
) -> None:
    ref, warnings = one(record(tag))
    assert ref.title == "A title" and getattr(ref, field) is None
    assert warnings == [warning]


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["AN  - 19783371"], (None, None)),  # no database named: any accession number
        (["AN  - 19783371", "DP  - NLM"], ("19783371", None)),  # EndNote, from PubMed
        (["AN  - 852757053", "DB  - ProQuest Central"], (None, None)),  # ProQuest's own
        (["AN  - 2019-65183-001"], (None, None)),  # Ovid's accession number, not a PMID
        (["C2  - 31234567"], ("31234567", None)),
        (["C2  - PMC123"], (None, "PMC123")),
        (["N1  - PMID: 26327690", "N1  - PMCID: PMC4564560"], ("26327690", "PMC4564560")),
        (["N1  - Cited By :44"], (None, None)),
    ],
)
def test_pmid_and_pmcid_tags(tags: list[str], expected: tuple[str | None, str | None]) -> None:
    ref, warnings = one(record(*tags))
    assert (ref.pmid, ref.pmcid) == expected
    assert warnings == []


def test_short_dois_and_doi_urls_are_kept() -> None:
    assert one(record("DO  - 10/fqd6hj"))[0].doi == "10/fqd6hj"
    assert one(record("DO  - https://doi.org/10.5555/X.1"))[0].doi == "10.5555/X.1"


def test_no_title_falls_back_to_the_url_or_is_skipped() -> None:
    text = (
        "TY  - ELEC\nUR  - https://example.org/page\nER  - \n"
        "TY  - JOUR\nDO  - 10.5555/abc\nER  - \n"
        "TY  - JOUR\nID  - k3\nAU  - Smith, J\nPY  - 2020\nER  - \n"
    )
    result = parse_ris(text, source="refs.ris")
    assert [r.title for r in result.references] == ["https://example.org/page", "[Untitled]"]
    assert [(p.line, p.key, p.message, p.skipped) for p in result.problems] == [
        (1, "record 1", "no title; stored as 'https://example.org/page'", False),
        (4, "record 2", "no title; stored as '[Untitled]'", False),
        (7, "k3", "skipped: no title and no identifier", True),
    ]


# --- Real exports and the command line --------------------------------------------------


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("embase-export.ris", 6),
        ("ovid-psycinfo-slice.ris", 2),
        ("scopus-jabref-test.ris", 1),
        ("endnote-export-slice.ris", 8),
        ("zotero-pubmed-records.ris", 6),
    ],
)
def test_real_exports_read_without_a_problem(name: str, count: int) -> None:
    path = DATA / "realworld" / name
    if not path.exists():
        pytest.skip(f"{name} is not in tests/data/realworld")
    result = read_ris(path)
    assert len(result.references) == count
    assert result.problems == []
    for ref in result.references:
        assert ref.title and ref.year and ref.authors
        assert all(a.family or a.literal for a in ref.authors)


def test_cli_imports_ris_keeping_warned_records_and_skipping_empty_ones(tmp_path: Path) -> None:
    path = tmp_path / "refs.ris"
    path.write_text(
        "1.\nTY  - JOUR\nID  - good\nTI  - Fine\nPY  - 2020\nER  -\nNL  - J Fine\n\n"
        "Link to the Ovid Full Text or citation: https://example.org\n\n"
        "TY  - JOUR\nID  - bad\nTI  - Broken year\nPY  - 20x1\nN1  - PMID: 12x\nER  - \n\n"
        "TY  - JOUR\nID  - empty\nAU  - Smith, J\nER  - \n",
        encoding="utf-8",
    )
    db = f"sqlite:///{tmp_path / 'x.sqlite'}"
    result = CliRunner().invoke(app, ["--db", db, "import", str(path)])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"{path}:11: bad: PY '20x1' is not a date; no year in it; kept the text",
        f"{path}:11: bad: N1 PMID '12x' is not a PMID; dropped it",
        f"{path}:18: empty: skipped: no title and no identifier",
        "2 added, 0 updated, 0 unchanged, 1 skipped, 1 warned",
    ]


def test_cli_refuses_web_of_science_text_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "savedrecs.ris"
    path.write_text((SAMPLES / "wos.txt").read_text(encoding="utf-8"), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'x.sqlite'}"
    result = CliRunner().invoke(app, ["--db", db, "import", str(path)])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert (
        f"{path}: line 1: Web of Science field-tagged text, not RIS "
        "(export as RIS or BibTeX from Web of Science)"
    ) in result.stderr
