"""Renderings kept between commands (the citation cache in the user's cache folder): a page or
an export made from the cache is the one made from nothing, whatever changed meanwhile, and a
cache refdb cannot read is no cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from refdb.records import Author, Reference
from refdb.render.citation_cache import CitationCache
from refdb.render.citations import format_entries, style_facts
from tests.conftest import REPO, RunCli
from tests.site_helpers import seeded_library
from tests.test_site_incremental import SAME_AUTHORS, ok, write_json

OUTPUTS = [
    ("page",),
    ("page", "--format", "text", "--style", "apa"),
    ("page", "--format", "html", "--style", "vancouver"),
    ("export", "--format", "markdown", "--style", "apa"),
    ("export", "--format", "text"),
]


def cache_files() -> list[Path]:
    return sorted(Path(os.environ["XDG_CACHE_HOME"], "refdb", "citations").glob("*.json"))


def test_pages_and_exports_from_the_cache_are_the_ones_made_from_nothing(
    cli: RunCli, db_url: str, tmp_path: Path
) -> None:
    seeded_library(db_url)
    ok(cli("import", str(write_json(tmp_path / "same.json", SAME_AUTHORS[:2]))))
    cold = [ok(cli(*args)).stdout for args in OUTPUTS]
    assert len(cache_files()) == 3  # one per library and style
    assert [ok(cli(*args)).stdout for args in OUTPUTS] == cold  # from the cache now

    # Changes that reach other studies' entries: a third 2020 study of the same authors
    # (APA's 2020a, 2020b move), a study gone (AMA's numbers move), an identifier edited.
    ok(cli("import", str(write_json(tmp_path / "more.json", SAME_AUTHORS[2:]))))
    ok(cli("remove", "hu2016single", "--yes"))
    ok(cli("edit", "newman2020mood", "--set", "doi=10.5555/other"))
    warm = [ok(cli(*args)).stdout for args in OUTPUTS]
    for path in cache_files():
        path.unlink()
    assert warm == [ok(cli(*args)).stdout for args in OUTPUTS]
    assert "10.5555/other" in warm[0] and "(2020c)" in warm[1]


def refdb_process(db_url: str, *args: str) -> str:
    """`python -m refdb --db URL ARGS...` as its own process (its own reading of the cache)."""
    done = subprocess.run(
        [sys.executable, "-m", "refdb", "--db", db_url, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_cache_that_cannot_be_read_is_no_cache(db_url: str) -> None:
    seeded_library(db_url)
    first = refdb_process(db_url, "page")
    (path,) = cache_files()
    path.write_text("{broken", encoding="utf-8")
    assert refdb_process(db_url, "page") == first
    entries = json.loads(path.read_text("utf-8"))["entries"]  # written again, whole
    entries = {name: ["x", "<i>not this</i>", "x", "x"] for name in entries}
    path.write_text(json.dumps({"format": 0, "entries": entries}), encoding="utf-8")
    assert refdb_process(db_url, "page") == first  # another layout: not read


def test_a_kept_page_follows_changes_through_the_cache(cli: RunCli, tmp_path: Path) -> None:
    assert cli("seed").exit_code == 0
    page = tmp_path / "evidence.md"
    ok(cli("page", "-o", str(page), "--keep", "--style", "apa"))
    for change in (
        ("tag", "yang2015rketamine", "Anxiety"),
        ("edit", "hu2016single", "--set", "title=A title the cache never saw"),
        ("remove", "yang2015rketamine", "--yes"),
        ("undo",),
    ):
        ok(cli(*change))
        assert page.read_text("utf-8") == ok(cli("page", "--style", "apa")).stdout
    assert "A title the cache never saw" in page.read_text("utf-8")


@pytest.mark.parametrize("style", ["ama", "apa", "vancouver"])
def test_entries_from_the_cache_are_the_entries_rendered(style: str) -> None:
    refs = [
        Reference(
            title=f"Study {n} of ketamine",
            authors=[Author(family="Newman", given="Ann")],
            year=2020 + n % 2,
            container_title="Pain",
            authors_complete=n % 3 != 0,
        )
        for n in range(8)
    ]
    plain = format_entries(refs, style)
    cache = CitationCache(style_facts(style).fingerprint)
    assert format_entries(refs, style, cache) == plain
    assert cache.added and format_entries(refs, style, cache) == plain
    # Another place for each study (one fewer before it): numbers and suffixes move.
    assert format_entries(refs[1:], style, cache) == format_entries(refs[1:], style)
    text = [entry.body_markdown for entry in format_entries(refs, style, cache, plain=True)]
    assert text == [entry.body_markdown for entry in plain]
    other = CitationCache.from_json(cache.to_json(), "another style")
    assert other.entries == {}
