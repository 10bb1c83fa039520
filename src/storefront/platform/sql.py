"""Named SQL as typed query objects.

The SQL lives in `sql/queries/<file>.sql`, one statement per `-- name: <name>` block (the aiosql /
sqlspec convention), runnable in psql with `$n` filled in. A domain declares each block once, as an
annotated attribute that says what the call returns and the types of its `$n` parameters:

    class CatalogQueries(Queries, file="catalog"):
        get_item: MaybeRow[UUID]
        list_items: Rows[bool | None, datetime | None, UUID | None, int]

When the class is created it reads the file and fails unless every block is declared and every
declaration has a block using exactly as many `$n` parameters as it declares. A call runs on the
connection it is given (`await CatalogQueries.get_item(conn, item_id)`), so a test can wrap a
request in a transaction and a tool can count queries.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVarTuple, get_args, get_origin, get_type_hints

import asyncpg

from storefront.platform import tracing
from storefront.platform.project import SQL_DIR

Ts = TypeVarTuple("Ts")
QUERIES_DIR = SQL_DIR / "queries"
_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.M)
_PARAMETER = re.compile(r"\$(\d+)")
# A query's span carries its `-- name:` and the system, never its SQL text or parameter values.
SPAN_ATTRIBUTES = {"db.system.name": "postgresql"}


class QueryFileError(RuntimeError):
    """A query file and its declarations disagree; the message names both."""


def read_queries(path: Path) -> dict[str, str]:
    """The `-- name:` blocks of a file, each without its trailing semicolon."""
    parts = _NAME.split(path.read_text())
    return {name: body.strip().rstrip(";") for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def parameter_count(sql: str) -> int:
    """How many `$n` parameters a statement takes (the highest n)."""
    return max((int(n) for n in _PARAMETER.findall(sql)), default=0)


class Query(Generic[*Ts]):
    """One named statement; subclasses say what a call returns."""

    __slots__ = ("name", "sql")

    def __init__(self, name: str, sql: str) -> None:
        self.name = name
        self.sql = sql

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    async def _run(self, call: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> Any:
        """`call(sql, *args)` (a connection's fetch, fetchrow, …), in a span named by the query's
        `-- name:` when tracing is on."""
        spans = tracing.active
        if spans is None:
            return await call(self.sql, *args)
        with spans.client(self.name, SPAN_ATTRIBUTES):
            return await call(self.sql, *args)


class Rows(Query[*Ts]):
    """Every row the statement returns."""

    __slots__ = ()

    async def __call__(self, conn: asyncpg.Connection, *args: *Ts) -> list[asyncpg.Record]:
        return await self._run(conn.fetch, args)  # type: ignore[no-any-return]


class Row(Query[*Ts]):
    """Exactly one row (an `INSERT … RETURNING`, an aggregate)."""

    __slots__ = ()

    async def __call__(self, conn: asyncpg.Connection, *args: *Ts) -> asyncpg.Record:
        row = await self._run(conn.fetchrow, args)
        if row is None:
            raise LookupError(f"query {self.name} returned no row")
        return row


class MaybeRow(Query[*Ts]):
    """The first row, or None."""

    __slots__ = ()

    async def __call__(self, conn: asyncpg.Connection, *args: *Ts) -> asyncpg.Record | None:
        return await self._run(conn.fetchrow, args)  # type: ignore[no-any-return]


class Value(Query[*Ts]):
    """The first column of the first row, or None."""

    __slots__ = ()

    async def __call__(self, conn: asyncpg.Connection, *args: *Ts) -> Any:
        return await self._run(conn.fetchval, args)


class Execute(Query[*Ts]):
    """Run the statement; its status tag (`UPDATE 3`)."""

    __slots__ = ()

    async def __call__(self, conn: asyncpg.Connection, *args: *Ts) -> str:
        return await self._run(conn.execute, args)  # type: ignore[no-any-return]


def _is_query(hint: Any) -> bool:
    origin = get_origin(hint)
    return isinstance(origin, type) and issubclass(origin, Query)


class Queries:
    """The queries of one file; subclass with `file=` (its name under `sql/queries/`) and one
    annotated attribute per block (`Row[()]` for a statement without parameters)."""

    file: ClassVar[Path]

    def __init_subclass__(cls, *, file: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.file = QUERIES_DIR / f"{file}.sql"
        blocks = read_queries(cls.file)
        declared = {name: hint for name, hint in get_type_hints(cls).items() if _is_query(hint)}
        if missing := sorted(blocks.keys() - declared.keys()):
            raise QueryFileError(f"{cls.file.name}: {', '.join(missing)} not declared on {cls.__name__}")
        if unknown := sorted(declared.keys() - blocks.keys()):
            raise QueryFileError(f"{cls.__name__}: {', '.join(unknown)} not found in {cls.file.name}")
        for name, hint in declared.items():
            sql, wanted = blocks[name], len(get_args(hint))
            if parameter_count(sql) != wanted:
                raise QueryFileError(
                    f"{cls.file.name}: {name} uses {parameter_count(sql)} parameter(s), "
                    f"{cls.__name__} declares {wanted}"
                )
            setattr(cls, name, get_origin(hint)(name, sql))
