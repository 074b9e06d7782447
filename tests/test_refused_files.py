"""Files refdb refuses say why in one line, and what to do: Web of Science text whatever it is
called (`.ciw`, `.txt`), and a CSL-JSON file that was cut short."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import RunCli
from tests.test_realworld_files import REAL

WOS = REAL / "wos-savedrecs.txt"
WOS_MESSAGE = (
    "line 1: Web of Science field-tagged text, not RIS (export as RIS or BibTeX from Web of "
    "Science)"
)


@pytest.mark.parametrize("name", ["savedrecs.ciw", "savedrecs.txt", "savedrecs.CIW"])
def test_web_of_science_text_gets_the_same_message_whatever_its_name(
    cli: RunCli, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    shutil.copyfile(WOS, path)
    result = cli("import", str(path))
    assert result.exit_code == 1
    assert result.stderr == f"refdb: {path}: {WOS_MESSAGE}\n"
    assert cli("list", "--json").stdout.strip() == "[]"


def test_a_ciw_that_is_not_web_of_science_is_an_unsupported_type(
    cli: RunCli, tmp_path: Path
) -> None:
    path = tmp_path / "notes.ciw"
    path.write_text("just some notes\n", encoding="utf-8")
    result = cli("import", str(path))
    assert result.exit_code == 1 and "unsupported file type '.ciw'" in result.stderr


MANUBOT = REAL / "manubot-output-bibliography.json"


def test_a_json_file_cut_inside_a_string_names_line_column_and_what_to_do(
    cli: RunCli, tmp_path: Path
) -> None:
    text = MANUBOT.read_text(encoding="utf-8")
    path = tmp_path / "refs.json"
    path.write_text(text[:700], encoding="utf-8")  # a download that stopped
    result = cli("import", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        f"refdb: {path}: line 37, column 17: not valid JSON: a string starts here and the "
        "file ends before it closes (the file looks cut short: export or download it again)\n"
    )
    assert cli("list", "--json").stdout.strip() == "[]"


def test_a_json_file_cut_between_values_says_where_it_ends(cli: RunCli, tmp_path: Path) -> None:
    text = MANUBOT.read_text(encoding="utf-8").rstrip()
    path = tmp_path / "refs.json"
    path.write_text(text[:-3], encoding="utf-8")  # the last item's closing braces are gone
    result = cli("import", str(path))
    assert result.exit_code == 1
    lines = text[:-3].splitlines()
    expected_where = f"line {len(lines)}, column {len(lines[-1]) + 1}"
    assert f"{path}: {expected_where}: not valid JSON: the file ends here" in result.stderr
    assert "export or download it again" in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_json_syntax_error_names_line_column_and_the_problem(cli: RunCli, tmp_path: Path) -> None:
    text = MANUBOT.read_text(encoding="utf-8").replace('"type":', '"type"', 1)
    path = tmp_path / "refs.json"
    path.write_text(text, encoding="utf-8")
    result = cli("import", str(path))
    assert result.exit_code == 1
    line = next(n for n, ln in enumerate(text.splitlines(), 1) if '"type"' in ln)
    assert f"{path}: line {line}, column " in result.stderr
    assert "not valid JSON: Expecting ':' delimiter (correct the file there" in result.stderr
