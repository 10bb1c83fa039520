"""Breaking changes between two JSON Schemas of one request or response body, or one parameter.

The sides differ. A request schema says what the server accepts: it breaks clients when it accepts
less (a field removed or made required, a type or enum value dropped, a bound tightened). A response
schema says what clients may rely on: it breaks them when it promises less (a field removed or made
optional, a type that was never sent before).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

Side = Literal["request", "response"]
Schema = dict[str, Any]
# Bounds whose rise (MIN) or fall (MAX) makes a request schema accept less.
MIN_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")
MAX_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
BRANCHES = ("oneOf", "anyOf", "allOf")


@dataclass(frozen=True)
class Change:
    """One breaking change: its kind, where it is (an operation and a part of it), and what it was."""

    kind: str
    where: str
    detail: str = ""

    @property
    def key(self) -> str:
        """What a CHANGELOG.md `### Breaking` line names, in backticks, to acknowledge it."""
        return f"{self.kind}: {self.where}"


@dataclass
class Flat:
    """A schema with its `$ref`s followed and its oneOf/anyOf/allOf branches merged: enough to compare
    the object fields, arrays, types, enums and bounds that the contract's bodies use."""

    types: set[str] | None = None  # None: any type
    enum: list[Any] | None = None  # None: any value
    properties: dict[str, Schema] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    items: list[Schema] = field(default_factory=list)
    bounds: dict[str, Any] = field(default_factory=dict)
    refs: frozenset[str] = frozenset()


def resolve(document: Schema, schema: Schema) -> tuple[Schema, set[str]]:
    """Follow `schema`'s local `$ref` chain; the target and the references followed."""
    seen: set[str] = set()
    while isinstance(schema.get("$ref"), str) and schema["$ref"] not in seen:
        ref = schema["$ref"]
        seen.add(ref)
        target: Any = document
        for part in ref.removeprefix("#/").split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, dict) else {}
        schema = target if isinstance(target, dict) else {}
    return schema, seen


def _types(schema: Schema) -> set[str] | None:
    declared = schema.get("type")
    if declared is None:
        return None
    return {declared} if isinstance(declared, str) else set(declared)


def _merge_bound(flat: Flat, name: str, value: Any) -> None:
    # Where branches disagree, the loosest bound is the one the schema as a whole enforces.
    if name == "pattern" or name not in flat.bounds:
        flat.bounds.setdefault(name, value)
    elif name in MIN_BOUNDS:
        flat.bounds[name] = min(flat.bounds[name], value)
    else:
        flat.bounds[name] = max(flat.bounds[name], value)


def flatten(document: Schema, schema: Schema, outer: frozenset[str] = frozenset()) -> Flat:
    """`schema` as a Flat: its own keywords merged with those of its branches (and theirs); a branch
    that refers back to a schema being flattened (`outer`) adds nothing."""
    schema, followed = resolve(document, schema)
    if followed & outer:
        return Flat()
    inner = outer | followed
    branches = [flatten(document, branch, inner) for keyword in BRANCHES for branch in schema.get(keyword) or []]
    flat = Flat(types=_types(schema), enum=schema.get("enum"), refs=frozenset(followed))
    if "const" in schema:
        flat.enum = [schema["const"]]
    flat.properties.update(schema.get("properties") or {})
    flat.required.update(schema.get("required") or [])
    if isinstance(schema.get("items"), dict):
        flat.items.append(schema["items"])
    for name in (*MIN_BOUNDS, *MAX_BOUNDS, "pattern"):
        if name in schema:
            _merge_bound(flat, name, schema[name])
    if branches and "type" not in schema:
        typed = [branch.types for branch in branches]
        flat.types = None if None in typed else {kind for types in typed if types for kind in types}
    valued = [branch for branch in branches if branch.types != {"null"}]  # null is a type, not a value
    if flat.enum is None and valued and all(branch.enum is not None for branch in valued):
        flat.enum = [value for branch in valued for value in branch.enum or []]
    for branch in branches:
        flat.properties.update(branch.properties)
        flat.required |= branch.required
        flat.items += branch.items
        flat.refs |= branch.refs
        for name, value in branch.bounds.items():
            _merge_bound(flat, name, value)
    return flat


def _covers(wide: set[str] | None, narrow: set[str] | None) -> bool:
    """Whether every value of a type in `narrow` has a type in `wide` (an integer is a number)."""
    if wide is None:
        return True
    if narrow is None:
        return False
    return all(kind in wide or (kind == "integer" and "number" in wide) for kind in narrow)


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@dataclass(frozen=True)
class Comparison:
    """Two documents, the side their schemas are on, and the pairs of references on the current path
    (a recursive schema is compared once)."""

    old: Schema
    new: Schema
    side: Side
    seen: frozenset[tuple[frozenset[str], frozenset[str]]] = frozenset()

    def changes(self, old: Schema, new: Schema, where: str) -> list[Change]:
        """Every breaking change from `old` to `new` at `where`, nested fields and items included."""
        before, after = flatten(self.old, old), flatten(self.new, new)
        pair = (before.refs, after.refs)
        if pair in self.seen:  # a cycle goes through references: inline schemas are never one
            return []
        inner = Comparison(self.old, self.new, self.side, self.seen | {pair} if any(pair) else self.seen)
        found = [*self._types(before, after, where), *self._values(before, after, where)]
        found += self._fields(before, after, where)
        for name in (name for name in before.properties if name in after.properties):
            found += inner.changes(before.properties[name], after.properties[name], f"{where}.{name}")
        if before.items and after.items:
            found += inner.changes({"anyOf": before.items}, {"anyOf": after.items}, f"{where}[]")
        return found

    def _types(self, before: Flat, after: Flat, where: str) -> list[Change]:
        fine = _covers(after.types, before.types) if self.side == "request" else _covers(before.types, after.types)
        if fine:
            return []
        shown = [" | ".join(sorted(types)) if types else "any" for types in (before.types, after.types)]
        return [Change("changed type", where, f"{shown[0]} → {shown[1]}")]

    def _values(self, before: Flat, after: Flat, where: str) -> list[Change]:
        """Enum values and bounds: only a request schema is held to them (a response may narrow)."""
        if self.side != "request":
            return []
        found: list[Change] = []
        if after.enum is not None:
            found += [
                Change("removed enum value", f"{where}={_shown(value)}")
                for value in (before.enum if before.enum is not None else [])
                if value not in after.enum
            ]
            if before.enum is None:
                found.append(Change("restricted to enum", where, json.dumps(after.enum)))
        for name in (*MIN_BOUNDS, *MAX_BOUNDS, "pattern"):
            old, new = before.bounds.get(name), after.bounds.get(name)
            if new is None or new == old:
                continue
            if old is None or name == "pattern" or (new > old if name in MIN_BOUNDS else new < old):
                found.append(Change(f"tightened {name}", where, f"{_shown(old)} → {_shown(new)}"))
        return found

    def _fields(self, before: Flat, after: Flat, where: str) -> list[Change]:
        found = [
            Change(f"removed {self.side} field", f"{where}.{name}")
            for name in before.properties
            if name not in after.properties
        ]
        if self.side == "request":
            for name in sorted(after.required - before.required):
                kind = "request field made required" if name in before.properties else "new required request field"
                found.append(Change(kind, f"{where}.{name}"))
        else:
            lost = (before.required - after.required) & after.properties.keys()
            found += [Change("response field made optional", f"{where}.{name}") for name in sorted(lost)]
        return found
