"""OpenAPI configuration, the problem+json responses every operation documents, and the
documentation pages' own assets (served by Storefront: /docs and /redoc work with no internet)."""

from __future__ import annotations

from pathlib import Path

import msgspec
from litestar import Litestar, Router
from litestar.datastructures import CacheControlHeader
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import RedocRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, OAuthFlow, OAuthFlows, OpenAPIResponse, SecurityScheme
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


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """Problem+json response specs for `statuses` plus the ones any request can get."""
    # No generated examples: Litestar draws them from one random generator seeded once a process, so
    # each app built in a process documented different (and meaningless: `"status": 2562`) ones.
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_DESCRIPTIONS[status],
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status in sorted({*statuses, *ALWAYS})
    }


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
                    description="Log in with email and password; the access token is sent as a Bearer token.",
                    flows=OAuthFlows(password=OAuthFlow(token_url="/api/v1/auth/login", scopes={})),
                )
            }
        ),
        use_handler_docstrings=True,
    )


def finish_openapi(app: Litestar) -> None:
    """Make the document say what the server enforces, where Litestar's generator does not."""
    _drop_framework_400s(app)
    _request_schemas_from_msgspec(app)


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
    _, components = msgspec.json.schema_components(structs, ref_template="#/components/schemas/{name}")
    schemas.update(components)


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
