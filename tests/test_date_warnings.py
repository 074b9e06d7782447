"""Date warnings say what was lost, and a date whose parts say everything does not warn:
a time of day on an ISO date (Zotero), ProQuest's `DA  - May 2020`, 'June 1980' in a year."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import RunCli, ok
from tests.test_realworld_files import REAL


def _import(cli: RunCli, path: Path) -> tuple[list[str], dict[str, dict[str, object]]]:
    result = cli("import", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    warnings = [f"{w['key']}: {w['reason']}" for w in json.loads(result.stdout)["warnings"]]
    studies = {s["key"]: s for s in json.loads(cli("list", "--json").stdout)}
    return warnings, studies


def _date(cli: RunCli, key: str) -> tuple[object, ...]:
    shown = json.loads(cli("show", key, "--json").stdout)
    return tuple(shown[f] for f in ("year", "month", "day", "season", "date_text"))


def test_an_iso_date_with_a_time_is_a_full_date_without_a_warning(
    cli: RunCli, tmp_path: Path
) -> None:
    path = tmp_path / "zotero.bib"
    path.write_text(
        "@online{site2019,\n  title = {A Web Page},\n  date = {2019-10-15T20:58:43Z},\n}\n",
        encoding="utf-8",
    )
    warnings, _ = _import(cli, path)
    assert warnings == []
    assert _date(cli, "site2019") == (2019, 10, 15, None, None)
    exported = cli("export", "--format", "biblatex").stdout
    assert "date = {2019-10-15}" in exported


def test_biber_test_file_times_are_read_silently_and_ranges_say_what_is_text_only(
    cli: RunCli,
) -> None:
    # biber's own test file of date forms: `time1` has DATE = {2001-01-03T15:00:00}.
    warnings, _ = _import(cli, REAL / "biber-dateformats.bib")
    assert not [w for w in warnings if w.startswith("time1:")]
    assert _date(cli, "time1") == (2001, 1, 3, None, None)
    # Each warning names what was kept and what only the text holds.
    assert (
        "L14: date '1996-12-10/1996-12-12': kept the year 1996, month 12 and day 10; "
        "the rest ('/1996-12-12') only as text"
    ) in warnings
    assert "L8: year '1985a': kept the year 1985; the rest ('a') only as text" in warnings
    assert (
        "L4: date '1995-1-04' is not an ISO 8601/EDTF date; kept the year 1995; "
        "the rest ('1-04') only as text"
    ) in warnings
    # One warning per date, not two.
    assert len([w for w in warnings if w.startswith("L4: date")]) == 1


# ProQuest writes the publication date in words in `DA` (no public ProQuest export was found
# to keep in tests/data/realworld/; these records follow the file line by line).
PROQUEST = """\
TY  - JOUR
T1  - Ketamine for depression in primary care
AU  - Smith, Jane
JF  - Journal of Affective Disorders
Y1  - 2020
PY  - 2020
DA  - {da}
VL  - 12
ER  -
"""


@pytest.mark.parametrize(
    ("da", "expected"),
    [
        ("May 2020", (2020, 5, None, None, None)),
        ("May 15, 2020", (2020, 5, 15, None, None)),
        ("15 May 2020", (2020, 5, 15, None, None)),
        ("Spring 2020", (2020, None, None, 1, None)),
        ("Sept. 2020", (2020, 9, None, None, None)),
    ],
)
def test_proquest_dates_in_words_keep_the_month_without_a_warning(
    cli: RunCli, tmp_path: Path, da: str, expected: tuple[object, ...]
) -> None:
    path = tmp_path / "ProQuestDocuments-2024-05-01.ris"
    path.write_text(PROQUEST.format(da=da), encoding="utf-8")
    warnings, studies = _import(cli, path)
    assert warnings == []
    (key,) = studies
    assert _date(cli, key) == expected


def test_a_proquest_range_warns_once_naming_what_is_text_only(cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "proquest.ris"
    path.write_text(PROQUEST.format(da="Jan/Feb 2020"), encoding="utf-8")
    result = ok(cli("import", str(path)))
    lines = result.stderr.splitlines()
    assert lines[0] == (
        f"{path}:1: record 1: DA 'Jan/Feb 2020': kept the year 2020 and month 1; "
        "the rest ('/Feb') only as text (stored as smith2020ketamine)"
    )
    assert lines[1].endswith("1 added, 0 updated, 0 unchanged, 0 skipped, 1 warned")


def test_sixty_six_proquest_records_give_no_date_warnings(cli: RunCli, tmp_path: Path) -> None:
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    records = [
        PROQUEST.format(da=f"{months[n % 12]} {2000 + n % 20}")
        .replace("Y1  - 2020\nPY  - 2020\n", f"PY  - {2000 + n % 20}\n")
        .replace("in primary care", f"in primary care, part {n}")
        for n in range(66)
    ]
    path = tmp_path / "proquest.ris"
    path.write_text("\n".join(records), encoding="utf-8")
    result = cli("import", str(path))
    assert result.exit_code == 0
    assert result.stderr.strip().endswith("66 added, 0 updated, 0 unchanged, 0 skipped, 0 warned")
    shown = json.loads(cli("export", "--format", "csl-json").stdout)
    assert sorted(len(s["issued"]["date-parts"][0]) for s in shown) == [2] * 66  # year, month


def test_a_proquest_month_reaches_the_bibtex_exports(cli: RunCli, tmp_path: Path) -> None:
    # Before: the text 'May 2020' was kept and exported as `year = {May 2020}`, no month.
    path = tmp_path / "proquest.ris"
    path.write_text(PROQUEST.format(da="May 2020"), encoding="utf-8")
    ok(cli("import", str(path)))
    assert "  date = {2020-05},\n" in cli("export", "--format", "biblatex").stdout
    bibtex = cli("export", "--format", "bibtex").stdout
    assert "  year = {2020},\n  month = may,\n" in bibtex
