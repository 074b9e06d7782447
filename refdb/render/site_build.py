"""The whole static site, made again after a change only where the change reaches.

A site is its index, its feed, its three downloads and a page per study. Each of the five
whole-library files is made of pieces (`pieces`): text the same for every study, and one
fragment per study (its entry in a group of the index, its line in "Added in the last 90
days", its feed entry, its BibTeX, RIS and CSL-JSON entries), named with a digest of all it
depends on besides the study itself (its citation's year suffix and number, whether it carries
the COinS span, its headings, its dates, its download key). The site keeps, in `STATE` beside
its files, what it knows of each study (`Facts`: key, level, sort values, dates...) and where
each fragment stands in which file.

A later build is told which studies changed (`changed`, the ids of the operation that just
committed). Every other study keeps its facts, and each of its fragments and its page is taken
from the previous build, byte for byte, where its digest is the same; only the changed studies,
and those whose context changed (a year suffix that moved, a new place in "Added in the last 90
days"), are read and rendered again. Without `changed`, or when the previous build was made by
other code, with another style or title, every study is rendered: the result is the same,
byte for byte (tests/test_site_incremental.py compares the two).

Citations come from `citations.render_slots` (and its cache), once per study and place; each
study's page, index entries and feed entry use the same one.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from refdb.dates import utc
from refdb.records import IndicationSpec, Reference
from refdb.render import forked
from refdb.render.bibtex import bib_entry, indications_comment, unique_keys
from refdb.render.citation_cache import CitationCache
from refdb.render.citations import (
    Entry,
    Slot,
    bibliography_order,
    render_slots,
    sort_keys,
    style_facts,
    year_suffixes,
)
from refdb.render.csljson import csl_item_text
from refdb.render.feed import (
    ENTRY_SEPARATOR,
    FEED,
    RECENT_SHOWN,
    FeedStudy,
    StudyDates,
    feed_document,
    feed_entry,
    newest_order,
    recent_item,
    recent_section,
    recent_studies,
)
from refdb.render.pieces import Fragment, Piece, context_of, joined
from refdb.render.ris import ris_record
from refdb.render.site import (
    ASSETS,
    MARKER,
    SiteGroup,
    asset,
    index_entry,
    index_pieces,
    study_filename,
    study_page,
)
from refdb.render.site_state import (
    FILES,
    INDEX,
    STATE,
    STATE_FORMAT,
    Facts,
    GroupIds,
    Previous,
    Reader,
    SiteBuild,
    code_digest,
)


@dataclass(frozen=True)
class _Site:
    """What a build is asked for."""

    style: str
    title: str
    indications: Sequence[IndicationSpec]
    updated: datetime | None
    operation: int | None


class _Builder:
    """One build: the studies read so far, and the citations rendered."""

    def __init__(self, site: _Site, read: Reader, cache: CitationCache | None) -> None:
        self.site = site
        self.style = style_facts(site.style)
        self.read = read
        self.cache = cache
        self.refs: dict[int, Reference] = {}
        self.dates: dict[int, StudyDates | None] = {}

    def load(self, ids: Collection[int]) -> None:
        """Read the studies not read yet."""
        wanted = sorted(i for i in ids if i not in self.refs)
        if wanted:
            for study_id, (ref, dates) in self.read(wanted).items():
                self.refs[study_id] = ref
                self.dates[study_id] = dates

    def facts(
        self, shown: Sequence[int], dirty: set[int], old: Mapping[str, Any]
    ) -> dict[int, Facts]:
        """Each shown study's facts: kept from the previous build, or made from its row (the
        changed ones). A study removed while the site was read is left out."""
        fresh = [i for i in shown if i in dirty and i in self.refs]
        keys = sort_keys([self.refs[i] for i in fresh], self.site.style, self.cache)
        made = {
            i: Facts.of(self.refs[i], None if keys is None else keys[n], self.dates.get(i))
            for n, i in enumerate(fresh)
        }
        facts: dict[int, Facts] = {}
        for i in shown:
            if i in made:
                facts[i] = made[i]
            elif i not in dirty:
                facts[i] = Facts.from_json(old[str(i)])
        return facts


def build_site(
    groups: Sequence[GroupIds],
    read: Reader,
    *,
    style: str,
    title: str,
    indications: Sequence[IndicationSpec],
    updated: datetime | None,
    operation: int | None,
    changed: Collection[int] | None = None,
    previous: Previous | None = None,
    cache: CitationCache | None = None,
) -> SiteBuild:
    """Every file of the site, by its path in the site's folder (those of the previous build
    that stay as they are in `linked`).

    `groups` are the index's sections in page order; `indications` the specs the BibTeX
    download declares (so that an import of it files the studies again); `updated` (the
    library's last change) dates the feed and "Added in the last 90 days"; `operation` (the
    newest operation the build shows) is kept in the state. With `changed` (the studies changed
    since `previous` was built), only what they reach is rendered again.
    """
    site = _Site(style, title, indications, updated, operation)
    builder = _Builder(site, read, cache)
    fingerprint = context_of(STATE_FORMAT, builder.style.fingerprint, code_digest(), title)
    if previous is None or changed is None or previous.state.get("fingerprint") != fingerprint:
        previous, changed = None, None
    try:
        return _Build(builder, groups, fingerprint, previous, changed).run()
    except _NotNumberedAsBefore:  # a numbering that changed reaches every study: all of it
        return _Build(builder, groups, fingerprint, None, None).run()


class _NotNumberedAsBefore(Exception):
    """A study rendered now is numbered otherwise than the previous build's."""


@dataclass
class _Place:
    """A study's place in one group of the index."""

    group: int
    number: int
    suffix: str

    def citation(self, number_free: bool) -> list[Any]:
        """What its citation depends on besides the study."""
        return [self.suffix, None if number_free else self.number]


class _Build:
    """One build of the site: which fragments and pages it takes from the previous build, and
    the rest rendered."""

    def __init__(
        self,
        builder: _Builder,
        groups: Sequence[GroupIds],
        fingerprint: str,
        previous: Previous | None,
        changed: Collection[int] | None,
    ) -> None:
        self.b = builder
        self.fingerprint = fingerprint
        self.previous = previous
        state = previous.state if previous is not None else {}
        self.old_fragments: dict[str, dict[str, list[Any]]] = state.get("fragments", {})
        self.old_pages: dict[str, list[Any]] = state.get("pages", {})
        self.old_numbered = bool(state.get("numbered"))
        old_studies: dict[str, Any] = state.get("studies", {})
        shown = list(dict.fromkeys(i for group in groups for i in group.ids))
        self.dirty = set(shown)
        if changed is not None:
            self.dirty = {i for i in shown if str(i) not in old_studies} | (
                set(changed) & set(shown)
            )
        builder.load(self.dirty)
        self.facts = builder.facts(shown, self.dirty, old_studies)
        self.groups = groups
        self.places: dict[tuple[int, int], _Place] = {}
        self.entries: dict[tuple[int, int], Entry] = {}
        self.made: list[Fragment] = []
        """The fragments made again (the others are kept)."""
        self.own: dict[tuple[str, int], str] = {}
        self.pages_kept: dict[int, bool] = {}

    # --- the plan: every study's place, and the fragments of each file ---------------------

    def _ordered(self) -> list[tuple[GroupIds, list[int]]]:
        """The groups with studies, each in the style's order."""
        ordered = []
        for group in self.groups:
            ids = [i for i in group.ids if i in self.facts]
            if ids and self.b.style.sorts:
                order = bibliography_order(
                    [self.facts[i].sort or [] for i in ids], self.b.site.style
                )
                ids = [ids[n] for n in order]
            if ids:
                ordered.append((group, ids))
        return ordered

    def _place(self, ordered: Sequence[tuple[GroupIds, list[int]]]) -> None:
        style = self.b.style
        for k, (_, ids) in enumerate(ordered):
            identities = [self.facts[i].suffix for i in ids]
            suffixes = year_suffixes(identities) if style.year_suffix else [""] * len(ids)
            for number, (i, suffix) in enumerate(zip(ids, suffixes, strict=True), start=1):
                self.places[(k, i)] = _Place(k, number, suffix)

    def _cite(self, place: _Place) -> list[Any]:
        return place.citation(self.b.style.number_free)

    def run(self) -> SiteBuild:
        """The build's files."""
        site, style = self.b.site, self.b.style
        ordered = self._ordered()
        self._place(ordered)
        distinct = list(dict.fromkeys(i for _, ids in ordered for i in ids))
        home: dict[int, int] = {}
        filed: dict[int, list[list[str]]] = {i: [] for i in distinct}
        for k, (group, ids) in enumerate(ordered):
            for i in ids:
                home.setdefault(i, k)
                if group.name:
                    filed[i].append([group.name, group.heading])
        first = {i: self.places[(home[i], i)] for i in distinct}
        if not style.numbered:
            numbered = not distinct
        elif self.previous is None:  # every citation is rendered: numbered when all are
            self._render_places(list(self.places))
            numbered = all(entry.ordinal_label for entry in self.entries.values())
        elif self.old_numbered:
            numbered = True
        else:
            raise _NotNumberedAsBefore
        self.numbered = numbered

        def citation(place: _Place, i: int) -> str:
            entry = self.entries[(place.group, i)]
            return entry.body_html if numbered else entry.html

        entries: list[list[Piece]] = []
        for k, (group, ids) in enumerate(ordered):
            listed = []
            for i in ids:
                place = self.places[(k, i)]
                coins = home[i] == k
                context = context_of(self._cite(place), numbered, coins)
                listed.append(
                    self._fragment(
                        "i",
                        f"{group.name}\t{i}",
                        i,
                        context,
                        self._index_entry,
                        group.name,
                        i,
                        place,
                        coins,
                        citation,
                    )
                )
            entries.append(joined(listed))
        added = [self.facts[i].dates() for i in distinct]
        when = [d.added if d else None for d in added]
        recent = recent_studies(when, site.updated)
        listing = recent[:RECENT_SHOWN] if len(recent) < len(distinct) else []
        head, tail = recent_section(len(recent), len(distinct), len(listing), site.updated)
        items = []
        for n in listing:
            i = distinct[n]
            context = context_of(self.facts[i].added)
            items.append(self._fragment("r", str(i), i, context, self._recent_item, i))
        counted = []
        for group, ids in ordered:
            counts: dict[str, int] = {}
            for i in ids:
                counts[self.facts[i].level] = counts.get(self.facts[i].level, 0) + 1
            counted.append((SiteGroup(group.name, group.heading), counts))
        totals: dict[str, int] = {}
        for i in distinct:
            totals[self.facts[i].level] = totals.get(self.facts[i].level, 0) + 1
        files: dict[str, list[Piece]] = {}
        files[INDEX] = index_pieces(
            counted,
            entries,
            totals,
            len(distinct),
            style=site.style,
            title=site.title,
            numbered=numbered,
            recent=[head, *joined(items), tail] if head else [],
        )
        news = []
        for n in newest_order(when):
            i = distinct[n]
            facts = self.facts[i]
            context = context_of(
                self._cite(first[i]), numbered, filed[i], facts.added, facts.changed
            )
            news.append(
                self._fragment(
                    "f", str(i), i, context, self._feed_entry, i, first[i], filed[i], citation
                )
            )
        changes = [d.changed for d in added if d is not None]
        head, tail = feed_document(
            title=site.title,
            updated=site.updated,
            newest=max((utc(c) for c in changes), default=None),
            feed_id="|".join([site.title, *(group.name for group, _ in ordered)]),
            entries=len(news),
        )
        files[FEED] = [head, *joined(news, ENTRY_SEPARATOR), tail]
        files.update(self._downloads(distinct))
        pages = {
            i: context_of(self._cite(first[i]), numbered, [h for _, h in filed[i]], site.title)
            for i in distinct
        }
        need = {fragment.study for fragment in self.made}
        need |= {i for i in distinct if not self._page_kept(i, pages[i])}
        self.b.load(need)
        places = [key for key in self.places if key[1] in need]
        self._render_places(places)
        return self._assemble(files, distinct, pages, filed, first, citation)

    def _downloads(self, distinct: Sequence[int]) -> dict[str, list[Piece]]:
        """refs.bib, refs.ris and refs.json: each study's entry under its download key."""
        keys = unique_keys([self.facts[i].export for i in distinct])
        made: dict[str, list[Fragment]] = {"b": [], "s": [], "j": []}
        for i, key in zip(distinct, keys, strict=True):
            context = context_of(key)
            name = str(i)
            for kind, listed in made.items():
                listed.append(self._fragment(kind, name, i, context, self._download, kind, i, key))
        bib: list[Piece] = [indications_comment(self.b.site.indications)]
        return {
            FILES["b"]: joined([*bib, *made["b"]] if self.b.site.indications else made["b"]),
            FILES["s"]: joined(made["s"]),
            FILES["j"]: ["[\n", *joined(made["j"], ",\n"), "\n]\n"] if distinct else ["[]\n"],
        }

    # --- what is kept, and what is rendered -------------------------------------------------

    def _fragment(
        self, kind: str, name: str, study: int, context: str, make: Callable[..., str], *args: Any
    ) -> Fragment:
        """A study's fragment: where the previous build wrote it, when this build's would be
        the same; else how to make it (`make(*args)`)."""
        if self.previous is not None and study not in self.dirty:
            old = self.old_fragments.get(kind, {}).get(name)
            if old is not None and old[0] == context:
                return Fragment(kind, name, study, context, kept=(old[1], old[2]))
        fragment = Fragment(kind, name, study, context, make=functools.partial(make, *args))
        self.made.append(fragment)
        return fragment

    def _page_kept(self, i: int, context: str) -> bool:
        if self.previous is None or i in self.dirty:
            return False
        if i not in self.pages_kept:
            page = self.facts[i].page
            kept = self.old_pages.get(str(i)) == [page, context] and self.previous.has_page(page)
            self.pages_kept[i] = kept
        return self.pages_kept[i]

    def _render_places(self, places: Sequence[tuple[int, int]]) -> None:
        """Render the citations of these places (group, study) not rendered yet."""
        todo = list(dict.fromkeys(key for key in places if key not in self.entries))
        slots = []
        for k, i in todo:
            place = self.places[(k, i)]
            slots.append(Slot(self.b.refs[i], place.number, place.suffix))
        for key, entry in zip(
            todo, render_slots(slots, self.b.site.style, self.b.cache), strict=True
        ):
            if self.previous is not None and self.b.style.numbered and not entry.ordinal_label:
                raise _NotNumberedAsBefore
            self.entries[key] = entry

    def _index_entry(
        self, group: str, i: int, place: _Place, coins: bool, citation: Callable[[_Place, int], str]
    ) -> str:
        return index_entry(group, self.b.refs[i], citation(place, i), coins)

    def _recent_item(self, i: int) -> str:
        dates = self.facts[i].dates()
        assert dates is not None  # listed: added lately
        return recent_item(self.b.refs[i], self.facts[i].page, dates.added)

    def _feed_entry(
        self, i: int, place: _Place, filed: list[list[str]], citation: Callable[[_Place, int], str]
    ) -> str:
        headings = [(name, heading) for name, heading in filed]
        study = FeedStudy(self.b.refs[i], self.facts[i].page, citation(place, i), headings)
        return feed_entry(study, self.facts[i].dates())

    def _download(self, kind: str, i: int, key: str) -> str:
        ref = self.b.refs[i]
        if kind == "j":
            return csl_item_text(ref, key)
        if key == self.facts[i].export:  # as on the study's page: made once for both
            return self._own(kind, i)
        return bib_entry(ref, key) if kind == "b" else ris_record(ref, key)

    def _own(self, kind: str, i: int) -> str:
        """The study's BibTeX ("b") or RIS ("s") under its own key, as its page shows it
        (`render_bibtex([ref])`, `render_ris([ref])`)."""
        found = self.own.get((kind, i))
        if found is None:
            ref, key = self.b.refs[i], self.facts[i].export
            found = bib_entry(ref, key) if kind == "b" else ris_record(ref, key)
            self.own[(kind, i)] = found
        return found

    def _page(
        self,
        i: int,
        filed: list[list[str]],
        place: _Place,
        citation: Callable[[_Place, int], str],
    ) -> str:
        ref = self.b.refs[i]
        headings = [heading for _, heading in filed]
        name = study_filename(self.facts[i].key)
        bibtex, ris = self._own("b", i), self._own("s", i)
        return study_page(ref, citation(place, i), headings, bibtex, ris, self.b.site.title, name)

    def _assemble(
        self,
        files: Mapping[str, Sequence[Piece]],
        distinct: Sequence[int],
        pages: Mapping[int, str],
        filed: Mapping[int, list[list[str]]],
        first: Mapping[int, _Place],
        citation: Callable[[_Place, int], str],
    ) -> SiteBuild:
        """The files as bytes, each fragment taken or rendered, and the state for the next."""
        site = self.b.site
        out = {name: asset(name).encode("utf-8") for name in ASSETS}
        out[MARKER] = (
            b"This folder is a site written by `refdb site`; each build replaces it "
            b"(" + STATE.encode() + b" holds what the next build keeps).\n"
        )
        # What is not kept is rendered, on two cores when it is much; a study's pieces
        # together (its page shows the BibTeX and RIS its download entries hold).
        jobs: list[tuple[int, Callable[[], str], str | None]] = []  # study, maker, page
        for fragment in self.made:
            assert fragment.make is not None  # made again
            jobs.append((fragment.study, fragment.make, None))
        linked = []
        kept_pages = {}
        for i in distinct:
            facts = self.facts[i]
            kept_pages[str(i)] = [facts.page, pages[i]]
            if self._page_kept(i, pages[i]):
                linked.append(facts.page)
            else:
                page = functools.partial(self._page, i, filed[i], first[i], citation)
                jobs.append((i, page, facts.page))
        jobs.sort(key=lambda job: job[0])
        texts = forked.in_two([make for _, make, _ in jobs], _run)
        made = {id(make): text for (_, make, _), text in zip(jobs, texts, strict=True)}
        fragments: dict[str, dict[str, list[Any]]] = {kind: {} for kind in FILES}
        for name, pieces in files.items():
            chunks: list[bytes] = []
            offset = 0
            old = self.previous.bytes_of(name) if self.previous is not None else b""
            for piece in pieces:
                if isinstance(piece, str):
                    data = piece.encode("utf-8")
                else:
                    kept = piece.kept
                    data = made[id(piece.make)] if kept is None else old[kept[0] : kept[1]]
                    fragments[piece.kind][piece.name] = [piece.context, offset, offset + len(data)]
                chunks.append(data)
                offset += len(data)
            out[name] = b"".join(chunks)
        for (_, _, path), text in zip(jobs, texts, strict=True):
            if path is not None:
                out[path] = text
        state = {
            "format": STATE_FORMAT,
            "fingerprint": self.fingerprint,
            "operation": site.operation,
            "numbered": self.numbered,
            "studies": {str(i): self.facts[i].to_json() for i in distinct},
            "fragments": fragments,
            "pages": kept_pages,
            "sizes": {name: len(out[name]) for name in dict.fromkeys(FILES.values())},
        }
        out[STATE] = (json.dumps(state, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        return SiteBuild(out, linked, len(distinct), len(self.b.refs))


def _run(makers: Sequence[Callable[[], str]]) -> list[bytes]:
    """Each maker's text, as bytes."""
    return [make().encode("utf-8") for make in makers]
