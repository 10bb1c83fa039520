"""The edge with a server span around each request, used only while tracing is on (`create_app`
picks it): with tracing off the request path has no such layer at all.

The span covers everything the edge does — the general limit's 429, an answer from memory, the
router's 404 — and is named by the route Litestar matched (`GET /api/v1/items/{item_id}`), never the
raw path. An incoming W3C `traceparent` is continued only from a TRUSTED_PROXIES peer: anyone else
could choose our sampling decision (a sampled flag on every request) or graft our spans onto a trace
of theirs. Every response carries its trace in `traceresponse` (W3C Trace Context Level 2), the
string a client reports so that an operator finds the request's trace.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from litestar.types import HTTPScope, Receive, Scope, Send

from storefront.web.client_ip import client_ip, peer_address
from storefront.web.edge import HTTP, Edge, Exchange

if TYPE_CHECKING:
    from storefront.platform.telemetry import Telemetry

_PROPAGATED = (b"traceparent", b"tracestate")


def skip_litestar_opentelemetry() -> None:
    """Litestar imports its own OpenTelemetry plugin whenever an app is built (to reorder that
    plugin's middleware), which loads `opentelemetry` now that it is installed. Storefront never
    uses that plugin: marked absent, it is not imported, and a worker with tracing off loads no
    OpenTelemetry module at all."""
    sys.modules.setdefault("litestar.plugins.opentelemetry", None)  # type: ignore[arg-type]


class TracedEdge(Edge):
    """`Edge`, each HTTP request in a server span of `telemetry`."""

    def __init__(self, *args: Any, telemetry: Telemetry, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.telemetry = telemetry
        self.trusted = self.limits.trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request inside its span; anything but HTTP goes straight on."""
        if scope["type"] != HTTP:
            await super().__call__(scope, receive, send)
            return
        with self.telemetry.server(scope["method"], self._carried(scope)) as span:
            if span.is_recording():  # what it says of the request, only when it is kept
                span.set_attributes(self._attributes(scope))
            await super().__call__(scope, receive, send)

    def exchange(self, scope: HTTPScope, send: Send) -> Exchange:
        """The plain exchange, its answers carrying the request's trace in `traceresponse`."""
        exchange = super().exchange(scope, send)
        exchange.extra.append((b"traceresponse", self.telemetry.response_header()))
        return exchange

    def record(self, exchange: Exchange, elapsed: float) -> None:
        """Record the request as the plain edge does (inside its span: the access line has its
        trace), then name the span by its route and give it the answer's status."""
        super().record(exchange, elapsed)
        scope = exchange.scope
        self.telemetry.finish_server(scope["method"], scope.get("path_template"), exchange.status, exchange.request_id)

    def _carried(self, scope: HTTPScope) -> dict[str, str]:
        """The trace context the request brings, when its peer is trusted to bring one."""
        if not self.trusted or peer_address(scope) not in self.trusted:
            return {}
        return {name.decode(): value.decode("latin-1") for name, value in scope["headers"] if name in _PROPAGATED}

    def _attributes(self, scope: HTTPScope) -> dict[str, Any]:
        """What a server span says of its request (OpenTelemetry's HTTP conventions); no query string,
        no headers: they may hold what a trace must not keep."""
        return {
            "http.request.method": scope["method"],
            "url.path": scope["path"],
            "url.scheme": scope["scheme"],
            "client.address": client_ip(scope, self.trusted),
            "network.protocol.version": scope["http_version"],
        }
