"""Title, DOI and PMID resolution against the fake E-utilities server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from refdb.records import Reference, normalise_title
from refdb.sources.pubmed.client import EutilsClient
from refdb.sources.pubmed.resolve import (
    fetch_pmids,
    is_notice,
    resolve_doi,
    resolve_title,
    title_queries,
    title_similarity,
)
from tests.plugin_shared import shared_file

from .conftest import FakePubmed

MakeClient = Callable[..., EutilsClient]
HEADINGS = ("For CRPS/RSD", "For Depression")


def page_titles() -> list[str]:
    """The study titles as the clinic's page prints them (no-break spaces and all), in order."""
    lines = shared_file("seed-page.txt").read_text("utf-8").splitlines()
    start = [" ".join(line.split()) for line in lines].index(HEADINGS[0])
    return [
        line.strip()
        for line in lines[start:]
        if line.strip() and " ".join(line.split()) not in HEADINGS
    ]


def test_the_page_lists_nine_titles() -> None:
    titles = page_titles()
    assert len(titles) == 9
    assert any("inDepression" in t for t in titles)


@pytest.mark.parametrize("order", range(1, 10))
def test_page_titles_resolve_to_their_pmids(
    make_client: MakeClient, fake_pubmed: FakePubmed, seed_studies: dict[str, Any], order: int
) -> None:
    title = page_titles()[order - 1]
    expected = seed_studies["studies"][str(order)]
    assert " ".join(title.split()) == expected["page_title"]
    resolution = resolve_title(make_client(), title)
    assert resolution.accepted is not None, resolution.candidates
    assert resolution.accepted.pmid == expected["pmid"]
    # The esearch answers held several candidates; the study won on its score.
    assert len(resolution.candidates) >= 3
    assert resolution.candidates[0].reference.pmid == expected["pmid"]


def test_glued_words_are_split_for_a_second_search(
    make_client: MakeClient, fake_pubmed: FakePubmed, seed_studies: dict[str, Any]
) -> None:
    title = page_titles()[7]
    assert "inDepression" in title
    resolution = resolve_title(make_client(), title)
    assert resolution.accepted is not None
    assert resolution.accepted.pmid == seed_studies["studies"]["8"]["pmid"]
    assert len(fake_pubmed.requests_to("esearch")) == 2  # phrase missed, split phrase hit
    assert "in Depression" in resolution.queries[1]


def test_the_retraction_notice_is_never_accepted(
    make_client: MakeClient, fake_pubmed: FakePubmed, seed_studies: dict[str, Any]
) -> None:
    notice_pmid = seed_studies["notice_pmid"]
    study = seed_studies["studies"]["5"]
    resolution = resolve_title(make_client(), study["page_title"])
    assert resolution.accepted is not None
    assert resolution.accepted.pmid == study["pmid"]
    [notice] = [c for c in resolution.candidates if c.reference.pmid == notice_pmid]
    assert notice.notice
    assert notice.reference.title.startswith("Retraction note:")


def test_a_search_that_finds_only_the_notice_accepts_nothing(
    make_client: MakeClient, fake_pubmed: FakePubmed, seed_studies: dict[str, Any]
) -> None:
    notice_pmid = seed_studies["notice_pmid"]
    title = seed_studies["studies"]["5"]["page_title"]
    for query in title_queries(title):
        key = normalise_title(query.replace("[Title]", " ").replace(" AND ", " "))
        fake_pubmed.searches[key] = [notice_pmid]
    resolution = resolve_title(make_client(), title)
    assert resolution.accepted is None
    assert [c.reference.pmid for c in resolution.candidates] == [notice_pmid]
    assert resolution.best is None
    # Even when asked for the notice's own title, the notice is not "the study".
    exact = resolve_title(make_client(), resolution.candidates[0].reference.title)
    assert exact.accepted is None


def test_wrong_year_and_author_keep_a_match_below_the_threshold(
    make_client: MakeClient, fake_pubmed: FakePubmed, seed_studies: dict[str, Any]
) -> None:
    study = seed_studies["studies"]["5"]
    right = resolve_title(
        make_client(), study["page_title"], year=study["year"], first_author=study["first_author"]
    )
    assert right.accepted is not None and right.candidates[0].score == 100
    wrong = resolve_title(make_client(), study["page_title"], year=1990, first_author="Nobody")
    assert wrong.accepted is None
    assert wrong.best is not None and wrong.best.reference.pmid == study["pmid"]


def test_an_unknown_title_gives_no_candidates(
    make_client: MakeClient, fake_pubmed: FakePubmed
) -> None:
    resolution = resolve_title(make_client(), "Ketamine for the treatment of nothing at all.")
    assert resolution.accepted is None
    assert resolution.candidates == []
    assert len(resolution.queries) == 2  # phrase, then loose words
    assert not fake_pubmed.requests_to("efetch")


@pytest.mark.parametrize(
    ("title", "types", "notice"),
    [
        ("Retraction note: Outpatient ketamine", [], True),
        ("RETRACTED: Outpatient ketamine", [], True),
        ("Erratum: Outpatient ketamine", [], True),
        ("Correction to: Outpatient ketamine", [], True),
        ("Comment on: Outpatient ketamine", [], True),
        ("Expression of concern: Outpatient ketamine", [], True),
        ("[Retraction of: Ketamine]", [], True),
        ("Outpatient ketamine", ["Published Erratum"], True),
        ("Outpatient ketamine", ["Retraction of Publication"], True),
        ("Outpatient ketamine", ["Journal Article", "Retracted Publication"], False),
        ("Corrective surgery after ketamine", ["Journal Article"], False),
    ],
)
def test_is_notice(title: str, types: list[str], notice: bool) -> None:
    assert is_notice(Reference(title=title, publication_types=types)) is notice


def test_title_similarity_forgives_markup_dashes_and_glued_words() -> None:
    assert title_similarity("Mechanisms inDepression.", "Mechanisms in Depression") == 100
    assert title_similarity("(CRPS 1)\u2013a network", "(CRPS 1)--a network") == 100
    assert title_similarity("<i>Ketamine</i> &amp; mood", "Ketamine & mood") == 100
    assert title_similarity("Ketamine in pain", "Lidocaine in migraine") < 70


def test_resolve_doi(make_client: MakeClient, fake_pubmed: FakePubmed) -> None:
    client = make_client()
    ref = resolve_doi(client, "doi:10.1038/TP.2015.136")
    assert ref is not None and ref.pmid == "26327690"
    assert resolve_doi(client, "10.9999/no-such-doi") is None


def test_fetch_pmids_keeps_the_order_asked(
    make_client: MakeClient, fake_pubmed: FakePubmed
) -> None:
    refs = fetch_pmids(make_client(), ["26327690", "99999999", "19783371", "PMID: 26327690"])
    assert [r.pmid for r in refs] == ["26327690", "19783371"]
    assert len(fake_pubmed.requests_to("efetch")) == 1
