"""`refdb import list.txt`: PMIDs, DOIs and PubMed links fetched in batches, the rest titles."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from refdb.sources.idlist import classify
from tests.conftest import RunCli, dump
from tests.pubmed.conftest import (  # noqa: F401  (fixtures used by name)
    FakePubmed,
    fake_pubmed,
)
from tests.test_pubmed_commands import (  # noqa: F401  (fixtures used by name)
    fast_client,
    page_titles,
    served,
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("19783371", ("pmid", "19783371")),
        ("PMID: 19783371", ("pmid", "19783371")),
        ("pmid 19783371", ("pmid", "19783371")),
        ("https://pubmed.ncbi.nlm.nih.gov/19783371/", ("pmid", "19783371")),
        ("pubmed.ncbi.nlm.nih.gov/19783371/?from_term=ketamine", ("pmid", "19783371")),
        ("https://www.ncbi.nlm.nih.gov/pubmed/19783371", ("pmid", "19783371")),
        ("10.1016/j.pain.2009.08.015", ("doi", "10.1016/j.pain.2009.08.015")),
        ("doi: 10.1016/j.pain.2009.08.015.", ("doi", "10.1016/j.pain.2009.08.015")),
        ("https://doi.org/10.1111/pme.12466", ("doi", "10.1111/pme.12466")),
        ("https://dx.doi.org/10.1002%2Fana.410", ("doi", "10.1002/ana.410")),
        # What every other reader takes as a PMID or DOI (refdb.identifiers) is one here too.
        ("https://europepmc.org/abstract/MED/19783371", ("pmid", "19783371")),
        ("10/fqd6hj", ("doi", "10/fqd6hj")),
        ("Ketamine for depression: 10 years on", ("title", "Ketamine for depression: 10 years on")),
        ("10.5 mg of ketamine", ("title", "10.5 mg of ketamine")),
    ],
)
def test_each_line_is_a_pmid_a_doi_or_a_title(line: str, expected: tuple[str, str]) -> None:
    assert classify(line) == expected


def test_a_mixed_list_is_fetched_in_one_batch_and_names_what_pubmed_lacks(
    cli: RunCli,
    served: HTTPServer,  # noqa: F811
    fake_pubmed: FakePubmed,  # noqa: F811
    tmp_path: Path,
) -> None:
    listing = tmp_path / "from-staff.txt"
    listing.write_text(
        "# pasted from PubMed and a colleague's e-mail\n"
        "19783371\n"
        "PMID: 24075073\n"
        "https://pubmed.ncbi.nlm.nih.gov/26327690/\n"
        "doi:10.1111/pme.12466\n"
        "https://doi.org/10.1017/S0033291715002159\n"
        "99999999\n"
        "10.9999/no.such.doi\n"
        f"{page_titles()[4]}\n"
        "19783371\n",
        "utf-8",
    )
    result = cli("import", str(listing), "--indication", "CRPS")
    assert result.exit_code == 0, result.output
    assert "from-staff.txt: 7 resolved, 0 ambiguous, 2 not found" in result.stderr
    assert "line 7: not found on PubMed: PMID 99999999" in result.stderr
    assert "line 8: not found on PubMed: DOI 10.9999/no.such.doi" in result.stderr
    assert "5 added" in result.stderr  # 19783371 twice, and the title is 19783371 too
    listed = json.loads(cli("list", "--json").stdout)
    assert sorted(s["pmid"] for s in listed) == [
        "19783371",
        "24075073",
        "25234478",
        "26327690",
        "26478208",
    ]
    # Requests: the three DOIs and the title one esearch each; every record, the title's
    # candidates included, in one efetch: ceil(records / 200) efetch requests in all.
    searches = fake_pubmed.requests_to("esearch")
    fetches = fake_pubmed.requests_to("efetch")
    assert sum("[aid]" in s.values["term"] for s in searches) == 3
    assert len(searches) == 4
    batch = fetches[0].values["id"].split(",")
    wanted = ["19783371", "24075073", "25234478", "26327690", "26478208", "99999999"]
    assert set(wanted) <= set(batch) and len(batch) == len(set(batch)) <= 200
    assert len(fetches) == 1


def _synthetic_efetch(seen: list[list[str]]) -> Any:
    """An efetch that knows every PMID (BUILT records: a title and a year, nothing more)."""

    def answer(request: Request) -> Response:
        ids = request.values["id"].split(",")
        seen.append(ids)
        articles = "".join(
            f"<PubmedArticle><MedlineCitation><PMID>{pmid}</PMID><Article><Journal>"
            "<JournalIssue><PubDate><Year>2020</Year></PubDate></JournalIssue></Journal>"
            f"<ArticleTitle>Built record {pmid}.</ArticleTitle></Article></MedlineCitation>"
            "</PubmedArticle>"
            for pmid in ids
        )
        return Response(f"<PubmedArticleSet>{articles}</PubmedArticleSet>", content_type="text/xml")

    return answer


def test_a_long_list_of_pmids_takes_one_efetch_per_200(
    cli: RunCli,
    served: HTTPServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    seen: list[list[str]] = []
    served.expect_request("/efetch.fcgi").respond_with_handler(_synthetic_efetch(seen))
    served.expect_request("/esearch.fcgi").respond_with_data("unexpected", status=500)
    pmids = [str(30_000_000 + n) for n in range(450)]
    listing = tmp_path / "pmids.txt"
    listing.write_text("\n".join(pmids) + "\n", "utf-8")
    result = cli("import", str(listing))
    assert result.exit_code == 0, result.output
    assert "450 resolved, 0 ambiguous, 0 not found" in result.stderr
    assert "450 added" in result.stderr
    assert len(seen) == math.ceil(450 / 200) == 3
    assert [len(ids) for ids in seen] == [200, 200, 50]
    assert [p for ids in seen for p in ids] == pmids


def test_a_list_pubmed_fails_on_writes_nothing(
    cli: RunCli,
    served: HTTPServer,  # noqa: F811
    fast_client: Any,  # noqa: F811
    tmp_path: Path,
    db_url: str,
) -> None:
    fast_client(retries=1)
    served.expect_request("/efetch.fcgi").respond_with_data("down", status=500)
    listing = tmp_path / "pmids.txt"
    listing.write_text("19783371\n26327690\n", "utf-8")
    assert cli("list").exit_code == 0
    before = dump(db_url)
    result = cli("import", str(listing))
    assert result.exit_code == 1
    assert re.search(
        r"pmids\.txt: PubMed efetch failed: HTTP 500 .*; nothing stored", result.stderr
    )
    assert dump(db_url) == before
