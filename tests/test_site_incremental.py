"""A kept site after a change: only what the change reaches is rendered again, and the folder
is byte for byte the site `refdb site` builds from nothing; the swap never shows a reader half
a file, a missing page or a page of another build."""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from refdb import api
from refdb.store.library import Library
from tests.conftest import RunCli, ok
from tests.site_helpers import HOSTILE_KEY, run, seeded_library

# Three studies of the same authors and year: APA prints them 2020a, 2020b, 2020c, and a fourth
# moves the letters of the others (their citations change though they did not).
SAME_AUTHORS = [
    {
        "id": f"newman2020{word}",
        "type": "article-journal",
        "title": f"Ketamine and {word}: a pilot study",
        "author": [{"family": "Newman", "given": "Ann"}, {"family": "Okafor", "given": "Chidi"}],
        "container-title": "Pain Medicine",
        "issued": {"date-parts": [[2020]]},
        "DOI": f"10.5555/newman.{word}",
    }
    for word in ("sleep", "mood", "pain")
]


def files(folder: Path) -> dict[str, bytes]:
    """Every file of a folder (hidden ones too), by its path there."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def write_json(path: Path, items: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps(items), encoding="utf-8")
    return path


def same_as_built_from_nothing(cli: RunCli, kept: Path, fresh: Path, *options: str) -> None:
    ok(cli("site", str(fresh), *options))
    assert files(kept) == files(fresh)


@pytest.mark.parametrize("style", ["ama", "apa"])
def test_a_kept_site_after_each_change_is_the_site_built_from_nothing(
    cli: RunCli, db_url: str, tmp_path: Path, style: str
) -> None:
    seeded_library(db_url)
    ok(cli("import", str(write_json(tmp_path / "same.json", SAME_AUTHORS[:2]))))
    kept, fresh = tmp_path / "kept", tmp_path / "fresh"
    ok(cli("site", str(kept), "--keep", "--style", style))
    page = kept / "studies" / "hu2016single.html"
    before = page.stat().st_ino
    changes = [
        ("tag", "yang2015rketamine", "Anxiety"),  # a new indication: a new group
        ("untag", "yang2015rketamine", "Depression"),
        ("edit", HOSTILE_KEY, "--set", "title=Ketamine <b>again</b>"),
        ("edit", "newman2020mood", "--set", "doi=10.5555/moved"),  # an identifier alone
        ("edit", "newman2020sleep", "--set", "evidence_level=rct"),
        ("import", str(write_json(tmp_path / "more.json", SAME_AUTHORS[2:]))),  # moves 2020a
        ("remove", "newman2020mood", "--yes"),
        ("undo",),
        ("edit", "newman2020pain", "--set", "year=2019"),
    ]
    for change in changes:
        ok(cli(*change))
        same_as_built_from_nothing(cli, kept, fresh, "--style", style)
    # A study no change reached kept its page: the same file, linked into each new build.
    assert page.stat().st_ino == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers


def test_a_kept_site_on_postgresql_too(any_db_url: str, tmp_path: Path) -> None:
    seeded_library(any_db_url)
    kept, fresh = tmp_path / "kept", tmp_path / "fresh"
    ok(run(any_db_url, "site", str(kept), "--keep"))
    unchanged = (kept / "studies" / "hu2016single.html").stat().st_ino
    ok(run(any_db_url, "edit", "yang2015rketamine", "--set", "title=A new title"))
    ok(run(any_db_url, "site", str(fresh)))
    assert files(kept) == files(fresh)
    assert "A new title" in (kept / "studies" / "yang2015rketamine.html").read_text("utf-8")
    assert (kept / "studies" / "hu2016single.html").stat().st_ino == unchanged


def test_a_site_that_missed_a_change_is_built_whole(
    cli: RunCli, db_url: str, tmp_path: Path
) -> None:
    seeded_library(db_url)
    kept, fresh = tmp_path / "kept", tmp_path / "fresh"
    ok(cli("site", str(kept), "--keep"))
    # A change the kept site never heard of (a library opened without refdb.api's hook) ...
    library = Library(db_url)
    try:
        api.edit(library, "hu2016single", ["title=Changed behind the site's back"])
    finally:
        library.close()
    # ... then one it hears of: it follows an operation the site was not written after.
    ok(cli("tag", "yang2015rketamine", "Anxiety"))
    same_as_built_from_nothing(cli, kept, fresh)
    assert "behind the site" in (kept / "studies" / "hu2016single.html").read_text("utf-8")


def test_a_site_edited_by_hand_is_built_whole(cli: RunCli, db_url: str, tmp_path: Path) -> None:
    seeded_library(db_url)
    kept, fresh = tmp_path / "kept", tmp_path / "fresh"
    ok(cli("site", str(kept), "--keep"))
    index = kept / "index.html"
    index.write_text(index.read_text("utf-8").replace("<main>", "<main><p>mine</p>"), "utf-8")
    ok(cli("tag", "yang2015rketamine", "Anxiety"))
    same_as_built_from_nothing(cli, kept, fresh)

    (kept / ".refdb-state.json").write_text("{not json", encoding="utf-8")
    ok(cli("untag", "yang2015rketamine", "Anxiety"))
    same_as_built_from_nothing(cli, kept, fresh)


def test_without_an_atomic_exchange_the_site_is_still_swapped_whole(
    cli: RunCli, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from refdb import publish

    monkeypatch.setattr(publish, "_exchange", lambda new, old: False)  # not Linux
    seeded_library(db_url)
    kept, fresh = tmp_path / "kept", tmp_path / "fresh"
    ok(cli("site", str(kept), "--keep"))
    ok(cli("tag", "yang2015rketamine", "Anxiety"))
    same_as_built_from_nothing(cli, kept, fresh)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


_ENTRY = re.compile(
    r'<li class="study" data-key="([^"]+)"[^>]*>\n<div class="citation">(.*?)</div>', re.S
)
_PAGE_CITATION = re.compile(r'<h2 id="citation">Citation</h2>\n<div class="citation">(.*?)</div>')


class Reader(threading.Thread):
    """Reads the site again and again as a server holding the folder open would: the index,
    then every study page it links to, all through one handle on the folder. Each read must
    be a whole file, each linked page must be there, and each page's citation must be the one
    the index shows (a page of another build would not be)."""

    def __init__(self, site: Path) -> None:
        super().__init__(daemon=True)
        self.site = site
        self.stop = threading.Event()
        self.reads = 0
        self.builds: set[str] = set()
        self.retired = 0
        self.problems: list[str] = []

    def _read(self, folder: int, name: str) -> str:
        fd = os.open(name, os.O_RDONLY, dir_fd=folder)
        with os.fdopen(fd, "rb") as handle:
            text = handle.read().decode("utf-8")
        if not text.endswith("</html>\n"):
            self.problems.append(f"{name}: not a whole page ({len(text)} characters)")
        return text

    def _current(self, folder: int) -> bool:
        """Whether the folder held is the site's (no newer build has taken its place)."""
        try:
            return os.stat(self.site).st_ino == os.fstat(folder).st_ino
        except FileNotFoundError:
            self.problems.append("the site's folder was missing")
            return False

    def run(self) -> None:
        while not self.stop.is_set() and not self.problems:
            folder = os.open(self.site, os.O_RDONLY | os.O_DIRECTORY)
            try:
                index = self._read(folder, "index.html")
                for key, citation in _ENTRY.findall(index):
                    page = self._read(folder, f"studies/{key}.html")
                    shown = _PAGE_CITATION.search(page)
                    if shown is None or shown.group(1) != citation:
                        self.problems.append(f"{key}: the page's citation is not the index's")
                self.builds.add(index)
                self.reads += 1
            except FileNotFoundError as missing:
                if self._current(folder):  # the build it holds is the site: a page is missing
                    self.problems.append(f"missing: {missing.filename}")
                else:  # a newer build took its place and this one is being removed: again
                    self.retired += 1
            finally:
                os.close(folder)


def test_a_reader_never_sees_half_a_file_or_a_mix_of_builds(
    cli: RunCli, db_url: str, tmp_path: Path
) -> None:
    seeded_library(db_url)
    site = tmp_path / "site"
    ok(cli("site", str(site), "--keep"))
    reader = Reader(site)
    reader.start()
    try:
        for n in range(12):  # each rewrite changes a citation on the index and its page
            ok(cli("edit", "hu2016single", "--set", f"title=Single ketamine infusion, take {n}"))
            ok(cli("edit", "yang2015rketamine", "--set", f"volume={n + 1}"))
    finally:
        reader.stop.set()
        reader.join()
    assert reader.problems == []
    assert reader.reads > 0
    # The reader went on reading through the rewrites (it saw more than one build), unless
    # it was never scheduled while they ran; it never saw a mix either way.
    assert len(reader.builds) >= 1


@pytest.mark.parametrize("style", ["ama", "apa"])
def test_a_site_build_after_a_change_reads_only_what_changed(style: str, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from refdb.records import Author, Reference
    from refdb.render.feed import StudyDates
    from refdb.render.site_build import build_site
    from refdb.render.site_state import GroupIds, Previous

    families = ("Newman", "Okafor", "Silva", "Tanaka", "Berman", "Costa", "Fava")
    refs = {
        n: Reference(
            key=f"s{n}",
            title=f"Study {n} of ketamine",
            authors=[Author(family=families[n % 7], given="Ann")],
            year=2015 + n % 3,
            container_title="Pain",
            indications=["Pain"] if n <= 30 else [],
        )
        for n in range(1, 41)
    }
    when = StudyDates(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))
    read: list[int] = []

    def reader(ids: Sequence[int]) -> dict[int, tuple[Reference, StudyDates | None]]:
        read.extend(ids)
        return {i: (refs[i], when) for i in ids if i in refs}

    groups = [
        GroupIds("Pain", "For pain", list(range(1, 31))),
        GroupIds("", "Other studies", list(range(31, 41))),
    ]
    options: dict[str, Any] = {"style": style, "title": "T", "indications": (), "updated": None}
    first = build_site(groups, reader, operation=1, **options)
    folder = tmp_path / "site"
    for name, data in first.files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    previous = Previous(folder, json.loads(first.files[".refdb-state.json"]))
    previous.files = {name: first.files[name] for name in FILES_OF_A_SITE}
    refs[7].title = "A new title"
    del refs[12]
    read.clear()
    after = build_site(groups, reader, operation=2, changed={7, 12}, previous=previous, **options)
    read_then = sorted(read)
    whole = build_site(groups, reader, operation=2, **options)
    assert {**after.files, **{p: first.files[p] for p in after.linked}} == whole.files
    assert len(after.linked) >= 30  # the pages of the studies it did not read
    if style == "apa":  # and the studies whose year suffix moved with 12 gone
        assert {7, 12} <= set(read_then) and len(read_then) <= 4
    else:
        assert read_then == [7, 12]


FILES_OF_A_SITE = ("index.html", "feed.xml", "refs.bib", "refs.ris", "refs.json")
