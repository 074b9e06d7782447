"""`refdb watch ...` against a local E-utilities stand-in serving records built for it
(tests/fixtures/pubmed/watch/, made-up PMIDs 9100000x) and the seed records (../efetch/)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner, Result
from werkzeug import Request, Response

from refdb.cli import app
from refdb.config import EutilsSettings
from refdb.sources.pubmed import EutilsClient
from refdb.sources.pubmed import client as pubmed_client
from tests.conftest import FakeClock, RunCli, ok
from tests.pubmed.conftest import _ARTICLE, FIXTURES, Seen

WATCH = FIXTURES / "watch"
QUERY = "ketamine AND (complex regional pain syndrome OR CRPS)"
FIRST = ["91000001", "91000002", "91000003", "91000004", "91000005", "91000006", "19783371"]
LATER = ["91000007", "91000005", "91000001"]
EASTERN = ZoneInfo("America/New_York")


@dataclass
class FakeEutils:
    """esearch: `first` for a first run (reldate), `later` for mindate/maxdate; efetch: the
    records of tests/fixtures/pubmed/watch and .../efetch."""

    clock: FakeClock = field(default_factory=FakeClock)
    first: list[str] = field(default_factory=lambda: list(FIRST))
    later: list[str] = field(default_factory=lambda: list(LATER))
    count: int | None = None
    failures: list[Response] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)

    def _record(self, request: Request) -> Seen:
        seen = Seen(self.clock.now(), request.method, request.path, dict(request.args), {})
        seen.form = dict(request.form)
        self.seen.append(seen)
        return seen

    def esearch(self, request: Request) -> Response:
        values = self._record(request).values
        if self.failures:
            return self.failures.pop(0)
        ids = self.first if "reldate" in values else self.later
        count = len(ids) if self.count is None else self.count
        body = (
            f"<eSearchResult><Count>{count}</Count><RetMax>{len(ids)}</RetMax>"
            f"<RetStart>0</RetStart><IdList>{''.join(f'<Id>{i}</Id>' for i in ids)}</IdList>"
            "<TranslationSet/><QueryTranslation/></eSearchResult>"
        )
        return Response(body, content_type="text/xml")

    def efetch(self, request: Request) -> Response:
        articles = []
        for pmid in self._record(request).values["id"].split(","):
            for folder in (WATCH, FIXTURES / "efetch"):
                if (folder / f"{pmid}.xml").exists():
                    articles.extend(_ARTICLE.findall((folder / f"{pmid}.xml").read_bytes()))
                    break
        body = b"<PubmedArticleSet>" + b"\n".join(articles) + b"</PubmedArticleSet>"
        return Response(body, content_type="text/xml")

    def to(self, utility: str) -> list[Seen]:
        return [s for s in self.seen if s.path.endswith(f"/{utility}.fcgi")]


@pytest.fixture
def eutils(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> FakeEutils:
    monkeypatch.setenv("REFDB_EUTILS_URL", httpserver.url_for("/"))
    fake = FakeEutils(clock)
    httpserver.expect_request("/esearch.fcgi").respond_with_handler(fake.esearch)
    httpserver.expect_request("/efetch.fcgi").respond_with_handler(fake.efetch)
    return fake


@pytest.fixture
def any_cli(any_db_url: str) -> RunCli:
    """The CLI on SQLite and on PostgreSQL."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, ["--db", any_db_url, *args], input=input, env=env)

    return run


def one_error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def run_json(cli: RunCli, *args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(cli("watch", "run", *args, "--json")).stdout)
    return data


def proposed(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["pmid"]: p for p in data["proposals"]}


def library_with_a_watch(cli: RunCli, tmp_path: Path) -> None:
    """A library holding 19783371 (by PMID) and a study with 91000006's DOI (no PMID)."""
    ok(cli("add", "--pmid", "19783371", "--indication", "CRPS"))
    held = tmp_path / "held.json"
    held.write_text(
        json.dumps(
            [
                {
                    "id": "ibrahim2026ketamine",
                    "type": "article-journal",
                    "title": "Ketamine for depression in primary care: a narrative review",
                    "DOI": "https://doi.org/10.5555/REFDB-WATCH.HELD",
                    "issued": {"date-parts": [[2026]]},
                }
            ]
        ),
        encoding="utf-8",
    )
    ok(cli("import", str(held)))
    ok(cli("watch", "add", "crps", "--query", QUERY, "--indication", "CRPS"))


def set_last_run(url: str, name: str, moment: datetime) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sqlalchemy.text("UPDATE watches SET last_run_at = :at WHERE name = :name"),
            {"at": moment, "name": name},
        )
    engine.dispose()


def studies(cli: RunCli) -> dict[str, dict[str, Any]]:
    return {s["pmid"]: s for s in json.loads(ok(cli("list", "--json")).stdout) if s["pmid"]}


# --- run -----------------------------------------------------------------------------------


def test_first_run_searches_the_last_90_days_and_proposes_what_is_new(
    cli: RunCli, eutils: FakeEutils, tmp_path: Path
) -> None:
    library_with_a_watch(cli, tmp_path)
    eutils.seen.clear()
    data = run_json(cli)

    (search,) = eutils.to("esearch")
    assert search.method == "GET"
    assert search.args["term"] == QUERY
    assert search.args["datetype"] == "edat" and search.args["reldate"] == "90"
    assert "mindate" not in search.args and "maxdate" not in search.args
    assert search.args["retmax"] == "10000" and search.args["db"] == "pubmed"
    assert all(s.values["tool"] == "refdb" for s in eutils.seen)
    assert all(s.values["email"] == "tests@example.org" for s in eutils.seen)
    # One POSTed efetch, without the PMID the library holds.
    (fetch,) = eutils.to("efetch")
    assert fetch.method == "POST"
    assert fetch.form["id"].split(",") == FIRST[:6]

    # Not the study in the library (PMID), nor the one whose DOI it holds without a PMID.
    found = proposed(data)
    assert list(found) == ["91000001", "91000002", "91000003", "91000004", "91000005"]
    levels = {pmid: p["evidence_level"] for pmid, p in found.items()}
    assert levels == {
        "91000001": "rct",
        "91000002": "meta-analysis",
        "91000003": "case-report",
        "91000004": "preclinical",
        "91000005": "observational",
    }
    first = found["91000001"]
    assert set(first) == {
        "pmid",
        "doi",
        "title",
        "first_author",
        "year",
        "journal",
        "evidence_level",
        "evidence_label",
        "watch",
        "indication",
        "pending",
        "proposed_at",
    }
    assert first["title"].startswith("Low-dose intravenous ketamine infusion")
    assert (first["first_author"], first["year"], first["journal"]) == ("Okafor", 2026, "Pain Med")
    assert (first["evidence_label"], first["watch"], first["indication"]) == ("RCT", "crps", "CRPS")
    assert first["pending"] is False
    (run,) = data["watches"]
    assert run["search"] == {"datetype": "edat", "reldate": 90}
    assert (run["count"], run["new"], run["pending"], run["known"]) == (7, 5, 0, 2)

    (watch,) = json.loads(ok(cli("watch", "list", "--json")).stdout)
    assert watch["last_run_at"] is not None and watch["pending"] == 5


def test_days_sets_the_first_run_window(cli: RunCli, eutils: FakeEutils) -> None:
    ok(cli("watch", "add", "crps", "--query", QUERY))
    run_json(cli, "--days", "30")
    assert eutils.to("esearch")[0].args["reldate"] == "30"


def test_later_run_searches_from_the_day_of_the_last_run_and_shows_pending(
    cli: RunCli, db_url: str, eutils: FakeEutils, tmp_path: Path
) -> None:
    library_with_a_watch(cli, tmp_path)
    run_json(cli)
    ok(cli("watch", "dismiss", "91000005"))
    # 03:30 UTC on 10 January is still 9 January in Bethesda, where PubMed dates records.
    set_last_run(db_url, "crps", datetime(2026, 1, 10, 3, 30, tzinfo=UTC))
    eutils.seen.clear()
    before = datetime.now(UTC)
    result = ok(cli("watch", "run"))
    after = datetime.now(UTC)

    (search,) = eutils.to("esearch")
    assert search.args["datetype"] == "edat" and "reldate" not in search.args
    assert search.args["mindate"] == "2026/01/09"
    # Today in Bethesda (either day, should the run cross its midnight).
    days = {t.astimezone(EASTERN).strftime("%Y/%m/%d") for t in (before, after)}
    assert search.args["maxdate"] in days
    # Only the record never seen before is fetched.
    assert [s.form["id"] for s in eutils.to("efetch")] == ["91000007"]

    table = result.stdout
    assert "91000007" in table and "new" in table
    for pmid in ("91000001", "91000002", "91000003", "91000004"):
        assert pmid in table
    assert "91000005" not in table  # dismissed
    assert len(re.findall(r"\bpending\b", table)) == 4 and "pending: proposed by an earlier" in (
        result.stderr
    )
    assert "1 new, 4 pending from an earlier run, 1 already in the library or dismissed" in (
        result.stderr
    )
    (watch,) = json.loads(ok(cli("watch", "list", "--json")).stdout)
    assert datetime.fromisoformat(watch["last_run_at"]) >= before.replace(microsecond=0)
    assert watch["pending"] == 5


def test_json_prints_only_json_and_run_of_named_watches(cli: RunCli, eutils: FakeEutils) -> None:
    ok(cli("watch", "add", "crps", "--query", QUERY, "--indication", "CRPS"))
    ok(cli("watch", "add", "depression", "--query", "ketamine depression"))
    result = ok(cli("watch", "run", "depression", "--json"))
    data = json.loads(result.stdout)
    assert [w["name"] for w in data["watches"]] == ["depression"]
    assert {p["watch"] for p in data["proposals"]} == {"depression"}
    assert {p["indication"] for p in data["proposals"]} == {None}
    listed = {w["name"]: w for w in json.loads(ok(cli("watch", "list", "--json")).stdout)}
    assert listed["crps"]["last_run_at"] is None  # it did not run
    assert listed["depression"]["last_run_at"] is not None


def test_a_proposal_added_to_the_library_meanwhile_is_not_shown_again(
    cli: RunCli, eutils: FakeEutils
) -> None:
    ok(cli("watch", "add", "crps", "--query", QUERY))
    run_json(cli)
    ok(cli("add", "--pmid", "91000003"))
    data = run_json(cli)
    assert "91000003" not in proposed(data)
    # 7 proposed first, 91000003 dropped (added), 91000007 new.
    assert json.loads(ok(cli("watch", "list", "--json")).stdout)[0]["pending"] == 7


def test_pubmed_failure_records_nothing(
    cli: RunCli, eutils: FakeEutils, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        pubmed_client,
        "default_client",
        lambda: EutilsClient(EutilsSettings(), backoff_factor=0.001, max_retries=1),
    )
    ok(cli("watch", "add", "crps", "--query", QUERY))
    eutils.failures = [Response("oops", status=500), Response("oops", status=500)]
    line = one_error_line(cli("watch", "run"))
    assert line.startswith("refdb: watch 'crps': PubMed esearch failed: HTTP 500")
    (watch,) = json.loads(ok(cli("watch", "list", "--json")).stdout)
    assert watch["last_run_at"] is None and watch["pending"] == 0


def test_429_with_retry_after_then_success(
    cli: RunCli, eutils: FakeEutils, clock: FakeClock
) -> None:
    body = (FIXTURES / "rate-limit-429.json").read_text("utf-8")
    eutils.failures = [
        Response(body, status=429, headers={"Retry-After": "1"}, content_type="application/json")
    ]
    ok(cli("watch", "add", "crps", "--query", QUERY))
    data = run_json(cli)
    first, second = eutils.to("esearch")
    assert second.at - first.at >= 0.95  # Retry-After honoured (by the fake clock)
    assert clock.sleeps == [1.0]  # and nothing really slept
    assert len(data["proposals"]) == 7


def test_more_matches_than_retmax_warns(cli: RunCli, eutils: FakeEutils) -> None:
    eutils.count = 12000
    ok(cli("watch", "add", "crps", "--query", QUERY))
    result = ok(cli("watch", "run", "--json"))
    assert (
        "refdb: warning: PubMed esearch: 12000 records match "
        f"{QUERY!r}; only the first 10000 are used (narrow the query)"
    ) in result.stderr
    json.loads(result.stdout)


# --- accept, dismiss, remove ---------------------------------------------------------------


def test_accept_files_under_the_watch_indication_and_undo_reverts_it(
    any_cli: RunCli, eutils: FakeEutils, tmp_path: Path
) -> None:
    ok(any_cli("watch", "add", "crps", "--query", QUERY, "--indication", "CRPS"))
    run_json(any_cli)
    fetches = len(eutils.to("efetch"))
    kept = tmp_path / "evidence.md"
    ok(any_cli("page", "-o", str(kept), "--keep"))
    assert "Okafor" not in kept.read_text("utf-8")
    result = ok(any_cli("watch", "accept", "91000001", "PMID:91000002"))
    page = kept.read_text("utf-8")  # the kept page follows the accept, levels included
    assert (
        "Okafor" in page and "Evidence: **RCT**" in page and "Evidence: **Meta-analysis**" in page
    )
    assert "2 added, 0 updated, 0 unchanged, 0 skipped" in result.stderr
    assert len(eutils.to("efetch")) == fetches  # the kept records: no network

    stored = studies(any_cli)
    assert stored["91000001"]["indications"] == ["CRPS"]
    assert stored["91000002"]["indications"] == ["CRPS"]
    assert stored["91000001"]["authors"][0]["initials"] == "AN"
    assert stored["91000001"]["provenance"]["title"]["source"] == "pubmed"
    history = json.loads(ok(any_cli("history", "--json")).stdout)
    assert history[0]["command"] == "refdb watch accept 91000001 PMID:91000002"

    # Accepted: no longer proposed, not even as pending.
    data = run_json(any_cli)
    assert "91000001" not in proposed(data) and "91000002" not in proposed(data)

    ok(any_cli("undo"))
    assert "91000001" not in studies(any_cli) and "91000002" not in studies(any_cli)
    assert "Okafor" not in kept.read_text("utf-8")
    indications = json.loads(ok(any_cli("indications", "--json")).stdout)
    assert indications == []  # the indication the accept created went too


def test_accept_with_indication_and_a_pmid_never_proposed(cli: RunCli, eutils: FakeEutils) -> None:
    ok(cli("watch", "add", "crps", "--query", QUERY, "--indication", "CRPS"))
    run_json(cli)
    eutils.seen.clear()
    ok(cli("watch", "accept", "91000003", "91000007", "--indication", "Depression"))
    # Only the PMID never proposed is fetched.
    assert [s.form["id"] for s in eutils.to("efetch")] == ["91000007"]
    stored = studies(cli)
    assert stored["91000003"]["indications"] == ["Depression"]
    assert stored["91000007"]["indications"] == ["Depression"]
    assert len(json.loads(ok(cli("history", "--json")).stdout)) == 1


def test_accept_a_pmid_pubmed_does_not_know_stores_nothing(cli: RunCli, eutils: FakeEutils) -> None:
    ok(cli("watch", "add", "crps", "--query", QUERY))
    run_json(cli)
    line = one_error_line(cli("watch", "accept", "91000001", "91000099"))
    assert line == "refdb: PMID 91000099: not found on PubMed; nothing stored"
    assert studies(cli) == {}
    assert "91000001" in proposed(run_json(cli))


def test_dismissed_records_are_never_proposed_again(any_cli: RunCli, eutils: FakeEutils) -> None:
    ok(any_cli("watch", "add", "crps", "--query", QUERY, "--indication", "CRPS"))
    # A PMID never proposed can be dismissed ahead of time.
    result = ok(any_cli("watch", "dismiss", "91000004"))
    assert result.stderr == "dismissed 1: 91000004 (never proposed again)\n"
    first = proposed(run_json(any_cli))
    assert "91000004" not in first and "91000002" in first
    ok(any_cli("watch", "dismiss", "91000002", "91000003"))
    for _ in range(2):
        again = proposed(run_json(any_cli))
        assert not {"91000002", "91000003", "91000004"} & set(again)
        assert {"91000001", "91000005", "91000007"} <= set(again)
    # Removing the watch drops its pending proposals but keeps the dismissals.
    result = ok(any_cli("watch", "remove", "crps"))
    assert result.stderr == "removed watch 'crps' (5 pending proposal(s) dropped)\n"
    ok(any_cli("watch", "add", "crps2", "--query", QUERY))
    assert set(proposed(run_json(any_cli))) == {"91000001", "91000005", "91000006", "19783371"}


def test_errors_are_one_line_and_exit_1(cli: RunCli, eutils: FakeEutils) -> None:
    ok(cli("watch", "add", "crps", "--query", QUERY))
    assert one_error_line(cli("watch", "run", "crps", "nope", "--json")) == (
        "refdb: watch 'nope': no such watch (see `refdb watch list`)"
    )
    assert eutils.seen == []  # nothing asked of PubMed
    assert one_error_line(cli("watch", "remove", "nope")).startswith("refdb: watch 'nope'")
    assert one_error_line(cli("watch", "add", "CRPS", "--query", "x")) == (
        "refdb: watch 'CRPS' already exists (remove it first to change it)"
    )
    assert one_error_line(cli("watch", "add", "empty", "--query", "  ")) == (
        "refdb: watch 'empty': the query is empty"
    )
    assert one_error_line(cli("watch", "accept", "91000001", "abc")) == (
        "refdb: PMID 'abc': not a PMID (digits)"
    )
    assert one_error_line(cli("watch", "dismiss", "12x")) == (
        "refdb: PMID '12x': not a PMID (digits)"
    )
    assert cli("watch", "run", "--days", "0").exit_code == 2


def test_list_and_remove(cli: RunCli) -> None:
    ok(cli("watch", "add", "crps", "--query", QUERY, "--indication", "CRPS"))
    table = ok(cli("watch", "list")).stdout
    assert "crps" in table and "CRPS" in table and "never" in table
    ok(cli("watch", "remove", "CRPS"))  # names compare without regard to case
    assert json.loads(ok(cli("watch", "list", "--json")).stdout) == []
    result = ok(cli("watch", "run"))
    assert result.stdout == "" and "no watches" in result.stderr
