"""Strict request bodies: msgspec decodes raw bytes straight into the request Struct.

Litestar converts bodies with `strict=False` (so `"5"` would pass as 5) and parses any content type
as JSON. A serialization plugin gives every `RequestStruct` a tiny DTO that decodes with a cached,
strict msgspec decoder instead, and `check_body` answers 415 / 400 before any body is read.
"""

from __future__ import annotations

from collections.abc import Generator
from functools import cache
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Request
from litestar.dto import AbstractDTO
from litestar.plugins import SerializationPlugin
from litestar.typing import FieldDefinition

from storefront.errors import FieldError, MalformedRequest, UnsupportedMediaType, ValidationFailed
from storefront.platform.msgspec_errors import INTEGER_GOT_FLOAT, field_problem
from storefront.web.conventions import BODY_METHODS, FORM, MAX_FORM_FIELDS, MAX_JSON_DEPTH
from storefront.web.patterns import readable
from storefront.web.query import check_query
from storefront.web.schemas import RequestStruct


def field_error_from_msgspec(message: str, root: str = "") -> FieldError:
    """Turn a msgspec validation message into a FieldError with a `lines[1].item_id` style path."""
    path, text = field_problem(message)
    field = f"{root}.{path}" if root and path else (path or root or "body")
    return FieldError(field=field, message=readable(text))


TOO_DEEP = f"The body nests JSON objects and arrays deeper than {MAX_JSON_DEPTH} levels."


def _integers(value: Any, depth: int = 0) -> Any:
    """`value` with every float that has no fractional part written as an int; MalformedRequest past
    MAX_JSON_DEPTH levels (no request Struct nests deeper, and the walk must stay bounded)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict | list) and depth >= MAX_JSON_DEPTH:
        raise MalformedRequest(TOO_DEEP)
    if isinstance(value, dict):
        return {key: _integers(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [_integers(item, depth + 1) for item in value]
    return value


def _invalid(exc: Exception) -> ValidationFailed:
    error = field_error_from_msgspec(str(exc))
    return ValidationFailed(f"{error.field}: {error.message}", errors=[error])


@cache
def _decoder(model: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(model, strict=True)


def decode_json(raw: bytes, model: Any) -> Any:
    """Decode `raw` into `model` strictly; 400 for broken JSON (or not UTF-8), 422 with field paths
    for bad values. An integer may be written `5.0` (JSON has one number type, and JSON Schema calls
    it an integer); `"5"` and `5.5` stay 422."""
    try:
        try:
            return _decoder(model).decode(raw)
        except msgspec.ValidationError as exc:
            if INTEGER_GOT_FLOAT not in str(exc):
                raise
        # The rare path: decode untyped, write integral floats as integers, convert strictly.
        return msgspec.convert(_integers(msgspec.json.decode(raw)), model)
    except msgspec.ValidationError as exc:
        raise _invalid(exc) from None
    except msgspec.DecodeError as exc:
        raise MalformedRequest(f"The body is not valid JSON: {exc}") from None
    except UnicodeDecodeError:
        raise MalformedRequest("The body is not valid JSON: it is not UTF-8 (RFC 8259).") from None
    except RecursionError:  # msgspec's own guard, past the interpreter's depth: a clean exception
        raise MalformedRequest(TOO_DEEP) from None


def decode_form(raw: bytes, model: type[Any]) -> Any:
    """Decode a urlencoded body through the model's `from_form`; 400 if unparseable or over
    MAX_FORM_FIELDS fields (counted before any is split, so a flood of `a=&a=&…` costs no parsing),
    422 if invalid."""
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, max_num_fields=MAX_FORM_FIELDS)
        fields = dict(pairs)
    except (UnicodeDecodeError, ValueError):
        raise MalformedRequest("The body is not a valid urlencoded form.") from None
    try:
        return model.from_form(fields)
    except (ValueError, msgspec.ValidationError) as exc:
        raise _invalid(exc) from None


def is_json(content_type: str) -> bool:
    """True for `application/json` and `application/*+json`."""
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


class StrictBody(AbstractDTO[Any]):
    """A DTO that only decodes: raw JSON bytes to the handler's request Struct, strictly."""

    @classmethod
    def generate_field_definitions(cls, model_type: type[Any]) -> Generator[Any, None, None]:
        yield from ()

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False

    @classmethod
    def create_for_field_definition(
        cls, field_definition: FieldDefinition, handler_id: str, backend_cls: Any = None
    ) -> None:
        return None

    @classmethod
    def create_openapi_schema(cls, field_definition: FieldDefinition, handler_id: str, schema_creator: Any) -> Any:
        return schema_creator.for_field_definition(FieldDefinition.from_annotation(cls.model_type))

    def decode_bytes(self, value: bytes) -> Any:
        content_type = self.asgi_connection.content_type[0]  # type: ignore[attr-defined]
        if content_type == FORM and hasattr(self.model_type, "from_form"):
            return decode_form(value, self.model_type)
        return decode_json(value, self.model_type)

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        try:
            return msgspec.convert(value, self.model_type, strict=False)
        except msgspec.ValidationError as exc:
            raise _invalid(exc) from None


class StrictBodyPlugin(SerializationPlugin):
    """Routes every `RequestStruct` body through `StrictBody`."""

    def supports_type(self, field_definition: FieldDefinition) -> bool:
        return field_definition.is_subclass_of(RequestStruct)

    def create_dto_for_type(self, field_definition: FieldDefinition) -> type[AbstractDTO[Any]]:
        return StrictBody[field_definition.annotation]  # type: ignore[misc,no-any-return,name-defined]


async def check_body(request: Request[Any, Any, Any]) -> None:
    """Before the handler's parameters are parsed: a handler that takes a body gets a non-empty body
    of JSON in UTF-8 (or its declared form), or a 4xx."""
    handler = request.route_handler
    if "data" not in handler.parsed_fn_signature.parameters:
        return
    content_type, options = request.content_type
    if not is_json(content_type) and content_type not in handler.opt.get("form_media_types", ()):
        raise UnsupportedMediaType(f"Send the body as application/json, not {content_type or 'nothing'}.")
    charset = options.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"JSON is UTF-8 (RFC 8259); the body says charset={charset}.")
    if not await request.body():  # Content-Length: 0 or 00, or an empty chunked body
        raise MalformedRequest("A request body is required.")


async def check_request(request: Request[Any, Any, Any]) -> None:
    """The app's `before_request`: strict query parameters, then (for writes) the body checks."""
    check_query(request)
    if request.method in BODY_METHODS:
        await check_body(request)
