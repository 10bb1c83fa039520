"""The shipped Prometheus rules: valid (`promtool check rules`), each alert firing from synthetic
series and quiet on a healthy service (`promtool test rules`); every metric they and the Grafana
dashboard read present in a live `/metrics` (a renamed metric would silence an alert, not break
it); and `just observe` scraping a live server with the rules loaded."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from tools.observe import command
from tools.services import TEST_SECRET, live_server

from storefront.launch.children import free_port
from storefront.platform.settings import load_settings
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
    shipped = RULES.read_text() + (RULES_DIR / "dashboard.json").read_text()
    used: set[Any] = {_base(name) for name in METRIC.findall(shipped)}
    assert used, "no metric found in the rules"
    assert sorted(used - served) == []


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus: apt-get install prometheus (CI does)")
def test_just_observe_scrapes_a_live_server_with_the_rules_loaded(services: Services, tmp_path: Path) -> None:
    with live_server(services) as server:
        environ = {"PORT": str(server.port), "DATA_DIR": str(tmp_path), "SECRET_KEY": TEST_SECRET}
        port = free_port()
        prometheus = subprocess.Popen(
            command(load_settings(environ, dotenv=None), port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            api = f"http://127.0.0.1:{port}/api/v1"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                # Until its storage is ready Prometheus answers 503 in plain text: keep asking.
                with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                    targets = httpx.get(f"{api}/targets", timeout=2).json()["data"]["activeTargets"]
                    if targets and targets[0]["health"] == "up":
                        break
                time.sleep(0.5)
            else:
                raise AssertionError("Prometheus never scraped the server")
            groups = {group["name"] for group in httpx.get(f"{api}/rules", timeout=2).json()["data"]["groups"]}
            assert groups == {"storefront-slo-recording", "storefront-alerts"}
        finally:
            prometheus.terminate()
            prometheus.wait(timeout=10)
