"""Traces, when OTEL_EXPORTER_OTLP_ENDPOINT is set: the one switch the instrumented code looks at.

With tracing off (the default) `active` is None: every instrumented call (a named query, a Valkey
command, an argon2 hash, an SMTP session) checks that and goes straight on, no span object is made,
no layer is added to the request path, and no OpenTelemetry module is imported (a test proves it).
With tracing on, the app's lifespan sets `active` to a `platform.telemetry.Telemetry`, which is
where OpenTelemetry is imported, configured and used.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, Protocol

from storefront.platform.settings import TracingSettings

if TYPE_CHECKING:
    from storefront.platform.telemetry import Telemetry


class Spans(Protocol):
    """What instrumented code asks of the tracer (implemented by `platform.telemetry.Telemetry`)."""

    def client(self, name: str, attributes: Mapping[str, str]) -> AbstractContextManager[Any]:
        """A span for a call to another system (PostgreSQL, Valkey, SMTP), as the current span."""
        ...

    def internal(self, name: str) -> AbstractContextManager[Any]:
        """A span for work of our own (an argon2 hash), as the current span."""
        ...

    def continued(
        self, name: str, traceparent: str | None, attributes: Mapping[str, str]
    ) -> AbstractContextManager[Any]:
        """A span in the trace of a stored `traceparent`, linked to the current span."""
        ...

    def traceparent(self) -> str | None:
        """The W3C `traceparent` of the current span when it is sampled, else None."""
        ...

    def ids(self) -> tuple[str, str] | None:
        """(trace id, span id) of the current span in hex, for log lines; None outside one."""
        ...


active: Spans | None = None
"""The worker's tracer while tracing is on and the app runs; None otherwise. Hot paths (a query, a
Valkey command) test it themselves; the others use the functions below."""
_NOTHING: AbstractContextManager[Any] = nullcontext()  # reusable: entering it does nothing


def client(name: str, attributes: Mapping[str, str]) -> AbstractContextManager[Any]:
    """`active.client(…)` when tracing is on, else a context that does nothing."""
    spans = active
    return _NOTHING if spans is None else spans.client(name, attributes)


def internal(name: str) -> AbstractContextManager[Any]:
    """`active.internal(…)` when tracing is on, else a context that does nothing."""
    spans = active
    return _NOTHING if spans is None else spans.internal(name)


def continued(name: str, traceparent: str | None, attributes: Mapping[str, str]) -> AbstractContextManager[Any]:
    """`active.continued(…)` when tracing is on, else a context that does nothing."""
    spans = active
    return _NOTHING if spans is None else spans.continued(name, traceparent, attributes)


def traceparent() -> str | None:
    """The current span's `traceparent` when tracing is on and it is sampled, else None."""
    spans = active
    return None if spans is None else spans.traceparent()


def tracer_for(settings: TracingSettings) -> Telemetry | None:
    """The worker's tracer when OTEL_EXPORTER_OTLP_ENDPOINT is set (OpenTelemetry is imported only
    then), else None."""
    if settings.otel_exporter_otlp_endpoint is None:
        return None
    from storefront.platform.telemetry import Telemetry  # here, not at the top: only when tracing is on

    return Telemetry(settings)


def log_ids() -> dict[str, str]:
    """`trace_id` and `span_id` for a log line written inside a traced request or job; else {}."""
    spans = active
    if spans is None or (ids := spans.ids()) is None:
        return {}
    return {"trace_id": ids[0], "span_id": ids[1]}
