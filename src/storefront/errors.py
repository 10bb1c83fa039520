"""The error vocabulary: the domain errors services raise, each with its RFC 9457 problem type.

A class fixes the status, the `type` slug (`/problems/<slug>`) and the stable title; the web layer
renders them (`storefront.web.problems`). No framework here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec


class FieldError(msgspec.Struct, frozen=True):
    """One invalid field: a dotted path such as `lines[1].item_id` and a human message."""

    field: str
    message: str


class DomainError(Exception):
    """Base of every error a service raises; its class fixes status, `type` slug and title."""

    status = 500
    slug = "internal-error"
    title = "Internal server error"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = dict(headers or {})

    def extras(self) -> dict[str, Any]:
        """Extension members added to the problem body."""
        return {}


class MalformedRequest(DomainError):
    status, slug, title = 400, "malformed-request", "Malformed request"


class RequestTimeout(DomainError):
    status, slug, title = 408, "request-timeout", "Request timeout"

    def __init__(self, seconds: int) -> None:
        super().__init__(
            f"The request body did not arrive within {seconds} s; the connection is closed.",
            headers={"Connection": "close"},
        )


class Unauthenticated(DomainError):
    status, slug, title = 401, "unauthenticated", "Unauthenticated"

    def __init__(self, detail: str = "Missing, invalid or expired credentials.") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="storefront"'})


class Forbidden(DomainError):
    status, slug, title = 403, "forbidden", "Forbidden"


class EmailNotVerified(DomainError):
    status, slug, title = 403, "email-not-verified", "Email not verified"


class NotFound(DomainError):
    status, slug, title = 404, "not-found", "Not found"


class MethodNotAllowed(DomainError):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


class Conflict(DomainError):
    status, slug, title = 409, "conflict", "Conflict"


class OutOfStock(DomainError):
    status, slug, title = 409, "out-of-stock", "Out of stock"

    def __init__(self, item_ids: list[str]) -> None:
        super().__init__(f"Not enough stock for {len(item_ids)} item(s); nothing was ordered.")
        self.item_ids = item_ids

    def extras(self) -> dict[str, Any]:
        return {"item_ids": self.item_ids}


class IdempotencyInProgress(DomainError):
    status, slug, title = 409, "idempotency-in-progress", "Idempotent request in progress"


class PreconditionFailed(DomainError):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


class PayloadTooLarge(DomainError):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(DomainError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class ValidationFailed(DomainError):
    status, slug, title = 422, "validation-error", "Validation error"

    @classmethod
    def on(cls, field: str, message: str) -> ValidationFailed:
        """A validation error on one field."""
        return cls(f"Invalid value for {field}: {message}", errors=[FieldError(field, message)])


class IdempotencyKeyReused(DomainError):
    status, slug, title = 422, "idempotency-key-reused", "Idempotency key reused"


class RateLimited(DomainError):
    status, slug, title = 429, "rate-limited", "Too many requests"

    def __init__(self, retry_after: int, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(
            f"Rate limit exceeded; retry in {retry_after} s.",
            headers={**(headers or {}), "Retry-After": str(retry_after)},
        )


class ServiceUnavailable(DomainError):
    status, slug, title = 503, "service-unavailable", "Service unavailable"

    def __init__(self, detail: str = "A backing service is unavailable; retry shortly.") -> None:
        super().__init__(detail, headers={"Retry-After": "1"})


class InternalError(DomainError):
    pass


def invalid(field: str, message: str) -> ValueError:
    """A ValueError for `__post_init__` checks that the mapper reports on `field`."""
    return ValueError(f"`{field}`: {message}")
