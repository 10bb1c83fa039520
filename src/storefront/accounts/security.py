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
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from storefront.accounts.tokens import ALGORITHM, AUDIENCE, ISSUER, verify_access_token
from storefront.errors import Unauthenticated
from storefront.platform.settings import AuthSettings

_hasher = PasswordHasher()
HASH_THREADS = 2
HASH_NICENESS = 10


def _lower_priority() -> None:
    """Run hashing threads (and the lane threads argon2 starts from them) below request handling, so
    a login storm slows logins, not every other request."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICENESS)


# argon2 costs ~50 ms of CPU and releases the GIL: a small pool bounds how many run at once.
_pool = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="argon2", initializer=_lower_priority)


async def hash_password(password: str) -> str:
    """An argon2id hash of `password`, computed in the bounded pool."""
    return await asyncio.get_running_loop().run_in_executor(_pool, _hasher.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check `password`; with no hash (unknown user) verify against a dummy so timing is the same."""
    loop = asyncio.get_running_loop()
    if password_hash is None:
        dummy = await loop.run_in_executor(_pool, _dummy_hash)
        await loop.run_in_executor(_pool, _verify, dummy, password)
        return False
    return await loop.run_in_executor(_pool, _verify, password_hash, password)


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
