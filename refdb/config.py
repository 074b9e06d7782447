"""Settings from the environment: database URL, E-utilities, user paths."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

DEFAULT_EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"


def default_database_url() -> str:
    """`REFDB_DATABASE_URL`, else `refdb.sqlite` in the user data dir (created when missing)."""
    configured = os.environ.get("REFDB_DATABASE_URL")
    if configured:
        return configured
    folder = Path(platformdirs.user_data_dir("refdb", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'refdb.sqlite'}"


@dataclass(frozen=True)
class EutilsSettings:
    """How refdb talks to NCBI E-utilities."""

    base_url: str = field(
        default_factory=lambda: os.environ.get("REFDB_EUTILS_URL") or DEFAULT_EUTILS_URL
    )
    api_key: str | None = field(default_factory=lambda: os.environ.get("NCBI_API_KEY") or None)
    email: str | None = field(default_factory=lambda: os.environ.get("NCBI_EMAIL") or None)
    tool: str = "refdb"
    timeout: float = 20.0

    @property
    def requests_per_second(self) -> float:
        """NCBI's limit: 3 a second without an API key, 10 with one."""
        return 10.0 if self.api_key else 3.0


def cache_dir() -> Path:
    """Where refdb keeps what it can make again (renderings): the user cache dir."""
    return Path(platformdirs.user_cache_dir("refdb", appauthor=False))
