"""The Architecture page (docs/architecture.md) names every module of the launcher, the platform and
the web glue, and every top-level folder: where a newcomer looks first matches the tree."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("launch", "platform", "web")


def _architecture() -> str:
    return (ROOT / "docs" / "architecture.md").read_text()


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_is_named_on_the_architecture_page(package: str) -> None:
    section = _architecture()
    modules = sorted(p.stem for p in (ROOT / "src" / "storefront" / package).glob("*.py") if p.stem != "__init__")
    assert [m for m in modules if m not in section] == []


def test_every_folder_of_the_tree_is_on_the_architecture_page() -> None:
    section = _architecture()
    folders = ["sql", "tools", "tests", "bench"] + [
        p.name for p in (ROOT / "src" / "storefront").iterdir() if p.is_dir() and not p.name.startswith("__")
    ]
    assert [f for f in folders if f"{f}/" not in section] == []
