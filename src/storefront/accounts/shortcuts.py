"""`GET /api/v1/users/me` answered by the edge when this worker holds the caller of the token's
session in memory (`web/shortcuts.py`); anything else goes on to the guard and the handler."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar.types import HTTPScope

from storefront.accounts.caller import Caller
from storefront.accounts.guards import SESSION
from storefront.accounts.tokens import bearer_token, decoded_ids, verify_access_token
from storefront.platform.readcache import ReadCache
from storefront.web.shortcuts import Answer, Shortcut, json_answer, plain_get

ME = "/api/v1/users/me"
NO_STORE = (b"cache-control", b"no-store")  # the route's own Cache-Control
_encode = msgspec.json.Encoder().encode


def _ids(scope: dict[str, Any], key: bytes) -> tuple[UUID, UUID] | None:
    """(user id, session id) of a valid bearer token: as the edge's rate limit decoded it, if it did."""
    token = bearer_token(scope)
    if token is None:
        return None
    return decoded_ids(scope, token) or verify_access_token(token, key)


def cached_me(cache: ReadCache, key: bytes) -> Shortcut:
    """The shortcut for the caller's own account, signed with `key` (SECRET_KEY)."""

    def answer(scope: HTTPScope) -> Answer | None:
        if scope["path"] != ME or not plain_get(scope):
            return None
        ids = _ids(scope, key)  # type: ignore[arg-type]
        if ids is None:
            return None  # the guard answers 401
        user_id, session_id = ids
        caller: Caller | None = cache.peek(SESSION, SESSION.key(session_id))
        if caller is None or caller.user.id != user_id:
            return None
        scope["user_id"] = str(user_id)  # type: ignore[typeddict-unknown-key]  # for the access line
        return json_answer(ME, scope, _encode(caller.user), NO_STORE)

    return answer
