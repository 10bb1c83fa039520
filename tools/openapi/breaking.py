"""Breaking changes between two OpenAPI 3.x documents, operation by operation.

An operation is its method and path: one removed (or moved to another path) is removed, one whose
`operationId` changed is renamed (generated clients name their methods after it). Within an
operation: a response status removed, a response header removed, a response media type removed,
a parameter added as required or made required, a request body made required, and whatever
`schemas.Comparison` finds in the parameters' schemas and in the request and response bodies.
Additions (operations, optional parameters, response fields, statuses) are never breaking.
"""

from __future__ import annotations

from typing import Any

from tools.openapi.schemas import Change, Comparison, Schema, resolve

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def operations(document: Schema) -> dict[str, tuple[Schema, Schema]]:
    """Each operation, keyed "METHOD /path": its path item and itself."""
    found: dict[str, tuple[Schema, Schema]] = {}
    for path, item in (document.get("paths") or {}).items():
        item, _ = resolve(document, item)
        for method in METHODS:
            if isinstance(item.get(method), dict):
                found[f"{method.upper()} {path}"] = (item, item[method])
    return found


def breaking_changes(old: Schema, new: Schema) -> list[Change]:
    """Every breaking change from the `old` document to the `new` one, in the old one's order."""
    before, after = operations(old), operations(new)
    found: list[Change] = []
    for name, (old_item, old_operation) in before.items():
        if name not in after:
            found.append(Change("removed operation", name))
            continue
        new_item, new_operation = after[name]
        old_id, new_id = old_operation.get("operationId"), new_operation.get("operationId")
        if old_id is not None and old_id != new_id:
            found.append(Change("renamed operation", name, f"operationId {old_id} → {new_id}"))
        operation = Operation(old, new, name)
        found += operation.parameters(
            _parameters(old, old_item, old_operation), _parameters(new, new_item, new_operation)
        )
        found += operation.request_body(old_operation.get("requestBody"), new_operation.get("requestBody"))
        found += operation.responses(old_operation.get("responses") or {}, new_operation.get("responses") or {})
    return found


def _parameters(document: Schema, item: Schema, operation: Schema) -> dict[str, Schema]:
    """The operation's parameters (the path item's, overridden by its own), keyed "in.name"."""
    found: dict[str, Schema] = {}
    for parameter in [*(item.get("parameters") or []), *(operation.get("parameters") or [])]:
        parameter, _ = resolve(document, parameter)
        found[f"{parameter.get('in')}.{parameter.get('name')}"] = parameter
    return found


def _content(document: Schema, holder: Any) -> tuple[Schema, dict[str, Schema]]:
    """A request body or response, resolved, and its content's schemas by media type."""
    holder, _ = resolve(document, holder) if isinstance(holder, dict) else ({}, set())
    content = holder.get("content") or {}
    return holder, {media: entry.get("schema") or {} for media, entry in content.items()}


class Operation:
    """The comparison of one operation present in both documents."""

    def __init__(self, old: Schema, new: Schema, name: str) -> None:
        self.old, self.new, self.name = old, new, name
        self.request = Comparison(old, new, "request")
        self.response = Comparison(old, new, "response")

    def parameters(self, before: dict[str, Schema], after: dict[str, Schema]) -> list[Change]:
        """New required parameters, parameters made required, and their schemas (request side)."""
        found: list[Change] = []
        for key, parameter in after.items():
            where = f"{self.name} {key}"
            if key not in before:
                if parameter.get("required"):
                    found.append(Change("new required parameter", where))
                continue
            if parameter.get("required") and not before[key].get("required"):
                found.append(Change("parameter made required", where))
            found += self.request.changes(before[key].get("schema") or {}, parameter.get("schema") or {}, where)
        return found

    def request_body(self, before: Any, after: Any) -> list[Change]:
        """A body made required, a media type no longer accepted, and the schemas (request side)."""
        (old_body, old_media), (new_body, new_media) = _content(self.old, before), _content(self.new, after)
        where = f"{self.name} request"
        found: list[Change] = []
        if new_body.get("required") and not old_body.get("required"):
            found.append(Change("request body made required", where))
        for media, schema in old_media.items():
            if new_body and media not in new_media:
                found.append(Change("removed request media type", f"{where} {media}"))
            elif media in new_media:
                found += self.request.changes(schema, new_media[media], where)
        return found

    def responses(self, before: Schema, after: Schema) -> list[Change]:
        """Statuses, headers and media types removed, and the body schemas (response side)."""
        found: list[Change] = []
        for status, response in before.items():
            where = f"{self.name} {status}"
            if status not in after:
                found.append(Change("removed response status", where))
                continue
            (old_response, old_media), (new_response, new_media) = (
                _content(self.old, response),
                _content(self.new, after[status]),
            )
            gone = (old_response.get("headers") or {}).keys() - (new_response.get("headers") or {}).keys()
            found += [Change("removed response header", f"{where} {header}") for header in sorted(gone)]
            for media, schema in old_media.items():
                if media not in new_media:
                    found.append(Change("removed response media type", f"{where} {media}"))
                else:
                    found += self.response.changes(schema, new_media[media], where)
        return found
