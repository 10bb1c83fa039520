"""Environment variables into msgspec Structs, for any settings: `.env` files, strict conversion of
the raw strings (integers, booleans, lists, choices), and one-line errors that name the variable.
What the settings are lives in `settings`; how a variable is read lives here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import msgspec

from storefront.platform.msgspec_errors import located


class SettingsError(ValueError):
    """A configuration value is missing or invalid; the message names the variable."""


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a `.env` file: `KEY=VALUE` lines, `#` comments, optional quotes around values."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def split_list(text: str) -> list[str]:
    """The non-empty, trimmed parts of a comma-separated value."""
    return [part.strip() for part in text.split(",") if part.strip()]


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def fields(struct: type[msgspec.Struct]) -> tuple[msgspec.inspect.Field, ...]:
    """The fields of a Struct type, as msgspec describes them."""
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    return info.fields


def field_types(struct: type[msgspec.Struct]) -> dict[str, msgspec.inspect.Type]:
    """Each environment variable of `struct` (its encoded field name) and its type."""
    return {f.encode_name: f.type for f in fields(struct) if not isinstance(f.type, msgspec.inspect.StructType)}


def groups(root: type[msgspec.Struct], key: str = "name") -> dict[str, type[msgspec.Struct]]:
    """`root` (under "") and the Struct types of its grouped fields, by each field's `key`: `name`
    (its attribute) or `encode_name` (its key in the converted input)."""
    nested = {getattr(f, key): f.type.cls for f in fields(root) if isinstance(f.type, msgspec.inspect.StructType)}
    return {"": root, **nested}


def variables_for(root: type[msgspec.Struct], values: Mapping[str, object]) -> dict[str, str]:
    """`{attribute path: value}` (`"auth.secret_key"`) as `{environment variable: text}`; a None
    value is left out, an unknown path is a KeyError."""
    names = {
        f"{group}.{field.name}".lstrip("."): field.encode_name
        for group, struct in groups(root).items()
        for field in fields(struct)
    }
    return {names[path]: str(value) for path, value in values.items() if value is not None}


def unwrap(kind: msgspec.inspect.Type) -> tuple[msgspec.inspect.Type, str | None]:
    """The type a set variable converts to (`X | None` → X: set means a value) and its description."""
    if isinstance(kind, msgspec.inspect.UnionType):
        kind = next(t for t in kind.types if not isinstance(t, msgspec.inspect.NoneType))
    if isinstance(kind, msgspec.inspect.Metadata):
        return kind.type, (kind.extra_json_schema or {}).get("description")
    return kind, None


def _prepare(name: str, raw: str, kind: msgspec.inspect.Type) -> Any:
    """A raw string in the shape msgspec converts: integers, booleans, lists and choices made strict."""
    kind, _ = unwrap(kind)
    if isinstance(kind, msgspec.inspect.IntType | msgspec.inspect.FloatType):
        number = int if isinstance(kind, msgspec.inspect.IntType) else float
        try:
            return number(raw)
        except ValueError:
            what = "an integer" if number is int else "a number"
            raise SettingsError(f"{name} must be {what}, got {raw!r}") from None
    if isinstance(kind, msgspec.inspect.BoolType):
        if raw.lower() not in _TRUE | _FALSE:
            raise SettingsError(f"{name} must be true or false, got {raw!r}")
        return raw.lower() in _TRUE
    if isinstance(kind, msgspec.inspect.VarTupleType):
        return split_list(raw)
    if isinstance(kind, msgspec.inspect.LiteralType):
        choices = [str(value) for value in kind.values]
        value = raw.upper() if all(choice.isupper() for choice in choices) else raw.lower()
        if value not in choices:
            raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
        return value
    return raw


def section(struct: type[msgspec.Struct], values: Mapping[str, str]) -> dict[str, Any]:
    """The variables of one settings group that are set, prepared for conversion."""
    return {name: _prepare(name, values[name], kind) for name, kind in field_types(struct).items() if name in values}


def explain(
    exc: msgspec.ValidationError, values: Mapping[str, str], groups: Iterable[type[msgspec.Struct]]
) -> SettingsError:
    """One line naming the variable, from msgspec's message about the Structs `groups` (values of
    URLs and secrets not echoed)."""
    message = str(exc)
    text, path = located(message)
    name = path.rpartition(".")[2]  # `$.VARIABLE` or `$.GROUP.VARIABLE`; an index (`[0]`) names none
    kinds = {n: k for group in groups for n, k in field_types(group).items()}
    if name not in kinds:
        return SettingsError(message)
    kind, description = unwrap(kinds[name])
    if isinstance(kind, msgspec.inspect.IntType | msgspec.inspect.FloatType):
        return SettingsError(f"{name} must be between {kind.ge} and {kind.le}, got {values[name]}")
    if description:
        return SettingsError(f"{name} must be {description}")
    return SettingsError(f"{name} {text.strip()}")
