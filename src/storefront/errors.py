"""Domain errors and the one mapper that turns every error into RFC 9457 problem+json."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("storefront.errors")


class FieldError(msgspec.Struct, frozen=True):
    """One invalid field: a dotted path such as `lines[1].item_id` and a human message."""

    field: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True, kw_only=True):
    """An RFC 9457 problem document; `errors` / `item_ids` appear only where they apply."""

    type: str
    title: str
    status: int
    detail: str
    request_id: str | None = None
    errors: list[FieldError] | msgspec.UnsetType = msgspec.UNSET
    item_ids: list[str] | msgspec.UnsetType = msgspec.UNSET


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


class Unauthenticated(DomainError):
    status, slug, title = 401, "unauthenticated", "Unauthenticated"

    def __init__(self, detail: str = "Missing, invalid or expired credentials.") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="storefront"'})


class Forbidden(DomainError):
    status, slug, title = 403, "forbidden", "Forbidden"


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


_HTTP_TO_DOMAIN: dict[int, type[DomainError]] = {
    400: MalformedRequest,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    412: PreconditionFailed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: ValidationFailed,
    503: ServiceUnavailable,
}
_DEFAULT_DETAIL = {
    404: "No resource at this path.",
    405: "This method is not allowed here.",
    413: "The request body is larger than 1 MiB.",
}
_UNAVAILABLE = (
    TimeoutError,
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
)

_PATH = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_NAMED = re.compile(r"^Object (?:contains unknown|missing required) field `(?P<name>[^`]+)`$")
_PREFIXED = re.compile(r"^`(?P<name>[^`]+)`: (?P<message>.*)$", re.S)


def field_error_from_msgspec(message: str, root: str = "") -> FieldError:
    """Turn a msgspec validation message into a FieldError with a `lines[1].item_id` style path."""
    match = _PATH.match(message)
    assert match is not None
    text, path = match["message"], (match["path"] or "").lstrip(".")
    for pattern in (_NAMED, _PREFIXED):
        named = pattern.match(text)
        if named:
            path = f"{path}.{named['name']}" if path else named["name"]
            text = named.groupdict().get("message") or text
            break
    field = f"{root}.{path}" if root and path else (path or root or "body")
    return FieldError(field=field, message=text)


def invalid(field: str, message: str) -> ValueError:
    """A ValueError for `__post_init__` checks that the mapper reports on `field`."""
    return ValueError(f"`{field}`: {message}")


def _litestar_field_errors(exc: ValidationException) -> list[FieldError]:
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            key = str(item.get("key") or "body")
            message = str(item.get("message") or "invalid value")
            errors.append(FieldError(field=key, message=message))
    return errors


def to_domain_error(exc: Exception) -> DomainError:
    """Map any exception (framework, database, domain) to the DomainError that describes it."""
    if isinstance(exc, DomainError):
        return exc
    if isinstance(exc, ValidationException):
        errors = _litestar_field_errors(exc)
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or "Invalid request."
        return ValidationFailed(detail, errors=errors)
    if isinstance(exc, HTTPException):
        cls = _HTTP_TO_DOMAIN.get(exc.status_code, InternalError)
        detail = _DEFAULT_DETAIL.get(exc.status_code) or str(exc.detail or cls.title)
        error = cls.__new__(cls)
        DomainError.__init__(error, detail, headers=exc.headers or {})
        return error
    if isinstance(exc, _UNAVAILABLE):
        return ServiceUnavailable()
    return InternalError("The server failed to handle this request.")


def problem_response(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """The single exception handler: every error becomes application/problem+json."""
    error = to_domain_error(exc)
    request_id: str | None = request.scope.get("request_id")  # type: ignore[assignment]
    if error.status >= 500:
        log.error(
            "unhandled error" if isinstance(error, InternalError) else "service unavailable",
            exc_info=exc,
            extra={"request_id": request_id, "error": type(exc).__name__},
        )
    body = Problem(
        type=f"/problems/{error.slug}",
        title=error.title,
        status=error.status,
        detail=error.detail,
        request_id=request_id,
        errors=error.errors if error.errors is not None else msgspec.UNSET,
        **error.extras(),
    )
    return Response(body, status_code=error.status, media_type=PROBLEM_MEDIA_TYPE, headers=error.headers)
