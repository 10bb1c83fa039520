"""How handlers are wired: at most one dependency each, so Litestar never resolves a handler's
dependencies in an anyio task group (several times the cost of one: docs/performance.md); guards
called on the handler itself, not on a copy made per request; the startup heap frozen once."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.testing import TestClient

from storefront.app import create_app
from storefront.web.routes import Handler, get
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


def test_every_route_handler_calls_guards_on_itself(services: Services) -> None:
    app = create_app(make_settings(services)).app
    kinds = {
        (method, route.path): type(handler).__name__
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        if handler.fn.__module__.startswith("storefront.")
        for method in handler.http_methods
    }
    assert kinds
    assert {key: kind for key, kind in kinds.items() if kind != Handler.__name__} == {}


def test_a_guard_gets_the_handler_not_a_copy_per_request() -> None:
    seen: list[BaseRouteHandler] = []

    def spy(_: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        seen.append(handler)

    @get("/guarded", guards=[spy], sync_to_thread=False)
    def guarded() -> str:
        return "ok"

    with TestClient(Litestar([guarded])) as client:
        assert client.get("/guarded").text == "ok"
        assert client.get("/guarded").text == "ok"
    assert len(seen) == 2
    assert seen[0] is seen[1]


def test_the_startup_heap_is_frozen_once_per_process() -> None:
    code = (
        "from storefront.platform.heap import freeze_startup_objects as freeze\n"
        "import gc\n"
        "first = freeze(); assert first > 1000 and gc.get_freeze_count() == first, first\n"
        "assert freeze() == 0 and gc.get_freeze_count() == first\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
