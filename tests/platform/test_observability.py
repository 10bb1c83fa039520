"""The shipped Prometheus rules: valid (`promtool check rules`), each alert firing from synthetic
series and quiet on a healthy service (`promtool test rules`), and every metric they read present
in a live `/metrics` (a renamed metric would silence an alert, not break it)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.readcache import instance
from tests.support.services import Services

pytestmark = pytest.mark.anyio
RULES_DIR = Path(__file__).resolve().parents[2] / "deploy" / "observability"
RULES = RULES_DIR / "alerts.yml"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool: apt-get install prometheus (CI does)")
METRIC = re.compile(r"\b((?:storefront|litestar)_[a-z_]+)\b")
SUFFIXES = ("_bucket", "_count", "_sum")


@needs_promtool
@pytest.mark.parametrize("command", [["check", "rules", "alerts.yml"], ["test", "rules", "alerts.test.yml"]])
def test_promtool_accepts_the_rules_and_their_unit_tests(command: list[str]) -> None:
    done = subprocess.run([PROMTOOL, *command], cwd=RULES_DIR, capture_output=True, text=True, check=False)  # type: ignore[list-item]
    assert done.returncode == 0, done.stdout + done.stderr


def _families(text: str) -> set[str]:
    """The metric families a `/metrics` page exposes (its `# TYPE` lines)."""
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}


def _base(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


async def test_every_metric_the_rules_read_is_served(services: Services, clean: None) -> None:
    async with instance(services) as (client, _):
        await client.get("/api/v1/items")  # a request, so the request histogram has a sample
        text = (await client.get("/metrics")).text
    served = _families(text) | {f"{family}_total" for family in _families(text)}
    used: set[Any] = {_base(name) for name in METRIC.findall(RULES.read_text())}
    assert used, "no metric found in the rules"
    assert sorted(used - served) == []
