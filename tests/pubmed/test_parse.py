"""PubmedArticleSet parsing over NCBI's real responses and the seed fixtures."""

from __future__ import annotations

import gzip
import json
import logging
import re
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import fromstring

import pytest

from refdb.errors import LookupFailedError
from refdb.records import expand_page_range
from refdb.sources.pubmed.parse import parse_pub_date, parse_pubmed_xml
from refdb.sources.pubmed.resolve import is_notice
from tests.plugin_shared import shared_file, shared_glob

from .conftest import FIXTURES


def parse_file(name: str) -> list:  # type: ignore[type-arg]
    return parse_pubmed_xml(shared_file(f"fixtures/pubmed/{name}").read_bytes(), source=name)


@pytest.fixture(scope="module")
def sample_2019() -> tuple[bytes, list]:  # type: ignore[type-arg]
    path = shared_file("fixtures/pubmed/nlm-pubmedsample-2019.xml.gz")
    data = gzip.decompress(path.read_bytes())
    return data, parse_pubmed_xml(data, source=path.name)


@pytest.mark.parametrize("path", shared_glob("fixtures/pubmed/efetch-*.xml"), ids=lambda p: p.name)
def test_every_shared_efetch_file_parses(path: Path) -> None:
    raw = path.read_bytes()
    refs = parse_pubmed_xml(raw, source=path.name)
    expected = re.findall(rb"<(?:MedlineCitation|BookDocument)[^>]*>\s*<PMID[^>]*>(\d+)<", raw)
    assert [r.pmid for r in refs] == [p.decode() for p in expected]
    for ref in refs:
        assert ref.title and not ref.title.endswith(".")
        assert ref.year
        assert ref.provenance["title"].source == "pubmed"
        assert ref.provenance["title"].at.endswith("Z")


def test_diacritics_from_character_references_are_intact() -> None:
    two = parse_file("efetch-two-articles-utf8.xml")
    names = [a.family for ref in two for a in ref.authors]
    assert "González-Reyes" in names
    assert "Martínez" in names
    structured = parse_file("efetch-structured-abstract.xml")[0]
    assert any(a.given and "Verónica" in a.given for a in structured.authors)


def test_collective_names_become_literal_authors() -> None:
    only = parse_file("efetch-collective-author.xml")[0]
    assert [a.literal for a in only.authors] == ["National Toxicology Program"]
    mixed = parse_file("efetch-charrefs-collective-31978945.xml")[0]
    literals = [a for a in mixed.authors if a.literal]
    people = [a for a in mixed.authors if a.family]
    assert literals and people
    assert mixed.first_author == "Zhu"


def test_structured_abstract_keeps_labelled_sections_as_paragraphs() -> None:
    ref = parse_file("efetch-structured-abstract.xml")[0]
    assert ref.abstract is not None
    paragraphs = ref.abstract.split("\n\n")
    assert len(paragraphs) == 5
    assert paragraphs[0].startswith("BACKGROUND: ")
    assert all(re.match(r"^[A-Z][A-Z /]+: \S", p) for p in paragraphs)


def test_title_inline_markup_is_kept() -> None:
    ref = parse_file("efetch-title-inline-markup.xml")[0]
    assert ref.title.startswith("<i>Phoenix dactylifera</i> mediated")
    assert "Cu<sub>2</sub>O" in ref.title
    assert "<" not in (ref.abstract or "")


def test_mathml_is_flattened_to_text() -> None:
    ref = parse_file("efetch-mathml-abstract.xml")[0]
    assert "<i>" in ref.title
    assert ref.abstract and not re.search(r"</?[A-Za-z]", ref.abstract)
    assert "P < 0.001" in ref.abstract  # text that looks like markup stays text
    assert "V.O2max" in ref.abstract


def test_hostile_title_markup_is_escaped() -> None:
    xml = (
        "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article>"
        "<ArticleTitle>Dose &lt;script&gt;alert(1)&lt;/script&gt; &amp; <i>effect</i> "
        '<span onclick="x()">of</span> <b>K</b><sup>+</sup>.</ArticleTitle>'
        "</Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"
    )
    [ref] = parse_pubmed_xml(xml)
    assert ref.title == (
        "Dose &lt;script&gt;alert(1)&lt;/script&gt; &amp; <i>effect</i> of <b>K</b><sup>+</sup>"
    )


def test_dates_electronic_date_pages_and_ids() -> None:
    ref = parse_file("efetch-charrefs-collective-31978945.xml")[0]
    assert (ref.year, ref.month, ref.day) == (2020, 2, 20)
    assert ref.epub_date == "2020-01-24"
    assert ref.pages == "727-733"
    assert ref.doi and ref.doi.lower() == "10.1056/nejmoa2001017"
    assert ref.pmcid == "PMC7092803"
    assert ref.container_title_short == "N Engl J Med"
    assert ref.language == "eng"
    # As MEDLINE writes them: qualifiers after "/", "*" on a major topic.
    assert "Pneumonia, Viral/diagnostic imaging/pathology/*virology" in ref.mesh_terms
    spanish = parse_file("efetch-spanish-letter-vernacular.xml")[0]
    assert spanish.pages == "177-179"
    assert spanish.language == "spa"
    assert "Letter" in spanish.publication_types


def test_erratum_in_marks_the_study_corrected() -> None:
    ref = parse_file("efetch-structured-abstract.xml")[0]
    assert ref.status == "corrected"
    assert [n.kind for n in ref.notices] == ["ErratumIn"]
    assert ref.notices[0].citation and "Environ Health Perspect" in ref.notices[0].citation
    guideline = parse_file("efetch-erratum-update-32887691.xml")[0]
    assert guideline.status == "corrected"
    # UpdateIn and CommentIn are not notices about the study's validity.
    assert {n.kind for n in guideline.notices} == {"ErratumIn"}


def test_books_are_stored_as_book_or_chapter() -> None:
    chapter = parse_file("efetch-book-chapter.xml")[0]
    assert chapter.type == "chapter"
    assert chapter.container_title == "GeneReviews<sup>®</sup>"
    assert chapter.publisher == "University of Washington, Seattle"
    assert [a.family for a in chapter.authors] == ["Goldstein", "Falk"]
    whole = parse_file("efetch-book-whole.xml")[0]
    assert whole.type == "book"
    assert whole.title.startswith("Application of Modern Toxicology Approaches")
    assert whole.doi == "10.17226/21775"
    assert all(a.literal for a in whole.authors)


def test_a_broken_article_never_spoils_the_batch(caplog: pytest.LogCaptureFixture) -> None:
    good = shared_file("fixtures/pubmed/efetch-collective-author.xml").read_text()
    article = re.search(r"<PubmedArticle>.*</PubmedArticle>", good, re.DOTALL)
    assert article
    xml = (
        "<PubmedArticleSet><PubmedBookArticle><BookDocument><PMID>5</PMID></BookDocument>"
        f"</PubmedBookArticle>{article.group(0)}</PubmedArticleSet>"
    )
    with caplog.at_level(logging.WARNING):
        refs = parse_pubmed_xml(xml, source="batch.xml")
    assert [r.pmid for r in refs] == ["21860499"]
    assert "PMID 5" in caplog.text


def test_malformed_and_foreign_xml_is_refused_with_one_line() -> None:
    with pytest.raises(LookupFailedError, match=r"batch\.xml: malformed XML"):
        parse_pubmed_xml(b"<PubmedArticleSet><PubmedArticle>", source="batch.xml")
    with pytest.raises(LookupFailedError, match="expected <PubmedArticleSet>"):
        parse_pubmed_xml(b"<html/>", source="batch.xml")


@pytest.mark.parametrize("name", ["entity-bomb.xml", "external-entity.xml"])
def test_hostile_xml_is_refused(name: str) -> None:
    with pytest.raises(LookupFailedError, match=re.escape(f"{name}: refused unsafe XML")):
        parse_pubmed_xml((FIXTURES / name).read_bytes(), source=name)


@pytest.mark.parametrize(
    ("medline_date", "expected"),
    [
        ("2015 Jan-Feb", (2015, 1, None)),
        ("1998 Dec-1999 Jan", (1998, 12, None)),
        ("1944-1945", (1944, None, None)),
        ("2018 May - Jun", (2018, 5, None)),
        ("2008", (2008, None, None)),
        ("2001 Mar-Jun", (2001, 3, None)),
        ("1976 Fall", (1976, None, None)),
        ("2000 Oct 12-15", (2000, 10, None)),
        ("2000 Oct 12", (2000, 10, 12)),
    ],
)
def test_medline_dates(medline_date: str, expected: tuple[int | None, ...]) -> None:
    element = fromstring(f"<PubDate><MedlineDate>{medline_date}</MedlineDate></PubDate>")
    assert parse_pub_date(element) == expected


def test_month_names_and_numbers() -> None:
    named = fromstring("<PubDate><Year>2013</Year><Month>Nov</Month><Day>5</Day></PubDate>")
    numbered = fromstring("<PubDate><Year>2013</Year><Month>11</Month></PubDate>")
    season = fromstring("<PubDate><Year>1976</Year><Season>Fall</Season></PubDate>")
    assert parse_pub_date(named) == (2013, 11, 5)
    assert parse_pub_date(numbered) == (2013, 11, None)
    assert parse_pub_date(season) == (1976, None, None)


@pytest.mark.parametrize(
    ("given", "expanded"),
    [
        ("107-15", "107-115"),
        ("1575-89", "1575-1589"),
        ("296-7", "296-297"),
        ("89-96", "89-96"),
        ("727-733", "727-733"),
        ("e632", "e632"),
        ("m3379", "m3379"),
        ("R12-8", "R12-R18"),
        ("S1-S5", "S1-S5"),
        ("iii-iv", "iii-iv"),
        ("99-3", "99-3"),
        ("107-15; discussion 116-8", "107-115; discussion 116-8"),
        ("1-5, 7-9", "1-5, 7-9"),
        ("1161-70, 1172", "1161-1170, 1172"),
    ],
)
def test_expand_page_range(given: str, expanded: str) -> None:
    assert expand_page_range(given) == expanded


def test_2019_sample_all_articles_and_medline_dates(sample_2019: tuple[bytes, list]) -> None:  # type: ignore[type-arg]
    raw, refs = sample_2019
    assert len(refs) == raw.count(b"<PubmedArticle>") == 176
    by_pmid = {r.pmid: r for r in refs}
    articles = re.findall(rb"<PubmedArticle>.*?</PubmedArticle>", raw, re.DOTALL)
    checked = 0
    for article in articles:
        pmid = re.search(rb"<PMID[^>]*>(\d+)<", article).group(1).decode()  # type: ignore[union-attr]
        medline = re.search(rb"<PubDate>\s*<MedlineDate>(\d{4})", article)
        if medline:
            assert by_pmid[pmid].year == int(medline.group(1))
            checked += 1
    assert checked >= 10


def test_2019_sample_retractions(sample_2019: tuple[bytes, list]) -> None:  # type: ignore[type-arg]
    raw, refs = sample_2019
    articles = re.findall(rb"<PubmedArticle>.*?</PubmedArticle>", raw, re.DOTALL)
    retracted = {
        re.search(rb"<PMID[^>]*>(\d+)<", a).group(1).decode()  # type: ignore[union-attr]
        for a in articles
        if b">Retracted Publication</PublicationType>" in a
    }
    assert len(retracted) == 3
    assert {r.pmid for r in refs if r.status == "retracted"} == retracted
    for ref in refs:
        if ref.pmid in retracted:
            assert any(n.kind == "RetractionIn" for n in ref.notices)
    notices = [r for r in refs if "Retraction of Publication" in r.publication_types]
    assert notices and all(is_notice(r) for r in notices)
    assert all(r.status != "retracted" for r in notices)


def test_seed_fixtures_carry_the_verified_fields(seed_metadata: dict[str, Any]) -> None:
    metadata = seed_metadata["studies"]
    index = json.loads((FIXTURES / "seed-studies.json").read_text("utf-8"))["studies"]
    for study in metadata:
        pmid = index[str(study["seed_order"])]["pmid"]
        [ref] = parse_pubmed_xml((FIXTURES / "efetch" / f"{pmid}.xml").read_bytes())
        assert ref.pmid == pmid
        assert ref.title == study["title"]
        assert ref.year == study["year"]
        assert ref.pages == study["pages"]  # PubMed's '1575-89' written out
        assert (ref.doi or "").lower() == (study["doi"] or "").lower()
        assert [a.family for a in ref.authors] == [a["family"] for a in study["authors"]]
        assert ref.authors_complete == study["authors_complete"]
        assert ref.container_title_short == study["journal_abbrev"]
