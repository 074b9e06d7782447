"""Real exports from public repositories (tests/data/realworld/, origins in SOURCES.md),
imported through the CLI and checked against independent readers: bibtexparser, rispy, json.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import bibtexparser
import pytest
import rispy

from tests.conftest import RunCli

REAL = Path(__file__).resolve().parent / "data" / "realworld"
FILES = sorted(p for p in REAL.iterdir() if p.suffix in (".bib", ".ris", ".json", ".txt"))
CONTAINERS = ("set", "xdata")


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", re.sub(r"[{}\\]", "", text))
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


def independent_count(path: Path) -> int:
    """How many entries another reader finds in the file (containers and comments aside)."""
    raw = path.read_bytes()
    encoding = "cp1252" if b"windows-1252" in raw[:200] else "utf-8-sig"
    text = raw.decode(encoding)
    if path.suffix == ".bib":
        library = bibtexparser.parse_string(text)
        entries = [e for e in library.entries if e.entry_type.lower() not in CONTAINERS]
        return len(entries) + len(library.failed_blocks)
    if path.suffix in (".ris", ".txt"):
        return len(rispy.loads(text, skip_unknown_tags=True))
    data = json.loads(text)
    return len(data) if isinstance(data, list) else 1


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_entry_of_a_real_export_is_stored_or_named(
    cli: RunCli, path: Path, tmp_path: Path
) -> None:
    if path.name.startswith("wos-"):
        refused = cli("import", str(path))
        assert refused.exit_code == 1 and refused.stderr.count("\n") == 1
        assert "Web of Science field-tagged text" in refused.stderr
        return
    result = cli("import", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    counts = report["counts"]
    seen = counts["added"] + counts["updated"] + counts["unchanged"] + counts["skipped"]
    containers = sum(1 for s in report["skipped"] if "container" in s["reason"])
    assert seen - containers == independent_count(path), report
    # Every line of stderr is a warning naming the file, a skip, or the summary.
    *lines, summary = result.stderr.splitlines()
    assert summary.endswith(f"{counts['warned']} warned")
    assert all(line.startswith(f"{path}:") for line in lines), lines
    assert len(lines) == len(report["skipped"]) + len(report["warnings"])


@pytest.mark.parametrize("path", [p for p in FILES if p.suffix == ".ris"], ids=lambda p: p.name)
def test_ris_titles_and_dois_agree_with_rispy(cli: RunCli, path: Path) -> None:
    assert cli("import", str(path)).exit_code == 0
    stored = json.loads(cli("list", "--json").stdout)
    records = rispy.loads(path.read_text("utf-8-sig"), skip_unknown_tags=True)
    theirs = {_norm(r.get("title") or r.get("primary_title") or "") for r in records}
    assert {_norm(s["title"]) for s in stored} == theirs - {""}
    their_dois = {r["doi"].lower() for r in records if r.get("doi", "").startswith("10.")}
    assert their_dois <= {(s["doi"] or "").lower() for s in stored}


@pytest.mark.parametrize(
    "name",
    ["mendeley-desktop-1.13-slice.bib", "jabref-testjabref.bib", "zotero-bbt-edtf-dates.bib"],
)
def test_bib_titles_and_dois_agree_with_bibtexparser(cli: RunCli, name: str) -> None:
    path = REAL / name
    assert cli("import", str(path)).exit_code == 0
    stored = json.loads(cli("list", "--json").stdout)
    library = bibtexparser.parse_string(
        path.read_text("utf-8"),
        append_middleware=[bibtexparser.middlewares.LatexDecodingMiddleware()],
    )
    theirs = {_norm(e["title"]) for e in library.entries if e.get("title")}
    assert theirs <= {_norm(s["title"]) for s in stored}
    dois = {
        str(e["doi"]).lower() for e in library.entries if str(e.get("doi", "")).startswith("10.")
    }
    assert dois <= {(s["doi"] or "").lower() for s in stored}


def test_biblatex_examples_keep_crossref_children_and_skip_sets(cli: RunCli) -> None:
    path = REAL / "biblatex-examples-slice.bib"
    report = json.loads(cli("import", str(path), "--json").stdout)
    assert {s["key"] for s in report["skipped"] if "@set" in s["reason"]} >= {"set"}
    child = json.loads(cli("show", "westfahl:space", "--json").stdout)
    assert child["container_title"] and child["year"]
