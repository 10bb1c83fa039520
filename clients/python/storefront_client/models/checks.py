from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.check_state import CheckState

T = TypeVar("T", bound="Checks")


@_attrs_define
class Checks:
    """
    Attributes:
        database (CheckState): One check: the service answered (`ok`) or did not (`down`).
        cache (CheckState): One check: the service answered (`ok`) or did not (`down`).
        loops (CheckState): One check: the service answered (`ok`) or did not (`down`).
    """

    database: CheckState
    cache: CheckState
    loops: CheckState
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        database = self.database.value

        cache = self.cache.value

        loops = self.loops.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "database": database,
                "cache": cache,
                "loops": loops,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        database = CheckState(d.pop("database"))

        cache = CheckState(d.pop("cache"))

        loops = CheckState(d.pop("loops"))

        checks = cls(
            database=database,
            cache=cache,
            loops=loops,
        )

        checks.additional_properties = d
        return checks

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
