"""`GET /api/v1/items/{item_id}` answered by the edge when this worker holds the item in memory
(`web/shortcuts.py`); a miss goes on to the controller, which reads it and fills the cache."""

from __future__ import annotations

from uuid import UUID

from litestar.types import HTTPScope

from storefront.catalog.cached import ITEM
from storefront.catalog.etags import etag
from storefront.platform.readcache import ReadCache
from storefront.web.shortcuts import Answer, Shortcut, json_answer, plain_get

PREFIX = "/api/v1/items/"
ROUTE = PREFIX + "{item_id:uuid}"  # the controller's route, as Litestar names it in the metrics
_LONGEST = len(PREFIX) + 36  # a hyphenated UUID


def cached_item(cache: ReadCache) -> Shortcut:
    """The shortcut for one item: its body and ETag from memory."""

    def answer(scope: HTTPScope) -> Answer | None:
        path = scope["path"]
        if not path.startswith(PREFIX) or len(path) > _LONGEST or not plain_get(scope):
            return None
        try:
            item_id = UUID(path[len(PREFIX) :])
        except ValueError:
            return None  # `popular`, or no item id: the router decides
        found = cache.peek(ITEM, ITEM.key(item_id))
        if found is None:
            return None
        body, version = found
        return json_answer(ROUTE, scope, body, (b"etag", etag(version).encode()))

    return answer
