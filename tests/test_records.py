"""The Reference record's normalising rules."""

from __future__ import annotations

import pytest

from refdb.csl import from_csl, to_csl
from refdb.identifiers import doi_key, normalise_doi
from refdb.records import Author, Reference, base_citation_key, expand_page_range


@pytest.mark.parametrize(
    ("family", "year", "title", "key"),
    [
        ("Schwartzman", 2009, "Outpatient intravenous ketamine", "schwartzman2009outpatient"),
        ("Yang", 2015, "R-ketamine: a rapid-onset antidepressant", "yang2015rketamine"),
        ("Ørsted", 1820, "On the effect of a current", "orsted1820effect"),
        ("van Hilten", None, "The  brain", "vanhilten" + "nd" + "brain"),
        ("Łukasz-Müller", 2020, "<i>In vivo</i> studies", "lukaszmuller2020vivo"),
    ],
)
def test_citation_keys_are_ascii_family_year_first_word(
    family: str, year: int | None, title: str, key: str
) -> None:
    ref = Reference(title=title, authors=[Author(family=family, given="A")], year=year)
    assert base_citation_key(ref) == key


def test_dois_keep_their_case_but_compare_without_it() -> None:
    assert normalise_doi(" https://doi.org/10.1017/S0033291715002159 ") == (
        "10.1017/S0033291715002159"
    )
    assert normalise_doi("doi:10.1/X") == "10.1/X"
    assert doi_key("https://dx.doi.org/10.1/X") == doi_key("10.1/x") == "10.1/x"


@pytest.mark.parametrize(
    ("given", "expanded"),
    [("107-15", "107-115"), ("1514-21", "1514-1521"), ("e632", "e632"), ("R12-8", "R12-R18")],
)
def test_abbreviated_page_ranges_are_written_out(given: str, expanded: str) -> None:
    assert expand_page_range(given) == expanded


def test_csl_json_round_trip_keeps_refdbs_own_fields_under_custom() -> None:
    ref = Reference(
        title="T",
        authors=[Author(literal="Task Force"), Author(family="Doe", given="Jane", suffix="Jr")],
        authors_complete=False,
        year=2020,
        month=3,
        epub_date="2019-12-01",
        indications=["CRPS"],
        status="retracted",
        key="doe2020t",
    )
    item = to_csl(ref)
    assert item["custom"]["indications"] == ["CRPS"] and item["custom"]["authors_complete"] is False
    back = from_csl(item)
    assert (back.key, back.year, back.month, back.epub_date) == ("doe2020t", 2020, 3, "2019-12-01")
    assert back.authors == [Author(literal="Task Force"), Author("Doe", "Jane", None, "Jr", "J")]
    assert (back.status, back.indications, back.authors_complete) == ("retracted", ["CRPS"], False)
