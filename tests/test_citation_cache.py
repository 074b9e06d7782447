"""Renderings kept between commands (the citation cache in the user's cache folder): a page or
an export made from the cache is the one made from nothing, whatever changed meanwhile, and a
cache refdb cannot read is no cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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


@pytest.mark.parametrize(
    ("kind", "fmt", "style"),
    [
        ("page", "markdown", "apa"),
        ("page", "text", "ama"),
        ("page", "html", "vancouver"),
        ("export", "markdown", "ama"),
        ("export", "text", "apa"),
    ],
)
def test_a_kept_page_after_each_change_is_the_page_printed(
    cli: RunCli, db_url: str, tmp_path: Path, kind: str, fmt: str, style: str
) -> None:
    seeded_library(db_url)
    ok(cli("import", str(write_json(tmp_path / "same.json", SAME_AUTHORS[:2]))))
    kept = tmp_path / f"kept.{fmt}"
    command = (kind, "--format", fmt, "--style", style)
    ok(cli(*command, "-o", str(kept), "--keep"))
    for change in (
        ("tag", "yang2015rketamine", "Anxiety"),
        ("edit", "hu2016single", "--set", "title=A title the cache never saw"),
        ("import", str(write_json(tmp_path / "more.json", SAME_AUTHORS[2:]))),  # 2020a moves
        ("remove", "newman2020sleep", "--yes"),  # the numbers after it move
        ("edit", "newman2020mood", "--set", "doi=10.5555/other"),
        ("undo",),
        ("edit", "yang2015rketamine", "--set", "status=retracted"),
    ):
        ok(cli(*change))
        assert kept.read_text("utf-8") == ok(cli(*command)).stdout, change
    assert "A title the cache never saw" in kept.read_text("utf-8")

    # A kept file edited by hand is written whole the next time.
    kept.write_text(kept.read_text("utf-8").replace("Ketamine", "KETAMINE"), encoding="utf-8")
    ok(cli("untag", "yang2015rketamine", "Anxiety"))
    assert kept.read_text("utf-8") == ok(cli(*command)).stdout


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


@pytest.mark.parametrize(
    ("style", "fmt"), [("apa", "markdown"), ("ama", "html"), ("vancouver", "text")]
)
def test_a_page_build_after_a_change_reads_only_what_changed(style: str, fmt: str) -> None:
    from refdb.render.page_build import build_page

    families = ("Newman", "Okafor", "Silva", "Tanaka", "Berman", "Costa", "Fava")
    refs = {
        n: Reference(
            key=f"s{n}",
            title=f"Study {n} of ketamine",
            authors=[Author(family=families[n % 7], given="Ann")],
            year=2015 + n % 3,  # a few of the same authors and year: APA's 2015a, 2015b
            container_title="Pain",
        )
        for n in range(1, 41)
    }
    read: list[int] = []

    def reader(ids: Sequence[int]) -> dict[int, Reference]:
        read.extend(ids)
        return {i: refs[i] for i in ids if i in refs}

    groups = [("For pain", list(range(1, 31))), ("Other studies", list(range(31, 41)))]
    options: dict[str, Any] = {"style": style, "fmt": fmt, "title": "T", "levels": True}
    first = build_page(groups, reader, operation=1, **options)
    refs[7].title = "A new title"
    del refs[12]
    read.clear()
    after = build_page(
        groups, reader, operation=2, changed={7, 12}, previous=(first.state, first.text), **options
    )
    read_then = sorted(read)
    assert after.text == build_page(groups, reader, operation=2, **options).text
    assert b"A new title" in after.text
    if style == "apa":  # and the studies whose year suffix moved with 12 gone
        assert {7, 12} <= set(read_then) and len(read_then) <= 4
    else:  # AMA and NLM print the numbers that moved in the label alone
        assert read_then == [7, 12]
