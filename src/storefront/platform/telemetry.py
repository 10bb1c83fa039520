"""OpenTelemetry, imported only when tracing is on (`platform/tracing.py` says when).

One tracer provider per worker: spans go to OTEL_EXPORTER_OTLP_ENDPOINT (`/v1/traces`, OTLP over
HTTP/protobuf) through the SDK's batch processor, which sends from a thread of its own, so a request
never waits on the collector. The SDK reads the other standard variables from the process
environment: OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (default `parentbased_always_on`),
OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT and _COMPRESSION, OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_*.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from functools import lru_cache
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from storefront.platform.project import version
from storefront.platform.settings import TracingSettings

_TYPED_PARAMETER = re.compile(r"\{(\w+):\w+\}")
_PROPAGATOR = TraceContextTextMapPropagator()
# A stranger chooses `url.path` (up to the server's header buffer, 64 KiB): unless the operator sets
# a limit of their own, an attribute keeps its first KiB, so no request makes its span heavy to export.
ATTRIBUTE_LENGTH = 1024
_LENGTH_VARIABLES = ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT")
_NOTHING: AbstractContextManager[Any] = nullcontext()


def _unsampled() -> bool:
    """Inside a trace that is not sampled: a child span would be dropped, so none is made."""
    span = trace.get_current_span()
    return span.get_span_context().is_valid and not span.is_recording()


def traces_endpoint(base: str) -> str:
    """The OTLP/HTTP traces URL of a base endpoint, as the OpenTelemetry spec builds it."""
    return base.rstrip("/") + "/v1/traces"


@lru_cache(maxsize=256)  # the app's route templates: a bounded set
def route(template: str) -> str:
    """A route as OpenTelemetry names it: `/api/v1/items/{item_id}`, Litestar's `{item_id:uuid}`
    without its type."""
    return _TYPED_PARAMETER.sub(r"{\1}", template)


def _w3c(ctx: Any) -> str:
    """A span context in the W3C `traceparent` form."""
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{ctx.trace_flags:02x}"


class Telemetry:
    """The worker's tracer: spans as context managers, the W3C context in and out."""

    def __init__(self, settings: TracingSettings) -> None:
        assert settings.otel_exporter_otlp_endpoint, "tracing is on only when the endpoint is set"
        resource = Resource.create({"service.name": settings.otel_service_name, "service.version": version()})
        own_limit = any(os.environ.get(name) for name in _LENGTH_VARIABLES)
        limits = SpanLimits() if own_limit else SpanLimits(max_span_attribute_length=ATTRIBUTE_LENGTH)
        self.provider = TracerProvider(resource=resource, span_limits=limits)  # sampler: OTEL_TRACES_SAMPLER
        exporter = OTLPSpanExporter(endpoint=traces_endpoint(settings.otel_exporter_otlp_endpoint))
        self.provider.add_span_processor(BatchSpanProcessor(exporter))
        self.tracer = self.provider.get_tracer("storefront", version())

    def shutdown(self) -> None:
        """Send what is still queued (within the SDK's export timeout) and stop the exporter thread."""
        self.provider.shutdown()

    def client(self, name: str, attributes: Mapping[str, str]) -> AbstractContextManager[Any]:
        """A span for a call to another system, as the current span (none in an unsampled trace)."""
        if _unsampled():
            return _NOTHING
        return self.tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes)

    def internal(self, name: str) -> AbstractContextManager[Any]:
        """A span for work of our own, as the current span (none in an unsampled trace)."""
        if _unsampled():
            return _NOTHING
        return self.tracer.start_as_current_span(name)

    def continued(
        self, name: str, traceparent: str | None, attributes: Mapping[str, str]
    ) -> AbstractContextManager[Any]:
        """A consumer span in the trace of a stored `traceparent`, linked to the current span (the
        job that runs it); with no stored context, a child of the current span."""
        if traceparent is None:
            return self.tracer.start_as_current_span(name, kind=SpanKind.CONSUMER, attributes=attributes)
        current = trace.get_current_span().get_span_context()
        links = [Link(current)] if current.is_valid else []
        context = _PROPAGATOR.extract({"traceparent": traceparent})
        return self.tracer.start_as_current_span(
            name, context=context, kind=SpanKind.CONSUMER, attributes=attributes, links=links
        )

    def server(self, method: str, headers: Mapping[str, str]) -> AbstractContextManager[Any]:
        """The span of one request, as the current span, continuing the `traceparent` in `headers`
        (empty: a new trace)."""
        context = _PROPAGATOR.extract(headers) if headers else None
        return self.tracer.start_as_current_span(method, context=context, kind=SpanKind.SERVER)

    @staticmethod
    def finish_server(method: str, template: str | None, status: int, request_id: str) -> None:
        """Name the current request's span by its route (`GET /api/v1/items/{item_id}`, never the raw
        path; the method alone when no route matched) and record its answer (5xx: an error) and its
        `X-Request-ID`; nothing when it is not sampled."""
        span = trace.get_current_span()
        if not span.is_recording():
            return
        span.set_attribute("storefront.request_id", request_id)
        if template is not None:
            span.update_name(f"{method} {route(template)}")
            span.set_attribute("http.route", route(template))
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))

    @staticmethod
    def response_header() -> bytes:
        """The current span's context as a W3C `traceresponse` value: what a client reports to find
        the trace."""
        return _w3c(trace.get_current_span().get_span_context()).encode()

    def traceparent(self) -> str | None:
        """The current span's `traceparent` when it is sampled, else None."""
        ctx = trace.get_current_span().get_span_context()
        if not (ctx.is_valid and ctx.trace_flags.sampled):
            return None
        return _w3c(ctx)

    def ids(self) -> tuple[str, str] | None:
        """(trace id, span id) of the current span in hex; None outside one."""
        ctx = trace.get_current_span().get_span_context()
        if not ctx.is_valid:
            return None
        return f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"
