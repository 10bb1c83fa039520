"""A real OTLP/HTTP trace receiver in the test process: the bench's sink takes what the SDK's
exporter posts to `/v1/traces` (protobuf); here it is decoded with `opentelemetry-proto` and each span
kept."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from bench.otlp_sink import OtlpSink
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

KINDS = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


@dataclass(frozen=True)
class Span:
    """One received span, ids in hex (`parent` empty for a root)."""

    name: str
    kind: str
    trace_id: str
    span_id: str
    parent: str
    attributes: dict[str, Any]
    links: list[tuple[str, str]] = field(default_factory=list)
    service: str = ""
    error: bool = False


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def decode(body: bytes) -> list[Span]:
    """The spans of one ExportTraceServiceRequest."""
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    Span(
                        name=span.name,
                        kind=KINDS.get(span.kind, "unspecified"),
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent=span.parent_span_id.hex(),
                        attributes={a.key: _value(a.value) for a in span.attributes},
                        links=[(link.trace_id.hex(), link.span_id.hex()) for link in span.links],
                        service=str(resource.get("service.name", "")),
                        error=span.status.code == 2,
                    )
                )
    return spans


class Collector:
    """The receiver (the bench's OTLP sink, keeping each span): `url` for OTEL_EXPORTER_OTLP_ENDPOINT,
    `spans` received so far, `paths` posted to."""

    def __init__(self) -> None:
        self._spans: list[Span] = []
        self._lock = threading.Lock()
        self.paths: list[str] = []
        self.sink = OtlpSink(self._keep)

    def _keep(self, path: str, body: bytes) -> None:
        with self._lock:
            self.paths.append(path)
            self._spans.extend(decode(body))

    @property
    def url(self) -> str:
        return self.sink.url

    @property
    def spans(self) -> list[Span]:
        with self._lock:
            return list(self._spans)

    def named(self, name: str) -> list[Span]:
        return [span for span in self.spans if span.name == name]

    def one(self, name: str) -> Span:
        (span,) = self.named(name)
        return span

    def children(self, parent: Span) -> list[Span]:
        return [span for span in self.spans if span.parent == parent.span_id and span.trace_id == parent.trace_id]

    def stop(self) -> None:
        self.sink.stop()
