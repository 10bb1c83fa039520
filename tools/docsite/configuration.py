"""The configuration reference, generated so that it cannot drift: docs/configuration.md names each
variable and says what it means; the default and the values a variable takes come from the settings
themselves (`storefront.platform.settings`), and a variable the page misses — or names and the
settings do not read — stops the build."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import msgspec

from storefront.platform.addresses import Networks
from storefront.platform.environ import fields, groups, unwrap
from storefront.platform.settings import Settings

MARKER = "<!-- settings-table -->"
HEADER = "| variable | default | meaning |"
_NAME = re.compile(r"`([A-Z][A-Z0-9_]*)`")
_UNITS = (("days", 86_400), ("h", 3600), ("min", 60))


class DriftError(ValueError):
    """The page's table and the settings disagree; the message says how."""


def settings_fields() -> dict[str, msgspec.inspect.Field]:
    """Every variable the settings read, and its field."""
    return {
        f.encode_name: f
        for struct in groups(Settings).values()
        for f in fields(struct)
        if not isinstance(f.type, msgspec.inspect.StructType)
    }


def _rows(page: str) -> tuple[int, int, list[tuple[list[str], str]]]:
    """The source table after MARKER: its line span and each row's variables and meaning."""
    lines = page.split("\n")
    try:
        start = lines.index(MARKER) + 1
    except ValueError:
        raise DriftError(f"no {MARKER} line on the configuration page") from None
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    rows = []
    for line in lines[start + 2 : end]:  # past the header and its rule
        variables, _, meaning = line.strip("|").partition("|")
        rows.append((_NAME.findall(variables), meaning.strip().removesuffix("|").strip()))
    return start, end, rows


def documented(page: str) -> list[str]:
    """The variables the page's table names, in its order."""
    return [name for names, _ in _rows(page)[2] for name in names]


def _duration(name: str, value: Any) -> str:
    """`900` → ` (15 min)` for a `…_SECONDS` default that is a whole number of a larger unit."""
    if not name.endswith("_SECONDS") or not isinstance(value, int):
        return ""
    unit, size = next(((u, s) for u, s in _UNITS if value >= s and value % s == 0), ("", 0))
    return f" ({value // size} {unit})" if unit else ""


def default(name: str, field: msgspec.inspect.Field) -> str:
    """The default as the environment would spell it; `—` when there is none."""
    value = field.default
    if value is msgspec.NODEFAULT or field.required:
        return "—"
    if value is None:
        return "unset"
    if value in ((), Networks()):
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`{_duration(name, value)}"


def _number(value: float) -> str:
    return f"{value:,}".replace(",", "\u202f")  # a narrow no-break space groups the digits


def values(field: msgspec.inspect.Field) -> str:
    """What the variable accepts, from its type and bounds."""
    kind, description = unwrap(field.type)
    if isinstance(kind, msgspec.inspect.IntType | msgspec.inspect.FloatType):
        what = "integer" if isinstance(kind, msgspec.inspect.IntType) else "number"
        bounds = f"{what}, {_number(kind.ge)} … {_number(kind.le)}" if kind.ge is not None else what
        return f"{bounds} ({description})" if description else bounds
    if isinstance(kind, msgspec.inspect.LiteralType):
        return " · ".join(f"`{choice}`" for choice in kind.values)
    if isinstance(kind, msgspec.inspect.BoolType):
        return "`true` · `false`"
    if isinstance(kind, msgspec.inspect.VarTupleType):
        return "comma-separated list"
    if isinstance(kind, msgspec.inspect.CustomType):
        return "comma-separated IPs and CIDRs" if kind.cls is Networks else "a path"
    return description or ""  # free text: nothing to say


def _check(names: list[str], known: dict[str, msgspec.inspect.Field]) -> None:
    missing = [name for name in known if name not in names]
    unknown = [name for name in names if name not in known]
    twice = sorted({name for name in names if names.count(name) > 1})
    problems = [
        f"{label}: {', '.join(found)}"
        for label, found in (
            ("not documented", missing),
            ("documented but not a setting", unknown),
            ("documented twice", twice),
        )
        if found
    ]
    if problems:
        raise DriftError("docs/configuration.md: " + "; ".join(problems))


def _joined(texts: Iterator[str]) -> str:
    return " / ".join(texts)


def render(page: str) -> str:
    """The page with its source table replaced by the full reference."""
    start, end, rows = _rows(page)
    known = settings_fields()
    _check([name for names, _ in rows for name in names], known)
    table = [HEADER, "|---|---|---|"]
    for names, meaning in rows:
        variables = _joined(f"`{name}`" for name in names)
        defaults = _joined(dict.fromkeys(default(name, known[name]) for name in names))
        accepted = _joined(dict.fromkeys(filter(None, (values(known[name]) for name in names))))  # once when alike
        takes = f"<br><small>{accepted}</small>" if accepted else ""
        table.append(f"| {variables} | {defaults} | {meaning}{takes} |")
    lines = page.split("\n")
    return "\n".join([*lines[: start - 1], *table, *lines[end:]])
