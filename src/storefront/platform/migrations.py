"""Forward-only SQL migrations: applied in order, each in a transaction, checksummed, advisory-locked."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from storefront.platform.project import SQL_DIR

MIGRATIONS_DIR = SQL_DIR / "migrations"
ADVISORY_LOCK_KEY = 7_351_820_001  # any constant: serialises concurrent runners across processes
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     text        NOT NULL,
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT schema_migrations_pkey PRIMARY KEY (version)
)
"""


class MigrationError(RuntimeError):
    """The migrations on disk and in the database disagree; the message names the file."""


# Earlier checksums of applied migrations whose text has since changed in comments only (nothing
# executed differs), so a database that applied the earlier text still counts it as applied.
REWORDED: dict[str, frozenset[str]] = {
    "0004_email_outbox": frozenset(
        {"1bcf51d76c514e703c712483adc89b9fd517720bbe13d0bbe109364ca54da354"}
    ),  # a comment's reference
}


@dataclass(frozen=True)
class Migration:
    """One `NNNN_slug.sql` file."""

    version: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text()

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    def matches(self, recorded: str) -> bool:
        """Whether the checksum recorded when it was applied is this file's (or a comment-only rewording's)."""
        return recorded == self.checksum or recorded in REWORDED.get(self.version, ())


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every migration file in order; a misnamed `.sql` file or a duplicate number is an error."""
    migrations: list[Migration] = []
    seen: dict[str, Path] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_slug.sql")
        if match[1] in seen:
            raise MigrationError(f"{path.name}: number {match[1]} is also used by {seen[match[1]].name}")
        seen[match[1]] = path
        migrations.append(Migration(version=path.stem, path=path))
    return migrations


async def _applied(connection: asyncpg.Connection) -> dict[str, str]:
    rows = await connection.fetch("SELECT version, checksum FROM schema_migrations")
    return {row["version"]: row["checksum"] for row in rows}


def _verify(migrations: list[Migration], applied: dict[str, str]) -> None:
    for migration in migrations:
        recorded = applied.get(migration.version)
        if recorded is not None and not migration.matches(recorded):
            raise MigrationError(
                f"{migration.path.name} was edited after it was applied (checksum mismatch); "
                "add a new migration instead"
            )


async def apply_migrations(dsn: str, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply every pending migration under an advisory lock; return the versions applied now."""
    migrations = discover(directory)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", ADVISORY_LOCK_KEY)
        try:
            await connection.execute(CREATE_TABLE)
            applied = await _applied(connection)
            _verify(migrations, applied)
            done = []
            for migration in migrations:
                if migration.version in applied:
                    continue
                async with connection.transaction():
                    await connection.execute(migration.sql)
                    await connection.execute(
                        "INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)",
                        migration.version,
                        migration.checksum,
                    )
                done.append(migration.version)
            return done
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", ADVISORY_LOCK_KEY)
    finally:
        await connection.close()


async def migration_status(dsn: str, directory: Path = MIGRATIONS_DIR) -> list[tuple[str, str]]:
    """(version, state) for every migration on disk: `applied`, `pending` or `edited`."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(CREATE_TABLE)
        applied = await _applied(connection)
    finally:
        await connection.close()
    status = []
    for migration in discover(directory):
        recorded = applied.get(migration.version)
        state = "pending" if recorded is None else "applied" if migration.matches(recorded) else "edited"
        status.append((migration.version, state))
    return status


def new_migration(name: str, directory: Path = MIGRATIONS_DIR) -> Path:
    """Create the next `NNNN_name.sql` file and return its path."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if not slug:
        raise MigrationError("a migration needs a name of letters or digits")
    numbers = [int(m.version[:4]) for m in discover(directory)]
    path = directory / f"{(max(numbers, default=0) + 1):04d}_{slug}.sql"
    path.write_text(f"-- {path.name}: describe the change here.\n")
    return path
