"""The static evidence site's pages: the index with levels, a chart and filters, and a page per
study (the whole site, downloads and feed included, is put together by `site_build`).

Every value from the data is escaped here (`html.escape`); citations come from citeproc-py
through `citations`, whose HTML escapes every field. The site is
self-contained: one CSS and one JS file shipped as package data (`site_assets/`), relative
links only, and what the script needs carried in data- attributes (it works from file://).
Without JavaScript every study is shown and the filters stay hidden.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from urllib.parse import quote, urlencode

from refdb.dates import SEASONS
from refdb.evidence import HAND_BASIS, LABELS, LEVELS, level_of
from refdb.formats import STYLE_LABELS
from refdb.records import Reference
from refdb.render.feed import FEED
from refdb.render.labels import pmid_url, study_links, study_status
from refdb.render.markup import escape_field, protect_inline_markup, restore_markup
from refdb.render.pieces import Piece, joined
from refdb.render.site_meta import coins_span, plain, study_head

MARKER = ".refdb-site"
"""The file that marks a folder as a refdb site (a later build may replace such a folder)."""

ASSETS = ("site.css", "site.js", "favicon.svg")

_LEVEL_COLOURS = {
    "meta-analysis": "#08306b",
    "rct": "#1d5fa8",
    "clinical-trial": "#1f7a3d",
    "observational": "#7a5c00",
    "case-report": "#a63603",
    "review": "#6a51a3",
    "preclinical": "#00695c",
    "unclassified": "#767676",
}
"""Bar colours, each at least 4.5:1 against white (the chart's background)."""

_NOTICE_LABELS = {
    "RetractionIn": "Retraction",
    "ErratumIn": "Erratum",
    "ExpressionOfConcernIn": "Expression of concern",
}
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$")
_UPPER_LABEL = re.compile(r"(?:^|(?<=[.!?])\s+)([A-Z][A-Z0-9 ,&/()'-]{1,48}[A-Z)]):\s+")
_LABELLED = re.compile(r"^([A-Za-z][^:.;?!\n]{0,58}):\s+(.+)$", re.DOTALL)


@dataclass(frozen=True)
class SiteGroup:
    """One section of the index: an indication (name "" for studies filed under none)."""

    name: str
    heading: str


def esc(text: object) -> str:
    """Text (or a number) escaped for HTML content and attribute values."""
    return html.escape(str(text), quote=True)


def inline_html(text: str) -> str:
    """A field that may hold PubMed's inline markup (<i>, <sup>...): that kept, all else text."""
    return restore_markup(escape_field(protect_inline_markup(text)))


def study_filename(key: str) -> str:
    """The file name of a study's page: its key, or a safe form of it (with a short hash)."""
    if _SAFE_NAME.match(key):
        return f"{key}.html"
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", key).strip("._-")[:80] or "study"
    return f"{safe}-{hashlib.sha1(key.encode()).hexdigest()[:8]}.html"


def _href(path: str) -> str:
    return esc(quote(path, safe="/._-~"))


def _links_html(ref: Reference) -> str:
    return " ".join(f'<a href="{esc(link.url)}">{esc(link.text)}</a>' for link in study_links(ref))


def full_date(ref: Reference) -> str:
    """The publication date in words ("12 September 2015", "Spring 2004", "in press")."""
    if ref.date_text:
        text = ref.date_text
    elif ref.year is None:
        text = "no date"
    elif ref.season and not ref.month:
        season = SEASONS[ref.season - 1].capitalize() if 1 <= ref.season <= 4 else ""
        text = f"{season} {ref.year}".strip()
    elif ref.month:
        month = calendar.month_name[ref.month] if 1 <= ref.month <= 12 else ""
        text = " ".join(str(p) for p in (ref.day, month, ref.year) if p)
    else:
        text = str(ref.year)
    if ref.circa:
        text = f"circa {text}"
    if ref.epub_date:
        text += f" (published online {ref.epub_date})"
    return text


def abstract_sections(abstract: str) -> list[tuple[str | None, str]]:
    """A stored abstract as (label, text) sections.

    PubMed's structured abstracts are stored as "LABEL: text" paragraphs separated by blank
    lines (`sources/pubmed/parse.py`); a file's abstract may have lost its line breaks, so an
    upper-case label after a sentence ("... RESULTS: ...") starts a section too. A label in
    other case ("Background: ...") counts only at the start of one of several paragraphs.
    """
    sections: list[tuple[str | None, str]] = []
    paragraphs = re.split(r"\n\s*\n", abstract.strip())
    for paragraph in paragraphs:
        parts = _UPPER_LABEL.split(paragraph.strip())
        if parts[0].strip():
            # "Background: ..." is a label only in an abstract of several paragraphs.
            found = _LABELLED.match(parts[0].strip()) if len(paragraphs) > 1 else None
            if found and len(found.group(1).split()) <= 6:
                sections.append((found.group(1).strip(), found.group(2).strip()))
            else:
                sections.append((None, parts[0].strip()))
        for n in range(1, len(parts) - 1, 2):
            sections.append((parts[n].strip(), parts[n + 1].strip()))
    return [(label, text) for label, text in sections if text]


def _status_html(ref: Reference) -> str:
    status = study_status(ref)
    if status is None:
        return ""
    return f'<span class="status status-{esc(status.kind)}">{esc(status.text)}</span>'


def _level_html(ref: Reference) -> str:
    level = level_of(ref)
    return f'<span class="level level-{esc(level)}">{esc(LABELS[level])}</span>'


# --- the page shell ------------------------------------------------------------------------


def _document(title: str, body: str, *, root: str = "", head: str = "") -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en" class="no-js">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n"
        + (f"{head}\n" if head else "")
        + f'<link rel="icon" href="{root}favicon.svg" type="image/svg+xml">\n'
        f'<link rel="stylesheet" href="{root}site.css">\n'
        f'<script src="{root}site.js" defer></script>\n'
        f"</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


# --- the index -----------------------------------------------------------------------------


def _chart(counted: Sequence[tuple[SiteGroup, dict[str, int]]], levels: Sequence[str]) -> str:
    label_width, bar_width, row, gap = 190, 420, 26, 8
    biggest = max((sum(c.values()) for _, c in counted), default=0) or 1
    height = len(counted) * (row + gap) + gap
    width = label_width + bar_width + 50
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'role="img" aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">',
        '<title id="chart-title">Studies per indication, by evidence level</title>',
        '<desc id="chart-desc">A stacked bar per indication; the table below gives the same '
        "counts.</desc>",
    ]
    for n, (group, counts) in enumerate(counted):
        y = gap + n * (row + gap)
        heading = group.heading if len(group.heading) <= 26 else group.heading[:25] + "\u2026"
        parts.append(
            f'<text x="{label_width - 8}" y="{y + row * 0.68:.1f}" text-anchor="end">'
            f"{esc(heading)}</text>"
        )
        x = float(label_width)
        for level in levels:
            count = counts.get(level, 0)
            if not count:
                continue
            w = bar_width * count / biggest
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row}" '
                f'fill="{_LEVEL_COLOURS[level]}" stroke="#fff" data-indication="{esc(group.name)}" '
                f'data-level="{esc(level)}" data-count="{count}">'
                f"<title>{esc(group.heading)}: {count} {esc(LABELS[level])}</title></rect>"
            )
            x += w
        parts.append(
            f'<text x="{x + 6:.1f}" y="{y + row * 0.68:.1f}">{sum(counts.values())}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _counts_table(
    counted: Sequence[tuple[SiteGroup, dict[str, int]]],
    levels: Sequence[str],
    totals: Mapping[str, int],
    distinct: int,
) -> str:
    head = "".join(f'<th scope="col">{esc(LABELS[level])}</th>' for level in levels)
    rows = []
    for group, counts in counted:
        cells = "".join(
            f'<td data-indication="{esc(group.name)}" data-level="{esc(level)}">'
            f"{_count_link(group, level, counts.get(level, 0))}</td>"
            for level in levels
        )
        rows.append(
            f'<tr><th scope="row">{esc(group.heading)}</th>{cells}'
            f"<td>{sum(counts.values())}</td></tr>"
        )
    foot = "".join(f"<td>{totals.get(level, 0)}</td>" for level in levels)
    return (
        '<table class="counts">\n<caption>Studies per indication and evidence level</caption>\n'
        f'<thead><tr><th scope="col">Indication</th>{head}<th scope="col">Total</th></tr>'
        "</thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n"
        f'<tfoot><tr><th scope="row">All studies shown</th>{foot}<td>{distinct}</td></tr>'
        "</tfoot>\n</table>\n"
        '<p class="note">A study filed under two indications counts in both rows.</p>'
    )


def _count_link(group: SiteGroup, level: str, count: int) -> str:
    """A count that links to the view of those studies (none for 0, or for "Other studies")."""
    if not count or not group.name:
        return str(count)
    query = urlencode({"indication": group.name, "level": level})
    label = f"{count} {LABELS[level]} {'study' if count == 1 else 'studies'}: {group.heading}"
    return f'<a href="index.html?{esc(query)}" aria-label="{esc(label)}">{count}</a>'


def _legend(levels: Sequence[str]) -> str:
    items = "".join(
        f'<li><span class="swatch" style="background:{_LEVEL_COLOURS[level]}"></span>'
        f"{esc(LABELS[level])}</li>"
        for level in levels
    )
    return f'<ul class="legend" aria-hidden="true">{items}</ul>'


def _filters(groups: Sequence[SiteGroup], levels: Sequence[str]) -> str:
    named = [g for g in groups if g.name]
    indications = "".join(f'<option value="{esc(g.name)}">{esc(g.heading)}</option>' for g in named)
    level_options = "".join(
        f'<option value="{esc(level)}">{esc(LABELS[level])}</option>' for level in levels
    )
    return (
        '<form class="filters" id="filters" hidden aria-label="Filter the studies">\n'
        '<div class="field"><label for="f-indication">Indication</label>\n'
        '<select id="f-indication" name="indication">'
        f'<option value="">All indications</option>{indications}</select></div>\n'
        '<div class="field"><label for="f-level">Evidence level</label>\n'
        '<select id="f-level" name="level">'
        f'<option value="">All levels</option>{level_options}</select></div>\n'
        '<button type="button" id="f-reset">Show all studies</button>\n'
        '<p id="f-status" role="status" aria-live="polite"></p>\n'
        "</form>"
    )


def index_entry(group: str, ref: Reference, citation: str, coins: bool) -> str:
    """A study's entry in a group of the index (`group` is the indication's name, "" for
    "Other studies"); `coins` puts its COinS span there (at its first place in the index)."""
    key = ref.key or ""
    page = "studies/" + study_filename(key)
    status = _status_html(ref)
    who = f"{ref.first_author or 'Anonymous'} {ref.year or 'n.d.'}".strip()
    return (
        f'<li class="study" data-key="{esc(key)}" data-indication="{esc(group)}" '
        f'data-level="{esc(level_of(ref))}">\n'
        f'<div class="citation">{citation}</div>\n'
        f'<p class="meta">{_level_html(ref)}{" " + status if status else ""}</p>\n'
        f'<p class="links"><a href="{_href(page)}">Details and abstract: {esc(who)}</a> '
        f"{_links_html(ref)}</p>{coins_span(ref) if coins else ''}\n</li>"
    )


def _downloads(count: int) -> str:
    files = (
        ("refs.bib", "BibTeX"),
        ("refs.ris", "RIS (EndNote, Zotero, Mendeley)"),
        ("refs.json", "CSL-JSON"),
    )
    items = "".join(
        f'<li><a href="{name}" download>{name}</a>: {esc(what)}, {count} '
        f"stud{'y' if count == 1 else 'ies'}</li>"
        for name, what in files
    )
    return f'<section class="downloads" aria-labelledby="downloads">\n<h2 id="downloads">Downloads</h2>\n<ul>{items}</ul>\n</section>'


def index_pieces(
    counted: Sequence[tuple[SiteGroup, dict[str, int]]],
    entries: Sequence[Sequence[Piece]],
    totals: Mapping[str, int],
    distinct: int,
    *,
    style: str,
    title: str,
    numbered: bool,
    recent: Sequence[Piece],
) -> list[Piece]:
    """The index: each group (with its count per level) and its entries, one a line."""
    used = {level for _, counts in counted for level in counts}
    levels = [level for level in LEVELS if level in used]
    groups = [group for group, _ in counted]
    tag = "ol" if numbered else "ul"
    sections: list[Sequence[Piece]] = []
    for n, (group, listed) in enumerate(zip(groups, entries, strict=True), start=1):
        head = (
            f'<section class="group" data-indication="{esc(group.name)}" '
            f'aria-labelledby="group-{n}">\n<h2 id="group-{n}">{esc(group.heading)}</h2>\n'
            f'<{tag} class="studies">\n'
        )
        sections.append([head, *listed, f"\n</{tag}>\n</section>"])
    body = joined(
        [
            '<a class="skip" href="#studies">Skip to the studies</a>',
            f"<header>\n<h1>{esc(title)}</h1>\n<p>{distinct} "
            f"stud{'y' if distinct == 1 else 'ies'}, cited in the {esc(style_name(style))} "
            "style. Each study links to a page with its abstract and how to cite it; "
            '<a href="#downloads">downloads</a> at the end.</p>\n</header>',
            "<main>",
            '<section class="glance" aria-labelledby="glance">\n'
            '<h2 id="glance">Evidence at a glance</h2>',
            _chart(counted, levels),
            _legend(levels),
            _counts_table(counted, levels, totals, distinct),
            "</section>",
            list(recent) or "",
            _filters(groups, levels),
            '<div id="studies">',
            '<p id="f-empty" class="empty" hidden>No study matches these filters.</p>',
            *sections,
            "</div>",
            _downloads(distinct),
            "</main>",
        ]
    )
    feed = f'<link rel="alternate" type="application/atom+xml" title="{esc(title)}" href="{FEED}">'
    before, after = _document(title, _BODY, head=feed).split(_BODY)
    return [before, *body, after]


_BODY = "\ue001"
"""Where a document's body goes (`index_pieces` splits the page around it)."""


def style_name(style: str) -> str:
    """How the index names the citation style: "AMA", "APA", "Vancouver", or the file's name."""
    return STYLE_LABELS.get(style.lower(), style.rsplit("/", 1)[-1].removesuffix(".csl"))


# --- a study's page ------------------------------------------------------------------------


def _dl(rows: Iterable[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{esc(term)}</dt><dd>{value}</dd>" for term, value in rows if value)
    return f"<dl>{items}</dl>"


def _notices_html(ref: Reference) -> str:
    items = []
    for notice in ref.notices:
        text = esc(_NOTICE_LABELS.get(notice.kind, notice.kind))
        if notice.citation:
            text += f": {esc(notice.citation)}"
        if notice.pmid:
            url = pmid_url(notice.pmid)
            text += f' (<a href="{esc(url)}">PubMed {esc(notice.pmid)}</a>)'
        items.append(f"<li>{text}</li>")
    return f"<ul>{''.join(items)}</ul>" if items else ""


def study_page(
    ref: Reference,
    citation: str,
    headings: Sequence[str],
    bibtex: str,
    ris: str,
    title: str,
    filename: str,
) -> str:
    authors = "; ".join(
        a.literal or ", ".join(p for p in (a.family, a.given) if p) for a in ref.authors
    )
    if ref.authors and not ref.authors_complete:
        authors += "; et al."
    journal = ref.container_title or ref.publisher or ""
    level = level_of(ref)
    basis = ref.evidence_basis or ""
    body = [
        '<a class="skip" href="#main">Skip to the study</a>',
        f'<nav><a href="../index.html">All studies: {esc(title)}</a></nav>',
        f'<main id="main">\n<h1>{inline_html(ref.title)}</h1>',
        f'<p class="meta">{_level_html(ref)}'
        + (f" {_status_html(ref)}" if ref.status else "")
        + "</p>",
        '<section aria-labelledby="citation">\n<h2 id="citation">Citation</h2>',
        f'<div class="citation">{citation}</div>',
        _dl(
            [
                ("Authors", esc(authors)),
                ("Journal", esc(journal)),
                ("Published", esc(full_date(ref))),
                (
                    "Volume, issue, pages",
                    esc(", ".join(p for p in (ref.volume, ref.issue, ref.pages) if p)),
                ),
                ("Filed under", esc("; ".join(headings))),
                ("Citation key", f"<code>{esc(ref.key or '')}</code>"),
            ]
        ),
        "</section>",
    ]
    status = study_status(ref)
    if status:
        body.append(
            '<section aria-labelledby="status">\n<h2 id="status">Status: '
            f"{esc(status.label)}</h2>\n"
            + (f"<p>{esc(ref.status_note)}</p>" if ref.status_note else "")
            + _notices_html(ref)
            + "\n</section>"
        )
    body.append('<section aria-labelledby="abstract">\n<h2 id="abstract">Abstract</h2>')
    if ref.abstract:
        for section, text in abstract_sections(ref.abstract):
            if section:
                body.append(f"<h3>{esc(section)}</h3>")
            body.append(f"<p>{inline_html(text)}</p>")
    else:
        body.append("<p>No abstract is stored for this study.</p>")
    body.append("</section>")
    body.append(
        '<section aria-labelledby="level">\n<h2 id="level">Evidence level</h2>\n'
        f"<p>{esc(LABELS[level])}"
        + (f" (derived from {esc(basis)})" if basis and basis != HAND_BASIS else "")
        + (f" ({HAND_BASIS})" if basis == HAND_BASIS else "")
        + ".</p>"
    )
    body.append(
        _dl(
            [
                ("Publication types", esc("; ".join(ref.publication_types))),
                ("MeSH terms", esc("; ".join(ref.mesh_terms))),
                ("Keywords", esc("; ".join(ref.keywords))),
            ]
        )
    )
    body.append("</section>")
    link_items = "".join(
        f'<li><a href="{esc(link.url)}">{esc(link.text)}</a></li>' for link in study_links(ref)
    )
    body.append(
        f'<section aria-labelledby="links">\n<h2 id="links">Read it</h2>\n<ul>{link_items}</ul>\n</section>'
    )
    body.append(
        '<section aria-labelledby="cite">\n<h2 id="cite">Cite this</h2>\n'
        '<h3 id="cite-bibtex">BibTeX</h3>\n'
        '<button type="button" class="copy" data-copy="bibtex-text" hidden>Copy the BibTeX</button>\n'
        f'<pre id="bibtex-text" tabindex="0" aria-labelledby="cite-bibtex"><code>{esc(bibtex.strip())}</code></pre>\n'
        '<h3 id="cite-ris">RIS</h3>\n'
        '<button type="button" class="copy" data-copy="ris-text" hidden>Copy the RIS</button>\n'
        f'<pre id="ris-text" tabindex="0" aria-labelledby="cite-ris"><code>{esc(ris.strip())}</code></pre>\n'
        "</section>"
    )
    body.append("</main>")
    head = study_head(ref, filename)  # the <title> is the study's alone: Zotero falls back to it
    return _document(plain(ref.title), "\n".join(body), root="../", head=head)


# --- the whole site ------------------------------------------------------------------------


def asset(name: str) -> str:
    """One of the site's CSS and JS files, shipped as package data."""
    return resources.files("refdb.render").joinpath("site_assets", name).read_text("utf-8")
