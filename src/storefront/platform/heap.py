"""The garbage collector and a long-lived worker."""

from __future__ import annotations

import gc


def freeze_startup_objects() -> int:
    """Once per process, when startup is done: collect, then move every object alive now (modules,
    the app, its routes and pools: ~78,000 in a Storefront worker) to the collector's permanent
    generation, so its full passes stop scanning objects that live as long as the worker. Measured
    under `just bench` (item-get, one worker): full passes took ~28 ms each, ~9 µs per request in
    all, and showed in the p99; after the freeze, ~1 µs. Later calls (a test process builds many
    apps) do nothing, so nothing built afterwards is frozen. Returns how many objects were frozen."""
    if gc.get_freeze_count():
        return 0
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
