"""Offline, or pointed at an address where nothing listens: every command that needs PubMed
fails with one line that says PubMed cannot be reached and how to point refdb elsewhere, after
one immediate retry of the connection; NCBI's 429 and 503 answers keep their retries.

No wall clock here: the attempts are counted under the client's own urllib3 retry policy."""

from __future__ import annotations

from typing import Any

import pytest
from urllib3.exceptions import MaxRetryError, NewConnectionError
from urllib3.response import HTTPResponse
from urllib3.util.retry import Retry

from refdb.config import EutilsSettings
from refdb.sources.pubmed.client import EutilsClient
from tests.conftest import RunCli

REFUSED = "http://127.0.0.1:9/eutils/"  # tests/conftest.py points REFDB_EUTILS_URL here


def _policy() -> Retry:
    client = EutilsClient(EutilsSettings(base_url=REFUSED, email="t@example.org"))
    retry: Retry = client.session.get_adapter(REFUSED).max_retries
    client.close()
    return retry


def _attempts(retry: Retry, **failure: Any) -> tuple[int, list[float]]:
    """How many attempts the policy makes for one failure repeated, and the waits between."""
    attempts, waits = 1, []
    while True:
        try:
            retry = retry.increment(method="GET", url="/eutils/esearch.fcgi", **failure)
        except MaxRetryError:
            return attempts, waits
        attempts += 1
        waits.append(retry.get_backoff_time())


def test_a_refused_connection_is_tried_twice_without_waiting() -> None:
    refused = NewConnectionError(None, "Failed to establish a new connection: [Errno 111]")
    attempts, waits = _attempts(_policy(), error=refused)
    assert attempts == 2
    assert waits == [0.0]


@pytest.mark.parametrize("status", [429, 503])
def test_ncbi_busy_answers_are_still_retried_with_backoff(status: int) -> None:
    policy = _policy()
    attempts, waits = _attempts(policy, response=HTTPResponse(status=status))
    assert attempts == 5
    assert waits == sorted(waits) and waits[-1] > 0  # exponential backoff
    assert policy.respect_retry_after_header and status in (policy.status_forcelist or ())


SETUP: dict[str, list[list[str]]] = {
    "check": [["seed"]],
    "enrich": [["seed"]],
    "watch run": [["watch", "add", "crps", "--query", "ketamine CRPS"]],
}


@pytest.mark.parametrize(
    "command",
    [
        ["add", "--pmid", "19783371"],
        ["add", "--doi", "10.1016/j.jpain.2015.05.008"],
        ["add", "--title", "Outpatient intravenous ketamine for CRPS"],
        ["check"],
        ["enrich", "--all"],
        ["watch", "run"],
        ["watch", "accept", "19783371"],
    ],
    ids=" ".join,
)
def test_each_pubmed_command_offline_fails_in_one_line_naming_the_setting(
    cli: RunCli, command: list[str]
) -> None:
    for setup in SETUP.get(" ".join(command[:2]), SETUP.get(command[0], [])):
        assert cli(*setup).exit_code == 0
    result = cli(*command)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"PubMed cannot be reached at {REFUSED} (connection refused)" in result.stderr
    assert "set REFDB_EUTILS_URL" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
