"""The committed clients are exactly what `just clients` generates from the app's OpenAPI document,
and the TypeScript toolchain's lock names no URL (no registry host, no funding link)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from tools.clients import LOCK, TYPESCRIPT, openapi_document, stale

pytestmark = pytest.mark.anyio


async def test_the_clients_are_generated_from_the_document_the_server_serves(client: AsyncTestClient[Any]) -> None:
    served = await client.get("/openapi.json")
    assert served.content == openapi_document()


@pytest.mark.skipif(shutil.which("npm") is None, reason="Node.js ≥ 20.19 and npm are not installed (CI has them)")
def test_the_committed_clients_are_regenerated_byte_for_byte() -> None:
    assert stale(openapi_document()) == [], "the clients are stale: run `just clients` and commit clients/"


def test_the_typescript_lock_pins_every_package_by_integrity_and_names_no_url() -> None:
    text = LOCK.read_text()
    assert "://" not in text
    packages = {path: entry for path, entry in json.loads(text)["packages"].items() if path}
    assert packages
    assert all(entry["integrity"].startswith("sha512-") and "resolved" not in entry for entry in packages.values())
    assert "omit-lockfile-registry-resolved=true" in (TYPESCRIPT / ".npmrc").read_text().splitlines()


def _inline_enums(node: Any, path: str) -> Iterator[str]:
    """Where a schema under `node` lists two or more values in place (a component's own list aside)."""
    if isinstance(node, dict):
        if len(node.get("enum") or ()) > 1:
            yield path
        for key, value in node.items():
            yield from _inline_enums(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _inline_enums(value, f"{path}/{index}")


def test_the_document_names_what_the_clients_name() -> None:
    """Operation ids are the handlers' names in camelCase, each type a generator turns into a class
    has a plain name, and every enum is a named component: no client gets `ApiV1ItemsListItems`,
    `PageStorefrontCatalogSchemasItemOut` or three unrelated `role` enums."""
    document = json.loads(openapi_document())
    operations = [op for item in document["paths"].values() for op in item.values() if "operationId" in op]
    ids = [operation["operationId"] for operation in operations]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", id_) for id_ in ids), ids
    assert {"register", "verifyEmail", "login", "listItems", "placeOrder", "getOrder", "getMe"} <= set(ids)
    schemas = document["components"]["schemas"]
    assert all(re.fullmatch(r"[A-Z][A-Za-z]+", name) for name in schemas), sorted(schemas)
    assert {"Role", "OrderStatus", "CheckState", "ReadinessState", "ItemOutPage", "OrderOutPage"} <= schemas.keys()
    components = {name: {k: v for k, v in schema.items() if k != "enum"} for name, schema in schemas.items()}
    assert list(_inline_enums(document["paths"], "#/paths")) == []
    assert list(_inline_enums(components, "#/components/schemas")) == []
