"""What the site tests share: the seeded library with one hostile study, and an HTML reader."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from refdb.cli import app
from tests.conftest import REPO

HOSTILE = REPO / "tests" / "data" / "site_hostile.json"
"""One CRPS study whose title, authors, journal, abstract and URL hold markup and script."""
HOSTILE_KEY = "obrien2020script"
HOSTILE_TITLE_TEXT = "<script>alert(1)</script> Ketamine"


def run(db_url: str, *args: str) -> Result:
    """`refdb --db URL ARGS...` in-process."""
    return CliRunner().invoke(app, ["--db", db_url, *args])


def seeded_library(db_url: str) -> None:
    """`refdb seed`, then the hostile study imported under CRPS, set by hand to an RCT."""
    for args in (
        ("seed",),
        ("import", str(HOSTILE), "--indication", "CRPS"),
        ("edit", HOSTILE_KEY, "--set", "evidence_level=rct"),
    ):
        result = run(db_url, *args)
        assert result.exit_code == 0, result.output


def studies(db_url: str) -> list[dict[str, Any]]:
    """The library as `refdb list --json` prints it."""
    result = run(db_url, "list", "--json")
    assert result.exit_code == 0, result.output
    data: list[dict[str, Any]] = json.loads(result.stdout)
    return data


def level_counts(db_url: str) -> dict[tuple[str, str], int]:
    """(indication, level) -> how many studies, from `refdb list --json`."""
    counts: dict[tuple[str, str], int] = {}
    for study in studies(db_url):
        for indication in study["indications"]:
            key = (indication, study["evidence_level"] or "unclassified")
            counts[key] = counts.get(key, 0) + 1
    return counts


class Tags(HTMLParser):
    """Every start tag of a document with its attributes, and the text of its headings."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def read_tags(path: Path) -> Tags:
    parser = Tags()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser


def site_pages(outdir: Path) -> list[Path]:
    """The index and every study's page."""
    return [outdir / "index.html", *sorted((outdir / "studies").glob("*.html"))]
