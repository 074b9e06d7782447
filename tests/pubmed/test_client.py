"""The E-utilities client against a local server: etiquette, rate limit, retries, failures."""

from __future__ import annotations

import json
import logging
import socket
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from refdb.config import EutilsSettings
from refdb.errors import LookupFailedError
from refdb.sources.pubmed import client as client_module
from refdb.sources.pubmed.client import EutilsClient, RateLimiter

from .conftest import EMAIL, FIXTURES, FakePubmed

MakeClient = Callable[..., EutilsClient]
ESEARCH_OK = "<eSearchResult><Count>1</Count><IdList><Id>19783371</Id></IdList></eSearchResult>"


def _arrivals(httpserver: HTTPServer) -> list[float]:
    times: list[float] = []

    def handler(request: Request) -> Response:
        times.append(time.monotonic())
        return Response(ESEARCH_OK, content_type="text/xml")

    httpserver.expect_request("/esearch.fcgi").respond_with_handler(handler)
    return times


def _max_in_any_second(times: list[float]) -> int:
    """The most arrivals in any window [t, t + 1 s) starting at an arrival."""
    times = sorted(times)
    return max(sum(1 for u in times if t <= u < t + 1.0) for t in times)


def test_every_request_carries_tool_email_and_key(
    make_client: MakeClient, fake_pubmed: FakePubmed
) -> None:
    client = make_client(api_key="sekret")
    client.esearch("ketamine")
    client.fetch_references(["19783371"])
    assert len(fake_pubmed.seen) == 2
    for seen in fake_pubmed.seen:
        assert seen.values["tool"] == "refdb"
        assert seen.values["email"] == EMAIL
        assert seen.values["api_key"] == "sekret"
        assert seen.values["db"] == "pubmed"


def test_missing_email_warns_once(
    make_client: MakeClient, fake_pubmed: FakePubmed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "_warned_no_email", False)
    with pytest.warns(UserWarning, match="NCBI_EMAIL"):
        first = make_client(email=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_client(email=None)
    first.esearch("ketamine")
    assert "email" not in fake_pubmed.seen[0].values
    assert fake_pubmed.seen[0].values["tool"] == "refdb"


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFDB_EUTILS_URL", "http://127.0.0.1:9/eutils")
    monkeypatch.setenv("NCBI_EMAIL", "a@b.c")
    monkeypatch.setenv("NCBI_API_KEY", "k")
    client = EutilsClient()
    assert client.base_url == "http://127.0.0.1:9/eutils/"
    assert client.settings.requests_per_second == 10


def test_no_more_than_three_requests_in_any_second_without_a_key(
    make_client: MakeClient, httpserver: HTTPServer, real_limiter: RateLimiter
) -> None:
    times = _arrivals(httpserver)
    # Two clients in four threads: the limit is the process's, not one client's.
    clients = [make_client(), make_client()]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda i: clients[i % 2].esearch(f"q{i}"), range(7)))
    elapsed = time.monotonic() - started
    assert len(times) == 7
    assert _max_in_any_second(times) <= 3
    assert 2.0 <= elapsed < 5.0  # limited, yet not throttled far beyond the limit


def test_ten_requests_a_second_with_a_key(
    make_client: MakeClient, httpserver: HTTPServer, real_limiter: RateLimiter
) -> None:
    times = _arrivals(httpserver)
    client = make_client(api_key="sekret")
    started = time.monotonic()
    for i in range(13):
        client.esearch(f"q{i}")
    elapsed = time.monotonic() - started
    assert _max_in_any_second(times) <= 10
    assert 1.0 <= elapsed < 3.5


def test_429_with_retry_after_is_retried(make_client: MakeClient, httpserver: HTTPServer) -> None:
    body = (FIXTURES / "rate-limit-429.json").read_text()
    assert json.loads(body)["error"] == "API rate limit exceeded"
    calls: list[float] = []

    def handler(request: Request) -> Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            return Response(
                body, status=429, headers={"Retry-After": "1"}, content_type="application/json"
            )
        return Response(ESEARCH_OK, content_type="text/xml")

    httpserver.expect_request("/esearch.fcgi").respond_with_handler(handler)
    assert make_client().esearch("ketamine") == ["19783371"]
    assert len(calls) == 2
    assert calls[1] - calls[0] >= 0.95  # Retry-After honoured


def test_server_error_forever_fails_with_one_line(
    make_client: MakeClient, httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[float] = []

    def handler(request: Request) -> Response:
        calls.append(time.monotonic())
        return Response("oops", status=500)

    httpserver.expect_request("/efetch.fcgi").respond_with_handler(handler)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(LookupFailedError) as failure:
        make_client(max_retries=2).efetch(["1"])
    message = str(failure.value)
    assert "\n" not in message
    assert "500" in message
    assert len(calls) == 3  # the first try and two retries, no more
    assert not [r for r in caplog.records if r.name.startswith("urllib3") and r.levelno >= 30]


def test_exhausted_rate_limit_fails_with_one_line(
    make_client: MakeClient, httpserver: HTTPServer
) -> None:
    body = (FIXTURES / "rate-limit-429.json").read_text()
    httpserver.expect_request("/esearch.fcgi").respond_with_data(
        body, status=429, content_type="application/json"
    )
    with pytest.raises(LookupFailedError, match="rate limit"):
        make_client(max_retries=1).esearch("ketamine")


def test_timeout_fails_with_one_line(make_client: MakeClient, httpserver: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.4)
        return Response(ESEARCH_OK, content_type="text/xml")

    httpserver.expect_request("/esearch.fcgi").respond_with_handler(slow)
    started = time.monotonic()
    with pytest.raises(LookupFailedError, match="timed out") as failure:
        make_client(timeout=0.1, max_retries=1).esearch("ketamine")
    assert "\n" not in str(failure.value)
    assert time.monotonic() - started < 2.0


def test_connection_refused_fails_with_one_line() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = EutilsSettings(base_url=f"http://127.0.0.1:{port}/", email=EMAIL, api_key=None)
    with pytest.raises(LookupFailedError) as failure:
        EutilsClient(settings, backoff_factor=0.001, max_retries=1).esearch("ketamine")
    assert "\n" not in str(failure.value)
    assert "PubMed esearch" in str(failure.value)


@pytest.mark.parametrize(
    "body",
    [
        "this is not xml",
        "<html><body>Service unavailable</body></html>",
        "<eSearchResult><ERROR>Invalid db name specified: fleegle</ERROR></eSearchResult>",
    ],
)
def test_malformed_esearch_answer_fails(
    make_client: MakeClient, httpserver: HTTPServer, body: str
) -> None:
    httpserver.expect_request("/esearch.fcgi").respond_with_data(body, content_type="text/xml")
    with pytest.raises(LookupFailedError, match="esearch"):
        make_client().esearch("ketamine")


def test_450_pmids_take_three_efetch_posts(
    make_client: MakeClient, fake_pubmed: FakePubmed
) -> None:
    pmids = [str(10_000_000 + i) for i in range(450)]
    chunks = make_client().efetch(pmids)
    assert len(chunks) == 3
    fetches = fake_pubmed.requests_to("efetch")
    assert [s.method for s in fetches] == ["POST"] * 3
    batches = [s.form["id"].split(",") for s in fetches]
    assert [len(b) for b in batches] == [200, 200, 50]
    assert [pmid for batch in batches for pmid in batch] == pmids
    assert all("id" not in s.args for s in fetches)  # the list travels in the body


def test_unknown_pmids_give_no_records(make_client: MakeClient, httpserver: HTTPServer) -> None:
    body = (FIXTURES / "efetch-empty.xml").read_bytes()
    httpserver.expect_request("/efetch.fcgi").respond_with_data(body, content_type="text/xml")
    assert make_client().fetch_references(["99999999"]) == []


@pytest.mark.parametrize("name", ["entity-bomb.xml", "external-entity.xml"])
def test_hostile_efetch_answer_is_refused_fast(
    make_client: MakeClient, httpserver: HTTPServer, name: str
) -> None:
    body = (FIXTURES / name).read_bytes()
    httpserver.expect_request("/efetch.fcgi").respond_with_data(body, content_type="text/xml")
    started = time.monotonic()
    with pytest.raises(LookupFailedError, match="refused unsafe XML") as failure:
        make_client().fetch_references(["1"])
    assert time.monotonic() - started < 1.0
    assert "\n" not in str(failure.value)
    assert "efetch" in str(failure.value)


def test_doi_lookup_searches_article_identifiers(
    make_client: MakeClient, fake_pubmed: FakePubmed
) -> None:
    assert make_client().lookup_doi("https://doi.org/10.1038/TP.2015.136") == ["26327690"]
    term = fake_pubmed.seen[0].values["term"]
    assert '"10.1038/tp.2015.136"[aid]' in term.lower()


def test_rate_limiter_window_is_shared_across_threads() -> None:
    limiter = RateLimiter(period=0.3)
    starts: list[float] = []
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda _: (limiter.acquire(2), starts.append(time.monotonic())), range(6)))
    starts.sort()
    assert all(starts[i + 2] - starts[i] >= 0.3 for i in range(len(starts) - 2))
