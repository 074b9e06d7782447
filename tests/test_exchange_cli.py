"""`refdb import` and `refdb export` as a user runs them: round trips through an empty library."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import RunCli, dump, needs, ok

FORMATS = {"bibtex": ".bib", "biblatex": ".bib", "csl-json": ".json", "ris": ".ris"}
COMPARED = ("title", "container_title", "year", "month", "volume", "issue", "pages", "doi",
            "pmid", "indications")  # fmt: skip


def _studies(cli: RunCli) -> dict[str, dict[str, object]]:
    return {s["title"]: s for s in json.loads(cli("list", "--json").stdout)}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_export_then_import_into_an_empty_library(
    fmt: str, cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("seed").exit_code == 0
    ok(
        cli(
            "edit",
            "hu2016single",
            "--set",
            "authors=Hu, Y.-D.; Müller, Jörg; {Task Force on Ketamine}",
        )
    )
    exported = tmp_path / f"library{FORMATS[fmt]}"
    assert cli("export", "--format", fmt, "-o", str(exported)).exit_code == 0
    before = _studies(cli)

    from typer.testing import CliRunner

    from refdb.cli import app

    empty = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    result = CliRunner().invoke(app, ["--db", empty, "import", str(exported)])
    assert result.exit_code == 0, result.stderr
    assert "9 added" in result.stderr
    after = {
        s["title"]: s
        for s in json.loads(CliRunner().invoke(app, ["--db", empty, "list", "--json"]).stdout)
    }
    assert after.keys() == before.keys()
    for title, study in before.items():
        for name in COMPARED:
            assert after[title][name] == study[name], (fmt, name, title)
        names = [(a["family"], a["literal"]) for a in after[title]["authors"]]  # type: ignore[index]
        assert names == [(a["family"], a["literal"]) for a in study["authors"]]  # type: ignore[index]
        assert after[title]["key"] == study["key"]
    headings = json.loads(CliRunner().invoke(app, ["--db", empty, "indications", "--json"]).stdout)
    assert [h["name"] for h in headings] == ["CRPS", "Depression"]
    if fmt in ("bibtex", "biblatex"):  # BibTeX files declare the page headings too
        assert [h["heading"] for h in headings] == ["For CRPS/RSD", "For Depression"]


def test_importing_the_same_file_twice_changes_nothing(
    cli: RunCli, db_url: str, tmp_path: Path
) -> None:
    ok(cli("seed"))
    exported = tmp_path / "all.bib"
    ok(cli("export", "-f", "biblatex", "-o", str(exported)))
    before = dump(db_url)
    again = cli("import", str(exported))
    assert again.exit_code == 0 and "0 added, 0 updated, 9 unchanged" in again.stderr
    assert dump(db_url) == before


def test_dry_run_reports_and_writes_nothing(cli: RunCli, db_url: str, tmp_path: Path) -> None:
    ok(cli("seed"))
    new = tmp_path / "new.ris"
    new.write_text(
        "TY  - JOUR\nAU  - Doe, Jane\nTI  - Esketamine nasal spray in depression\n"
        "PY  - 2019\nKW  - Depression\nER  - \n",
        encoding="utf-8",
    )
    before = dump(db_url)
    result = cli("import", str(new), "--dry-run")
    assert result.exit_code == 0
    assert "dry run, nothing written: 1 added" in result.stderr
    assert dump(db_url) == before
    assert cli("import", str(new)).exit_code == 0
    filed = json.loads(cli("list", "--indication", "Depression", "--json").stdout)
    assert filed[-1]["key"] == "doe2019esketamine"  # keywords naming an indication file it


BROKEN_YEAR = (
    "@article{good2020, title = {Fine}, year = {2020}}\n\n"
    "@article{bad2021,\n  title = {Broken},\n  year = {20x1}\n}\n"
)


def test_an_entry_with_a_problem_is_kept_with_one_warning_line(cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    path.write_text(BROKEN_YEAR, encoding="utf-8")
    result = cli("import", str(path))
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines == [
        f"{path}:3: bad2021: year '20x1' is not a plain year; no year in it; kept the text",
        "2 added, 0 updated, 0 unchanged, 0 skipped, 1 warned",
    ]
    shown = json.loads(cli("show", "bad2021", "--json").stdout)
    assert (shown["year"], shown["date_text"]) == (None, "20x1")


def test_strict_refuses_the_whole_file_in_one_line_and_writes_nothing(
    cli: RunCli, db_url: str, tmp_path: Path
) -> None:
    ok(cli("seed"))
    broken = tmp_path / "refs.bib"
    broken.write_text(BROKEN_YEAR, encoding="utf-8")
    before = dump(db_url)
    result = cli("import", str(broken), "--strict")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert f"{broken}:3: bad2021: year '20x1'" in result.stderr
    assert "--strict" in result.stderr and "nothing written" in result.stderr
    assert dump(db_url) == before


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("pmid.json", '[{"title": "T", "PMID": "see notes"}]', "is not a PMID; dropped it"),
        ("doi.json", '[{"title": "T", "DOI": "n/a"}]', "is not a DOI (10.NNNN/... or 10/...)"),
        (
            "date.json",
            '[{"title": "T", "issued": {"date-parts": [[2020, 13, 40]]}}]',
            "month 13 is not a month; kept the year",
        ),
        ("type.json", '[{"title": "T", "type": "banana"}]', "not a CSL type; stored as"),
    ],
)
def test_a_value_that_is_not_what_it_claims_is_dropped_or_refused_with_strict(
    cli: RunCli, db_url: str, tmp_path: Path, name: str, content: str, expected: str
) -> None:
    ok(cli("seed"))
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    before = dump(db_url)
    strict = cli("import", str(path), "--strict")
    assert strict.exit_code == 1 and strict.stderr.count("\n") == 1
    assert expected in strict.stderr
    assert dump(db_url) == before
    kept = cli("import", str(path))
    assert kept.exit_code == 0, kept.stderr
    assert f"{path}:1: item 1: " in kept.stderr and expected in kept.stderr
    assert "1 added, 0 updated, 0 unchanged, 0 skipped, 1 warned" in kept.stderr


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.bib", None, "no such file"),
        ("notes.docx", "x", "unsupported file type"),
        ("bad.json", '[{"title": ', "not valid JSON"),
        ("latin1.ris", b"TY  - JOUR\nTI  - Caf\xe9\nER  - \n", "UTF-8"),
    ],
)
def test_bad_files_are_refused_in_one_line(
    cli: RunCli, tmp_path: Path, name: str, content: str | bytes | None, expected: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    result = cli("import", str(path))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and expected in result.stderr


def test_formatted_exports_group_by_indication(cli: RunCli) -> None:
    ok(cli("seed"))
    ok(cli("tag", "yang2015rketamine", "Preclinical"))
    text = cli("export", "--format", "text", "--style", "ama", "--indication", "Depression").stdout
    assert "For Depression" in text and "For CRPS/RSD" not in text
    assert "1. Hu YD, Xiang YT, Fang JX, et al." in text
    md = cli("export", "--format", "markdown", "--style", "apa").stdout
    assert (
        md.index("## For CRPS/RSD") < md.index("## For Depression") < md.index("## For Preclinical")
    )
    html = cli("export", "--format", "html", "--style", "vancouver").stdout
    assert "<ol" in html and "https://pubmed.ncbi.nlm.nih.gov/19783371/" in html


@needs("biber")
def test_the_seeded_bibtex_export_passes_biber_validation(cli: RunCli, tmp_path: Path) -> None:
    ok(cli("seed"))
    for fmt in ("bibtex", "biblatex"):
        path = tmp_path / f"{fmt}.bib"
        assert cli("export", "-f", fmt, "-o", str(path)).exit_code == 0
        checked = subprocess.run(
            ["biber", "--tool", "--validate-datamodel", path.name],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        output = checked.stdout + checked.stderr
        assert checked.returncode == 0 and "WARN" not in output and "ERROR" not in output, output


@needs("pandoc")
def test_the_seeded_exports_render_with_pandoc_citeproc(cli: RunCli, tmp_path: Path) -> None:
    ok(cli("seed"))
    doc = tmp_path / "doc.md"
    doc.write_text("---\nnocite: '@*'\n---\n", encoding="utf-8")
    for fmt, suffix in (("bibtex", ".bib"), ("biblatex", ".bib"), ("csl-json", ".json")):
        path = tmp_path / f"{fmt}{suffix}"
        ok(cli("export", "-f", fmt, "-o", str(path)))
        rendered = subprocess.run(
            ["pandoc", "--citeproc", "--bibliography", str(path), "-t", "plain", str(doc)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert rendered.returncode == 0 and rendered.stderr == "", (fmt, rendered.stderr)
        for author in ("Schwartzman", "Birklein", "Newport", "Yang"):
            assert author in rendered.stdout, (fmt, author)


ZOTERO_BIB = r"""% Zotero's BibLaTeX export
@article{sigtermans_ketamine_2009,
	title = {Ketamine produces effective and long-term pain relief in patients with {Complex} {Regional} {Pain} {Syndrome} {Type} 1},
	volume = {145},
	number = {3},
	journaltitle = {Pain},
	author = {Sigtermans, Marnix J. and van Hilten, Jacobus J. and Dahan, Albert},
	date = {2009-10},
	pages = {304--11},
	eprinttype = {pmid},
	eprint = {19604642},
	keywords = {Ketamine, CRPS, Adult},
}
@article{orsted, author = {{\O}rsted, Hans}, title = {The first word}, year = {1820}, journal = {X}}
"""


def test_a_zotero_bib_keeps_its_pmid_tags_and_its_keys(cli: RunCli, tmp_path: Path) -> None:
    ok(cli("seed"))
    path = tmp_path / "zotero.bib"
    path.write_text(ZOTERO_BIB, encoding="utf-8")
    assert cli("import", str(path)).exit_code == 0
    study = json.loads(cli("show", "sigtermans_ketamine_2009", "--json").stdout)
    assert study["key"] == "sigtermans_ketamine_2009"  # sites already link to the file's keys
    assert study["pmid"] == "19604642"  # Zotero writes eprinttype = {pmid}
    assert study["pages"] == "304-311"  # abbreviated ranges written out
    assert study["indications"] == ["CRPS"]  # the keyword naming a known indication
    assert study["keywords"] == ["Ketamine", "Adult"]
    assert json.loads(cli("show", "orsted", "--json").stdout)["authors"][0]["family"] == "Ørsted"


def test_ris_page_ranges_are_written_out(cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "endnote.ris"
    path.write_text(
        "TY  - JOUR\nT1  - Ketamine in chronic pain\nA1  - Niesters, M.\nJO  - Br J Clin Pharmacol\n"
        "Y1  - 2014///\nVL  - 77\nIS  - 2\nSP  - 357\nEP  - 67\nAN  - 23432384\nDP  - NLM\nER  - \n",
        encoding="utf-8",
    )
    assert cli("import", str(path)).exit_code == 0
    study = json.loads(cli("show", "23432384", "--json").stdout)
    assert (study["pages"], study["year"], study["key"]) == (
        "357-367",
        2014,
        "niesters2014ketamine",
    )


def test_an_imported_file_never_degrades_the_verified_seeds(cli: RunCli, tmp_path: Path) -> None:
    ok(cli("seed"))
    poorer = tmp_path / "poorer.json"
    poorer.write_text(
        json.dumps(
            [
                {
                    "type": "article-journal",
                    "title": "Ketamine and other NMDA antagonists: early clinical trials and "
                    "possible mechanisms in depression.",
                    "DOI": "10.1176/appi.ajp.2015.15040465",
                    "author": [{"family": "Newport", "given": "D"}],
                    "container-title": "Am J Psychiatry",
                    "issued": {"date-parts": [[2015]]},
                    "PMID": "26423481",
                }
            ]
        ),
        encoding="utf-8",
    )
    result = cli("import", str(poorer), "--verbose")
    assert result.exit_code == 0, result.stderr
    study = json.loads(cli("show", "newport2015ketamine", "--json").stdout)
    assert study["title"].startswith("Ketamine and Other NMDA Antagonists")  # the seed's
    assert [a["family"] for a in study["authors"]] == ["Newport", "Carpenter", "McDonald"]
    assert study["authors_complete"] is False
    assert study["container_title"] == "The American Journal of Psychiatry"
    assert study["pmid"] == "26423481"  # what the seed did not know is filled in
    assert "kept seed value" in result.stderr


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_keys_survive_a_round_trip_after_an_edit(fmt: str, cli: RunCli, tmp_path: Path) -> None:
    """Sites link to keys: an edited year or author must not rename a study on re-import."""
    from typer.testing import CliRunner

    from refdb.cli import app

    ok(cli("seed"))
    ok(cli("edit", "hu2016single", "--set", "year=2015", "--set", "authors=Zhu, Y"))
    exported = tmp_path / f"library{FORMATS[fmt]}"
    ok(cli("export", "--format", fmt, "-o", str(exported)))
    empty = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    assert CliRunner().invoke(app, ["--db", empty, "import", str(exported)]).exit_code == 0
    listed = json.loads(CliRunner().invoke(app, ["--db", empty, "list", "--json"]).stdout)
    before = json.loads(cli("list", "--json").stdout)
    assert sorted(s["key"] for s in listed) == sorted(s["key"] for s in before)
