"""`refdb page` shows studies filed under no indication under "Other studies", after the
indications, as `export` and `site` do."""

from __future__ import annotations

import json

import pytest

from tests.conftest import RunCli, ok
from tests.test_realworld_files import REAL

ZOTERO = REAL / "zotero-pubmed-records.ris"  # six PubMed records exported from Zotero


@pytest.mark.parametrize(
    ("fmt", "heading"),
    [("text", "Other studies\n-------------"), ("markdown", "## Other studies"), ("html", "")],
)
def test_an_imported_file_without_indications_is_on_the_page(
    cli: RunCli, fmt: str, heading: str
) -> None:
    assert cli("import", str(ZOTERO)).exit_code == 0
    page = cli("page", "--format", fmt)
    assert page.exit_code == 0
    assert "Other studies" in page.stdout and heading in page.stdout
    for study in json.loads(cli("list", "--json").stdout):
        assert str(study["title"])[:40].split("<")[0] in page.stdout.replace("\n   ", " ")
    assert page.stdout.count("Evidence: ") == 6


def test_other_studies_follow_the_indications_and_tagged_ones_leave_them(cli: RunCli) -> None:
    ok(cli("seed"))
    ok(cli("import", str(ZOTERO)))
    keys = [s["key"] for s in json.loads(cli("list", "--json").stdout) if not s["indications"]]
    assert len(keys) == 6
    ok(cli("tag", keys[0], "Depression"))
    page = cli("page", "--format", "text").stdout
    assert page.index("For CRPS/RSD") < page.index("For Depression") < page.index("Other studies")
    other = page[page.index("Other studies") :]
    assert other.count("Evidence: ") == 5
    # One indication's page is that indication alone.
    only = cli("page", "--format", "text", "--indication", "CRPS").stdout
    assert "Other studies" not in only and "For Depression" not in only


def test_a_library_with_every_study_filed_has_no_other_studies(cli: RunCli) -> None:
    ok(cli("seed"))
    assert "Other studies" not in cli("page").stdout
