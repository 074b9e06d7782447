"""HTTP and NCBI etiquette for E-utilities: the only module in refdb that talks to PubMed.

Every request carries ``tool`` and ``email`` (and ``api_key`` when set), passes through one
process-wide rate limiter (3 request starts in any one-second window, 10 with an API key, retries
included), and is retried on 429 and 5xx with exponential backoff that honours ``Retry-After``;
a connection that is refused is tried once more at once, then fails in one line naming
``REFDB_EUTILS_URL``.
efetch always uses POST (the ID list goes in the body, so long lists never hit URL limits) in
batches of at most 200 PMIDs; esearch uses GET. Anything that still fails raises
`LookupFailedError` with one line.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import defusedxml.ElementTree as SafeET
import requests
from defusedxml import DefusedXmlException
from requests.adapters import HTTPAdapter
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from refdb.config import EutilsSettings
from refdb.errors import LookupFailedError
from refdb.identifiers import normalise_doi, pmid_or_none
from refdb.records import Reference
from refdb.sources.pubmed.parse import parse_pubmed_xml

EFETCH_BATCH = 200
"""At most this many PMIDs go into one efetch request."""

RETRY_STATUSES = (429, 500, 502, 503, 504)

ESEARCH_DATED_MAX = 10_000
"""At most this many PMIDs from one date-limited esearch (PubMed's own limit for one page)."""


@dataclass(frozen=True)
class SearchHits:
    """What a date-limited esearch found: how many records match, and their PMIDs."""

    count: int
    pmids: list[str]


# urllib3 logs a warning for every retry; the user sees one line from us instead.
for _name in ("urllib3.connectionpool", "urllib3.util.retry"):
    logging.getLogger(_name).setLevel(logging.ERROR)

log = logging.getLogger(__name__)


class RateLimiter:
    """A thread-safe sliding window: at most `rate` request starts in any `period` seconds.

    `clock` and `sleep` are the time it keeps and waits by (the monotonic clock, for real);
    every wait between requests, retries' backoff and Retry-After included, goes through them.
    """

    def __init__(
        self,
        period: float = 1.0,
        margin: float = 0.1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # NCBI counts requests as they arrive; the margin keeps a request that was slow on
        # the wire from landing in the same second as a later one.
        self.period = period + margin
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._starts: deque[float] = deque()

    def acquire(self, rate: float) -> float:
        """Block until one more request may start, then record its start and return it."""
        limit = max(1, int(rate))
        with self._lock:
            while True:
                now = self.clock()
                while self._starts and now - self._starts[0] >= self.period:
                    self._starts.popleft()
                if len(self._starts) < limit:
                    self._starts.append(now)
                    return now
                # A little slack so the window has truly passed when we wake.
                self.sleep(self.period - (now - self._starts[0]) + 0.002)

    def pause(self, seconds: float) -> None:
        """Wait `seconds` (none when not positive) by this limiter's clock."""
        if seconds > 0:
            self.sleep(seconds)

    def reset(self) -> None:
        """Forget earlier requests."""
        with self._lock:
            self._starts.clear()


_LIMITER = RateLimiter()
"""The one limiter every client in this process shares (NCBI counts per process and key)."""

_warned_no_email = False
_warn_lock = threading.Lock()


def _warn_missing_email() -> None:
    global _warned_no_email
    with _warn_lock:
        if _warned_no_email:
            return
        _warned_no_email = True
    warnings.warn(
        "NCBI_EMAIL is not set: NCBI asks E-utilities users to send a contact email",
        UserWarning,
        stacklevel=3,
    )


class _ThrottledRetry(Retry):
    """urllib3 Retry whose retries also wait for the process-wide rate limiter."""

    rate: ClassVar[float] = 3.0

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        # urllib3's own sleep waits with time.sleep; this waits the same time (Retry-After,
        # else the backoff) by the limiter's clock, so every wait is in one injectable place.
        retry_after = None
        if response is not None and self.respect_retry_after_header:
            retry_after = self.get_retry_after(response)
        _LIMITER.pause(retry_after or self.get_backoff_time())
        _LIMITER.acquire(self.rate)


class EutilsClient:
    """A polite E-utilities client: one `requests.Session`, retries, rate limit, timeouts."""

    def __init__(
        self,
        settings: EutilsSettings | None = None,
        *,
        backoff_factor: float = 0.5,
        max_retries: int = 4,
    ) -> None:
        self.settings = settings or EutilsSettings()
        self.base_url = self.settings.base_url.rstrip("/") + "/"
        if not self.settings.email:
            _warn_missing_email()
        self._tries_on_timeout = 1 + min(max_retries, 1)
        retry_class = type(
            "_ThrottledRetry", (_ThrottledRetry,), {"rate": self.settings.requests_per_second}
        )
        retry = retry_class(
            total=max_retries,
            # A refused connection (no network, a wrong REFDB_EUTILS_URL) is tried once more at
            # once, not with backoff: waiting seconds for a server that is not there helps no
            # one. NCBI's 429 and 5xx answers keep their retries with backoff and Retry-After.
            connect=min(max_retries, 1),
            # A server that does not answer in `timeout` is tried once more, not four times:
            # four silent 20 s waits would keep a person waiting nearly two minutes.
            read=min(max_retries, 1),
            status=max_retries,
            backoff_factor=backoff_factor,
            backoff_max=30.0,
            retry_after_max=60.0,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "POST"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"{self.settings.tool} (refdb; E-utilities client)"
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    # --- plumbing --------------------------------------------------------------------------

    def _params(self, extra: dict[str, str]) -> dict[str, str]:
        params = {"tool": self.settings.tool}
        if self.settings.email:
            params["email"] = self.settings.email
        if self.settings.api_key:
            params["api_key"] = self.settings.api_key
        params.update(extra)
        return params

    def _request(self, utility: str, params: dict[str, str], *, post: bool = False) -> bytes:
        """One E-utilities call (with its retries); the body, or LookupFailedError."""
        url = f"{self.base_url}{utility}.fcgi"
        _LIMITER.acquire(self.settings.requests_per_second)
        what = f"PubMed {utility}"
        try:
            if post:
                response = self.session.post(
                    url, data=self._params(params), timeout=self.settings.timeout
                )
            else:
                response = self.session.get(
                    url, params=self._params(params), timeout=self.settings.timeout
                )
        except requests.RequestException as exc:
            # After retries a read timeout surfaces as a ConnectionError: look at the cause.
            reason = "timed out" if isinstance(exc, requests.Timeout) else _reason(exc)
            if reason == "timed out":
                reason = (
                    f"timed out (no answer within {self.settings.timeout:g} s, "
                    f"{self._tries_on_timeout} time(s))"
                )
                raise LookupFailedError(f"{what} failed: {reason} ({self.base_url})") from None
            raise LookupFailedError(
                f"{what} failed: PubMed cannot be reached at {self.base_url} ({reason}); "
                "check the network, or set REFDB_EUTILS_URL to an E-utilities address "
                "that can be reached"
            ) from None
        if response.status_code == 429:
            raise LookupFailedError(f"{what}: NCBI rate limit exceeded (HTTP 429) after retries")
        if response.status_code >= 400:
            raise LookupFailedError(
                f"{what} failed: HTTP {response.status_code} {response.reason} after retries"
            )
        return response.content

    # --- utilities -------------------------------------------------------------------------

    def esearch(self, term: str, retmax: int = 20) -> list[str]:
        """PMIDs matching an Entrez query (best match first), at most `retmax`."""
        root = self._search({"term": term, "retmax": str(retmax), "sort": "relevance"})
        return _ids(root)

    def esearch_dated(
        self,
        term: str,
        *,
        mindate: str | None = None,
        maxdate: str | None = None,
        reldate: int | None = None,
        datetype: str = "edat",
        retmax: int = ESEARCH_DATED_MAX,
    ) -> SearchHits:
        """PMIDs matching a query within dates: `mindate` to `maxdate` (YYYY/MM/DD, both
        inclusive) or the last `reldate` days, by `datetype` (edat: the date PubMed added the
        record). Warns when more records match than `retmax` (only that many are returned)."""
        params = {"term": term, "retmax": str(retmax), "datetype": datetype}
        if reldate is not None and mindate is None and maxdate is None:
            params["reldate"] = str(reldate)
        elif reldate is None and mindate and maxdate:
            params.update(mindate=mindate, maxdate=maxdate)
        else:
            raise ValueError("give mindate and maxdate, or reldate")
        root = self._search(params)
        count_text = (root.findtext("Count") or "").strip()
        ids = _ids(root)
        count = int(count_text) if count_text.isdigit() else len(ids)
        if count > retmax:
            warnings.warn(
                f"PubMed esearch: {count} records match {term!r}; only the first {retmax} "
                "are used (narrow the query)",
                UserWarning,
                stacklevel=2,
            )
        return SearchHits(count, ids)

    def _search(self, params: dict[str, str]) -> Any:
        """One esearch (GET) and its parsed eSearchResult; LookupFailedError otherwise."""
        body = self._request("esearch", {"db": "pubmed", **params})
        try:
            root = SafeET.fromstring(body)
        except (SafeET.ParseError, DefusedXmlException) as exc:
            raise LookupFailedError(f"PubMed esearch returned malformed XML: {exc}") from None
        if root.tag != "eSearchResult":
            raise LookupFailedError(f"PubMed esearch returned <{root.tag}>, not eSearchResult")
        error = root.findtext("ERROR")
        if error:
            raise LookupFailedError(f"PubMed esearch error: {' '.join(error.split())}")
        return root

    def efetch(self, pmids: Sequence[str]) -> list[bytes]:
        """PubmedArticleSet XML for the PMIDs: one body per batch of at most 200 (POST)."""
        ids = _unique(p for p in (pmid_or_none(x) for x in pmids) if p)
        chunks: list[bytes] = []
        for start in range(0, len(ids), EFETCH_BATCH):
            batch = ids[start : start + EFETCH_BATCH]
            chunks.append(
                self._request(
                    "efetch",
                    {"db": "pubmed", "retmode": "xml", "id": ",".join(batch)},
                    post=True,
                )
            )
        return chunks

    def fetch_references(self, pmids: Sequence[str]) -> list[Reference]:
        """The parsed records for the PMIDs (those PubMed knows), in PubMed's order."""
        refs: list[Reference] = []
        for chunk in self.efetch(pmids):
            refs.extend(parse_pubmed_xml(chunk, source="PubMed efetch"))
        return refs

    def lookup_doi(self, doi: str) -> list[str]:
        """PMIDs whose article identifier or location id is the DOI (one esearch)."""
        normalised = normalise_doi(doi)
        if not normalised:
            return []
        quoted = normalised.replace('"', "")
        return self.esearch(f'"{quoted}"[aid] OR "{quoted}"[lid]', retmax=5)

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()

    def __enter__(self) -> EutilsClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _ids(root: Any) -> list[str]:
    """The PMIDs of an eSearchResult, in its order."""
    return [(e.text or "").strip() for e in root.iterfind("IdList/Id") if (e.text or "").strip()]


def _unique(values: Any) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(value, None)
    return list(seen)


def _reason(exc: BaseException) -> str:
    """The innermost cause of a requests/urllib3 error, in a few words."""
    seen: BaseException | None = exc
    text = str(exc)
    while seen is not None:
        reason = getattr(seen, "reason", None)
        if isinstance(reason, BaseException):
            seen = reason
            text = str(reason)
            continue
        args = getattr(seen, "args", ())
        if args and isinstance(args[0], BaseException):
            seen = args[0]
            text = str(seen)
            continue
        break
    lower = text.lower()
    if "timed out" in lower:
        return "timed out"
    if "refused" in lower:
        return "connection refused"
    if any(n in lower for n in ("name or service", "name resolution", "nodename", "getaddrinfo")):
        return "its host name does not resolve"
    if "Max retries exceeded" in text:
        return "could not connect"
    return " ".join(text.split())[:200]


def default_client() -> EutilsClient:
    """The client a command makes when it is given none (settings from the environment)."""
    return EutilsClient()


@contextmanager
def open_client(client: EutilsClient | None = None) -> Iterator[EutilsClient]:
    """The client given (its owner closes it), or one made for this call and closed after."""
    if client is not None:
        yield client
        return
    with default_client() as made:
        yield made
