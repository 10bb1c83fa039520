"""The OpenAPI document, built as the server serves /openapi.json, and its one committed rendering."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from litestar.serialization import encode_json

from storefront.app import create_app
from storefront.platform.settings import load_settings
from storefront.web.openapi import finish_openapi
from tools.openapi import DOCUMENT

# The app is built, never started: these URLs are parsed, never connected to.
NEVER_CONNECTED = {
    "ENVIRONMENT": "test",
    "DATABASE_URL": "postgresql://storefront@127.0.0.1:5432/storefront",
    "VALKEY_URL": "valkey://127.0.0.1:6379/0",
}


def build() -> dict[str, Any]:
    """The document `GET /openapi.json` answers, from an app that is never started.

    The settings are fixed here (no environment, no `.env`) so a developer's configuration cannot
    change the contract; the app's startup hook, `finish_openapi`, is applied by hand since nothing
    here runs the lifespan (which would connect). The key is a throwaway: nothing is signed.
    """
    settings = load_settings({**NEVER_CONNECTED, "SECRET_KEY": secrets.token_urlsafe(32)}, dotenv=None)
    app = create_app(settings).app
    finish_openapi(app)
    # The same serialisation as the route (msgspec Structs in examples become plain JSON).
    document: dict[str, Any] = json.loads(encode_json(app.openapi_schema.to_schema()))
    return document


def render(document: dict[str, Any]) -> str:
    """The committed text: keys sorted, 2-space indent, UTF-8 as is, one trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(path: Path = DOCUMENT) -> dict[str, Any]:
    """Write the document to `path` and return it."""
    document = build()
    path.write_text(render(document), encoding="utf-8")
    return document
