"""The evidence page and grouped bibliographies, from the clinic's seeds."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from refdb.errors import RefdbError
from refdb.records import Author, Reference
from refdb.render.page import Group, render_bibliography, render_page
from refdb.sources.csljson import read_csl_json

REPO = Path(__file__).resolve().parents[1]


def _seed_groups() -> list[Group]:
    refs = read_csl_json(REPO / "seeds" / "studies.json").references
    indications = json.loads((REPO / "seeds" / "indications.json").read_text(encoding="utf-8"))
    indications.sort(key=lambda item: item["position"])
    return [
        (item["heading"], [ref for ref in refs if item["name"] in ref.indications])
        for item in indications
    ]


@pytest.fixture
def groups() -> list[Group]:
    return _seed_groups()


class _Checker(HTMLParser):
    """Collects the document's tags, link targets and text; fails on unbalanced elements."""

    VOID = frozenset({"meta", "br", "link", "img", "hr", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self.decl: str | None = None

    def handle_decl(self, decl: str) -> None:
        self.decl = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [value or "" for name, value in attrs if name == "href"]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> in {self.stack}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _check_html(document: str) -> _Checker:
    checker = _Checker()
    checker.feed(document)
    checker.close()
    assert checker.decl is not None and checker.decl.lower() == "doctype html"
    assert not checker.stack
    return checker


@pytest.mark.parametrize("fmt", ["markdown", "html", "text"])
@pytest.mark.parametrize("style", ["ama", "apa", "vancouver"])
def test_page_has_both_headings_in_order_and_every_study(
    groups: list[Group], style: str, fmt: str
) -> None:
    page = render_page(groups, style=style, fmt=fmt)
    crps, depression = page.index("For CRPS/RSD"), page.index("For Depression")
    assert crps < depression
    for heading, refs in groups:
        start = page.index(heading)
        for ref in refs:
            assert ref.year is not None
            # The first author, year and the doi.org or PubMed link sit in the heading's section.
            section = page[start:] if heading == "For Depression" else page[start:depression]
            assert ref.first_author.replace("'", "\u2019") in section
            assert str(ref.year) in section
            if ref.pmid:
                assert f"https://pubmed.ncbi.nlm.nih.gov/{ref.pmid}/" in section
            if ref.doi:
                assert f"https://doi.org/{ref.doi}" in section


@pytest.mark.parametrize("fmt", ["markdown", "html", "text"])
def test_every_journal_is_named(groups: list[Group], fmt: str) -> None:
    page = render_page(groups, style="ama", fmt=fmt)
    for _, refs in groups:
        for ref in refs:
            assert ref.container_title_short and ref.container_title_short in page


def test_markdown_numbers_entries_within_each_group(groups: list[Group]) -> None:
    page = render_page(groups, style="ama")
    assert page.startswith("# Published Clinical Evidence\n")
    sections = page.split("## ")[1:]
    assert [s.splitlines()[0] for s in sections] == ["For CRPS/RSD", "For Depression"]
    for section, (_, refs) in zip(sections, groups, strict=True):
        numbers = re.findall(r"^(\d+)\. ", section, flags=re.MULTILINE)
        assert numbers == [str(n) for n in range(1, len(refs) + 1)]
    apa = render_page(groups, style="apa")
    assert re.search(r"^- Birklein, F\.", apa, flags=re.MULTILINE)
    assert not re.search(r"^\d+\. ", apa, flags=re.MULTILINE)


def test_html_is_a_complete_escaped_document(groups: list[Group]) -> None:
    groups[0][1][0].title = 'Ketamine <script>alert("x")</script> & "CRPS"'
    document = render_page(groups, style="ama", fmt="html", title="Evidence <&> page")
    checker = _check_html(document)
    assert '<html lang="en">' in document and '<meta charset="utf-8">' in document
    assert "<title>Evidence &lt;&amp;&gt; page</title>" in document
    assert "script" not in checker.tags
    assert "&lt;script&gt;" in document
    assert checker.tags.count("ol") == 2 and checker.tags.count("h2") == 2
    assert "Evidence <&> page" in "".join(checker.text)
    for href in checker.hrefs:
        assert href.startswith(("https://pubmed.ncbi.nlm.nih.gov/", "https://doi.org/"))


def test_links_are_escaped_in_href() -> None:
    ref = Reference(
        title="Odd DOI",
        authors=[Author(family="Lee", given="Min")],
        container_title="J",
        year=2020,
        doi='10.1000/a"b<c>(d)',
    )
    document = render_page([("", [ref])], style="apa", fmt="html")
    checker = _check_html(document)
    assert "https://doi.org/10.1000/a%22b%3Cc%3E(d)" in checker.hrefs
    markdown = render_page([("", [ref])], style="apa")
    assert "[DOI](<https://doi.org/10.1000/a%22b%3Cc%3E(d)>)" in markdown


def test_search_link_when_no_pmid(groups: list[Group]) -> None:
    birklein = next(ref for ref in groups[0][1] if ref.first_author == "Birklein")
    assert birklein.pmid is None
    page = render_page(groups, style="vancouver", fmt="text")
    block = page[page.index("Birklein F") :].split("\n\n")[0]
    url = re.search(r"PubMed search: (\S+)", block)
    assert url is not None
    query = parse_qs(urlparse(url.group(1)).query)
    assert query == {"term": [birklein.title]}
    assert not re.search(r"pubmed\.ncbi\.nlm\.nih\.gov/\d+/", block), "no guessed PMID"


def test_markdown_escapes_title_markup() -> None:
    ref = Reference(
        title="Ketamine *works* in [some] _cases_ <b>bold</b> <script>x</script>",
        authors=[Author(family="Lee", given="Min")],
        container_title="J",
        year=2020,
        pmid="123",
    )
    page = render_bibliography([("For *Pain*", [ref])], style="ama", fmt="markdown")
    assert "## For \\*Pain\\*" in page
    assert (
        "Ketamine \\*works\\* in \\[some\\] \\_cases\\_ **bold** \\<script\\>x\\</script\\>" in page
    )
    assert "[PubMed](<https://pubmed.ncbi.nlm.nih.gov/123/>)" in page


@pytest.mark.parametrize("fmt", ["markdown", "html", "text"])
def test_retracted_is_marked_never_dropped(groups: list[Group], fmt: str) -> None:
    retracted = groups[1][1][0]
    retracted.status = "retracted"
    retracted.status_note = "Retraction in Psychol Med. 2020"
    corrected = groups[1][1][1]
    corrected.status = "corrected"
    page = render_page(groups, style="ama", fmt=fmt)
    entry = page[page.index("For Depression") :]
    marker = "Retracted</strong>" if fmt == "html" else "RETRACTED"
    assert entry.index(marker) < entry.index("Hu YD") < entry.index("Tundo A")
    assert "Retraction in Psychol Med. 2020" in entry
    assert "(Corrected" in entry
    assert page.count("RETRACTED") + page.count(">Retracted<") == 1


def test_text_page_entries_carry_their_links(groups: list[Group]) -> None:
    page = render_page(groups, style="ama", fmt="text")
    assert page.startswith("Published Clinical Evidence\n")
    assert "1. Douglas SR, Shenoda BB, Qureshi RA, et al." in page
    assert "   DOI: https://doi.org/10.1016/j.jpain.2015.05.008" in page


def test_incomplete_seed_authors_read_as_incomplete(groups: list[Group]) -> None:
    page = render_page(groups, style="apa", fmt="text")
    assert "Newport, D. J., Carpenter, L. L., McDonald, W. M., et al." in page
    # Yang 2015's eight authors are verified (seed-metadata, pass 3): the whole list, no et al.
    assert (
        "Yang, C., Shirayama, Y., Zhang, J.-C., Ren, Q., Yao, W., Ma, M., Dong, C., & Hashimoto, K. (2015)"
        in page
    )


def test_single_group_without_heading_and_custom_title() -> None:
    ref = Reference(title="Lone study", authors=[Author(family="Lee", given="Min")], year=2020)
    out = render_bibliography([("", [ref])], style="ama", fmt="markdown")
    assert out.startswith("1. Lee M. Lone study.")
    assert "#" not in out
    page = render_page([("", [ref])], style="ama", fmt="text", title="Our evidence")
    assert page.startswith("Our evidence\n============\n\n1. Lee M.")


def test_unknown_style_and_format_are_errors(groups: list[Group]) -> None:
    with pytest.raises(RefdbError, match="unknown style"):
        render_page(groups, style="chicago-made-up")
    with pytest.raises(RefdbError, match="unknown format"):
        render_page(groups, style="ama", fmt="pdf")
