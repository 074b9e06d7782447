"""The site's Atom feed (`feed.xml`) read with feedparser, as feed readers read it, and the
index's "Added in the last 90 days": both dated from the operation log, never the clock.

To stand for a library kept over months, a test moves its operations' times into the past
(`backdate`): the log is the only source of those dates.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any

import feedparser
import sqlalchemy

from tests.conftest import RunCli
from tests.site_helpers import HOSTILE, HOSTILE_KEY, read_tags, run, seeded_library, studies


def backdate(db_url: str, operation: int, when: datetime) -> None:
    """Say that an operation ran at `when` (UTC), as if the library were older."""
    engine = sqlalchemy.create_engine(db_url)
    with engine.begin() as connection:
        connection.execute(
            sqlalchemy.text("UPDATE operations SET at = :at WHERE id = :id"),
            {"at": when.strftime("%Y-%m-%d %H:%M:%S.%f"), "id": operation},
        )
    engine.dispose()


def parse_feed(site: Path) -> Any:
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def text_of(fragment: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def citation_on_page(site: Path, key: str) -> str:
    page = (site / "studies" / f"{key}.html").read_text(encoding="utf-8")
    match = re.search(r'<div class="citation">(.*?)</div>', page, re.DOTALL)
    assert match, key
    return text_of(match.group(1))


def recent_keys(site: Path) -> list[str]:
    index = (site / "index.html").read_text(encoding="utf-8")
    return re.findall(r'<li class="recent-study"><a href="studies/([^"]+)\.html"', index)


def test_the_feed_has_an_entry_per_study_newest_addition_first(
    cli: RunCli, db_url: str, tmp_path: Path
) -> None:
    seeded_library(db_url)  # 1 seed, 2 import the hostile study, 3 edit its level
    backdate(db_url, 1, datetime(2024, 1, 10, 9, 0))
    backdate(db_url, 2, datetime(2024, 6, 1, 12, 30))
    backdate(db_url, 3, datetime(2024, 6, 2, 8, 15))
    site = tmp_path / "site"
    assert cli("site", str(site)).exit_code == 0
    feed = parse_feed(site)
    shown = {s["key"]: s for s in studies(db_url)}
    assert len(feed.entries) == len(shown) == 10
    assert feed.feed.title == "Published Clinical Evidence"
    assert feed.feed.updated == "2024-06-02T08:15:00Z"  # the library's last change
    assert feed.feed.link == "index.html"

    keys = [Path(e.link).stem for e in feed.entries]
    assert keys[0] == HOSTILE_KEY and set(keys) == set(shown)
    published = [e.published_parsed for e in feed.entries]
    assert published == sorted(published, reverse=True)
    first = feed.entries[0]
    assert (first.published, first.updated) == ("2024-06-01T12:30:00Z", "2024-06-02T08:15:00Z")
    assert {e.published for e in feed.entries[1:]} == {"2024-01-10T09:00:00Z"}

    for entry in feed.entries:
        key = Path(entry.link).stem
        study = shown[key]
        assert (site / entry.link).is_file()
        assert entry.title == " ".join(re.sub(r"</?i>", "", study["title"]).split())
        assert text_of(entry.summary) == citation_on_page(site, key)
        level = study["evidence_level"] or "unclassified"
        categories = {(t.scheme, t.term) for t in entry.tags}
        assert ("index.html?level=", level) in categories
        assert {t for s, t in categories if s == "index.html?indication="} == set(
            study["indications"]
        )
        names = [a.name for a in entry.get("authors", [])]
        assert len(names) == len(study["authors"])
        content = text_of(entry.content[0].value)
        assert f"{study['year']}." in content and "Evidence: " in content
    hu = next(e for e in feed.entries if e.link == "studies/hu2016single.html")
    assert text_of(hu.content[0].value).startswith(
        "Psychological Medicine, 2016. Evidence: RCT. Filed under For Depression."
    )
    assert hu.authors[0].name == "Y.-D. Hu"

    # The hostile study's markup is text in the feed, as on the pages.
    raw = (site / "feed.xml").read_text(encoding="utf-8")
    assert "<script" not in raw and "<img" not in raw
    assert first.title.startswith("<script>alert(1)</script> Ketamine & ")


def test_the_index_links_the_feed_and_shows_the_last_90_days(
    cli: RunCli, db_url: str, tmp_path: Path
) -> None:
    seeded_library(db_url)
    backdate(db_url, 1, datetime(2024, 1, 10, 9, 0))
    backdate(db_url, 2, datetime(2024, 6, 1, 12, 30))
    backdate(db_url, 3, datetime(2024, 6, 2, 8, 15))
    site = tmp_path / "site"
    assert cli("site", str(site)).exit_code == 0
    links = [a for tag, a in read_tags(site / "index.html").tags if tag == "link"]
    assert {
        "rel": "alternate",
        "type": "application/atom+xml",
        "title": "Published Clinical Evidence",
        "href": "feed.xml",
    } in links
    assert recent_keys(site) == [HOSTILE_KEY]  # the seeds came 143 days before the last change
    index = (site / "index.html").read_text(encoding="utf-8")
    assert '<h2 id="recent">Added in the last 90 days</h2>' in index
    assert "1 study entered the library in the 90 days up to 2 June 2024" in index

    # A change that adds nothing, months later: nothing was added in the 90 days before it.
    assert cli("untag", "hu2016single", "Depression").exit_code == 0
    assert cli("site", str(site)).exit_code == 0
    assert recent_keys(site) == []
    assert "Added in the last" not in (site / "index.html").read_text(encoding="utf-8")
    assert len(parse_feed(site).entries) == 10


def test_the_last_90_days_list_ten_and_not_a_whole_new_library(
    cli: RunCli, db_url: str, tmp_path: Path
) -> None:
    assert cli("seed").exit_code == 0
    assert cli("site", str(tmp_path / "new")).exit_code == 0
    index = (tmp_path / "new" / "index.html").read_text(encoding="utf-8")
    assert "All 9 studies on this page entered the library in the 90 days up to " in index
    assert recent_keys(tmp_path / "new") == []  # the index itself is that list

    backdate(db_url, 1, datetime(2024, 1, 10, 9, 0))
    items = [
        {
            "id": f"new{n:02d}",
            "type": "article-journal",
            "title": f"Ketamine study {n}",
            "author": [{"family": "Newman", "given": "Ann"}],
            "issued": {"date-parts": [[2025]]},
        }
        for n in range(12)
    ]
    new = tmp_path / "new.json"
    new.write_text(json.dumps(items), encoding="utf-8")
    assert cli("import", str(new)).exit_code == 0
    assert cli("site", str(tmp_path / "site")).exit_code == 0
    assert recent_keys(tmp_path / "site") == [f"new{n:02d}" for n in range(10)]
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "12 studies entered the library in the 90 days up to " in index
    assert "The 10 newest:" in index
    assert len(parse_feed(tmp_path / "site").entries) == 21


def test_a_study_put_back_by_undo_keeps_when_it_was_added(
    cli: RunCli, db_url: str, tmp_path: Path
) -> None:
    assert cli("seed").exit_code == 0
    backdate(db_url, 1, datetime(2024, 1, 10, 9, 0))
    assert cli("remove", "hu2016single", "--yes").exit_code == 0
    assert cli("undo").exit_code == 0
    assert cli("import", str(HOSTILE)).exit_code == 0  # really new
    site = tmp_path / "site"
    assert cli("site", str(site)).exit_code == 0
    entries = {Path(e.link).stem: e for e in parse_feed(site).entries}
    assert entries["hu2016single"].published == "2024-01-10T09:00:00Z"
    assert entries["hu2016single"].updated > "2025"  # changed (removed, put back) since
    assert entries[HOSTILE_KEY].published > "2025"
    assert recent_keys(site) == [HOSTILE_KEY]


def test_the_same_library_builds_the_same_site(cli: RunCli, db_url: str, tmp_path: Path) -> None:
    seeded_library(db_url)
    assert cli("site", str(tmp_path / "a")).exit_code == 0
    assert cli("site", str(tmp_path / "b")).exit_code == 0

    def files(site: Path) -> dict[Path, bytes]:
        return {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}

    first = files(tmp_path / "a")
    assert first == files(tmp_path / "b") and Path("feed.xml") in first


def test_a_title_the_feed_cannot_hold_raw_is_cleaned(cli: RunCli, tmp_path: Path) -> None:
    assert cli("seed").exit_code == 0
    bad = "Ketamine\x0b and \x1bthe <b>feed</b>"
    assert cli("edit", "hu2016single", "--set", f"title={bad}").exit_code == 0
    assert cli("site", str(tmp_path / "site")).exit_code == 0
    titles = {e.title for e in parse_feed(tmp_path / "site").entries}
    assert "Ketamine and the feed" in titles


def test_the_feed_on_sqlite_and_postgresql(any_db_url: str, tmp_path: Path) -> None:
    seeded_library(any_db_url)
    assert run(any_db_url, "site", str(tmp_path / "site")).exit_code == 0
    feed = parse_feed(tmp_path / "site")
    assert len(feed.entries) == 10
    assert Path(feed.entries[0].link).stem == HOSTILE_KEY  # imported after the seeds
    assert feed.feed.updated_parsed >= feed.entries[0].published_parsed
    assert datetime.now(UTC).year - feed.entries[-1].published_parsed.tm_year <= 1
