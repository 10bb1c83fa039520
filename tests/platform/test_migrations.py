"""Migrations apply in order, once, under an advisory lock, and refuse edited files."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from storefront.accounts import emails
from storefront.platform.migrations import (
    MIGRATIONS_DIR,
    REWORDED,
    MigrationError,
    apply_migrations,
    migration_status,
    new_migration,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def scratch_dsn(services: Any) -> AsyncIterator[str]:
    """A throwaway database on the test server."""
    name = f"scratch_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(services.database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield services.database_url.replace("/storefront?", f"/{name}?")
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


def _write(directory: Path, name: str, sql: str) -> None:
    (directory / name).write_text(sql)


async def test_applies_in_order_and_records_checksums(scratch_dsn: str, tmp_path: Path) -> None:
    _write(tmp_path, "0002_second.sql", "INSERT INTO log VALUES ('second');")
    _write(tmp_path, "0001_first.sql", "CREATE TABLE log (entry text); INSERT INTO log VALUES ('first');")
    assert await apply_migrations(scratch_dsn, tmp_path) == ["0001_first", "0002_second"]
    assert await apply_migrations(scratch_dsn, tmp_path) == []
    connection = await asyncpg.connect(scratch_dsn)
    try:
        assert [r["entry"] for r in await connection.fetch("SELECT entry FROM log")] == ["first", "second"]
        checksums = await connection.fetch("SELECT version, length(checksum) AS n FROM schema_migrations")
        assert {(r["version"], r["n"]) for r in checksums} == {("0001_first", 64), ("0002_second", 64)}
    finally:
        await connection.close()
    assert await migration_status(scratch_dsn, tmp_path) == [("0001_first", "applied"), ("0002_second", "applied")]


async def test_an_edited_applied_migration_is_refused_by_name(scratch_dsn: str, tmp_path: Path) -> None:
    _write(tmp_path, "0001_first.sql", "CREATE TABLE t (id int);")
    await apply_migrations(scratch_dsn, tmp_path)
    _write(tmp_path, "0001_first.sql", "CREATE TABLE t (id bigint);")
    with pytest.raises(MigrationError, match="0001_first.sql was edited"):
        await apply_migrations(scratch_dsn, tmp_path)
    assert await migration_status(scratch_dsn, tmp_path) == [("0001_first", "edited")]


async def test_a_failing_migration_rolls_back_and_is_not_recorded(scratch_dsn: str, tmp_path: Path) -> None:
    _write(tmp_path, "0001_bad.sql", "CREATE TABLE ok (id int); SELECT * FROM missing_table;")
    with pytest.raises(asyncpg.UndefinedTableError):
        await apply_migrations(scratch_dsn, tmp_path)
    assert await migration_status(scratch_dsn, tmp_path) == [("0001_bad", "pending")]


async def test_concurrent_runners_apply_each_migration_once(scratch_dsn: str, tmp_path: Path) -> None:
    _write(tmp_path, "0001_counter.sql", "CREATE TABLE counter (n int); INSERT INTO counter VALUES (1);")
    _write(tmp_path, "0002_slow.sql", "SELECT pg_sleep(0.2); INSERT INTO counter VALUES (2);")
    results = await asyncio.gather(*(apply_migrations(scratch_dsn, tmp_path) for _ in range(4)))
    assert sorted(len(r) for r in results) == [0, 0, 0, 2]
    connection = await asyncpg.connect(scratch_dsn)
    try:
        assert await connection.fetchval("SELECT count(*) FROM counter") == 2
    finally:
        await connection.close()


def test_misnamed_files_and_new_migration(tmp_path: Path) -> None:
    _write(tmp_path, "0001_first.sql", "")
    created = new_migration("Add Orders!", tmp_path)
    assert created.name == "0002_add_orders.sql"
    _write(tmp_path, "oops.sql", "")
    with pytest.raises(MigrationError, match="oops.sql"):
        new_migration("x", tmp_path)


async def test_a_database_that_applied_a_reworded_migrations_earlier_text_still_starts(scratch_dsn: str) -> None:
    """0004's comment was reworded after release: a database holding its earlier checksum counts it
    as applied, and any other checksum is still refused."""
    await apply_migrations(scratch_dsn)
    (earlier,) = REWORDED["0004_email_outbox"]
    connection = await asyncpg.connect(scratch_dsn)
    try:
        update = "UPDATE schema_migrations SET checksum = $1 WHERE version = '0004_email_outbox'"
        await connection.execute(update, earlier)
        assert await apply_migrations(scratch_dsn) == []
        assert {state for _, state in await migration_status(scratch_dsn)} == {"applied"}
        await connection.execute(update, "0" * 64)
        with pytest.raises(MigrationError, match="0004_email_outbox.sql was edited"):
            await apply_migrations(scratch_dsn)
    finally:
        await connection.close()


async def test_0005_gives_reset_links_queued_earlier_their_one_name(scratch_dsn: str, tmp_path: Path) -> None:
    """Rows queued under the former kind before the upgrade are renamed; other kinds are untouched."""
    for path in sorted(MIGRATIONS_DIR.glob("000[1-4]_*.sql")):
        shutil.copy(path, tmp_path / path.name)
    await apply_migrations(scratch_dsn, tmp_path)
    connection = await asyncpg.connect(scratch_dsn)
    try:
        queue = "INSERT INTO outbox (kind, recipient) VALUES ($1, 'a@example.com')"
        for kind in [*emails.FORMER_KINDS, emails.WELCOME]:
            await connection.execute(queue, kind)
        assert (await apply_migrations(scratch_dsn))[0] == "0005_reset_password_kind"
        kinds = await connection.fetch("SELECT kind FROM outbox ORDER BY kind")
        assert [row["kind"] for row in kinds] == sorted([emails.RESET_PASSWORD, emails.WELCOME])
    finally:
        await connection.close()


async def test_0006_publishes_the_key_of_each_cached_value_a_write_changes_at_commit(scratch_dsn: str) -> None:
    """The read cache's triggers: an item, a session, an account, a TRUNCATE; nothing for a rollback."""
    await apply_migrations(scratch_dsn)
    heard: list[str] = []
    listener, writer = await asyncpg.connect(scratch_dsn), await asyncpg.connect(scratch_dsn)
    try:
        await listener.add_listener("storefront_cache", lambda *args: heard.append(args[-1]))
        item = await writer.fetchval(
            "INSERT INTO items (sku, name, price_cents, stock) VALUES ('S-1', 'Kettle', 100, 5) RETURNING id"
        )
        await writer.execute("UPDATE items SET stock = 4 WHERE id = $1", item)  # not shown in the list
        async with writer.transaction():
            await writer.execute("UPDATE items SET name = 'Teapot' WHERE id = $1", item)
        rollback = writer.transaction()
        await rollback.start()
        await writer.execute("UPDATE items SET name = 'Never' WHERE id = $1", item)
        await rollback.rollback()
        user = await writer.fetchval(
            "INSERT INTO users (email, full_name, password_hash) VALUES ('a@example.com', 'A', 'x') RETURNING id"
        )
        session = await writer.fetchval("INSERT INTO sessions (user_id) VALUES ($1) RETURNING id", user)
        await writer.execute("UPDATE sessions SET revoked_at = now() WHERE id = $1", session)
        await writer.execute("UPDATE users SET role = 'admin' WHERE id = $1", user)
        await writer.execute("TRUNCATE items CASCADE")
        await listener.execute("SELECT 1")  # every notification of the writes above has arrived by now
        assert heard == [
            f"item:{item}", "catalog", f"item:{item}", f"item:{item}", "catalog",
            f"session:{session}", f"user:{user}", "*",
        ]  # fmt: skip
    finally:
        await listener.close()
        await writer.close()
