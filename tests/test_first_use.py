"""First use at scale: many commands at once on a brand-new database, and no Alembic after it.

Every command opens the database and migrates it when it is behind; the migration runs under
the database's write lock, so that commands started together on a new database wait for one
another instead of racing to create the schema.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import sqlalchemy

from refdb.store import database

SEED_STUDIES = 9
SEED_INDICATIONS = 2

IMPORTED = {
    "id": "first-use-1",
    "type": "article-journal",
    "title": "A made-up trial of intranasal placebo for first-use testing",
    "author": [{"family": "Testwright", "given": "Ada"}],
    "container-title": "Journal of Concurrency Tests",
    "issued": {"date-parts": [[2021, 3]]},
}


def _refdb(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "refdb", "--db", url, *args]


def _scalar(url: str, sql: str) -> object:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql(sql).scalar()
    finally:
        engine.dispose()


def test_eight_commands_at_once_on_a_new_database(any_db_url: str, tmp_path: Path) -> None:
    csl = tmp_path / "one.json"
    csl.write_text(json.dumps([IMPORTED]), encoding="utf-8")
    commands = [
        ["seed"],
        ["list", "--json"],
        ["indications"],
        ["import", str(csl)],
        ["search", "ketamine"],
        ["db", "upgrade"],
        ["seed"],
        ["list", "--json"],
    ]
    processes = [
        subprocess.Popen(
            _refdb(any_db_url, *args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
        for args in commands
    ]
    failures = []
    for args, process in zip(commands, processes, strict=True):
        _, stderr = process.communicate(timeout=300)
        if process.returncode != 0:
            failures.append(f"refdb {' '.join(args)} exited {process.returncode}: {stderr}")
    assert failures == []

    assert _scalar(any_db_url, "SELECT version_num FROM alembic_version") == (
        database.SCHEMA_REVISION
    )
    assert _scalar(any_db_url, "SELECT count(*) FROM alembic_version") == 1
    assert _scalar(any_db_url, "SELECT count(*) FROM studies") == SEED_STUDIES + 1
    assert _scalar(any_db_url, "SELECT count(DISTINCT key) FROM studies") == SEED_STUDIES + 1
    assert _scalar(any_db_url, "SELECT count(*) FROM indications") == SEED_INDICATIONS
    # Both seeds ran, one after the other: the second found nothing to do and logged nothing.
    assert _scalar(any_db_url, "SELECT count(*) FROM operations WHERE command = 'refdb seed'") == 1


def test_a_command_on_an_up_to_date_database_does_not_import_alembic(any_db_url: str) -> None:
    database.Database(any_db_url).close()  # migrate it first
    script = (
        "import sys\n"
        "from refdb.cli import main\n"
        f"sys.argv = ['refdb', '--db', {any_db_url!r}, 'list', '--json']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print('alembic' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "False"


def test_a_database_newer_than_the_code_is_refused_in_one_line(any_db_url: str) -> None:
    database.Database(any_db_url).close()
    engine = sqlalchemy.create_engine(any_db_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()

    result = subprocess.run(
        _refdb(any_db_url, "list", "--json"), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "9999" in lines[0] and database.SCHEMA_REVISION in lines[0]
    assert "newer" in lines[0]
    assert _scalar(any_db_url, "SELECT version_num FROM alembic_version") == "9999"
