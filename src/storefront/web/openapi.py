"""OpenAPI configuration, the problem+json responses every operation documents, and the
documentation pages' own assets (served by Storefront: /docs and /redoc work with no internet)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar, Router
from litestar.datastructures import CacheControlHeader
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import RedocRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, OAuthFlow, OAuthFlows, OpenAPIResponse, Reference, Schema, SecurityScheme
from litestar.static_files import create_static_files_router

from storefront.web.conventions import MAX_BODY_TEXT, PROBLEM_MEDIA_TYPE, SMALL_BODY_TEXT
from storefront.web.problems import Problem
from storefront.web.schemas import RequestStruct

_DESCRIPTIONS = {
    400: "Malformed request (body is not parseable JSON or form, or is missing)",
    408: "The request body did not arrive in time (the connection is closed)",
    401: "Missing, invalid, expired or revoked credentials",
    403: "Authenticated but not allowed (an admin-only operation, or an email not verified yet)",
    404: "Unknown id, or not yours",
    409: "Conflict (duplicate, state, out of stock, idempotency key in progress)",
    412: "Stale If-Match",
    413: f"Body over {MAX_BODY_TEXT} ({SMALL_BODY_TEXT} on /auth and /users routes)",
    415: "Body is not application/json",
    422: "Validation error (schema, type, range, unknown field, bad parameter)",
    429: "Rate limited (see Retry-After and RateLimit headers)",
    500: "Internal error (generic body; details in the log under the request id)",
    503: "A backing service is unavailable (see Retry-After)",
}
ALWAYS = (429, 500, 503)
BODY = (400, 408, 413, 415, 422)
# Swagger UI and ReDoc 2 from npm, vendored by `just vendor-docs` (versions in MANIFEST).
DOCS_ASSETS_DIR = Path(__file__).parent / "docs_assets"
DOCS_ASSETS = "/docs/assets"
_FAVICON = f"<link rel='icon' type='image/png' href='{DOCS_ASSETS}/swagger-ui/favicon-32x32.png'>"
SCHEMAS = "#/components/schemas/"
_GENERIC_TITLE = re.compile(r"^(\w+)\[(\w+)\]$")  # `Page[ItemOut]`
REDOC = RedocRenderPlugin(
    path="/redoc", js_url=f"{DOCS_ASSETS}/redoc/redoc.standalone.js", google_fonts=False, favicon=_FAVICON
)


def docs_assets() -> Router:
    """The vendored Swagger UI and ReDoc files under /docs/assets, cached by browsers for a day."""
    return create_static_files_router(
        path=DOCS_ASSETS,
        directories=[DOCS_ASSETS_DIR],
        name="docs-assets",
        cache_control=CacheControlHeader(public=True, max_age=86_400),
        include_in_schema=False,
    )


def response(data_container: type, description: str, media_type: str = "application/json") -> ResponseSpec:
    """A documented extra response, without the random examples Litestar would invent for it (words
    like "RTwdshFRPhSOVrnPxrBB", different in each app a process builds)."""
    return ResponseSpec(data_container, description=description, media_type=media_type, generate_examples=False)


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """Problem+json response specs for `statuses` plus the ones any request can get."""
    return {
        status: response(Problem, _DESCRIPTIONS[status], PROBLEM_MEDIA_TYPE) for status in sorted({*statuses, *ALWAYS})
    }


def operation_id(handler: HTTPRouteHandler, *_: Any) -> str:
    """The handler's name in camelCase (`place_order` → `placeOrder`): what generated clients name
    the operation's function."""
    first, *rest = handler.handler_name.split("_")
    return first + "".join(word.title() for word in rest)


def openapi_config(version: str) -> OpenAPIConfig:
    """Swagger UI at /docs (the root aliases /openapi.json and /redoc live in ops)."""
    return OpenAPIConfig(
        title="Storefront API",
        version=version,
        description="Accounts, catalog and orders. Errors are RFC 9457 application/problem+json.",
        path="/docs",
        render_plugins=[
            SwaggerRenderPlugin(
                path="/",
                js_url=f"{DOCS_ASSETS}/swagger-ui/swagger-ui-bundle.js",
                css_url=f"{DOCS_ASSETS}/swagger-ui/swagger-ui.css",
                standalone_preset_js_url=f"{DOCS_ASSETS}/swagger-ui/swagger-ui-standalone-preset.js",
                favicon=_FAVICON,
            )
        ],
        components=Components(
            security_schemes={
                "OAuth2PasswordBearer": SecurityScheme(
                    type="oauth2",
                    description="Log in with email and password (`POST /api/v1/auth/login`, JSON or this "
                    "flow's form); the access token is sent as a Bearer token.",
                    flows=OAuthFlows(password=OAuthFlow(token_url="/api/v1/auth/login", scopes={})),
                )
            }
        ),
        use_handler_docstrings=True,
        operation_id_creator=operation_id,
    )


def finish_openapi(app: Litestar) -> None:
    """Make the document say what the server enforces, where Litestar's generator does not."""
    _drop_framework_400s(app)
    _request_schemas_from_msgspec(app)
    _name_generic_schemas(app)
    _sort_response_headers(app)


def _request_structs() -> list[type[RequestStruct]]:
    found, pending = [], list(RequestStruct.__subclasses__())
    while pending:
        struct = pending.pop()
        pending += struct.__subclasses__()
        found.append(struct)
    return found


def _request_schemas_from_msgspec(app: Litestar) -> None:
    """Request bodies are documented by msgspec's own JSON Schema of their Structs, which is what the
    decoder enforces: `additionalProperties: false`, and bounds of 0 that Litestar's generator drops
    (`minimum: 0` of a price). Litestar's `to_schema()` passes the JSON Schema dicts through."""
    schemas = app.openapi_schema.components.schemas
    structs = [struct for struct in _request_structs() if struct.__name__ in schemas]
    _, components = msgspec.json.schema_components(structs, ref_template=SCHEMAS + "{name}")
    # Only the Structs: a type they share with responses (an enum such as `Role`) keeps Litestar's
    # schema, which states its `type`.
    names = {struct.__name__ for struct in structs}
    schemas.update({name: schema for name, schema in components.items() if name in names or name not in schemas})


def _drop_framework_400s(app: Litestar) -> None:
    """Remove the generic 400 Litestar documents for every handler with parameters.

    Bad parameters are 422 problems here (the mapper turns Litestar's validation errors into them),
    so that 400 would be wrong; the real 400 (malformed body) is documented through `problems`.
    """
    for path_item in (app.openapi_schema.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(path_item, method, None)
            responses = operation.responses if operation is not None else None
            response = (responses or {}).get("400")
            if isinstance(response, OpenAPIResponse) and PROBLEM_MEDIA_TYPE not in (response.content or {}):
                del responses["400"]  # type: ignore[union-attr]


def _name_generic_schemas(app: Litestar) -> None:
    """Name each generic component after its argument and origin (`Page[ItemOut]` → `ItemOutPage`)
    instead of Litestar's key (`Page_storefront.catalog.schemas.ItemOut_`), which generated clients
    would turn into type names."""
    components = app.openapi_schema.components
    renamed: dict[str, str] = {}
    for key, schema in components.schemas.items():
        if isinstance(schema, Schema) and (generic := _GENERIC_TITLE.match(schema.title or "")):
            renamed[key] = schema.title = generic[2] + generic[1]
    named = [(renamed.get(key, key), schema) for key, schema in components.schemas.items()]
    components.schemas = dict(sorted(named, key=lambda pair: pair[0]))
    _rename_references(app.openapi_schema, {SCHEMAS + old: SCHEMAS + new for old, new in renamed.items()})


def _rename_references(node: Any, renamed: dict[str, str]) -> None:
    """Point every `Reference` under `node` (spec objects, dicts, lists) at its component's new name."""
    if isinstance(node, Reference):
        node.ref = renamed.get(node.ref, node.ref)
    elif dataclasses.is_dataclass(node):
        for field in dataclasses.fields(node):
            _rename_references(getattr(node, field.name), renamed)
    elif isinstance(node, dict):
        for value in node.values():
            _rename_references(value, renamed)
    elif isinstance(node, list | tuple):
        for value in node:
            _rename_references(value, renamed)


def _sort_response_headers(app: Litestar) -> None:
    """Document response headers by name: Litestar gathers them in a frozenset, whose order changes
    from one process to the next, and the document should not."""
    for path_item in (app.openapi_schema.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(path_item, method, None)
            for response in (operation.responses or {}).values() if operation is not None else ():
                if isinstance(response, OpenAPIResponse) and response.headers:
                    response.headers = dict(sorted(response.headers.items()))
