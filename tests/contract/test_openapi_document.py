"""The committed openapi.json is the document a running app serves: a change to the API that is not
regenerated into it (`just openapi`) fails here, with the difference."""

from __future__ import annotations

import difflib
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from tools.openapi import DOCUMENT, REFRESH
from tools.openapi.document import build, render

pytestmark = pytest.mark.anyio
SHOWN_LINES = 200  # of the diff; a renamed schema can touch thousands


def drift(committed: str, served: str) -> str:
    """A unified diff from the committed text to the served one, cut after SHOWN_LINES lines."""
    lines = list(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            served.splitlines(keepends=True),
            fromfile="openapi.json (committed)",
            tofile="GET /openapi.json (served)",
        )
    )
    more = f"… {len(lines) - SHOWN_LINES} more diff lines\n" if len(lines) > SHOWN_LINES else ""
    return "".join(lines[:SHOWN_LINES]) + more


async def test_the_served_document_is_the_committed_one(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200, response.text
    served = render(response.json())
    committed = DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.is_file() else ""
    if served != committed:
        pytest.fail(
            f"openapi.json differs from the document the app serves; refresh it with `{REFRESH}` "
            f"(and see `just openapi-check` for breaking changes):\n{drift(committed, served)}",
            pytrace=False,
        )


async def test_the_refresh_command_builds_the_served_document(client: AsyncTestClient[Any]) -> None:
    # `just openapi` builds the app without starting it: what it writes must be what is served,
    # or the refresh the failure above names would not mend it.
    response = await client.get("/openapi.json")
    assert render(build()) == render(response.json())


def test_the_diff_names_both_sides_and_is_cut() -> None:
    committed = "".join(f"{n}\n" for n in range(1000))
    text = drift(committed, committed.replace("5", "6"))
    assert text.startswith("--- openapi.json (committed)\n+++ GET /openapi.json (served)\n")
    assert text.endswith(" more diff lines\n")
    assert len(text.splitlines()) == SHOWN_LINES + 1
