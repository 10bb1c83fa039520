"""The committed OpenAPI contract: `just openapi` writes `openapi.json` (`python -m tools.openapi`), and
`just openapi-check` (`python -m tools.openapi.check`) fails on a breaking change that CHANGELOG.md does
not acknowledge."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "openapi.json"
CHANGELOG = ROOT / "CHANGELOG.md"
REFRESH = "just openapi"
