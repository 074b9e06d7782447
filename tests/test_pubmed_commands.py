"""`refdb add`, `import titles.txt`, `enrich` and `check` against a local E-utilities fake."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from refdb.config import EutilsSettings
from refdb.sources.pubmed import EutilsClient, parse_pubmed_xml
from refdb.sources.pubmed import client as pubmed_client
from tests.conftest import REPO, FakeClock, RunCli, dump, ok
from tests.plugin_shared import shared_file
from tests.pubmed.conftest import (  # noqa: F401  (fixtures used by name)
    _ARTICLE,
    FIXTURES,
    FakePubmed,
    SilentServer,
    fake_pubmed,
    seed_studies,
    silent_server,
)

BAR_CHARS = ("━", "╸", "╺")


@pytest.fixture
def served(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> HTTPServer:
    """REFDB_EUTILS_URL points at the local server."""
    monkeypatch.setenv("REFDB_EUTILS_URL", httpserver.url_for("/"))
    return httpserver


@pytest.fixture
def fake(served: HTTPServer, fake_pubmed: FakePubmed) -> FakePubmed:  # noqa: F811
    return fake_pubmed


@pytest.fixture
def fast_client(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Make the CLI's client retry quickly (and optionally time out quickly)."""

    def use(timeout: float = 5.0, retries: int = 2) -> None:
        monkeypatch.setattr(
            pubmed_client,
            "default_client",
            lambda: EutilsClient(
                EutilsSettings(timeout=timeout), backoff_factor=0.001, max_retries=retries
            ),
        )

    return use


def show(cli: RunCli, ref: str) -> dict[str, Any]:
    result = cli("show", ref, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def studies(cli: RunCli) -> list[dict[str, Any]]:
    result = cli("list", "--json")
    assert result.exit_code == 0, result.output
    data: list[dict[str, Any]] = json.loads(result.stdout)
    return data


def page_titles() -> list[str]:
    items = json.loads((REPO / "seeds" / "studies.json").read_text("utf-8"))
    return [item["custom"]["page_title"] for item in items]


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


# --- add -----------------------------------------------------------------------------------


def test_add_pmid_stores_the_full_record(cli: RunCli, fake: FakePubmed) -> None:
    result = cli("add", "--pmid", "24075073", "--indication", "CRPS")
    assert result.exit_code == 0, result.output
    record = show(cli, "24075073")
    assert record["volume"] == "14" and record["issue"] == "11"
    assert record["pages"] == "1514-1521"
    assert record["doi"].lower() == "10.1016/j.jpain.2013.07.013"
    assert record["authors"][0]["family"] == "Schilder"
    assert record["indications"] == ["CRPS"]
    assert record["provenance"]["volume"]["source"] == "pubmed"
    assert record["key"].startswith("schilder2013")
    # One efetch, and every request carries the etiquette parameters.
    assert len(fake.requests_to("efetch")) == 1
    assert all(s.values.get("tool") == "refdb" and s.values.get("email") for s in fake.seen)


def test_add_doi(cli: RunCli, fake: FakePubmed) -> None:
    result = cli("add", "--doi", "https://doi.org/10.1016/J.PAIN.2009.08.015")
    assert result.exit_code == 0, result.output
    assert show(cli, "19783371")["title"].startswith("Outpatient")
    assert len(fake.requests_to("esearch")) == 1


def test_add_title_with_the_page_typo(
    cli: RunCli,
    fake: FakePubmed,
    seed_studies: dict[str, Any],  # noqa: F811
) -> None:
    typo = next(t for t in page_titles() if "inDepression" in t)
    result = cli("add", "--title", typo, "--indication", "Depression")
    assert result.exit_code == 0, result.output
    expected = next(s for s in seed_studies["studies"].values() if s["page_title"] == typo)
    record = show(cli, expected["pmid"])
    assert record["indications"] == ["Depression"]
    assert "in Depression" in record["title"]


def test_add_unknown_pmid_and_doi_fail_in_one_line(
    cli: RunCli, fake: FakePubmed, db_url: str
) -> None:
    assert cli("list").exit_code == 0
    before = dump(db_url)
    result = cli("add", "--pmid", "1234567")
    assert result.exit_code == 1
    assert "PMID 1234567: not found" in one_error_line(result.stderr)
    result = cli("add", "--doi", "10.9999/nothing.here")
    assert result.exit_code == 1
    assert "not found" in one_error_line(result.stderr)
    assert dump(db_url) == before


def test_ambiguous_title_lists_candidates_and_stores_nothing(
    cli: RunCli, fake: FakePubmed, db_url: str
) -> None:
    title = "Ketamine infusions for chronic pain in adults"
    fake.searches["ketamine infusions for chronic pain in adults"] = ["19783371", "26327690"]
    fake.searches["ketamine infusions chronic pain adults"] = ["19783371", "26327690"]
    assert cli("list").exit_code == 0
    before = dump(db_url)
    result = cli("add", "--title", title)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert lines[-1].startswith("refdb: title") and "nothing stored" in lines[-1]
    candidates = [line for line in lines if "PMID" in line]
    assert {re.search(r"PMID (\d+)", c).group(1) for c in candidates} == {  # type: ignore[union-attr]
        "19783371",
        "26327690",
    }
    scores = [float(c.split()[0]) for c in candidates]
    assert all(0 <= s < 90 for s in scores)
    assert dump(db_url) == before


# --- import titles.txt ---------------------------------------------------------------------


def test_import_the_nine_page_titles(
    cli: RunCli,
    fake: FakePubmed,
    tmp_path: Path,
    seed_studies: dict[str, Any],  # noqa: F811
) -> None:
    titles = tmp_path / "titles.txt"
    titles.write_text("# the clinic's page\n\n" + "\n".join(page_titles()) + "\n", "utf-8")
    result = cli("import", str(titles), "--indication", "Depression")
    assert result.exit_code == 0, result.output
    assert "9 resolved, 0 ambiguous, 0 not found" in result.stderr
    assert not any(c in result.stderr for c in BAR_CHARS)  # not a terminal: no progress bar
    stored = studies(cli)
    expected = {s["pmid"] for s in seed_studies["studies"].values()}
    assert {s["pmid"] for s in stored} == expected
    assert seed_studies["notice_pmid"] not in {s["pmid"] for s in stored}
    assert all(s["indications"] == ["Depression"] for s in stored)
    # Measured: one esearch per title phrase tried, one efetch per esearch with new hits.
    searches, fetches = len(fake.requests_to("esearch")), len(fake.requests_to("efetch"))
    assert 9 <= searches <= 27 and fetches <= searches
    # A second import finds the same nine studies and duplicates nothing.
    again = cli("import", str(titles), "--indication", "Depression")
    assert again.exit_code == 0 and "0 added" in again.stderr
    assert len(studies(cli)) == 9


def test_import_stores_resolved_titles_and_reports_the_rest(
    cli: RunCli, fake: FakePubmed, tmp_path: Path
) -> None:
    fake.searches["ketamine infusions for chronic pain in adults"] = ["19783371", "26327690"]
    fake.searches["ketamine infusions chronic pain adults"] = ["19783371", "26327690"]
    titles = tmp_path / "titles.txt"
    titles.write_text(
        f"{page_titles()[4]}\nKetamine infusions for chronic pain in adults\nNo such study here\n",
        "utf-8",
    )
    result = cli("import", str(titles), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "1 resolved, 1 ambiguous, 1 not found" in result.stderr
    assert "line 2: ambiguous" in result.stderr and "line 3: not found" in result.stderr
    assert "dry run, nothing written" in result.stderr
    assert studies(cli) == []
    ok(cli("import", str(titles)))
    assert [s["pmid"] for s in studies(cli)] == ["19783371"]


# --- failures ------------------------------------------------------------------------------


def test_pubmed_failing_midway_writes_nothing(
    cli: RunCli,
    served: HTTPServer,
    fake_pubmed: FakePubmed,  # noqa: F811
    fast_client: Callable[..., None],
    tmp_path: Path,
    db_url: str,
    clock: FakeClock,
) -> None:
    """The fourth title meets a server that answers 500 forever: exit 1, nothing stored."""
    fast_client(retries=2)
    answered: list[str] = []

    def esearch(request: Request) -> Response:
        answered.append(request.values["term"])
        if len(answered) > 3:
            return Response("Internal error", status=500)
        return fake_pubmed.esearch(request)

    served.clear()
    served.expect_request("/esearch.fcgi").respond_with_handler(esearch)
    served.expect_request("/efetch.fcgi").respond_with_handler(fake_pubmed.efetch)
    titles = tmp_path / "titles.txt"
    titles.write_text("\n".join(page_titles()) + "\n", "utf-8")
    assert cli("seed").exit_code == 0
    before = dump(db_url)
    result = cli("import", str(titles))
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert "HTTP 500" in line and "esearch" in line
    assert "titles.txt: line 4:" in line and "nothing stored" in line  # the file and line
    assert dump(db_url) == before
    assert len(answered) == 3 + 3  # three good answers, then the first try and two retries
    assert clock.slept < 5  # the retries' backoff, by the clock the client waits on


def test_enrich_against_500_forever_writes_nothing(
    cli: RunCli, served: HTTPServer, fast_client: Callable[..., None], db_url: str
) -> None:
    fast_client(retries=3)
    served.expect_request("/efetch.fcgi").respond_with_data("down", status=500)
    served.expect_request("/esearch.fcgi").respond_with_data("down", status=500)
    assert cli("seed").exit_code == 0
    before = dump(db_url)
    result = cli("enrich", "--all")
    assert result.exit_code == 1
    assert "HTTP 500" in one_error_line(result.stderr)
    assert dump(db_url) == before
    assert len(served.log) == 4  # one request and three retries, then it gives up


def test_timeout_fails_in_one_line(
    cli: RunCli,
    silent_server: SilentServer,  # noqa: F811
    fast_client: Callable[..., None],
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REFDB_EUTILS_URL", silent_server.url)  # a server that never answers
    fast_client(timeout=0.2, retries=1)
    assert cli("list").exit_code == 0
    before = dump(db_url)
    result = cli("add", "--pmid", "24075073")
    assert result.exit_code == 1
    assert "timed out" in one_error_line(result.stderr)
    assert silent_server.connections() == 2  # one try and one retry, then it gives up
    assert dump(db_url) == before


# --- enrich --------------------------------------------------------------------------------


def test_enrich_fills_pmids_keeps_hand_edits_and_dry_run_writes_nothing(
    cli: RunCli,
    fake: FakePubmed,
    db_url: str,
    seed_studies: dict[str, Any],  # noqa: F811
) -> None:
    assert cli("seed").exit_code == 0
    seeded = {s["key"]: s for s in studies(cli)}
    assert cli("edit", "24075073", "--set", "volume=99").exit_code == 0
    before = dump(db_url)

    dry = cli("enrich", "--all", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "dry run, nothing written" in dry.stderr
    assert "pmid: - -> '90000002'" in dry.stderr
    assert "volume: kept '99' (edited by hand); PubMed has '14'" in dry.stderr
    assert dump(db_url) == before

    result = cli("enrich", "--all")
    assert result.exit_code == 0, result.output
    after = {s["key"]: s for s in studies(cli)}
    assert after.keys() == seeded.keys()  # the same nine studies, no new ones
    expected = {s["first_author"]: s["pmid"] for s in seed_studies["studies"].values()}
    assert {s["authors"][0]["family"]: s["pmid"] for s in after.values()} == expected
    hand = show(cli, "24075073")
    assert hand["volume"] == "99"
    assert hand["provenance"]["volume"]["source"] == "hand"
    filled = next(s for s in after.values() if s["pmid"] == "90000002")
    assert filled["provenance"]["pmid"]["source"] == "pubmed"
    # Study 2 has neither PMID nor DOI: it was found by its title.
    assert any('"Complex regional pain syndrome' in s.values.get("term", "") for s in fake.seen)

    forced = cli("enrich", "24075073", "--force")
    assert forced.exit_code == 0, forced.output
    assert "volume: '99' -> '14'" in forced.stderr
    assert show(cli, "24075073")["volume"] == "14"

    quiet = cli("enrich", "--all")
    assert quiet.exit_code == 0 and "0 updated" in quiet.stderr


def test_enrich_without_refs_takes_incomplete_studies_with_pmids_in_one_batch(
    cli: RunCli, fake: FakePubmed
) -> None:
    assert cli("seed").exit_code == 0
    assert cli("enrich").exit_code == 0
    fake.seen.clear()
    # Now every study has a PMID: one efetch for all the incomplete ones, no esearch.
    result = cli("enrich", "--all")
    assert result.exit_code == 0, result.output
    assert len(fake.requests_to("efetch")) == 1
    assert fake.requests_to("esearch") == []
    assert len(fake.requests_to("efetch")[0].values["id"].split(",")) == 9


# --- check ---------------------------------------------------------------------------------


def _retracted_article() -> tuple[str, bytes]:
    """A retracted PubmedArticle from NLM's 2019 sample, and its PMID."""
    sample = gzip.decompress(
        shared_file("fixtures/pubmed/nlm-pubmedsample-2019.xml.gz").read_bytes()
    )
    for article in _ARTICLE.findall(sample):
        body = b"<PubmedArticleSet>" + article + b"</PubmedArticleSet>"
        refs = parse_pubmed_xml(body)
        if refs and refs[0].status == "retracted" and refs[0].pmid:
            return refs[0].pmid, article
    raise AssertionError("no retracted record in the sample")


def test_check_flags_a_retracted_study(cli: RunCli, served: HTTPServer, db_url: str) -> None:
    pmid, retracted = _retracted_article()
    # Before the retraction: the same record without its retraction marks.
    clean = re.sub(
        rb"<CommentsCorrections RefType=\"RetractionIn\">.*?</CommentsCorrections>",
        b"",
        re.sub(rb"<PublicationType[^>]*>Retracted Publication</PublicationType>", b"", retracted),
        flags=re.DOTALL,
    )
    serving = {"article": clean}
    fetches: list[str] = []

    def efetch(request: Request) -> Response:
        fetches.append(request.values["id"])
        body = b"<PubmedArticleSet>" + serving["article"] + b"</PubmedArticleSet>"
        return Response(body, content_type="text/xml")

    served.expect_request("/efetch.fcgi").respond_with_handler(efetch)
    assert cli("add", "--pmid", pmid).exit_code == 0
    assert show(cli, pmid)["status"] is None
    quiet = cli("check")
    assert quiet.exit_code == 0 and "0 flagged" in quiet.stderr

    serving["article"] = retracted
    result = cli("check")
    assert result.exit_code == 0, result.output
    assert "1 flagged" in result.stderr
    key = show(cli, pmid)["key"]
    assert f"{key}: RETRACTED (new)" in result.stderr
    record = show(cli, pmid)
    assert record["status"] == "retracted"
    assert any(n["kind"] == "RetractionIn" for n in record["notices"])
    assert "retracted" in cli("show", pmid).stdout
    assert "retracted" in cli("list").stdout
    again = ok(cli("check"))
    assert f"{key}: RETRACTED:" in again.stderr  # still flagged, no longer new
    assert "retracted: " not in again.stderr.lower().replace(f"{key}: retracted:", "")
    exported = cli("export", "--format", "text").stdout
    assert "RETRACTED (" in exported and "RETRACTED (retracted" not in exported
    # A status set by hand is kept, and check says so rather than report a flag it did not store.
    assert cli("edit", pmid, "--set", "status=none").exit_code == 0
    for _ in range(2):
        overruled = ok(cli("check"))
        assert f"{key}: NONE" in overruled.stderr and "(new)" not in overruled.stderr
        assert "PubMed says retracted; kept the status set by hand" in overruled.stderr
    assert show(cli, pmid)["status"] is None
    assert fetches == [pmid] * 6  # add, then one batch per check
    history = ok(cli("history", "--json"))
    # Logged (and undoable): the add, the one check that changed something, and the edit.
    assert [op["command"].split()[1] for op in json.loads(history.stdout)] == [
        "edit",
        "check",
        "add",
    ]


# --- library level: the rate, and the progress bar ----------------------------------------


def test_import_titles_keeps_to_three_requests_a_second(
    served: HTTPServer,
    fake_pubmed: FakePubmed,  # noqa: F811
    real_limiter: Any,
    tmp_path: Path,
    db_url: str,
) -> None:
    from refdb import api, enrichment

    titles = tmp_path / "titles.txt"
    titles.write_text("\n".join(page_titles()[2:5]) + "\n", "utf-8")
    library = api.open_library(db_url)
    done: list[tuple[int, int]] = []
    with EutilsClient() as client:
        summary = enrichment.import_titles(
            library,
            titles,
            command="test",
            client=client,
            progress=lambda d, t: done.append((d, t)),
        )
    library.close()
    assert [o.state for o in summary.outcomes] == ["resolved"] * 3
    assert done == [(1, 3), (2, 3), (3, 3)]
    times = sorted(s.at for s in fake_pubmed.seen)
    assert len(times) == 4  # measured: one esearch per title, their candidates in one efetch
    assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) <= 3


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from refdb.cli.context import progress_bar

    with progress_bar("x") as progress:
        assert progress is None  # pytest captures: not a terminal
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    with progress_bar("x") as progress:
        assert progress is None  # stderr is not a terminal
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    with progress_bar("x") as progress:
        assert progress is not None
        progress(1, 2)


def test_enrich_fills_but_never_replaces_the_journal_title(cli: RunCli, served: HTTPServer) -> None:
    """PubMed's journal title is its catalogue's, not the citation form the seeds hold."""
    article = (FIXTURES / "efetch" / "24075073.xml").read_bytes()
    catalogue = article.replace(
        b"<Title>The Journal of Pain</Title>",
        b"<Title>The journal of pain : official journal of the American Pain Society</Title>",
    ).replace(b"<Volume>14</Volume>", b"<Volume>14a</Volume>")
    assert catalogue.count(b"American Pain Society") == 1

    def efetch(request: Request) -> Response:
        return Response(catalogue, content_type="text/xml")

    served.expect_request("/efetch.fcgi").respond_with_handler(efetch)
    assert cli("seed").exit_code == 0
    result = cli("enrich", "24075073")
    assert result.exit_code == 0, result.output
    record = show(cli, "24075073")
    assert record["container_title"] == "The Journal of Pain"
    assert record["volume"] == "14a"  # other fields are refreshed
    ok(cli("edit", "24075073", "--set", "journal="))
    assert cli("enrich", "24075073").exit_code == 0
    assert show(cli, "24075073")["container_title"] is None  # cleared by hand: kept so
    assert cli("enrich", "24075073", "--force").exit_code == 0
    assert show(cli, "24075073")["container_title"].startswith("The journal of pain")
