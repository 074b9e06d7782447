"""Start-up: `refdb --help` (and `refdb COMMAND --help`) load none of the heavy libraries.

Each check runs a fresh interpreter, so what this test process already imported does not
count. No timings here: speed is measured in benchmarks/, not asserted in unit tests.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import REPO

# Loaded only by the commands that need them (the store, importers, renderers, PubMed).
HEAVY = (
    "sqlalchemy",
    "alembic",
    "citeproc",
    "requests",
    "lxml",
    "bibtexparser",
    "pylatexenc",
    "rapidfuzz",
    "numpy",
    "rispy",
    "defusedxml",
)
# refdb's own modules that pull those in. (`refdb.api`, the one surface the CLI uses, is light:
# each of its functions loads the modules behind it when called.)
HEAVY_REFDB = (
    "refdb.store",
    "refdb.render",
    "refdb.sources",
    "refdb.enrichment",
    "refdb.importing",
    "refdb.views",
    "refdb.kept",
    "refdb.watching",
)

COMMANDS = [
    ["list"],
    ["show"],
    ["indications"],
    ["page"],
    ["seed"],
    ["tag"],
    ["untag"],
    ["edit"],
    ["remove"],
    ["search"],
    ["duplicates"],
    ["history"],
    ["undo"],
    ["import"],
    ["export"],
    ["add"],
    ["enrich"],
    ["check"],
    ["site"],
    ["db"],
    ["db", "upgrade"],
    ["watch"],
    ["watch", "add"],
    ["watch", "list"],
    ["watch", "remove"],
    ["watch", "run"],
    ["watch", "accept"],
    ["watch", "dismiss"],
]

# Runs the CLI's entry point like the console script does, then prints what was imported.
MODULES_AFTER = """
import json, sys
from refdb.cli import main
runs = json.loads(sys.argv[1])
for argv in runs:
    sys.argv = ["refdb", *argv]
    try:
        main()
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
print("MODULES " + json.dumps(sorted(sys.modules)))
"""


def heavy(modules: list[str]) -> list[str]:
    return sorted(
        name
        for name in modules
        if name.split(".")[0] in HEAVY
        or any(name == h or name.startswith(h + ".") for h in HEAVY_REFDB)
    )


def modules_after(*runs: list[str]) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", MODULES_AFTER, json.dumps(list(runs))],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout, result.stdout
    line = result.stdout.splitlines()[-1]
    assert line.startswith("MODULES "), result.stdout
    modules: list[str] = json.loads(line.removeprefix("MODULES "))
    return modules


def importtime_modules(*args: str) -> list[str]:
    """The modules `python -X importtime -m refdb ARGS` imports (from its stderr)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "refdb", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout, result.stdout
    names = [
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    ]
    assert "typer" in names, result.stderr  # the output is what it should be
    return names


@pytest.mark.parametrize("args", [["--help"], ["import", "--help"]], ids=" ".join)
def test_python_m_refdb_help_loads_nothing_heavy(args: list[str]) -> None:
    assert heavy(importtime_modules(*args)) == []


@pytest.mark.parametrize("args", [[], ["import"]], ids=lambda a: " ".join(["refdb", *a]))
def test_help_loads_nothing_heavy(args: list[str]) -> None:
    modules = modules_after([*args, "--help"])
    assert "refdb.cli" in modules
    assert heavy(modules) == []


def test_every_command_help_loads_nothing_heavy() -> None:
    modules = modules_after(["--help"], *([*c, "--help"] for c in COMMANDS))
    assert heavy(modules) == []


def test_import_refdb_is_cheap_and_its_names_still_work() -> None:
    snippet = """
import json, sys
import refdb
before = sorted(sys.modules)
names = {name: type(getattr(refdb, name)).__name__ for name in refdb.__all__}
from refdb import open_library, Reference, api
print(json.dumps({"before": before, "names": names, "version": refdb.__version__,
                  "dir": all(n in dir(refdb) for n in refdb.__all__),
                  "same": refdb.open_library is api.open_library}))
"""
    result = subprocess.run(
        [sys.executable, "-c", snippet],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert heavy(data["before"]) == []
    assert data["names"] == {
        "Author": "type",
        "Library": "type",
        "RefdbError": "type",
        "Reference": "type",
        "export": "function",
        "import_file": "function",
        "open_library": "function",
        "page": "function",
        "seed": "function",
        "site": "function",
    }
    assert data["version"] == "0.1.0"
    assert data["dir"] and data["same"]


def test_unknown_attribute_of_refdb_is_an_attribute_error() -> None:
    import refdb

    with pytest.raises(AttributeError, match="no_such_name"):
        _ = refdb.no_such_name  # type: ignore[attr-defined]


def test_database_errors_are_still_one_line(tmp_path: Path) -> None:
    """SQLAlchemy is no longer imported by the CLI module, yet its errors are still caught."""
    from refdb.cli import app

    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database " * 64)
    result = CliRunner().invoke(app, ["--db", f"sqlite:///{bad}", "list"])
    assert result.exit_code == 1, result.output
    assert result.stderr == "refdb: database error: file is not a database\n"
    assert result.stdout == ""


def test_other_errors_still_propagate() -> None:
    """`handled` catches SQLAlchemy's errors and refdb's, not everything."""
    from refdb.cli.context import handled

    def boom() -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        handled(boom)()


def test_the_command_line_reaches_the_library_through_refdb_api_alone() -> None:
    """Every import in refdb/cli/ of a refdb module, at the top, inside functions and under
    TYPE_CHECKING, names `refdb.api` or the command line's own modules."""
    cli_dir = Path(__file__).resolve().parent.parent / "refdb" / "cli"
    found: dict[str, set[str]] = {}
    for path in sorted(cli_dir.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = (
                    [node.module]
                    if node.module != "refdb"
                    else [f"refdb.{alias.name}" for alias in node.names]
                )
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name == "refdb" or name.startswith("refdb."):
                    found.setdefault(name, set()).add(path.name)
    assert "refdb.api" in found
    others = {
        name: files
        for name, files in found.items()
        if name != "refdb.api" and not name.startswith("refdb.cli")
    }
    assert others == {}
