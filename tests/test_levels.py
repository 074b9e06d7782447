"""Evidence levels: derived from PubMed's publication types and MeSH, kept when set by hand,
shown by `show`, `list` and the page (not by the bibliography exports), and carried by
CSL-JSON and BibTeX through a round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Request, Response

from refdb.cli import app
from refdb.evidence import LABELS, parse_level
from refdb.store import database
from tests.conftest import RunCli, ok
from tests.plugin_shared import shared_file


def seed_levels() -> dict[str, tuple[str, str]]:
    """PMID or DOI of each seed study -> (level slug, what it rests on), from the verified
    facts in shared/seed-metadata.json (not from refdb's own seeds)."""
    studies = json.loads(shared_file("seed-metadata.json").read_text("utf-8"))["studies"]
    levels = {}
    for study in studies:
        level = parse_level(study["evidence_level"]) if study["evidence_level"] else "unclassified"
        levels[study["title"].casefold()[:40]] = (level, study["evidence_level_source"])
    return levels


def listed(cli: RunCli, *args: str) -> list[dict[str, Any]]:
    result = cli("list", "--json", *args)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def test_seed_studies_carry_the_verified_levels(any_db_url: str) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["--db", any_db_url, "seed"]).exit_code == 0
    result = ok(runner.invoke(app, ["--db", any_db_url, "list", "--json"]))
    rows = json.loads(result.stdout)
    expected = seed_levels()
    assert len(rows) == len(expected) == 9
    for row in rows:
        level, basis = expected[row["title"].casefold()[:40]]
        assert (row["evidence_level"], row["evidence_basis"]) == (level, basis), row["key"]
    rct = ok(runner.invoke(app, ["--db", any_db_url, "list", "--level", "RCT", "--json"]))
    wanted = sorted(r["key"] for r in rows if r["evidence_level"] == "rct")
    assert sorted(r["key"] for r in json.loads(rct.stdout)) == wanted
    assert len(wanted) == 3
    crps = ok(
        runner.invoke(app, ["--db", any_db_url, "list", "-i", "CRPS", "--level", "rct", "--json"])
    )
    assert all("CRPS" in r["indications"] for r in json.loads(crps.stdout))
    assert len(json.loads(crps.stdout)) == 2


def test_list_shows_a_level_column_and_refuses_an_unknown_level(cli: RunCli) -> None:
    ok(cli("seed"))
    table = cli("list", env={"COLUMNS": "250"}).stdout
    assert "level" in table.splitlines()[1]
    assert "Preclinical (animal)" in table and "Meta-analysis" in table
    bad = cli("list", "--level", "strong")
    assert bad.exit_code == 1
    assert bad.stderr.strip().count("\n") == 0 and "rct" in bad.stderr


@pytest.mark.parametrize("fmt", ["markdown", "html", "text"])
@pytest.mark.parametrize("style", ["ama", "apa", "vancouver"])
def test_the_page_labels_each_study_and_no_levels_hides_them(
    cli: RunCli, fmt: str, style: str
) -> None:
    ok(cli("seed"))
    rows = listed(cli)
    page = cli("page", "--format", fmt, "--style", style).stdout
    for level in {r["evidence_level"] for r in rows}:
        count = sum(1 for r in rows if r["evidence_level"] == level)
        label = LABELS[level]
        shown = {
            "markdown": f"Evidence: **{label}**",
            "html": f"Evidence: {label}</span>",
            "text": f"Evidence: {label}\n",
        }[fmt]
        assert page.count(shown) == count, level
    bare = cli("page", "--format", fmt, "--style", style, "--no-levels").stdout
    assert "Evidence:" not in bare
    # The exports are the bibliography alone, as citeproc-js would print it.
    export = cli("export", "--format", fmt, "--style", style).stdout
    assert "Evidence:" not in export


def test_show_says_what_the_level_rests_on(cli: RunCli) -> None:
    ok(cli("seed"))
    shown = cli("show", "yang2015rketamine").stdout
    assert "Preclinical (animal) (preclinical)" in shown
    assert "level from" in shown and "MOUSE models" in shown


@pytest.fixture
def pubmed(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> HTTPServer:
    """A local E-utilities serving real recorded records: an RCT (23878845) and a mouse study
    (16080930), both in efetch-two-articles-utf8.xml."""
    monkeypatch.setenv("REFDB_EUTILS_URL", httpserver.url_for("/"))
    body = shared_file("fixtures/pubmed/efetch-two-articles-utf8.xml").read_bytes()
    articles = body.split(b"<PubmedArticle>")

    def efetch(request: Request) -> Response:
        ids = {**request.args, **request.form}["id"].split(",")
        kept = [a for a in articles[1:] if any(f">{i}</PMID>".encode() in a for i in ids)]
        out = articles[0] + b"".join(b"<PubmedArticle>" + a for a in kept)
        if not out.rstrip().endswith(b"</PubmedArticleSet>"):
            out += b"</PubmedArticleSet>"
        return Response(out, content_type="text/xml")

    httpserver.expect_request("/efetch.fcgi").respond_with_handler(efetch)
    return httpserver


def test_pubmed_records_get_derived_levels_and_hand_set_ones_are_kept(
    cli: RunCli, pubmed: HTTPServer
) -> None:
    assert cli("add", "--pmid", "23878845").exit_code == 0
    assert cli("add", "--pmid", "16080930").exit_code == 0
    rct, mouse = listed(cli)
    assert rct["evidence_level"] == "rct"
    assert rct["evidence_basis"] == "publication type 'Randomized Controlled Trial'"
    assert rct["provenance"]["evidence_level"]["source"] == "pubmed"
    assert mouse["evidence_level"] == "preclinical"
    assert mouse["evidence_basis"] == "MeSH 'Animals' without 'Humans'"

    edited = cli("edit", "23878845", "--set", "evidence_level=Observational")
    assert edited.exit_code == 0, edited.output
    for again in (("enrich", "23878845", "--force"), ("check",)):
        assert cli(*again).exit_code == 0
        (stored,) = listed(cli, "--level", "observational")
        assert stored["pmid"] == "23878845"
        assert stored["evidence_basis"] == "set by hand"
    assert "set by hand" in cli("show", "23878845").stdout

    # An empty value gives the level back to PubMed's data.
    assert cli("edit", "23878845", "--set", "evidence_level=").exit_code == 0
    assert listed(cli, "--level", "rct")[0]["pmid"] == "23878845"
    bad = cli("edit", "23878845", "--set", "evidence_level=gold standard")
    assert bad.exit_code == 1 and "not an evidence level" in bad.stderr


def test_a_file_record_without_types_does_not_erase_a_level(cli: RunCli, tmp_path: Path) -> None:
    ok(cli("seed"))
    ris = tmp_path / "hu.ris"
    ris.write_text(
        "TY  - JOUR\nTI  - Single i.v. ketamine augmentation of newly initiated escitalopram "
        "for major depression: results from a randomized, placebo-controlled 4-week study\n"
        "PY  - 2016\nDO  - 10.1016/j.genhosppsych.2015.10.001\nER  - \n",
        encoding="utf-8",
    )
    assert cli("import", str(ris)).exit_code == 0
    assert [r["key"] for r in listed(cli, "--level", "rct")].count("hu2016single") == 1


@pytest.mark.parametrize("fmt", ["bibtex", "biblatex", "csl-json", "ris"])
def test_levels_survive_a_round_trip(cli: RunCli, tmp_path: Path, fmt: str) -> None:
    ok(cli("seed"))
    assert (
        cli("edit", "tundo2015pharmacologic", "--set", "evidence_level=case-report").exit_code == 0
    )
    before = {r["key"]: r["evidence_level"] for r in listed(cli)}
    suffix = {"csl-json": ".json", "ris": ".ris"}.get(fmt, ".bib")
    path = tmp_path / f"out{suffix}"
    assert cli("export", "--format", fmt, "-o", str(path)).exit_code == 0
    text = path.read_text("utf-8")
    if fmt in ("bibtex", "biblatex"):
        assert "usera = {rct}" in text
    if fmt == "ris":
        assert "N1  - refdb evidence level: rct" in text
    other = CliRunner().invoke(
        app, ["--db", f"sqlite:///{tmp_path / 'b.sqlite'}", "import", str(path)]
    )
    assert other.exit_code == 0, other.output
    after = ok(
        CliRunner().invoke(app, ["--db", f"sqlite:///{tmp_path / 'b.sqlite'}", "list", "--json"])
    )
    assert {r["key"]: r["evidence_level"] for r in json.loads(after.stdout)} == before


def test_a_csl_json_level_that_is_none_is_warned_about(cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "odd.json"
    item = {
        "id": "odd2020",
        "type": "article-journal",
        "title": "An odd level",
        "issued": {"date-parts": [[2020]]},
        "custom": {"evidence_level": "platinum", "publication_types": ["Case Reports"]},
    }
    path.write_text(json.dumps([item]), encoding="utf-8")
    result = cli("import", str(path))
    assert result.exit_code == 0
    assert "'platinum' is not an evidence level" in result.stderr
    assert listed(cli)[0]["evidence_level"] == "case-report"


def test_upgrading_an_older_library_derives_its_levels(db_url: str, cli: RunCli) -> None:
    ok(cli("seed"))
    db = database.Database(db_url)
    database.downgrade(db.engine, "0003")
    with db.engine.begin() as connection:
        connection.execute(
            sqlalchemy.text(
                "UPDATE studies SET evidence_level = NULL, publication_types = :types "
                "WHERE key = 'newport2015ketamine'"
            ),
            {"types": json.dumps(["Journal Article", "Review"])},
        )
    db.close()
    rows = {r["key"]: r for r in listed(cli)}  # first use migrates to the head again
    assert rows["newport2015ketamine"]["evidence_level"] == "review"
    assert rows["newport2015ketamine"]["evidence_basis"] == "publication type 'Review'"
    assert rows["hu2016single"]["evidence_level"] == "rct"


def test_publication_types_set_by_hand_derive_the_level_again(cli: RunCli) -> None:
    ok(cli("seed"))
    result = cli("edit", "douglas2015analgesic", "--set", "publication_types=Case Reports")
    assert result.exit_code == 0
    assert "evidence_level: 'unclassified' -> 'case-report'" in result.stderr
    assert [r["key"] for r in listed(cli, "--level", "case-report")] == ["douglas2015analgesic"]
    # A level set by hand is not derived again.
    ok(cli("edit", "douglas2015analgesic", "--set", "evidence_level=observational"))
    ok(cli("edit", "douglas2015analgesic", "--set", "publication_types=Meta-Analysis"))
    assert listed(cli, "--level", "observational")[0]["key"] == "douglas2015analgesic"


def test_setting_the_derived_level_by_hand_keeps_it(cli: RunCli) -> None:
    ok(cli("seed"))
    assert cli("edit", "hu2016single", "--set", "evidence_level=rct").exit_code == 0
    (hu,) = [r for r in listed(cli, "--level", "rct") if r["key"] == "hu2016single"]
    assert hu["provenance"]["evidence_level"]["source"] == "hand"
    assert "set by hand" in cli("show", "hu2016single").stdout
