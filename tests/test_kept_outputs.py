"""Kept outputs (`-o FILE --keep`): registered in the database, rewritten atomically after
every command that changes the library (undo included), a failed write reported in one line
and tried again next time, `refdb outputs` and `outputs remove`."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from refdb.cli import app
from tests.conftest import ok

Run = Callable[..., Result]


@pytest.fixture
def run(any_db_url: str) -> Run:
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        result = runner.invoke(app, ["--db", any_db_url, *args])
        assert "Traceback" not in result.output
        return result

    return invoke


def outputs(run: Run) -> list[dict[str, Any]]:
    result = run("outputs", "--json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def test_kept_bib_and_page_follow_tag_remove_and_undo(run: Run, tmp_path: Path) -> None:
    assert run("seed").exit_code == 0
    bib, page = tmp_path / "site" / "refs.bib", tmp_path / "site" / "evidence.html"
    bib.parent.mkdir()
    kept = run("export", "--format", "bibtex", "-o", str(bib), "--keep")
    assert kept.exit_code == 0, kept.output
    assert run("page", "--format", "html", "-o", str(page), "--keep").exit_code == 0

    def current() -> None:
        # Each kept file is exactly what the same command prints now.
        assert bib.read_text("utf-8") == run("export", "--format", "bibtex").stdout
        assert page.read_text("utf-8") == run("page", "--format", "html").stdout

    listed = outputs(run)
    assert [(o["kind"], o["format"], o["path"]) for o in listed] == [
        ("export", "bibtex", str(bib)),
        ("page", "html", str(page)),
    ]
    assert all(o["last_written_at"] for o in listed)
    current()

    first = bib.stat().st_ino
    assert run("tag", "yang2015rketamine", "Anxiety").exit_code == 0
    current()
    assert "Anxiety" in bib.read_text("utf-8") and "For Anxiety" in page.read_text("utf-8")
    assert bib.stat().st_ino != first  # replaced by a rename, not rewritten in place

    assert run("remove", "hu2016single").exit_code == 0
    current()
    assert "hu2016single" not in bib.read_text("utf-8")
    assert "Single i.v. ketamine" not in page.read_text("utf-8")

    assert run("undo").exit_code == 0
    current()
    assert "hu2016single" in bib.read_text("utf-8")
    assert "Single i.v. ketamine" in page.read_text("utf-8")
    assert not [p for p in bib.parent.iterdir() if p.name.startswith(".")]  # no temp files


def test_a_file_that_cannot_be_written_is_reported_and_tried_again(
    run: Run, tmp_path: Path
) -> None:
    ok(run("seed"))
    folder = tmp_path / "gone"
    folder.mkdir()
    kept = folder / "refs.json"
    assert run("export", "--format", "csl-json", "-o", str(kept), "--keep").exit_code == 0
    shutil.rmtree(folder)

    result = run("tag", "yang2015rketamine", "Anxiety")
    assert result.exit_code == 0  # the change stands
    lines = result.stderr.strip().splitlines()
    problem = [line for line in lines if str(kept) in line]
    assert len(problem) == 1 and "tries again" in problem[0], result.stderr
    assert "Anxiety" in run("show", "yang2015rketamine").stdout
    (row,) = outputs(run)
    assert row["last_error"]

    folder.mkdir()
    assert run("untag", "yang2015rketamine", "Anxiety").exit_code == 0
    items = json.loads(kept.read_text("utf-8"))
    assert len(items) == 9
    assert outputs(run)[0]["last_error"] is None


def test_outputs_remove_stops_keeping_a_file(run: Run, tmp_path: Path) -> None:
    ok(run("seed"))
    path = tmp_path / "refs.ris"
    assert run("export", "--format", "ris", "-o", str(path), "--keep").exit_code == 0
    removed = run("outputs", "remove", str(path))
    assert removed.exit_code == 0, removed.output
    before = path.read_text("utf-8")
    assert run("remove", "hu2016single").exit_code == 0
    assert path.read_text("utf-8") == before
    assert outputs(run) == []
    again = run("outputs", "remove", str(path))
    assert again.exit_code == 1 and len(again.stderr.strip().splitlines()) == 1


def test_keep_needs_a_file_and_a_dry_run_rewrites_nothing(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok(run("seed"))
    result = run("export", "--format", "bibtex", "--keep")
    assert result.exit_code == 1 and "-o FILE" in result.stderr
    assert outputs(run) == []

    path = tmp_path / "page.md"
    monkeypatch.chdir(tmp_path)
    assert run("page", "-o", "page.md", "--keep", "--no-levels").exit_code == 0
    assert outputs(run)[0]["path"] == str(path)  # registered by its absolute path
    assert "Evidence:" not in path.read_text("utf-8")
    os.utime(path, (0, 0))
    source = tmp_path / "one.ris"
    source.write_text("TY  - JOUR\nTI  - A new trial\nPY  - 2024\nER  - \n", encoding="utf-8")
    assert run("import", str(source), "--dry-run").exit_code == 0
    assert path.stat().st_mtime == 0
    assert run("import", str(source)).exit_code == 0
    assert path.stat().st_mtime > 0
    assert "Evidence:" not in path.read_text("utf-8")  # kept with its own options
