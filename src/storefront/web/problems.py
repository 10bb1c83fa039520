"""RFC 9457 problem+json: the one renderer, and the one exception handler built on it.

Every error response is rendered by `render_problem`: the exception handler below, the outer
layer's 429 and the idempotency store's recorded outcomes.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from storefront.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    InternalError,
    MalformedRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    ServiceUnavailable,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)
from storefront.platform.db import UNAVAILABLE, DatabaseTimeout, is_bad_input
from storefront.platform.logging import LogThrottle
from storefront.web.conventions import MAX_BODY_TEXT, PROBLEM_MEDIA_TYPE, size_text
from storefront.web.deadline import DISCONNECTED

log = logging.getLogger("storefront.errors")
_throttle = LogThrottle()
BAD_INPUT = "A value in the request cannot be stored or compared; check its characters and ranges."
_encoder = msgspec.json.Encoder()


class Problem(msgspec.Struct, omit_defaults=True, kw_only=True):
    """An RFC 9457 problem document; `errors` / `item_ids` appear only where they apply."""

    type: str
    title: str
    status: int
    detail: str
    request_id: str | None = None
    errors: list[FieldError] | msgspec.UnsetType = msgspec.UNSET
    item_ids: list[str] | msgspec.UnsetType = msgspec.UNSET


class RenderedProblem(NamedTuple):
    """A problem ready to send: status, headers (the error's own) and the encoded body."""

    status: int
    headers: dict[str, str]
    body: bytes


def render_problem(error: DomainError, request_id: str | None) -> RenderedProblem:
    """The problem+json response for a domain error."""
    body = Problem(
        type=f"/problems/{error.slug}",
        title=error.title,
        status=error.status,
        detail=error.detail,
        request_id=request_id,
        errors=error.errors if error.errors is not None else msgspec.UNSET,
        **error.extras(),
    )
    return RenderedProblem(error.status, error.headers, _encoder.encode(body))


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
    413: f"The request body is larger than {MAX_BODY_TEXT}.",
}


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
    if is_bad_input(exc):
        return ValidationFailed(BAD_INPUT)
    if isinstance(exc, HTTPException):
        cls = _HTTP_TO_DOMAIN.get(exc.status_code, InternalError)
        detail = _DEFAULT_DETAIL.get(exc.status_code) or str(exc.detail or cls.title)
        error = cls.__new__(cls)
        DomainError.__init__(error, detail, headers=exc.headers or {})
        return error
    if isinstance(exc, DatabaseTimeout):
        return ServiceUnavailable(str(exc))
    if isinstance(exc, UNAVAILABLE):
        return ServiceUnavailable()
    return InternalError("The server failed to handle this request.")


def _log(error: DomainError, exc: Exception, request_id: str | None) -> None:
    """One record per kind of failure and interval, with its traceback and the count held back."""
    kind = type(exc).__name__
    held = _throttle.admit((error.slug, kind))
    if held is None:
        return
    level = logging.ERROR if error.status >= 500 else logging.WARNING
    message = {500: "unhandled error", 503: "service unavailable"}.get(error.status, "bad input reached the database")
    log.log(level, message, exc_info=exc, extra={"request_id": request_id, "error": kind, "suppressed": held})


def _too_large(request: Request[Any, Any, Any]) -> PayloadTooLarge:
    """A 413 that names the cap of the route that refused the body (small on the auth routes)."""
    limit = request.route_handler.resolve_request_max_body_size()
    cap = size_text(limit) if limit else MAX_BODY_TEXT
    return PayloadTooLarge(f"The request body is larger than {cap}, the most this route takes.")


def problem_response(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """The single exception handler: every error becomes application/problem+json."""
    error = to_domain_error(exc)
    if isinstance(error, PayloadTooLarge) and not isinstance(exc, DomainError):
        error = _too_large(request)
    request_id: str | None = request.scope.get("request_id")  # type: ignore[assignment]
    # A client that went away (or was cut off by the body deadline) will not read this: no log.
    gone = request.scope.get(DISCONNECTED, False)
    if not gone and (error.status >= 500 or is_bad_input(exc)):
        _log(error, exc, request_id)
    status, headers, body = render_problem(error, request_id)
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)
