"""refdb's formatted text against citeproc-js itself, on references it was not tuned for.

The golden files in ../shared hold citeproc-js's output for the nine seed studies; this test
runs citeproc-js (node, `tests/citeproc_js/`, installed by .ci/run) on NLM's 2019 PubMed sample
and the recorded efetch answers, 188 real records, and compares every entry in the three
styles with refdb's own.
"""

from __future__ import annotations

import gzip
import json
import subprocess
from collections import Counter
from pathlib import Path

import citeproc
import pytest

from refdb.csl import from_csl, to_csl
from refdb.records import Reference
from refdb.render.citations import format_bibliography, resolve_style
from refdb.sources.pubmed import parse_pubmed_xml
from tests.conftest import needs
from tests.plugin_shared import SHARED_PUBMED as PUBMED
from tests.plugin_shared import shared_file

HERE = Path(__file__).resolve().parent / "citeproc_js"
LOCALE = Path(citeproc.__file__).parent / "data" / "locales" / "locales-en-US.xml"

KNOWN_GAPS = {
    "30108519": "its title's inline markup is misnested (<i>...\"</i>); citeproc-js prints the "
    "tags as text, refdb drops them",
    "23326248": "citeproc-js title-cases 'e-journal' as 'e-Journal', citeproc-py as 'E-journal'",
}
"""Records whose entries still differ, and why (left out of the comparison)."""

pytestmark = needs("node", installed=HERE / "node_modules" / "citeproc")


def _references() -> list[Reference]:
    sample = shared_file("fixtures/pubmed/nlm-pubmedsample-2019.xml.gz")
    refs = parse_pubmed_xml(gzip.decompress(sample.read_bytes()))
    for path in sorted(PUBMED.glob("efetch-*.xml")):
        refs += parse_pubmed_xml(path.read_bytes())
    return [ref for ref in refs if ref.pmid not in KNOWN_GAPS]


def _citeproc_js(style: str, items: list[dict[str, object]], tmp_path: Path) -> list[str]:
    """What citeproc-js prints for these CSL-JSON items, one entry a line."""
    data = tmp_path / "items.json"
    data.write_text(json.dumps(items), encoding="utf-8")
    return subprocess.run(
        ["node", str(HERE / "render.js"), str(resolve_style(style)), str(LOCALE), str(data)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.splitlines()


def _both(style: str, tmp_path: Path) -> tuple[list[str], list[str]]:
    items = []
    for number, ref in enumerate(_references()):
        item = to_csl(ref, with_custom=False)
        item["id"] = f"r{number}"
        items.append(item)
    printed = _citeproc_js(style, items, tmp_path)
    ours = format_bibliography([from_csl(item) for item in items], style, "text").splitlines()
    return printed, [line for line in ours if line.strip()]


@pytest.mark.parametrize("style", ["ama", "vancouver"])
def test_numbered_styles_print_every_entry_as_citeproc_js(style: str, tmp_path: Path) -> None:
    theirs, ours = _both(style, tmp_path)
    assert len(theirs) == len(ours) > 150
    different = [(a, b) for a, b in zip(theirs, ours, strict=True) if a != b]
    assert different == []


def test_apa_prints_every_entry_as_citeproc_js(tmp_path: Path) -> None:
    theirs, ours = _both("apa", tmp_path)
    # One known order difference: citeproc-js sorts the literal author "U.S. Preventive
    # Services Task Force" before "Uri, J. J."; the entries themselves are compared here.
    assert Counter(theirs) - Counter(ours) == Counter()
    assert len(theirs) == len(ours) > 150


TRICKY = [
    {"title": "Ketamine : a review; really? yes ! « ok »", "container-title": "Toxicon : official journal",
     "page": "1-191", "volume": "3", "language": "eng"},
    {"title": "Second: one", "container-title": "Journal Canadien d'anesthesie", "volume": "3",
     "page": "1475-1476; author reply 1475-6"},
    {"title": "Third", "container-title": "X", "page": "e12-e18"},
    {"title": "The 'magic' of \"ketamine 'S' form\" in O'Neill's '90s study", "container-title": "X"},
    {"title": "He said \"hi\" and 'bye' to \"x 'y' z\"", "container-title": "X", "page": "S12-S18"},
    {"title": "Should I stop?", "container-title": "Harv Health Lett", "issue": "1-3", "volume": "147"},
    {"title": "Names", "container-title": "X", "author": [
        {"family": "Zhang", "given": "Ji-chun"}, {"family": "Li", "given": "Xiao-Ming"},
        {"family": "Gogh", "given": "Vincent", "dropping-particle": "van"},
        {"family": "Hoek", "given": "Anna", "non-dropping-particle": "van der"},
        {"family": "King", "given": "Martin Luther", "suffix": "Jr."}]},
    {"title": "No authors at all", "container-title": "Pain", "volume": "147", "page": "107-15"},
]  # fmt: skip
"""Made-up items for the rules citeproc-py gets wrong (quotes, pages, names, punctuation)."""


@pytest.mark.parametrize("style", ["ama", "apa", "vancouver"])
def test_tricky_made_up_items_print_as_citeproc_js(style: str, tmp_path: Path) -> None:
    items = []
    for number, fields in enumerate(TRICKY):
        item = {"id": f"t{number}", "type": "article-journal", "issued": {"date-parts": [[2001]]}}
        item.setdefault("author", [{"family": "Smith", "given": "John"}])
        item.update(fields)
        if item["title"] == "No authors at all":
            del item["author"]
        items.append(item)
    theirs = _citeproc_js(style, items, tmp_path)
    ours = format_bibliography([from_csl(item) for item in items], style, "text").splitlines()
    assert [line for line in ours if line.strip()] == theirs
