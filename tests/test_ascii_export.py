"""`refdb export --ascii`: every character as ASCII LaTeX, nothing on stderr, and the file
reads back (in refdb and in biber) as the text that went in."""

from __future__ import annotations

import json
import subprocess
import unicodedata
from pathlib import Path

import pytest

from refdb.render.bibtex import render_bibtex
from refdb.sources.bibtex import parse_bibtex
from tests.conftest import RunCli, needs, ok
from tests.test_realworld_files import REAL

# A Romanian title typed on a Mac (a + U+0306, combining breve, beside precomposed ș and ț),
# a transliteration with a dot below, Chinese, and two symbols: the characters.
TITLE = (
    "Evaluarea pacienților cu dureri cronice: ketamină și depresie "
    "(Ba\u0306lan, Ḥādīth, 中文, ≈, ½)"
)
ITEM = {
    "id": "popescu2020",
    "type": "article-journal",
    "title": TITLE,
    "author": [{"family": "Popescu", "given": "Ștefan"}, {"family": "Ba\u0306la\u0306nescu"}],
    "issued": {"date-parts": [[2020]]},
}


def _shown(cli: RunCli, key: str) -> dict[str, object]:
    shown: dict[str, object] = json.loads(cli("show", key, "--json").stdout)
    return shown


def test_every_character_gets_an_ascii_form_and_nothing_is_logged(
    cli: RunCli, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = tmp_path / "romanian.json"
    source.write_text(json.dumps([ITEM]), encoding="utf-8")
    assert cli("import", str(source)).exit_code == 0
    caplog.set_level("DEBUG")
    result = cli("export", "--format", "bibtex", "--ascii")
    assert result.exit_code == 0
    assert result.stdout.isascii(), [c for c in result.stdout if not c.isascii()]
    assert result.stderr == ""
    assert [r.getMessage() for r in caplog.records if r.levelno >= 20] == []
    # The documented forms: accents LaTeX has a command for, then \symbol by code.
    assert "pacien{\\textcommabelow{t}}ilor" in result.stdout
    assert "{B{\\u{a}}lan}" in result.stdout  # one word: the breve is not cut off by a brace
    assert "{\\d{H}}" in result.stdout
    assert '{\\symbol{"4E2D}}{\\symbol{"6587}}' in result.stdout


def test_the_ascii_export_reads_back_as_the_same_text(cli: RunCli, tmp_path: Path) -> None:
    source = tmp_path / "romanian.json"
    source.write_text(json.dumps([ITEM]), encoding="utf-8")
    ok(cli("import", str(source)))
    exported = tmp_path / "ascii.bib"
    assert cli("export", "--format", "biblatex", "--ascii", "-o", str(exported)).exit_code == 0
    (back,) = parse_bibtex(exported.read_text(encoding="ascii")).references
    assert back.title == unicodedata.normalize("NFC", TITLE)
    assert [a.family for a in back.authors] == ["Popescu", "Bălănescu"]
    assert back.authors[0].given == "Ștefan"


@pytest.mark.parametrize(
    "name", ["mendeley-style-cjk-numeric-keys-slice.bib", "endnote-export-slice.ris"]
)
def test_real_exports_with_hangul_and_accents_round_trip_through_ascii(
    cli: RunCli, name: str, tmp_path: Path
) -> None:
    assert cli("import", str(REAL / name)).exit_code == 0
    exported = tmp_path / "ascii.bib"
    result = cli("export", "--format", "bibtex", "--ascii", "-o", str(exported))
    assert result.exit_code == 0 and "No known latex" not in result.stderr
    text = exported.read_text(encoding="utf-8")
    assert text.isascii()
    before = {s["key"]: s for s in json.loads(cli("list", "--json").stdout)}
    after = {r.key: r for r in parse_bibtex(text).references}
    assert set(after) == set(before)
    for key, study in before.items():
        assert after[key].title == unicodedata.normalize("NFC", str(study["title"])), key


def test_a_mark_on_nothing_and_a_mark_without_an_accent_command_stay_ascii() -> None:
    from refdb.records import Reference

    ref = Reference(title="A \u0306 lone breve and x\u0330 (tilde below)", key="k")
    text = render_bibtex([ref], ascii=True)
    assert text.isascii()
    (back,) = parse_bibtex(text).references
    assert back.title == unicodedata.normalize("NFC", ref.title)


@needs("biber")
def test_biber_reads_the_ascii_forms_as_the_characters(cli: RunCli, tmp_path: Path) -> None:
    source = tmp_path / "romanian.json"
    source.write_text(json.dumps([ITEM]), encoding="utf-8")
    ok(cli("import", str(source)))
    ok(cli("export", "--format", "biblatex", "--ascii", "-o", str(tmp_path / "ascii.bib")))
    checked = subprocess.run(
        ["biber", "--tool", "--output-file=decoded.bib", "ascii.bib"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    decoded = (tmp_path / "decoded.bib").read_text(encoding="utf-8")
    assert "pacienților" in decoded and "și" in decoded and "Ḥādīth" in decoded
    assert "Bălănescu" in decoded and "Ștefan" in decoded
