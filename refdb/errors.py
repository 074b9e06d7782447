"""Errors that reach the user as one line and exit code 1."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class RefdbError(Exception):
    """Bad input or a failed lookup: the message is shown as one line, exit code 1."""


class NotFoundError(RefdbError):
    """A REF (key, PMID, DOI or id) that matches no study."""


class LookupFailedError(RefdbError):
    """A remote lookup (PubMed) failed after its retries."""


class AmbiguousTitleError(LookupFailedError):
    """A title whose best PubMed candidate scores below the threshold; carries the candidates
    (`refdb.sources.pubmed.Candidate`s, for `api.candidates_text`)."""

    def __init__(self, message: str, candidates: Sequence[Any]) -> None:
        super().__init__(message)
        self.candidates = list(candidates)
