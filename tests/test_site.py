"""`refdb site OUTDIR`, read as files: escaping, the atomic swap, downloads, limits, links.

The same site in a real browser: tests/test_site_browser.py.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from refdb.errors import RefdbError
from refdb.publish import replace_folder, site_folder
from refdb.render.labels import http_url
from refdb.render.site import MARKER, abstract_sections, study_filename
from tests.conftest import RunCli
from tests.site_helpers import (
    HOSTILE_KEY,
    level_counts,
    read_tags,
    seeded_library,
    site_pages,
    studies,
)

LINKS_OUT = ("pubmed.ncbi.nlm.nih.gov", "doi.org", "pmc.ncbi.nlm.nih.gov")


def publish_folder(outdir: Path, files: dict[str, str], *, marker: str) -> None:
    """What `refdb site` does with its files: the folder held, then replaced whole."""
    with site_folder(outdir, marker) as where:
        replace_folder(where, files, marker=marker)


@pytest.fixture
def site(cli: RunCli, db_url: str, tmp_path: Path) -> Path:
    """The seeded library (and the hostile study) as a site in tmp/site."""
    seeded_library(db_url)
    outdir = tmp_path / "site"
    result = cli("site", str(outdir))
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"wrote site to {outdir} (10 studies)"
    return outdir


def test_the_site_holds_an_index_a_page_per_study_and_downloads(site: Path, db_url: str) -> None:
    keys = {s["key"] for s in studies(db_url)}
    assert {p.stem for p in (site / "studies").glob("*.html")} == keys
    for name in ("index.html", "site.css", "site.js", "refs.bib", "refs.ris", "refs.json", MARKER):
        assert (site / name).is_file(), name
    assert not [p for p in site.parent.iterdir() if ".refdb-" in p.name]  # no leftovers


def test_data_is_escaped_everywhere(site: Path) -> None:
    for page in site_pages(site):
        text = page.read_text(encoding="utf-8")
        assert "<script>alert" not in text and "<img" not in text, page
        assert "<b>" not in text, page  # only <i>, <sup>, <sub>, <u> are kept from fields
        tags = read_tags(page)
        scripts = [a.get("src") for tag, a in tags.tags if tag == "script"]
        data = [a for tag, a in tags.tags if a.get("type") == "application/ld+json"]
        assert scripts[len(data) :] in (["site.js"], ["../site.js"]), page  # JSON-LD is data
        assert not [a for _, a in tags.tags if any(k.startswith("on") for k in a)], page
        hrefs = [a.get("href") or "" for _, a in tags.tags]
        assert not [h for h in hrefs if h.strip().lower().startswith("javascript")], page
    study = (site / "studies" / f"{HOSTILE_KEY}.html").read_text(encoding="utf-8")
    # The title as text, its <i> kept; citeproc's citation escaped the same way.
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt; Ketamine &amp; " in study
    assert "in <i>CRPS</i></h1>" in study
    assert 'class="citation">O\u2019Brien &lt;b&gt;bold&lt;/b&gt; Z' in study
    assert "<h3>BACKGROUND</h3>\n<p>Some &lt;script&gt;alert(4)&lt;/script&gt; text.</p>" in study
    assert "<h3>METHODS</h3>\n<p>Randomised <i>double-blind</i> trial.</p>" in study
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt; Ketamine" in study


def test_a_study_page_says_everything_about_the_study(site: Path) -> None:
    page = (site / "studies" / f"{HOSTILE_KEY}.html").read_text(encoding="utf-8")
    assert '<span class="level level-rct">RCT</span>' in page
    assert "RCT (set by hand)." in page  # seeded_library sets it by hand
    derived = (site / "studies" / "schilder2013pain.html").read_text(encoding="utf-8")
    assert (
        "RCT (derived from verified publication type &#x27;Randomized Controlled Trial&#x27;"
        in derived
    )
    assert '<span class="status status-retracted">' in page
    assert "Retracted &lt;b&gt;by&lt;/b&gt; the journal" in page
    assert "<dd>14 March 2020</dd>" in page
    assert "Journal Article; Randomized Controlled Trial" in page
    assert "Humans; Ketamine/*therapeutic use" in page
    assert '<a href="https://doi.org/10.1234/xss.2020.001">DOI 10.1234/xss.2020.001</a>' in page
    assert ">PubMed Central PMC1234567</a>" in page
    assert "@article{obrien2020script," in page and "TY  - JOUR" in page
    assert '<a href="../index.html">' in page


def test_the_counts_agree_with_the_library(site: Path, db_url: str) -> None:
    expected = level_counts(db_url)
    tags = read_tags(site / "index.html").tags
    bars = {
        (a["data-indication"], a["data-level"]): int(a["data-count"] or 0)
        for tag, a in tags
        if tag == "rect" and "data-count" in a
    }
    assert bars == expected
    html = (site / "index.html").read_text(encoding="utf-8")
    cells = {
        (m["indication"], m["level"]): int(m["count"])
        for m in re.finditer(
            r'<td data-indication="(?P<indication>[^"]*)" data-level="(?P<level>[^"]*)">'
            r"(?:<a [^>]*>)?(?P<count>\d+)(?:</a>)?</td>",
            html,
        )
    }
    assert {k: v for k, v in cells.items() if v} == expected


def test_every_internal_link_resolves_and_nothing_loads_from_other_hosts(site: Path) -> None:
    for page in site_pages(site):
        for tag, attrs in read_tags(page).tags:
            for name in ("href", "src"):
                url = attrs.get(name)
                if url is None:
                    continue
                parts = urlsplit(url)
                if parts.scheme or parts.netloc:
                    assert tag == "a" and parts.scheme == "https", (page, url)
                    assert parts.netloc in LINKS_OUT, (page, url)
                elif parts.path:
                    assert (page.parent / unquote(parts.path)).resolve().is_file(), (page, url)
    css = (site / "site.css").read_text(encoding="utf-8")
    assert "url(" not in css and "@import" not in css
    assert "fetch(" not in (site / "site.js").read_text(encoding="utf-8")


def test_pages_are_accessible_in_their_structure(site: Path) -> None:
    for page in site_pages(site):
        tags = read_tags(page).tags
        assert ("html", {"lang": "en", "class": "no-js"}) in tags
        levels = [int(tag[1]) for tag, _ in tags if re.fullmatch(r"h[1-6]", tag)]
        assert levels[0] == 1 and levels.count(1) == 1, page
        assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), (page, levels)
        ids = [a["id"] for _, a in tags if "id" in a]
        assert len(ids) == len(set(ids)), page
    tags = read_tags(site / "index.html").tags
    labelled = {a["for"] for tag, a in tags if tag == "label"}
    controls = {a["id"] for tag, a in tags if tag in ("select", "input")}
    assert controls == labelled == {"f-indication", "f-level"}
    form = next(a for tag, a in tags if tag == "form")
    assert "hidden" in form  # shown by the script; without it every study shows


def test_downloads_parse_and_hold_what_the_site_shows(site: Path, db_url: str) -> None:
    import bibtexparser
    import rispy

    keys = {s["key"] for s in studies(db_url)}
    bib = bibtexparser.parse_string((site / "refs.bib").read_text(encoding="utf-8"))
    assert {entry.key for entry in bib.entries} == keys
    with (site / "refs.ris").open(encoding="utf-8") as handle:
        assert len(rispy.load(handle)) == len(keys)
    items = json.loads((site / "refs.json").read_text(encoding="utf-8"))
    assert {item["id"] for item in items} == keys


def test_indication_limits_the_site(cli: RunCli, db_url: str, tmp_path: Path) -> None:
    seeded_library(db_url)
    outdir = tmp_path / "crps"
    result = cli("site", str(outdir), "--indication", "crps", "--style", "vancouver")
    assert result.exit_code == 0, result.output
    crps = {s["key"] for s in studies(db_url) if "CRPS" in s["indications"]}
    assert result.stderr.strip() == f"wrote site to {outdir} ({len(crps)} studies)"
    assert {p.stem for p in (outdir / "studies").glob("*.html")} == crps
    index = (outdir / "index.html").read_text(encoding="utf-8")
    assert "For CRPS/RSD" in index and "For Depression" not in index
    items = json.loads((outdir / "refs.json").read_text(encoding="utf-8"))
    assert {item["id"] for item in items} == crps

    missing = cli("site", str(tmp_path / "none"), "--indication", "Nothing")
    assert missing.exit_code == 1 and len(missing.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "none").exists()


def test_unfiled_studies_follow_as_other_studies(cli: RunCli, tmp_path: Path) -> None:
    assert cli("seed").exit_code == 0
    assert cli("untag", "hu2016single", "Depression").exit_code == 0
    assert cli("site", str(tmp_path / "s"), "--style", "apa").exit_code == 0
    index = (tmp_path / "s" / "index.html").read_text(encoding="utf-8")
    assert '<h2 id="group-3">Other studies</h2>\n<ul class="studies">' in index
    assert 'data-key="hu2016single" data-indication=""' in index


def test_a_new_build_replaces_the_old_site_whole(cli: RunCli, db_url: str, tmp_path: Path) -> None:
    seeded_library(db_url)
    outdir = tmp_path / "site"
    assert cli("site", str(outdir)).exit_code == 0
    (outdir / "stale.html").write_text("old", encoding="utf-8")
    assert cli("remove", HOSTILE_KEY, "--yes").exit_code == 0
    assert cli("site", str(outdir)).exit_code == 0
    assert not (outdir / "stale.html").exists()
    assert not (outdir / "studies" / f"{HOSTILE_KEY}.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_folder_that_is_not_a_site_is_refused(cli: RunCli, tmp_path: Path) -> None:
    assert cli("seed").exit_code == 0
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious", encoding="utf-8")
    result = cli("site", str(mine))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "not a refdb site" in result.stderr
    assert [p.name for p in mine.iterdir()] == ["thesis.tex"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]

    a_file = tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    assert cli("site", str(a_file)).exit_code == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli("site", str(empty)).exit_code == 0
    assert (empty / "index.html").is_file()


def test_a_failed_build_leaves_the_old_site_and_no_leftovers(tmp_path: Path) -> None:
    outdir = tmp_path / "site"
    publish_folder(outdir, {MARKER: "", "index.html": "v1"}, marker=MARKER)
    with pytest.raises(ValueError):
        publish_folder(outdir, {MARKER: "", "a.html": "v2", "../escape.html": "x"}, marker=MARKER)
    assert (outdir / "index.html").read_text() == "v1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    with pytest.raises(RefdbError):
        publish_folder(tmp_path / "site" / "index.html", {MARKER: ""}, marker=MARKER)


def test_helpers() -> None:
    assert http_url("javascript:alert(1)") is None
    assert http_url("https://example.org/a") == "https://example.org/a"
    assert http_url("http:///nohost") is None
    assert study_filename("smith2000a") == "smith2000a.html"
    odd = study_filename("Smith:2000/../x")
    assert "/" not in odd and ":" not in odd and odd.endswith(".html")
    assert study_filename("a b") != study_filename("a_b")
    assert abstract_sections("Plain text: with a colon later.") == [
        (None, "Plain text: with a colon later.")
    ]


def test_keep_rewrites_the_site_after_every_change(
    cli: RunCli, db_url: str, tmp_path: Path
) -> None:
    assert cli("seed").exit_code == 0
    outdir = tmp_path / "kept"
    result = cli("site", str(outdir), "--keep", "--indication", "Depression", "--style", "apa")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(f"wrote site to {outdir} (kept current")
    listed = json.loads(cli("outputs", "--json").stdout)
    assert [(o["kind"], o["path"], o["indications"]) for o in listed] == [
        ("site", str(outdir), ["Depression"])
    ]
    assert not (outdir / "studies" / "schwartzman2009outpatient.html").exists()
    assert cli("tag", "schwartzman2009outpatient", "Depression").exit_code == 0
    assert (outdir / "studies" / "schwartzman2009outpatient.html").is_file()
    assert "For CRPS/RSD" not in (outdir / "index.html").read_text(encoding="utf-8")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_builds_at_once_swap_in_turn_and_a_link_is_followed(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    outdir = tmp_path / "site"

    def build(n: int) -> None:
        files = {MARKER: "", "index.html": f"v{n}"} | {f"s/{k}.html": f"v{n}" for k in range(50)}
        publish_folder(outdir, files, marker=MARKER)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(build, range(16)))
    versions = {p.read_text() for p in outdir.rglob("*.html")}
    assert len(versions) == 1  # one build, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]

    link = tmp_path / "public"
    link.symlink_to(outdir, target_is_directory=True)
    publish_folder(link, {MARKER: "", "index.html": "linked"}, marker=MARKER)
    assert link.is_symlink() and (link / "index.html").read_text() == "linked"


def test_a_site_on_sqlite_and_postgresql_and_of_an_empty_library(
    any_db_url: str, tmp_path: Path
) -> None:
    from tests.site_helpers import run

    empty = run(any_db_url, "site", str(tmp_path / "empty"))
    assert empty.exit_code == 0, empty.output
    assert "(0 studies)" in empty.stderr
    assert (tmp_path / "empty" / "index.html").is_file()
    seeded_library(any_db_url)
    result = run(any_db_url, "site", str(tmp_path / "site"))
    assert result.exit_code == 0 and "(10 studies)" in result.stderr
    assert len(list((tmp_path / "site" / "studies").glob("*.html"))) == 10
