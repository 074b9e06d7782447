"""Full-text search: SQLite FTS5 where the database is SQLite, PostgreSQL's own otherwise."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from refdb.store.rows import chunks

# bm25 weights per column of study_search: study_id, key, title, authors, journal, abstract.
_WEIGHTS = "0.0, 5.0, 10.0, 5.0, 2.0, 1.0"


def _words(query: str) -> list[str]:
    # Letters and digits only (an underscore separates words, as in both full-text engines).
    return re.findall(r"[^\W_]+", query.casefold())


def reindex(session: Session, study_ids: Sequence[int]) -> None:
    """Refresh the search index for these studies (added, changed or removed): one DELETE and
    one INSERT ... SELECT per 500 studies."""
    if session.get_bind().dialect.name != "sqlite" or not study_ids:
        return
    session.flush()
    for chunk in chunks(sorted(set(study_ids))):
        ids = {"ids": list(chunk)}
        session.execute(
            text("DELETE FROM study_search WHERE study_id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            ids,
        )
        session.execute(
            text(
                "INSERT INTO study_search (study_id, key, title, authors, journal, abstract) "
                "SELECT s.id, s.key, s.title, coalesce((SELECT group_concat("
                "  trim(coalesce(a.family, '') || ' ' || coalesce(a.given, '') || ' ' || "
                "  coalesce(a.literal, '')), ' ') FROM authors a WHERE a.study_id = s.id), ''), "
                "coalesce(s.container_title, '') || ' ' || coalesce(s.container_title_short, ''), "
                "coalesce(s.abstract, '') FROM studies s WHERE s.id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            ids,
        )


def search_ids(session: Session, query: str, limit: int = 50) -> list[int]:
    """Study ids whose title, abstract, authors, journal or key hold every word, best first."""
    words = _words(query)
    if not words:
        return []
    if session.get_bind().dialect.name == "sqlite":
        # Each word quoted (so user input is never FTS syntax) and matched as a prefix.
        match = " ".join(f'"{w}"*' for w in words)
        rows = session.execute(
            text(
                f"SELECT study_id FROM study_search WHERE study_search MATCH :match "
                f"ORDER BY bm25(study_search, {_WEIGHTS}) LIMIT :limit"
            ),
            {"match": match, "limit": limit},
        )
        return [int(r[0]) for r in rows]
    return _search_postgres(session, words, limit)


def _search_postgres(session: Session, words: list[str], limit: int) -> list[int]:
    document = (
        "setweight(to_tsvector('simple', coalesce(s.title, '')), 'A') || "
        "setweight(to_tsvector('simple', coalesce(s.key, '') || ' ' || coalesce(("
        "  SELECT string_agg(coalesce(a.family, '') || ' ' || coalesce(a.given, '') || ' ' ||"
        "  coalesce(a.literal, ''), ' ') FROM authors a WHERE a.study_id = s.id), '')), 'B') || "
        "setweight(to_tsvector('simple', coalesce(s.container_title, '') || ' ' || "
        "  coalesce(s.container_title_short, '')), 'C') || "
        "setweight(to_tsvector('simple', coalesce(s.abstract, '')), 'D')"
    )
    tsquery = " & ".join(f"{w}:*" for w in words)
    rows = session.execute(
        text(
            f"SELECT s.id FROM studies s WHERE ({document}) @@ to_tsquery('simple', :q) "
            f"ORDER BY ts_rank({document}, to_tsquery('simple', :q)) DESC, s.id LIMIT :limit"
        ),
        {"q": tsquery, "limit": limit},
    )
    return [int(r[0]) for r in rows]
