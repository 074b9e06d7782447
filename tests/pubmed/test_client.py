"""The E-utilities client against a local server: etiquette, rate limit, retries, failures."""

from __future__ import annotations

import json
import logging
import socket
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
from tests.conftest import FakeClock, RecordingLimiter

from .conftest import EMAIL, FIXTURES, FakePubmed, SilentServer

MakeClient = Callable[..., EutilsClient]
ESEARCH_OK = "<eSearchResult><Count>1</Count><IdList><Id>19783371</Id></IdList></eSearchResult>"


def _arrivals(httpserver: HTTPServer) -> list[str]:
    """Answer every esearch; the terms that arrived."""
    terms: list[str] = []

    def handler(request: Request) -> Response:
        terms.append(request.args["term"])
        return Response(ESEARCH_OK, content_type="text/xml")

    httpserver.expect_request("/esearch.fcgi").respond_with_handler(handler)
    return terms


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


# The rate limiter and the retries wait by the test's fake clock (tests/conftest.py): the
# times below are the clock's, each wait recorded in `clock.sleeps`, and nothing really sleeps.


def test_no_more_than_three_requests_in_any_second_without_a_key(
    make_client: MakeClient,
    httpserver: HTTPServer,
    real_limiter: RecordingLimiter,
    clock: FakeClock,
) -> None:
    arrived = _arrivals(httpserver)
    # Two clients in four threads: the limit is the process's, not one client's.
    clients = [make_client(), make_client()]
    started = clock.now()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda i: clients[i % 2].esearch(f"q{i}"), range(7)))
    elapsed = clock.now() - started
    assert len(arrived) == 7
    times = real_limiter.starts
    assert len(times) == 7  # every request started through the one limiter
    assert _max_in_any_second(times) <= 3
    assert 2.0 <= elapsed < 5.0  # limited, yet not throttled far beyond the limit
    # Three at once, then three more when the window (1 s and its 0.1 s margin) has passed.
    offsets = [round(t - started, 3) for t in sorted(times)]
    assert offsets == [0.0, 0.0, 0.0, 1.102, 1.102, 1.102, 2.204]


def test_ten_requests_a_second_with_a_key(
    make_client: MakeClient,
    httpserver: HTTPServer,
    real_limiter: RecordingLimiter,
    clock: FakeClock,
) -> None:
    arrived = _arrivals(httpserver)
    client = make_client(api_key="sekret")
    started = clock.now()
    for i in range(13):
        client.esearch(f"q{i}")
    elapsed = clock.now() - started
    assert arrived == [f"q{i}" for i in range(13)]
    assert _max_in_any_second(real_limiter.starts) <= 10
    assert 1.0 <= elapsed < 3.5


def test_429_with_retry_after_is_retried(
    make_client: MakeClient, httpserver: HTTPServer, clock: FakeClock
) -> None:
    body = (FIXTURES / "rate-limit-429.json").read_text()
    assert json.loads(body)["error"] == "API rate limit exceeded"
    calls: list[float] = []

    def handler(request: Request) -> Response:
        calls.append(clock.now())
        if len(calls) == 1:
            return Response(
                body, status=429, headers={"Retry-After": "1"}, content_type="application/json"
            )
        return Response(ESEARCH_OK, content_type="text/xml")

    httpserver.expect_request("/esearch.fcgi").respond_with_handler(handler)
    assert make_client().esearch("ketamine") == ["19783371"]
    assert len(calls) == 2
    assert calls[1] - calls[0] >= 0.95  # Retry-After honoured
    assert clock.sleeps == [1.0]  # exactly the second it asked for, and no more


def test_a_long_retry_after_is_capped_at_a_minute(
    make_client: MakeClient, httpserver: HTTPServer, clock: FakeClock
) -> None:
    answers = [Response("busy", status=429, headers={"Retry-After": "3600"})]

    def handler(request: Request) -> Response:
        return answers.pop(0) if answers else Response(ESEARCH_OK, content_type="text/xml")

    httpserver.expect_request("/esearch.fcgi").respond_with_handler(handler)
    assert make_client().esearch("ketamine") == ["19783371"]
    assert clock.sleeps == [60.0]


def test_server_errors_back_off_exponentially(
    make_client: MakeClient, httpserver: HTTPServer, clock: FakeClock
) -> None:
    """The client's own defaults (backoff 0.5, four retries): at once, then 1, 2 and 4 s."""
    httpserver.expect_request("/efetch.fcgi").respond_with_data("oops", status=500)
    with pytest.raises(LookupFailedError, match="HTTP 500"):
        make_client(backoff_factor=0.5, max_retries=4).efetch(["1"])
    assert len(httpserver.log) == 5
    assert clock.sleeps == [1.0, 2.0, 4.0]


def test_server_error_forever_fails_with_one_line(
    make_client: MakeClient,
    httpserver: HTTPServer,
    caplog: pytest.LogCaptureFixture,
    clock: FakeClock,
) -> None:
    calls: list[float] = []

    def handler(request: Request) -> Response:
        calls.append(clock.now())
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


def test_timeout_fails_with_one_line(silent_server: SilentServer) -> None:
    settings = EutilsSettings(base_url=silent_server.url, email=EMAIL, api_key=None, timeout=0.1)
    with pytest.raises(LookupFailedError, match="timed out") as failure:
        EutilsClient(settings, backoff_factor=0.001, max_retries=1).esearch("ketamine")
    assert "\n" not in str(failure.value)
    # Two tries (the message says so), not one per retry that other failures get.
    assert "2 time(s)" in str(failure.value)
    assert silent_server.connections() == 2


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
    with pytest.raises(LookupFailedError, match="refused unsafe XML") as failure:
        make_client().fetch_references(["1"])
    assert "\n" not in str(failure.value)
    assert "efetch" in str(failure.value)


def test_doi_lookup_searches_article_identifiers(
    make_client: MakeClient, fake_pubmed: FakePubmed
) -> None:
    assert make_client().lookup_doi("https://doi.org/10.1038/TP.2015.136") == ["26327690"]
    term = fake_pubmed.seen[0].values["term"]
    assert '"10.1038/tp.2015.136"[aid]' in term.lower()


def test_rate_limiter_window_is_shared_across_threads() -> None:
    clock = FakeClock()
    limiter = RateLimiter(period=0.3, clock=clock.now, sleep=clock.sleep)
    with ThreadPoolExecutor(max_workers=6) as pool:
        starts = sorted(pool.map(lambda _: limiter.acquire(2), range(6)))
    assert all(starts[i + 2] - starts[i] >= 0.3 for i in range(len(starts) - 2))
    assert len(clock.sleeps) == 2  # two waits for a window: six starts, two at a time
