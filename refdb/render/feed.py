"""What is new on the site: `feed.xml`, an Atom feed of the studies, newest addition first,
and the index's "Added in the last 90 days".

When a study was added comes from the operation log (the store's `study_dates`), never from
the clock: the same library builds the same feed. The feed's `updated` is the library's last
change, and "the last 90 days" are the 90 days up to that change.
"""

from __future__ import annotations

import calendar
import html
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

from refdb.dates import utc
from refdb.evidence import LABELS, label_of, level_of
from refdb.records import Author, Reference
from refdb.render.labels import doi_url, study_links
from refdb.render.site_meta import plain

ATOM = "http://www.w3.org/2005/Atom"
RECENT_DAYS = 90
RECENT_SHOWN = 10
FEED = "feed.xml"

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class StudyDates:
    """When a study entered the library, and when it last changed (UTC)."""

    added: datetime
    changed: datetime


@dataclass(frozen=True)
class FeedStudy:
    """A study as the feed shows it: the record, its page, its citation (HTML) and headings."""

    ref: Reference
    page: str
    citation_html: str
    headings: Sequence[tuple[str, str]]
    """(indication name, heading) of each indication the site files it under."""


def day_text(moment: datetime) -> str:
    """A day in words: "12 November 2026" (UTC)."""
    moment = utc(moment)
    return f"{moment.day} {calendar.month_name[moment.month]} {moment.year}"


def _stamp(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _xml_text(text: str) -> str:
    """Text XML can hold: control characters (which no XML document may contain) dropped."""
    return _NOT_XML.sub("", text)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _xml_text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _xml_text(text)
    return element


def _person(author: Author) -> str:
    if author.literal:
        return plain(author.literal)
    name = " ".join(p for p in (author.given or author.initials, author.family) if p)
    return plain(f"{name} {author.suffix}" if author.suffix else name)


def newest_order(added: Sequence[datetime | None]) -> list[int]:
    """Places in index order, newest addition first; those added together (or never dated)
    keep the index's order."""
    return sorted(range(len(added)), key=lambda n: (-utc(added[n] or _EPOCH).timestamp(), n))


def _entry_content(study: FeedStudy, added: datetime | None) -> str:
    ref = study.ref
    where = ", ".join(p for p in (plain(ref.container_title), str(ref.year or "")) if p)
    parts = [f"{html.escape(where)}." if where else ""]
    parts.append(f"Evidence: {html.escape(label_of(ref))}.")
    if study.headings:
        filed = "; ".join(heading for _, heading in study.headings)
        parts.append(f"Filed under {html.escape(filed)}.")
    if added is not None:
        parts.append(f"Added to the library on {day_text(added)}.")
    # A search for the title is no link to the study; the DOI names itself, as on the site.
    links = [
        f'<a href="{html.escape(link.url)}">'
        f"{html.escape(link.text if link.kind == 'doi' else link.name)}</a>"
        for link in study_links(ref, full=False)
        if link.kind != "pubmed-search"
    ]
    text = " ".join(p for p in parts if p)
    return f"<p>{text}</p>" + (f"<p>{' '.join(links)}</p>" if links else "")


def feed_entry(study: FeedStudy, found: StudyDates | None) -> str:
    """One study's Atom `<entry>` as it stands in the feed: indented, without the whitespace
    after it (`feed_document` puts the entries together).

    Each entry has the study's title, authors, its journal and year, its level and indications
    (as categories whose scheme and term make the index's filter link), the formatted
    citation as its summary, and a link to its page. Links are relative to the feed, as the
    site's are.
    """
    ref, key = study.ref, study.ref.key or ""
    entry = ET.Element("entry")
    _sub(entry, "id", f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'refdb-study:' + key)}")
    _sub(entry, "title", plain(ref.title), type="text")
    _sub(entry, "link", rel="alternate", type="text/html", href=study.page)
    if ref.doi:
        _sub(entry, "link", rel="related", type="text/html", href=doi_url(ref.doi))
    added = utc(found.added) if found else None
    _sub(entry, "published", _stamp(added or _EPOCH))
    _sub(entry, "updated", _stamp(max(utc(found.changed), utc(found.added)) if found else _EPOCH))
    for author in ref.authors:
        if _person(author):
            _sub(_sub(entry, "author"), "name", _person(author))
    level = level_of(ref)
    _sub(entry, "category", term=level, label=LABELS[level], scheme="index.html?level=")
    for name, heading in study.headings:
        _sub(entry, "category", term=name, label=heading, scheme="index.html?indication=")
    _sub(entry, "summary", study.citation_html, type="html")
    _sub(entry, "content", _entry_content(study, added), type="html")
    ET.indent(entry, level=1)  # as inside the feed
    entry.tail = None
    return ET.tostring(entry, encoding="unicode")


ENTRY_SEPARATOR = "\n  "
"""What stands between two entries of the feed."""


def feed_document(
    *, title: str, updated: datetime | None, newest: datetime | None, feed_id: str, entries: int
) -> tuple[str, str]:
    """The feed before its entries and after them; between them stand `entries` entries
    (`feed_entry`, newest addition first) with ENTRY_SEPARATOR between two, "\n" after the
    last. `updated` is the library's last change (not the time of the build); without it,
    the newest change of a study (`newest`)."""
    feed = ET.Element("feed", {"xmlns": ATOM})  # every element below is Atom's
    _sub(feed, "id", f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'refdb-site:' + feed_id)}")
    _sub(feed, "title", title, type="text")
    _sub(feed, "subtitle", "The studies, newest addition first", type="text")
    _sub(feed, "link", rel="alternate", type="text/html", href="index.html")
    _sub(feed, "link", rel="self", type="application/atom+xml", href=FEED)
    _sub(feed, "updated", _stamp(utc(updated) if updated else (newest or _EPOCH)))
    _sub(_sub(feed, "author"), "name", title)
    last = _sub(feed, "generator", "refdb")
    ET.indent(feed)
    if entries:
        last.tail = ENTRY_SEPARATOR
    body = ET.tostring(feed, encoding="unicode").removesuffix("</feed>")
    head = '<?xml version="1.0" encoding="utf-8"?>\n' + body
    return head, ("\n" if entries else "") + "</feed>\n"


def recent_studies(
    added: Sequence[datetime | None], updated: datetime | None, *, days: int = RECENT_DAYS
) -> list[int]:
    """Which studies (places in index order) "Added in the last 90 days" counts, newest
    first: those added in the days up to the library's last change."""
    if updated is None:
        return []
    since = utc(updated) - timedelta(days=days)
    return [n for n in newest_order(added) if (at := added[n]) is not None and utc(at) >= since]


def recent_item(ref: Reference, page: str, added: datetime) -> str:
    """One line of "Added in the last 90 days": the study's title, linked, who and when."""
    who = " ".join(p for p in (plain(ref.first_author), str(ref.year or "")) if p)
    title = html.escape(plain(ref.title))
    return (
        f'<li class="recent-study"><a href="{html.escape(page, quote=True)}">{title}</a>'
        + (f" ({html.escape(who)})" if who else "")
        + f', <span class="level level-{html.escape(level_of(ref))}">'
        f"{html.escape(label_of(ref))}</span>, added {day_text(added)}</li>"
    )


def recent_section(
    recent: int, total: int, listed: int, updated: datetime | None, *, days: int = RECENT_DAYS
) -> tuple[str, str]:
    """The index's "Added in the last 90 days" (the days up to the library's last change),
    before and after its list of `listed` items (`recent_item`, one a line): `recent` of the
    `total` studies were added then. No list when every study on the index is that new (the
    index itself is the list); ("", "") when no study was added then."""
    if not recent or updated is None:
        return "", ""
    window = f"in the {days} days up to {day_text(updated)}, when it last changed"
    feed = f'New studies also appear in the <a href="{FEED}">Atom feed</a>.'
    if recent == total:
        count = f"All {recent} studies" if recent > 1 else "The one study"
        about = f"{count} on this page entered the library {window}. {feed}"
    else:
        count = f"{recent} stud{'y' if recent == 1 else 'ies'}"
        shown = f" The {RECENT_SHOWN} newest:" if recent > RECENT_SHOWN else ""
        about = f"{count} entered the library {window}. {feed}{shown}"
    head = (
        '<section class="recent" aria-labelledby="recent">\n'
        f'<h2 id="recent">Added in the last {days} days</h2>\n'
        f"<p>{about}</p>\n"
    )
    if listed:
        return head + '<ul class="recent-studies">\n', "\n</ul>\n</section>"
    return head, "</section>"
