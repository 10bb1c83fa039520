"""The read cache on its own: bounds, tags, the epoch that keeps a slow fill from storing an older
value after an invalidation, and the bypass while the channel is not known to be healthy."""

from __future__ import annotations

import time

from storefront.platform.readcache import EVERYTHING, ReadCache, View

ITEM = View("test-item")


def healthy_cache(max_entries: int = 100, max_bytes: int = 10_000) -> ReadCache:
    cache = ReadCache(max_entries, max_bytes)
    cache.healthy_until = time.monotonic() + 60
    return cache


def test_a_value_is_kept_until_its_key_or_a_tag_of_it_is_invalidated() -> None:
    cache = healthy_cache()
    cache.put("test-item:1", "one", 10, cache.begin(), tags=("user:7",))
    cache.put("test-item:2", "two", 10, cache.begin())
    assert cache.get(ITEM, "test-item:1") == "one"
    cache.invalidate("user:7")
    assert cache.get(ITEM, "test-item:1") is None
    assert cache.get(ITEM, "test-item:2") == "two"
    cache.invalidate("test-item:2")
    assert len(cache) == 0


def test_a_fill_that_began_before_an_invalidation_stores_nothing() -> None:
    cache = healthy_cache()
    epoch = cache.begin()  # the reader starts its database read …
    cache.invalidate("test-item:1")  # … a write commits and its invalidation arrives …
    cache.put("test-item:1", "older", 10, epoch)  # … then the reader tries to keep what it read
    assert cache.get(ITEM, "test-item:1") is None
    cache.put("test-item:1", "newer", 10, cache.begin())
    assert cache.get(ITEM, "test-item:1") == "newer"


def test_entries_and_bytes_are_bounded_least_recently_used_first() -> None:
    cache = healthy_cache(max_entries=3, max_bytes=100)
    for n in range(3):
        cache.put(f"test-item:{n}", n, 10, cache.begin())
    assert cache.get(ITEM, "test-item:0") == 0  # now the most recently used
    cache.put("test-item:3", 3, 10, cache.begin())
    assert cache.get(ITEM, "test-item:1") is None
    cache.put("test-item:big", "big", 75, cache.begin())
    assert len(cache) <= 3
    assert cache.get(ITEM, "test-item:big") == "big"
    cache.put("test-item:huge", "huge", 101, cache.begin())  # larger than the whole cache: never kept
    assert cache.get(ITEM, "test-item:huge") is None


def test_an_unhealthy_channel_means_bypass_and_nothing_kept() -> None:
    cache = healthy_cache()
    cache.put("test-item:1", "one", 10, cache.begin())
    cache.healthy_until = 0.0
    assert cache.get(ITEM, "test-item:1") is None
    cache.put("test-item:2", "two", 10, cache.begin())
    cache.healthy_until = time.monotonic() + 60
    assert cache.get(ITEM, "test-item:2") is None


def test_everything_empties_it_and_off_keeps_nothing() -> None:
    cache = healthy_cache()
    cache.put("test-item:1", "one", 10, cache.begin(), tags=("user:7",))
    cache.invalidate(EVERYTHING)
    assert len(cache) == 0
    off = ReadCache(100, 10_000, enabled=False)
    off.healthy_until = time.monotonic() + 60
    off.put("test-item:1", "one", 10, off.begin())
    assert off.get(ITEM, "test-item:1") is None
