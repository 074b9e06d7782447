"""The fixtures beside the repository (`../shared`): their one path, and skips when absent.

Every test reaches the shared folder through this module (tests/conftest.py offers its
fixtures to every test). A checkout without the folder, or a run with REFDB_SHARED_DIR naming
another place (an absent one, to try it), skips the tests that need a file from it, each with
the path it missed as the reason; collection never fails.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("REFDB_SHARED_DIR") or REPO.parent / "shared")
"""The shared fixtures: ../shared beside the repository, or REFDB_SHARED_DIR."""
SHARED_PUBMED = SHARED / "fixtures" / "pubmed"
"""Recorded efetch answers and NLM's 2019 PubMed sample."""
GOLDEN = SHARED / "golden" / "citeproc-js"
"""citeproc-js's output for the nine seed studies."""


def _absent(path: Path) -> str:
    return f"{path} is absent (the shared fixtures beside the repository, or REFDB_SHARED_DIR)"


def shared_file(relative: str | Path) -> Path:
    """SHARED / relative (a path in SHARED will do too); the calling test skips, naming the
    path, when it is absent."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(_absent(path))
    return path


def needs_shared(*relative: str | Path) -> pytest.MarkDecorator:
    """Skip the test (or module, as `pytestmark`) unless every file named is in SHARED."""
    missing = [SHARED / r for r in relative if not (SHARED / r).exists()]
    return pytest.mark.skipif(bool(missing), reason=_absent(missing[0]) if missing else "")


def shared_glob(pattern: str) -> list[Any]:
    """The SHARED files matching a glob, sorted, to parametrize a test on; when none match
    (the folder is absent), one case that skips naming the folder."""
    found = sorted(SHARED.glob(pattern))
    if found:
        return found
    folder = (SHARED / pattern).parent
    return [pytest.param(SHARED / pattern, marks=pytest.mark.skip(reason=_absent(folder)))]


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared folder (the test skips when it is absent)."""
    if not SHARED.is_dir():
        pytest.skip(_absent(SHARED))
    return SHARED


@pytest.fixture(scope="session")
def seed_metadata() -> dict[str, Any]:
    """shared/seed-metadata.json: the verified facts about the nine seed studies."""
    data: dict[str, Any] = json.loads(shared_file("seed-metadata.json").read_text("utf-8"))
    return data


@pytest.fixture(scope="session")
def shared_pubmed() -> Path:
    """shared/fixtures/pubmed: recorded efetch answers and NLM's 2019 sample."""
    return shared_file("fixtures/pubmed")


@pytest.fixture(scope="session")
def golden() -> Path:
    """shared/golden/citeproc-js: what citeproc-js prints for the seed studies."""
    return shared_file("golden/citeproc-js")
