"""Which database a library is and how much it holds, for `refdb db info`: the URL (password
hidden), the schema revision, the counts of studies, indications and operations, and the
kept outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from refdb.store.database import SCHEMA_REVISION, Database
from refdb.store.kept_outputs import KeptOutputInfo, kept_outputs
from refdb.store.models import Indication, Operation, Study


@dataclass
class DbInfo:
    """A library's database and what it holds."""

    url: str
    """The SQLAlchemy URL, its password hidden (`***`)."""
    dialect: str
    revision: str | None
    newest_revision: str
    studies: int
    indications: int
    operations: int
    outputs: list[KeptOutputInfo] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The info as JSON: url, dialect, schema revisions, counts, each kept output."""
        data = {k: v for k, v in vars(self).items() if k != "outputs"}
        data["kept_outputs"] = [
            {**vars(o), "last_written_at": o.last_written_at and o.last_written_at.isoformat()}
            for o in self.outputs
        ]
        return data


def database_info(db: Database) -> DbInfo:
    """The database's URL and schema revision, and its studies, indications and logged
    operations counted in one query, with the outputs kept current."""
    counts = [
        select(func.count()).select_from(model).scalar_subquery()
        for model in (Study, Indication, Operation)
    ]
    with db.reading() as session:
        studies, indications, operations = session.execute(select(*counts)).one()
    return DbInfo(
        url=make_url(db.url).render_as_string(hide_password=True),
        dialect=db.dialect,
        revision=db.revision(),
        newest_revision=SCHEMA_REVISION,
        studies=int(studies),
        indications=int(indications),
        operations=int(operations),
        outputs=kept_outputs(db),
    )
