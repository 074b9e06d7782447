"""A fake E-utilities server (pytest-httpserver on localhost) and clients pointed at it."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from refdb.config import EutilsSettings
from refdb.identifiers import normalise_doi
from refdb.records import normalise_title
from refdb.sources.pubmed import client as client_module
from refdb.sources.pubmed.client import EutilsClient, RateLimiter

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared"
SHARED_PUBMED = SHARED / "fixtures" / "pubmed"
FIXTURES = REPO / "tests" / "fixtures" / "pubmed"
EMAIL = "staff@example.org"

_ARTICLE = re.compile(rb"<PubmedArticle>.*?</PubmedArticle>", re.DOTALL)


@dataclass
class Seen:
    """One request as the server saw it."""

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

    searches: dict[str, list[str]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, request: Request) -> Seen:
        seen = Seen(
            at=time.monotonic(),
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


def _esearch_response(ids: list[str]) -> Response:
    id_list = "".join(f"<Id>{i}</Id>" for i in ids)
    body = (
        f"<eSearchResult><Count>{len(ids)}</Count><RetMax>{len(ids)}</RetMax><RetStart>0</RetStart>"
        f"<IdList>{id_list}</IdList></eSearchResult>"
    )
    return Response(body, content_type="text/xml")


@pytest.fixture(autouse=True)
def unthrottled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Most tests need no rate limit; the rate-limit tests ask for `real_limiter`."""
    monkeypatch.setattr(client_module, "_LIMITER", RateLimiter(period=0.0, margin=0.0))


@pytest.fixture
def real_limiter(monkeypatch: pytest.MonkeyPatch) -> RateLimiter:
    limiter = RateLimiter()
    monkeypatch.setattr(client_module, "_LIMITER", limiter)
    return limiter


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
def fake_pubmed(httpserver: HTTPServer) -> FakePubmed:
    fake = FakePubmed()
    httpserver.expect_request("/esearch.fcgi").respond_with_handler(fake.esearch)
    httpserver.expect_request("/efetch.fcgi").respond_with_handler(fake.efetch)
    return fake


@pytest.fixture
def seed_studies() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "seed-studies.json").read_text("utf-8"))
    return data
