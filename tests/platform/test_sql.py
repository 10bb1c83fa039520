"""Typed named queries: the declarations and the `.sql` file must agree, or the import fails."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest

from storefront.platform import sql
from storefront.platform.sql import MaybeRow, Queries, QueryFileError, Row, Rows, parameter_count

SQL = """-- Items.

-- name: get_thing
-- A comment that stays with its block.
SELECT id, name FROM things WHERE id = $1;

-- name: list_things
SELECT id FROM things WHERE ($1::text IS NULL OR name = $1) LIMIT $2;

-- name: count_things
SELECT count(*) FROM things;
"""


@pytest.fixture
def sql_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """`things`, a query file in a folder of its own standing in for sql/queries/."""
    (tmp_path / "things.sql").write_text(SQL)
    monkeypatch.setattr(sql, "QUERIES_DIR", tmp_path)
    return "things"


def test_declared_blocks_become_typed_queries(sql_file: str) -> None:
    class Things(Queries, file=sql_file):
        get_thing: MaybeRow[UUID]
        list_things: Rows[str | None, int]
        count_things: Row[()]

    assert isinstance(Things.get_thing, MaybeRow)
    assert Things.get_thing.sql.endswith("WHERE id = $1")
    assert repr(Things.list_things) == "<Rows list_things>"
    assert parameter_count(Things.list_things.sql) == 2


def test_an_undeclared_block_fails(sql_file: str) -> None:
    with pytest.raises(QueryFileError, match="count_things not declared"):

        class Things(Queries, file=sql_file):
            get_thing: MaybeRow[UUID]
            list_things: Rows[str | None, int]


def test_a_declaration_without_a_block_fails(sql_file: str) -> None:
    with pytest.raises(QueryFileError, match="get_other not found in things.sql"):

        class Things(Queries, file=sql_file):
            get_thing: MaybeRow[UUID]
            get_other: MaybeRow[UUID]
            list_things: Rows[str | None, int]
            count_things: Row[()]


def test_a_wrong_parameter_count_fails(sql_file: str) -> None:
    with pytest.raises(QueryFileError, match="list_things uses 2 parameter"):

        class Things(Queries, file=sql_file):
            get_thing: MaybeRow[UUID]
            list_things: Rows[int]
            count_things: Row[()]
