"""Errors that reach the user as one line and exit code 1."""


class RefdbError(Exception):
    """Bad input or a failed lookup: the message is shown as one line, exit code 1."""


class NotFoundError(RefdbError):
    """A REF (key, PMID, DOI or id) that matches no study."""


class LookupFailedError(RefdbError):
    """A remote lookup (PubMed) failed after its retries."""
