"""Passwords (argon2id, off the event loop) and tokens (HS256 access JWTs, opaque refresh tokens)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any, TypeVar

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from storefront.accounts.tokens import ALGORITHM, AUDIENCE, ISSUER, verify_access_token
from storefront.errors import ServiceUnavailable, Unauthenticated
from storefront.platform import tracing
from storefront.platform.settings import AuthSettings

T = TypeVar("T")

_hasher = PasswordHasher()
HASH_THREADS = 2
BUSY = "Password hashing is at capacity; retry shortly."


def _lower_priority(niceness: int) -> None:
    """Run a hashing thread below request handling, so that a login storm slows logins, not every
    other request."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)


class Lane:
    """A bounded share of the argon2 work (~50 ms of CPU a hash; argon2 releases the GIL): its own
    `threads` at a lowered CPU priority, and at most `queue` jobs waiting for them; one more is
    refused at once (503 with Retry-After), never queued.
    """

    def __init__(self, name: str, threads: int, niceness: int) -> None:
        self.name, self.threads = name, threads
        self.queue = 0  # until `bound_queues` (create_app) sets PASSWORD_HASH_QUEUE
        self.held = 0
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(
            threads, thread_name_prefix=name, initializer=_lower_priority, initargs=(niceness,)
        )

    async def run(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in the lane, or ServiceUnavailable when `threads + queue` jobs are held; in a
        span named `what` when tracing is on (from the job's submission to its result)."""
        with self._lock:
            if self.held >= self.threads + self.queue:
                raise ServiceUnavailable(BUSY)
            self.held += 1
        try:
            job = self._pool.submit(fn, *args)
        except BaseException:
            self._release(None)
            raise
        job.add_done_callback(self._release)
        with tracing.internal(what):
            return await asyncio.wrap_future(job)

    def _release(self, _: object) -> None:
        with self._lock:
            self.held -= 1


# Sign-ins have two threads of their own. Account work (registration, resets, every check and change
# of a password, rehashing) has one, at the lowest priority: it runs on what sign-ins leave, so
# accounts hammering their password change cannot slow other clients' logins.
SIGN_IN = Lane("argon2", HASH_THREADS, niceness=10)
ACCOUNT = Lane("argon2-account", 1, niceness=19)


def bound_queues(queue: int) -> None:
    """Let at most `queue` jobs wait in each lane (PASSWORD_HASH_QUEUE), per worker."""
    SIGN_IN.queue = ACCOUNT.queue = queue


async def hash_password(password: str) -> str:
    """An argon2id hash of `password`, computed in the bounded pool (account lane); 503 when full."""
    return await ACCOUNT.run("argon2 hash", _hasher.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def _verify_any(password_hash: str | None, password: str) -> bool:
    """With no hash (unknown user) verify against a dummy, so that timing is the same; then False."""
    if password_hash is None:
        _verify(_dummy_hash(), password)
        return False
    return _verify(password_hash, password)


async def verify_password(password_hash: str | None, password: str, lane: Lane = ACCOUNT) -> bool:
    """Check `password` in `lane` of the bounded pool (SIGN_IN for logins); 503 when it is full."""
    return await lane.run("argon2 verify", _verify_any, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with parameters weaker than the current ones."""
    return _hasher.check_needs_rehash(password_hash)


def new_refresh_token() -> tuple[str, bytes]:
    """A fresh opaque refresh token and the hash that is stored in its place."""
    token = secrets.token_urlsafe(32)
    return token, refresh_token_hash(token)


def refresh_token_hash(token: str) -> bytes:
    """The stored form of an opaque token, refresh or email (sha256: the token has 256 bits of entropy)."""
    return hashlib.sha256(token.encode()).digest()


_EMAIL_TOKEN_CONTEXT = b"storefront email token\x00"


def email_token(secret_key: str, nonce: str) -> str:
    """The token a mailed link carries: HMAC-SHA256 of the outbox's nonce under SECRET_KEY, so the
    outbox keeps only the nonce and the database only the token's hash; neither alone is a token."""
    digest = hmac.new(secret_key.encode(), _EMAIL_TOKEN_CONTEXT + nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_email_token(secret_key: str) -> tuple[str, bytes]:
    """A fresh (nonce for the outbox, hash for `email_tokens`) pair."""
    nonce = secrets.token_urlsafe(24)
    return nonce, refresh_token_hash(email_token(secret_key, nonce))


def issue_access_token(auth: AuthSettings, user_id: uuid.UUID, session_id: uuid.UUID, ttl: int | None = None) -> str:
    """A signed access JWT for the user in the session `sid`, alive `ttl` s (ACCESS_TOKEN_TTL_SECONDS)."""
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "sid": str(session_id),
        "iat": now,
        "nbf": now,
        "exp": now + (auth.access_ttl_seconds if ttl is None else ttl),
        "jti": uuid.uuid4().hex,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "typ": "access",
    }
    return jwt.encode(claims, auth.secret_key, algorithm=ALGORITHM)


def decode_access_token(auth: AuthSettings, token: str) -> tuple[uuid.UUID, uuid.UUID]:
    """(user id, session id) of a valid access token; anything else is 401."""
    ids = verify_access_token(token, auth.secret_key.encode())
    if ids is None:
        raise Unauthenticated("Invalid or expired access token.")
    return ids
