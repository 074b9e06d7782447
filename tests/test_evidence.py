"""Evidence levels are derived in one place from PubMed's publication types and MeSH headings."""

from __future__ import annotations

import gzip
from collections import Counter

import pytest

from refdb.evidence import LABELS, LEVELS, derive_level
from refdb.sources.pubmed.parse import parse_pubmed_xml
from tests.plugin_shared import shared_file


@pytest.mark.parametrize(
    ("types", "mesh", "level", "basis"),
    [
        (
            ["Journal Article", "Meta-Analysis"],
            [],
            "meta-analysis",
            "publication type 'Meta-Analysis'",
        ),
        (
            ["Systematic Review"],
            ["Humans"],
            "meta-analysis",
            "publication type 'Systematic Review'",
        ),
        (
            ["Journal Article", "Randomized Controlled Trial", "Research Support, Non-U.S. Gov't"],
            ["Humans", "Ketamine/*administration & dosage"],
            "rct",
            "publication type 'Randomized Controlled Trial'",
        ),
        (
            ["Clinical Trial, Phase II"],
            ["Humans"],
            "clinical-trial",
            "publication type 'Clinical Trial, Phase II'",
        ),
        (
            ["Journal Article"],
            ["Humans", "Retrospective Studies"],
            "observational",
            "MeSH 'Retrospective Studies'",
        ),
        (["Case Reports"], ["Humans"], "case-report", "publication type 'Case Reports'"),
        (["Journal Article", "Review"], ["Humans"], "review", "publication type 'Review'"),
        (["Letter", "Comment"], [], "review", "publication type 'Letter'"),
        # A randomised trial in mice is preclinical, whatever the publication type says.
        (
            ["Randomized Controlled Trial"],
            ["Animals", "*Mice", "Depression/drug therapy"],
            "preclinical",
            "MeSH 'Animals' without 'Humans'",
        ),
        (
            ["Journal Article"],
            ["Animals", "Humans"],
            "unclassified",
            "no publication type or MeSH heading that says",
        ),
        ([], [], "unclassified", "no publication type or MeSH heading that says"),
    ],
)
def test_levels_and_what_they_were_derived_from(
    types: list[str], mesh: list[str], level: str, basis: str
) -> None:
    derived = derive_level(types, mesh)
    assert (derived.level, derived.basis) == (level, basis)
    assert derived.level in LEVELS and LABELS[derived.level]


def test_nlm_sample_records_all_get_a_known_level() -> None:
    """NLM's 2019 sample: every record gets a level; the designs it holds show up."""
    path = shared_file("fixtures/pubmed/nlm-pubmedsample-2019.xml.gz")
    refs = parse_pubmed_xml(gzip.decompress(path.read_bytes()))
    levels = Counter(derive_level(r.publication_types, r.mesh_terms).level for r in refs)
    assert sum(levels.values()) == len(refs) == 176
    assert set(levels) <= set(LEVELS)
    assert levels["review"] and levels["rct"] and levels["preclinical"]
