"""The clinic's evidence page, and grouped bibliographies for `refdb export`.

Input is an ordered list of groups, each a heading ("For CRPS/RSD") and its studies in display
order. Each group is formatted on its own, so numbered styles (AMA, Vancouver) number entries
within each group from 1: a reader sees one numbered list per heading. Markdown uses a numbered
list for numbered styles and a bullet list for APA; HTML an ``<ol>`` or ``<ul>``; text plain
lines. Every entry is followed by its links: PubMed by PMID, or a PubMed search for the title
when no PMID is known (never a guessed PMID), and the DOI when known. A retracted study is never
dropped: it is marked "RETRACTED"; a corrected study or one with an expression of concern gets a
lighter note. The page (not an export) also shows each study's evidence level ("Evidence: RCT")
on its links line.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from refdb.errors import RefdbError
from refdb.evidence import label_of, level_of
from refdb.formats import DEFAULT_STYLE, PAGE_FORMATS
from refdb.records import Reference
from refdb.render.citation_cache import CitationCache
from refdb.render.citations import Entry, format_entries, markdown_item
from refdb.render.labels import study_links, study_status
from refdb.render.markup import markdown_escape
from refdb.render.pieces import Piece, joined

Group = tuple[str, Sequence[Reference]]

DEFAULT_TITLE = "Published Clinical Evidence"

# --- markdown -------------------------------------------------------------------------------


def _markdown_entry(entry: Entry, levels: bool) -> str:
    ref = entry.reference
    status = study_status(ref)
    prefix = ""
    suffix = ""
    if status and status.retracted:
        note = f" ({markdown_escape(status.note)})" if status.note else ""
        prefix = f"**{status.label}{note}:** "
    elif status:
        note = f": {markdown_escape(status.note)}" if status.note else ""
        suffix = f" *({status.label}{note})*"
    links = " · ".join(f"[{link.name}](<{link.url}>)" for link in study_links(ref, full=False))
    if levels:
        links = f"Evidence: **{markdown_escape(label_of(ref))}** · {links}"
    item = markdown_item(entry, suffix + f"\\\n   {links}")
    if prefix:
        head, sep, body = item.partition(" ")
        item = f"{head}{sep}{prefix}{body}"
    return item


# --- html -----------------------------------------------------------------------------------

_CSS = """body { font-family: system-ui, sans-serif; max-width: 50rem; margin: 2rem auto;
  line-height: 1.5; padding: 0 1rem; }
li { margin-bottom: 0.75rem; }
.links a { margin-right: 1rem; }
.status { color: #fff; background: #b00020; padding: 0 0.3rem; border-radius: 0.2rem; }
.note { font-style: italic; color: #555; }
.level { font-weight: 600; margin-right: 1rem; }"""


def _html_entry(entry: Entry, numbered: bool, levels: bool) -> str:
    ref = entry.reference
    body = entry.body_html if numbered else entry.html
    status = study_status(ref)
    if status and status.retracted:
        note = f" ({html.escape(status.note)})" if status.note else ""
        body = f'<strong class="status">{html.escape(status.label.title())}</strong>{note} {body}'
    elif status:
        note = f": {html.escape(status.note)}" if status.note else ""
        body += f' <span class="note">({html.escape(status.label)}{note})</span>'
    links = " ".join(
        f'<a href="{html.escape(link.url, quote=True)}">{html.escape(link.name)}</a>'
        for link in study_links(ref, full=False)
    )
    if levels:
        links = (
            f'<span class="level level-{html.escape(level_of(ref), quote=True)}">'
            f"Evidence: {html.escape(label_of(ref))}</span> {links}"
        )
    return f'{body}<br>\n    <span class="links">{links}</span>'


# --- text -----------------------------------------------------------------------------------


def _text_entry(entry: Entry, levels: bool) -> str:
    ref = entry.reference
    text = entry.text
    status = study_status(ref)
    if status and status.retracted:
        note = f" ({status.note})" if status.note else ""
        marker = f"{status.label}{note}: "
        text = f"{entry.label} {marker}{entry.body_text}" if entry.label else marker + text
    elif status:
        note = f": {status.note}" if status.note else ""
        text += f" ({status.label}{note})"
    lines = [text] + [f"   Evidence: {label_of(ref)}"] * levels
    lines += [f"   {link.name}: {link.url}" for link in study_links(ref, full=False)]
    return "\n".join(lines)


# --- the document ---------------------------------------------------------------------------

Item = tuple[str, Piece]
"""An entry as the document lists it: what depends on its number ("3. " in a numbered markdown
or text list, "- " in a bulleted one, "" in HTML, whose `<ol>` numbers itself) and the rest."""


def entry_item(fmt: str, entry: Entry, levels: bool, numbered: bool) -> tuple[str, str]:
    """An entry of a list in this format, as its number part and the rest; `numbered` says
    whether its whole list is numbered (HTML prints the label of an entry of a list that is
    not)."""
    if fmt == "markdown":
        head, sep, rest = _markdown_entry(entry, levels).partition(" ")
        return head + sep, rest
    if fmt == "text":
        text = _text_entry(entry, levels)
        return (f"{entry.label} ", text[len(entry.label) + 1 :]) if entry.label else ("", text)
    return "", _html_entry(entry, numbered, levels)


def document(
    fmt: str, title: str | None, groups: Sequence[tuple[str, Sequence[Item], bool]]
) -> list[Piece]:
    """The document: its title, then each group's heading and its items; `groups` holds
    (heading, items, whether every entry of the group has its number as its label)."""
    if fmt == "html":
        return _html_document(title, groups)
    blocks: list[Piece | list[Piece]] = []
    between = "\n" if fmt == "markdown" else "\n\n"
    if title:
        top = f"# {markdown_escape(title)}" if fmt == "markdown" else f"{title}\n{'=' * len(title)}"
        blocks.append(top)
    for heading, items, _ in groups:
        if heading and fmt == "markdown":
            blocks.append(f"## {markdown_escape(heading)}")
        elif heading:
            blocks.append(f"{heading}\n{'-' * len(heading)}")
        if items:
            blocks.append(joined([[head, rest] for head, rest in items], between))
    return [*joined(blocks, "\n\n"), "\n"]


def _html_document(
    title: str | None, groups: Sequence[tuple[str, Sequence[Item], bool]]
) -> list[Piece]:
    parts: list[Piece | list[Piece]] = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title or 'Bibliography')}</title>",
        f"<style>\n{_CSS}\n</style>",
        "</head>",
        "<body>",
    ]
    if title:
        parts.append(f"<h1>{html.escape(title)}</h1>")
    for heading, items, numbered in groups:
        if heading:
            parts.append(f"<h2>{html.escape(heading)}</h2>")
        if items:
            tag = "ol" if numbered else "ul"  # as citations.html_list
            listed: list[Piece] = [f'<{tag} class="csl-bib-body">']
            for head, rest in items:
                listed += ["\n  <li>" + head, rest, "</li>"]
            parts.append([*listed, f"\n</{tag}>"])
    parts += ["</body>", "</html>"]
    return [*joined(parts, "\n"), "\n"]


def entries_items(
    fmt: str, entries: Sequence[Entry], levels: bool
) -> tuple[list[tuple[str, str]], bool]:
    """A group's entries as items, and whether the group is numbered (every entry's label is
    its number)."""
    numbered = bool(entries) and all(entry.ordinal_label for entry in entries)
    return [entry_item(fmt, entry, levels, numbered) for entry in entries], numbered


# --- public ---------------------------------------------------------------------------------


def render_bibliography(
    groups: Sequence[Group],
    style: str = DEFAULT_STYLE,
    fmt: str = "markdown",
    title: str | None = None,
    *,
    levels: bool = False,
    cache: CitationCache | None = None,
) -> str:
    """Grouped, formatted studies with their links (`refdb export --format text|markdown|html`).

    A group with an empty heading prints no heading, so one unnamed group is a plain list.
    HTML is always a complete standalone document. Entries the `cache` holds are not
    rendered again.
    """
    if fmt not in PAGE_FORMATS:
        raise RefdbError(f"unknown format {fmt!r} (use {', '.join(PAGE_FORMATS)})")
    plain = fmt != "html"  # text and markdown print each entry's text, made once and kept
    listed: list[tuple[str, Sequence[Item], bool]] = []
    for heading, refs in groups:
        items, numbered = entries_items(
            fmt, format_entries(refs, style, cache, plain=plain), levels
        )
        listed.append((heading, items, numbered))
    return "".join(str(piece) for piece in document(fmt, title, listed))


def render_page(
    groups: Sequence[Group],
    style: str = DEFAULT_STYLE,
    fmt: str = "markdown",
    title: str = DEFAULT_TITLE,
    *,
    levels: bool = True,
    cache: CitationCache | None = None,
) -> str:
    """The clinic's evidence page: a title, then each indication's heading and its studies,
    each with its evidence level unless `levels` is False."""
    return render_bibliography(
        groups, style=style, fmt=fmt, title=title, levels=levels, cache=cache
    )
