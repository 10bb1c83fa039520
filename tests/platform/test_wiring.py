"""How handlers are wired: at most one dependency each, so Litestar never resolves a handler's
dependencies in an anyio task group (~100 µs per request, in-process, against ~5 µs for one)."""

from __future__ import annotations

from typing import Any

from storefront.app import create_app
from tests.support.services import Services, make_settings

# Where argon2 runs anyway (~50 ms a request), the extra dependencies cost nothing that shows.
HASHING = {("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/register")}


def _handlers(app: Any) -> list[tuple[str, str, list[str]]]:
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            dependencies = handler.resolve_dependencies()
            names = [name for name in handler.parsed_fn_signature.parameters if name in dependencies]
            found += [(method, route.path, names) for method in sorted(handler.http_methods)]
    return found


def test_every_handler_but_the_hashing_ones_takes_at_most_one_dependency(services: Services) -> None:
    app = create_app(make_settings(services)).app
    several = {(method, path) for method, path, names in _handlers(app) if len(names) > 1}
    assert several == HASHING
