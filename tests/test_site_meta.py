"""What Zotero, Mendeley and Google Scholar read from the site: every study page's Highwire
`citation_*` tags and JSON-LD, checked against the study as `refdb show --json` gives it, and
the index's COinS spans, parsed back from their KEV titles.

The tags are read as Zotero's "Embedded Metadata" translator reads them (zotero/translators,
`Embedded Metadata.js`): the first tag of a name for a field, every `citation_author`, pages
as firstpage-lastpage; the spans as zotero/utilities `openurl.js` `parseContextObject` does
(split at `&` and `=`, `+` read as a space). Two libraries: the seeded one with a hostile
study, and 188 real PubMed records (NLM's 2019 sample and recorded efetch answers in
../shared/fixtures/pubmed) imported as CSL-JSON.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from refdb.csl import to_csl
from tests.conftest import RunCli
from tests.plugin_shared import SHARED_PUBMED as PUBMED
from tests.plugin_shared import needs_shared
from tests.site_helpers import HOSTILE_KEY, read_tags, seeded_library, studies

INLINE = re.compile(r"</?(?:i|b|em|strong|sup|sub|u|sc)>", re.IGNORECASE)


def plain(text: str | None) -> str:
    return " ".join(INLINE.sub("", text or "").split())


def meta_tags(page: Path) -> dict[str, list[str]]:
    """Every `citation_*` meta tag of a page, in order, by name."""
    found: dict[str, list[str]] = {}
    for tag, attrs in read_tags(page).tags:
        name = attrs.get("name") or ""
        if tag == "meta" and name.startswith("citation_"):
            found.setdefault(name, []).append(attrs.get("content") or "")
    return found


def page_title(page: Path) -> str:
    match = re.search(r"<title>(.*?)</title>", page.read_text(encoding="utf-8"), re.DOTALL)
    assert match, page
    from html import unescape

    return unescape(match.group(1))


def json_ld(page: Path) -> dict[str, Any]:
    text = page.read_text(encoding="utf-8")
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', text, re.DOTALL)
    assert len(blocks) == 1, page
    data: dict[str, Any] = json.loads(blocks[0])
    return data


def expected_author(author: dict[str, Any]) -> str:
    if author["literal"]:
        return plain(author["literal"])
    given = plain(author["given"] or author["initials"])
    return f"{plain(author['family'])}, {given}" if given else plain(author["family"])


def expected_date(study: dict[str, Any]) -> list[str]:
    if study["year"] is None:
        return []
    parts = [f"{study['year']:04d}"]
    if study["month"]:
        parts.append(f"{study['month']:02d}")
        if study["day"]:
            parts.append(f"{study['day']:02d}")
    return ["/".join(parts)]


def check_study_page(page: Path, study: dict[str, Any]) -> None:
    """The page's Highwire tags, <title> and JSON-LD say what the study is."""
    tags = meta_tags(page)
    one = {name: values[0] for name, values in tags.items()}
    assert all(len(v) == 1 for n, v in tags.items() if n != "citation_author"), (page, tags)
    assert one["citation_title"] == plain(study["title"])
    assert page_title(page) == plain(study["title"])  # Zotero's fallback, with no site suffix
    assert tags.get("citation_author", []) == [expected_author(a) for a in study["authors"]]
    assert tags.get("citation_publication_date", []) == expected_date(study)
    fields = {
        "citation_volume": study["volume"],
        "citation_issue": study["issue"],
        "citation_doi": study["doi"],
        "citation_pmid": study["pmid"],
        "citation_issn": study["issn"],
        "citation_language": study["language"],
    }
    if study["type"] == "chapter":
        fields["citation_book_title"] = plain(study["container_title"]) or None
    elif study["type"] != "book":
        fields["citation_journal_title"] = plain(study["container_title"]) or None
        fields["citation_journal_abbrev"] = plain(study["container_title_short"]) or None
    for name, value in fields.items():
        assert one.get(name) == (" ".join(value.split()) if value else None), (page, name)
    pages = study["pages"] or ""
    first, last = one.get("citation_firstpage"), one.get("citation_lastpage")
    if re.fullmatch(r"\d+-\d+", pages):
        start, end = pages.split("-")
        if len(end) < len(start):  # PubMed's "107-15" is pages 107 to 115
            end = start[: len(start) - len(end)] + end
        assert (first, last) == (start, end), page
    elif re.fullmatch(r"[A-Za-z]+\d+-[A-Za-z]+\d+", pages):
        assert (first, last) == tuple(pages.split("-")), page
    elif pages and not re.search(r"[-,;\s\u2013]", pages):
        assert (first, last) == (pages, None), page
    elif pages:  # "1825-1834, 1839-1840"; "[34457 words; 185 paragraphs]" is no page at all
        assert first is None or (pages.startswith(first) and re.search(r"\d", first)), page
    else:
        assert first is None and last is None, page
    # The abstract page is the page itself (Zotero resolves it against the page's address).
    assert one["citation_abstract_html_url"] == page.name
    assert "Z3988" not in page.read_text(
        encoding="utf-8"
    )  # Zotero would prefer it, losing the PMID
    data = json_ld(page)
    assert data["@type"] == "MedicalScholarlyArticle"
    assert data["headline"] == plain(study["title"])
    assert data.get("publicationType", []) == study["publication_types"]
    ids = {i["propertyID"]: i["value"] for i in data.get("identifier", [])}
    assert ids.get("PMID") == study["pmid"] and ids.get("DOI") == study["doi"]
    assert len(data.get("author", [])) == len(study["authors"])


def show(cli: RunCli, key: str) -> dict[str, Any]:
    result = cli("show", key, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_every_study_page_carries_highwire_tags_for_its_study(
    cli: RunCli, db_url: str, tmp_path: Path
) -> None:
    seeded_library(db_url)
    assert cli("site", str(tmp_path / "site")).exit_code == 0
    pages = sorted((tmp_path / "site" / "studies").glob("*.html"))
    assert len(pages) == len(studies(db_url)) == 10
    for page in pages:
        check_study_page(page, show(cli, page.stem))
    hostile = (tmp_path / "site" / "studies" / f"{HOSTILE_KEY}.html").read_text(encoding="utf-8")
    head = hostile.split("</head>")[0]
    assert "<script>alert" not in head and "<img" not in head
    assert (
        '<meta name="citation_author" content="Smith, Ann &lt;img src=x onerror=alert(2)&gt;">'
        in head
    )
    # The JSON-LD cannot close its <script> element early.
    assert head.count("</script>") == 2  # the JSON-LD's and site.js's


def test_zotero_reads_a_journal_article_with_its_pmid(cli: RunCli, tmp_path: Path) -> None:
    """What Embedded Metadata.js makes of a seed study's page, field by field."""
    assert cli("seed").exit_code == 0
    assert cli("site", str(tmp_path / "site")).exit_code == 0
    tags = meta_tags(tmp_path / "site" / "studies" / "hu2016single.html")
    item = {
        "itemType": "journalArticle" if "citation_journal_title" in tags else "webpage",
        "title": tags["citation_title"][0],
        "publicationTitle": tags["citation_journal_title"][0],
        "journalAbbreviation": tags["citation_journal_abbrev"][0],
        "volume": tags["citation_volume"][0],
        "issue": tags["citation_issue"][0],
        "pages": f"{tags['citation_firstpage'][0]}-{tags['citation_lastpage'][0]}",
        "date": tags["citation_publication_date"][0],
        "DOI": tags["citation_doi"][0],
        "extra": f"PMID: {tags['citation_pmid'][0]}",
        "creators": [a.split(", ", 1) for a in tags["citation_author"]],
    }
    assert item == {
        "itemType": "journalArticle",
        "title": "Single i.v. ketamine augmentation of newly initiated escitalopram for major "
        "depression: results from a randomized, placebo-controlled 4-week study",
        "publicationTitle": "Psychological Medicine",
        "journalAbbreviation": "Psychol Med",
        "volume": "46",
        "issue": "3",
        "pages": "623-635",
        "date": "2016",
        "DOI": "10.1017/S0033291715002159",
        "extra": "PMID: 26478208",
        "creators": [
            ["Hu", "Y.-D."],
            ["Xiang", "Y.-T."],
            ["Fang", "J.-X."],
            ["Zu", "S."],
            ["Sha", "S."],
            ["Shi", "H."],
            ["Ungvari", "Gabor S."],
            ["Correll", "C. U."],
            ["Chiu", "H. F. K."],
            ["Xue", "Y."],
            ["Tian", "T.-F."],
            ["Wu", "A.-S."],
            ["Ma", "X."],
            ["Wang", "G."],
        ],
    }


def real_pubmed_file(tmp_path: Path) -> Path:
    """188 real PubMed records as a CSL-JSON file (keys given, so the pages can be named)."""
    from refdb.sources.pubmed import parse_pubmed_xml

    refs = parse_pubmed_xml(gzip.decompress((PUBMED / "nlm-pubmedsample-2019.xml.gz").read_bytes()))
    for path in sorted(PUBMED.glob("efetch-*.xml")):
        refs += parse_pubmed_xml(path.read_bytes())
    items = []
    for n, ref in enumerate(refs):
        ref.key = f"pubmed{n:03d}"
        items.append(to_csl(ref))
    out = tmp_path / "pubmed.json"
    out.write_text(json.dumps(items), encoding="utf-8")
    return out


@needs_shared("fixtures/pubmed/nlm-pubmedsample-2019.xml.gz")
def test_real_pubmed_records_get_the_tags_of_what_is_stored(cli: RunCli, tmp_path: Path) -> None:
    result = cli("import", str(real_pubmed_file(tmp_path)))
    assert result.exit_code == 0, result.output
    assert cli("site", str(tmp_path / "site")).exit_code == 0
    pages = sorted((tmp_path / "site" / "studies").glob("*.html"))
    listed = json.loads(cli("list", "--json").stdout)
    assert len(pages) == len(listed) > 150
    kinds = {"literal": 0, "chapter": 0, "book": 0, "abstract": 0}
    for page in pages:
        study = show(cli, page.stem)
        check_study_page(page, study)
        kinds["literal"] += any(a["literal"] for a in study["authors"])
        kinds["chapter"] += study["type"] == "chapter"
        kinds["book"] += study["type"] == "book"
        kinds["abstract"] += bool(meta_tags(page).get("citation_abstract"))
    assert all(kinds.values()), kinds  # collective authors, a chapter, a book, abstracts


# --- COinS on the index ------------------------------------------------------------------


def zotero_kev(title: str) -> list[tuple[str, str]]:
    """A span's ContextObject as Zotero's parseContextObject splits and decodes it."""
    pairs = []
    for part in title.split("&"):
        key, value = part.split("=")[:2]
        pairs.append((key, unquote(re.sub(r"\+|%2[bB]", " ", value))))
    return pairs


def spans(index: Path) -> list[str]:
    return [
        attrs["title"] or ""
        for tag, attrs in read_tags(index).tags
        if tag == "span" and attrs.get("class") == "Z3988"
    ]


def test_the_index_offers_every_study_once_as_coins(
    cli: RunCli, db_url: str, tmp_path: Path
) -> None:
    seeded_library(db_url)
    assert cli("tag", "hu2016single", "CRPS").exit_code == 0  # shown twice, offered once
    assert cli("site", str(tmp_path / "site")).exit_code == 0
    titles = spans(tmp_path / "site" / "index.html")
    by_title: dict[str, dict[str, Any]] = {}
    for title in titles:
        pairs = parse_qsl(title, keep_blank_values=True, strict_parsing=True)
        assert pairs == zotero_kev(title)  # no "+" or "=" that Zotero would misread
        fields: dict[str, Any] = {}
        for key, value in pairs:
            fields.setdefault(key, []).append(value)
        by_title[fields["rft.atitle"][0]] = fields
    shown = studies(db_url)
    assert len(titles) == len(shown) == len(by_title)
    for listed in shown:
        study = show(cli, listed["key"])
        fields = by_title[plain(study["title"])]
        assert fields["ctx_ver"] == ["Z39.88-2004"]
        assert fields["rft_val_fmt"] == ["info:ofi/fmt:kev:mtx:journal"]
        assert fields["rft.genre"] == ["article"]
        assert fields["rft.jtitle"] == [plain(study["container_title"])]
        assert fields["rft.date"][0].split("-")[0] == str(study["year"])
        assert fields.get("rft.volume") == ([study["volume"]] if study["volume"] else None)
        assert fields.get("rft.issue") == ([study["issue"]] if study["issue"] else None)
        assert fields.get("rft.pages") == ([study["pages"]] if study["pages"] else None)
        assert fields["rft.au"] == [expected_author(a) for a in study["authors"]]
        ids = fields.get("rft_id", [])
        assert (f"info:doi/{study['doi']}" in ids) == bool(study["doi"])
        assert (f"info:pmid/{study['pmid']}" in ids) == bool(study["pmid"])
        first = study["authors"][0]
        assert fields["rft.aulast"] == [plain(first["family"])]
        assert fields["rft.aufirst"] == [plain(first["given"])]
