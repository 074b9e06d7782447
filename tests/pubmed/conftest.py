"""A fake E-utilities server (pytest-httpserver on localhost) and clients pointed at it."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from refdb.config import EutilsSettings
from refdb.identifiers import normalise_doi
from refdb.records import normalise_title
from refdb.sources.pubmed.client import EutilsClient
from tests.conftest import FakeClock
from tests.plugin_shared import REPO

FIXTURES = REPO / "tests" / "fixtures" / "pubmed"
EMAIL = "staff@example.org"

_ARTICLE = re.compile(rb"<PubmedArticle>.*?</PubmedArticle>", re.DOTALL)


@dataclass
class Seen:
    """One request as the server saw it (`at`: by the test's fake clock)."""

    at: float
    method: str
    path: str
    args: dict[str, str]
    form: dict[str, str]

    @property
    def values(self) -> dict[str, str]:
        return {**self.args, **self.form}


@dataclass
class FakePubmed:
    """Answers esearch from tests/fixtures/pubmed/esearch and efetch from .../efetch."""

    clock: FakeClock = field(default_factory=FakeClock)
    searches: dict[str, list[str]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, request: Request) -> Seen:
        seen = Seen(
            at=self.clock.now(),
            method=request.method,
            path=request.path,
            args=dict(request.args),
            form=dict(request.form),
        )
        with self.lock:
            self.seen.append(seen)
        return seen

    def esearch(self, request: Request) -> Response:
        term = self.record(request).values["term"]
        if "[aid]" in term.lower():
            doi = normalise_doi(re.search(r'"([^"]+)"', term).group(1))  # type: ignore[union-attr]
            ids = [
                p.stem
                for p in sorted((FIXTURES / "efetch").glob("*.xml"))
                if doi and f">{doi.lower()}<".encode() in p.read_bytes().lower()
            ]
            return _esearch_response(ids)
        key = normalise_title(re.sub(r"\[\w+\]", " ", term).replace(" AND ", " "))
        if key in self.searches:
            return _esearch_response(self.searches[key])
        index = json.loads((FIXTURES / "esearch" / "index.json").read_text("utf-8"))
        name = index["by_normalised_title"].get(key, "empty.xml")
        return Response((FIXTURES / "esearch" / name).read_bytes(), content_type="text/xml")

    def efetch(self, request: Request) -> Response:
        ids = self.record(request).values["id"].split(",")
        articles = []
        for pmid in ids:
            path = FIXTURES / "efetch" / f"{pmid}.xml"
            if path.exists():
                articles.extend(_ARTICLE.findall(path.read_bytes()))
        body = b"<?xml version='1.0'?>\n<PubmedArticleSet>" + b"\n".join(articles)
        return Response(body + b"</PubmedArticleSet>", content_type="text/xml")

    def requests_to(self, utility: str) -> list[Seen]:
        return [s for s in self.seen if s.path.endswith(f"/{utility}.fcgi")]


@dataclass
class SilentServer:
    """A port on 127.0.0.1 that takes connections and never answers: a stalled server, for
    timeouts, with no sleeping handler."""

    sock: socket.socket

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/"

    def connections(self) -> int:
        """How many connections were made to it so far (each is taken and closed now)."""
        self.sock.setblocking(False)
        count = 0
        while True:
            try:
                connection, _ = self.sock.accept()
            except BlockingIOError:
                return count
            connection.close()
            count += 1


def _esearch_response(ids: list[str]) -> Response:
    id_list = "".join(f"<Id>{i}</Id>" for i in ids)
    body = (
        f"<eSearchResult><Count>{len(ids)}</Count><RetMax>{len(ids)}</RetMax><RetStart>0</RetStart>"
        f"<IdList>{id_list}</IdList></eSearchResult>"
    )
    return Response(body, content_type="text/xml")


@pytest.fixture
def make_client(httpserver: HTTPServer) -> Iterator[Callable[..., EutilsClient]]:
    clients: list[EutilsClient] = []

    def make(
        *, api_key: str | None = None, email: str | None = EMAIL, timeout: float = 5.0, **kw: Any
    ) -> EutilsClient:
        settings = EutilsSettings(
            base_url=httpserver.url_for("/"), api_key=api_key, email=email, timeout=timeout
        )
        kw.setdefault("backoff_factor", 0.001)
        kw.setdefault("max_retries", 2)
        client = EutilsClient(settings, **kw)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    """A server that never answers (connections wait in its listen queue)."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as sock:
        yield SilentServer(sock)


@pytest.fixture
def fake_pubmed(httpserver: HTTPServer, clock: FakeClock) -> FakePubmed:
    fake = FakePubmed(clock)
    httpserver.expect_request("/esearch.fcgi").respond_with_handler(fake.esearch)
    httpserver.expect_request("/efetch.fcgi").respond_with_handler(fake.efetch)
    return fake


@pytest.fixture
def seed_studies() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "seed-studies.json").read_text("utf-8"))
    return data
