"""`make demo` installs refdb alone and says where its database is; `make test` adds the test
extra. Read from `make -n` (what make would run), with a fresh venv path."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, needs

pytestmark = needs("make")


def _planned(target: str, tmp_path: Path) -> list[str]:
    result = subprocess.run(
        ["make", "-n", target, f"VENV={tmp_path / 'venv'}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.splitlines()


def test_the_demo_installs_refdb_without_the_test_tools(tmp_path: Path) -> None:
    planned = _planned("demo", tmp_path)
    installs = [line for line in planned if "pip install" in line and "--upgrade pip" not in line]
    assert len(installs) == 1 and installs[0].endswith("pip install --quiet -e .")
    assert not any("[test]" in line for line in planned)


def test_the_demo_says_where_the_database_is(tmp_path: Path) -> None:
    planned = _planned("demo", tmp_path)
    seed = next(i for i, line in enumerate(planned) if line.endswith("refdb seed"))
    assert any(line.endswith("refdb db info") for line in planned[seed:])


@pytest.mark.parametrize("target", ["test", "lint", "typecheck", "pytest"])
def test_the_test_targets_install_the_test_extra(tmp_path: Path, target: str) -> None:
    planned = _planned(target, tmp_path)
    assert any(line.endswith("pip install --quiet -e '.[test]'") for line in planned)
