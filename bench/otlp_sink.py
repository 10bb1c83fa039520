"""`just bench --otel`'s collector: an OTLP/HTTP endpoint that accepts every export and keeps only
counts, so the traced servers pay their whole export (encoding, batching, the POST) and the sink
costs the measured machine as little as it can."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Keep = Callable[[str, bytes], None]
"""Given an export's path and body, keeps what it needs of it (the tests' receiver decodes it)."""


class OtlpSink:
    """A receiver on a free loopback port, in a thread of the bench's process (`url`, `exports`,
    `received_bytes`); each export also goes to `keep` when one is given; `stop()` ends it."""

    def __init__(self, keep: Keep | None = None) -> None:
        self.exports = 0
        self.received_bytes = 0
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a collector offers

            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(size)
                if keep is not None:
                    keep(self.path, body)
                sink.exports += 1
                sink.received_bytes += size
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name="otlp-sink", daemon=True).start()

    @property
    def url(self) -> str:
        """The base endpoint (OTEL_EXPORTER_OTLP_ENDPOINT)."""
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        """Stop accepting exports."""
        self.server.shutdown()
        self.server.server_close()
