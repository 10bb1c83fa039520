"""The generated TypeScript client (clients/typescript/src/client, @hey-api/openapi-ts) against a live
server: its test (clients/typescript/test) compiled with the pinned TypeScript, under `node --test`."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from tools.clients import TYPESCRIPT, node_modules

from tests.clients.conftest import STOCK, Shop


@pytest.mark.skipif(shutil.which("npm") is None, reason="Node.js ≥ 20.19 and npm are not installed (CI has them)")
def test_a_shopper_orders_through_the_typescript_client(shop: Shop) -> None:
    node_modules()
    env = {
        **os.environ,
        "STOREFRONT_URL": shop.base,
        "STOREFRONT_MAIL_DIR": str(shop.mail),
        "STOREFRONT_ITEM_ID": shop.item_id,
        "STOREFRONT_STOCK": str(STOCK),
    }
    done = subprocess.run(["npm", "test"], cwd=TYPESCRIPT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert tuple(line for line in done.stdout.splitlines() if line[:7] in ("# pass ", "# fail ")) == (
        "# pass 1",
        "# fail 0",
    ), done.stdout
