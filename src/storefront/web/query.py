"""Query parameters as strict as bodies.

Litestar converts query strings leniently (`limit=1.0` and `limit=1e2` pass as integers, `1` / `0` /
`TRUE` as booleans). Before the handler's parameters are parsed, every integer or boolean query
parameter of the matched handler must be spelt as in JSON (`20`, `true`), or the request is a 422
naming the parameter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.handlers import BaseRouteHandler
from litestar.params import CookieParameter, HeaderParameter, PathParameter
from litestar.typing import FieldDefinition

from storefront.errors import ValidationFailed

_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")
Rule = tuple[Callable[[str], bool], str]
_INTEGER_RULE: Rule = (lambda value: _INTEGER.fullmatch(value) is not None, "must be an integer such as 20")
_BOOLEAN_RULE: Rule = (lambda value: value in ("true", "false"), "must be true or false")
_RULES = "strict_query_rules"


def _rule(field: FieldDefinition) -> Rule | None:
    """The spelling a query parameter of this type must have, if it has one."""
    if field.is_optional:
        field = next(inner for inner in field.inner_types if not inner.is_none_type)
    kind = field.annotation
    if kind is bool:
        return _BOOLEAN_RULE
    if kind is int:
        return _INTEGER_RULE
    return None


def _rules(handler: BaseRouteHandler) -> dict[str, Rule]:
    """Query key → rule, for the handler's integer and boolean query parameters."""
    rules: dict[str, Rule] = {}
    for name, field in handler.parsed_fn_signature.parameters.items():
        kwarg = field.kwarg_definition
        if isinstance(kwarg, HeaderParameter | CookieParameter | PathParameter):
            continue
        rule = _rule(field)
        if rule is not None:
            rules[getattr(kwarg, "query", None) or name] = rule
    return rules


def check_query(request: Request[Any, Any, Any]) -> None:
    """422 naming the first integer or boolean query parameter that is not spelt as in JSON."""
    if not request.scope["query_string"]:
        return
    handler = request.route_handler
    rules = handler.opt.get(_RULES)
    if rules is None:
        rules = handler.opt[_RULES] = _rules(handler)
    if not rules:
        return
    query = request.query_params
    for key, (accepts, message) in rules.items():
        for value in query.getall(key, ()):
            if not accepts(value):
                raise ValidationFailed.on(key, message)
