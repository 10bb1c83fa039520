"""A worker's read cache: hot values in this process's memory, kept coherent by the database.

Entries live while the invalidation channel (`platform/invalidations.py`) is known to be healthy:
every write that can change a cached value publishes its key at commit (PostgreSQL triggers doing
`pg_notify`), and the channel drops that key here. While the channel is not known to be healthy —
not yet connected, lost, or silent past its heartbeat bound — every lookup is a bypass (the caller
reads the database) and nothing is stored; when it is healthy again the cache starts empty.

No stale fill: a reader takes `begin()` (the epoch) before it reads the database, and `put()` keeps
the value only if no invalidation (nor reset) came in between — so a read that started before a
write committed can never store its older value after that write's invalidation.

Bounded by entries and by bytes, least recently used first out. Keys are `kind:id` strings, the
same text the triggers publish; an entry may also carry tags (`user:<id>` on a session's caller),
and an invalidation of a tag drops every entry that carries it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter, Gauge

LOOKUPS = Counter(
    "storefront_read_cache",
    "Read-cache lookups by view and outcome (hit, miss, bypass: the invalidation channel not healthy)",
    ["view", "outcome"],
)
INVALIDATIONS = Counter("storefront_read_cache_invalidations", "Invalidations the read cache applied")
RESETS = Counter("storefront_read_cache_resets", "Times the read cache was emptied (the channel came back)")
ENTRIES = Gauge("storefront_read_cache_entries", "Entries in the read caches", multiprocess_mode="livesum")
BYTES = Gauge("storefront_read_cache_bytes", "Bytes held by the read caches (approximate)", multiprocess_mode="livesum")


EVERYTHING = "*"  # what a TRUNCATE publishes


class _Entry:
    __slots__ = ("expires", "size", "tags", "value")

    def __init__(self, value: Any, size: int, tags: tuple[str, ...], expires: float) -> None:
        self.value, self.size, self.tags, self.expires = value, size, tags, expires


class View:
    """One kind of cached value (`item`, `session`, …): its key prefix and its counters."""

    __slots__ = ("bypass", "hit", "miss", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.hit, self.miss, self.bypass = (LOOKUPS.labels(name, outcome) for outcome in ("hit", "miss", "bypass"))

    def key(self, ident: object) -> str:
        """The cache key (and the text a trigger publishes) of one value of this view."""
        return f"{self.name}:{ident}"


class ReadCache:
    """Values by key, for as long as the channel vouches for them; `enabled=False` (READ_CACHE=off)
    makes every lookup a plain miss without a count, so reads go to the database as before."""

    def __init__(self, max_entries: int, max_bytes: int, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.epoch = 0
        self.healthy_until = 0.0  # monotonic: the channel's last heartbeat plus its bound
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._tagged: dict[str, set[str]] = {}
        self._bytes = 0

    def healthy(self) -> bool:
        """True while the invalidation channel is known to deliver."""
        return time.monotonic() < self.healthy_until

    def get(self, view: View, key: str) -> Any:
        """The value under `key`, or None (then read the database, with `begin()` first)."""
        if not self.enabled:
            return None
        now = time.monotonic()
        if now >= self.healthy_until:
            view.bypass.inc()
            return None
        return self._hit(view, key, now, view.miss)

    def peek(self, view: View, key: str) -> Any:
        """The value under `key` if the cache holds it (a hit is counted), else None uncounted: for a
        shortcut that hands a miss on to the full path, which counts it there."""
        now = time.monotonic()
        if not self.enabled or now >= self.healthy_until:
            return None
        return self._hit(view, key, now, None)

    def _hit(self, view: View, key: str, now: float, miss: Counter | None) -> Any:
        entry = self._entries.get(key)
        if entry is None or entry.expires <= now:
            if miss is not None:
                miss.inc()
            return None
        self._entries.move_to_end(key)
        view.hit.inc()
        return entry.value

    def begin(self) -> int:
        """Take before reading the database; hand to `put()`."""
        return self.epoch

    def put(
        self, key: str, value: Any, size: int, epoch: int, tags: Iterable[str] = (), ttl: float | None = None
    ) -> None:
        """Keep `value` (about `size` bytes) unless an invalidation came since `epoch` was taken or
        the channel is not healthy; `ttl` bounds its life in seconds (None: until invalidated)."""
        if not self.enabled or epoch != self.epoch or size > self.max_bytes or not self.healthy():
            return
        self._drop(key)
        expires = float("inf") if ttl is None else time.monotonic() + ttl
        entry = self._entries[key] = _Entry(value, size, tuple(tags), expires)
        self._bytes += size
        for tag in entry.tags:
            self._tagged.setdefault(tag, set()).add(key)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))
        self._gauge()

    def invalidate(self, name: str) -> None:
        """Drop the entry keyed `name` and every entry tagged `name` (a trigger's message); EVERYTHING
        empties the cache."""
        if name == EVERYTHING:
            self.reset()
            return
        self.epoch += 1
        INVALIDATIONS.inc()
        self._drop(name)
        for key in self._tagged.pop(name, ()):
            self._drop(key)
        self._gauge()

    def reset(self) -> None:
        """Empty the cache (the channel is back after a gap: whatever it missed is unknown)."""
        self.epoch += 1
        RESETS.inc()
        self._entries.clear()
        self._tagged.clear()
        self._bytes = 0
        self._gauge()

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self._bytes -= entry.size
        for tag in entry.tags:
            keys = self._tagged.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._tagged[tag]

    def _gauge(self) -> None:
        ENTRIES.set(len(self._entries))
        BYTES.set(self._bytes)
