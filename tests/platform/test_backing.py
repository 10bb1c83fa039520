"""The one bring-up `serve` and `cluster` share: it holds DATA_DIR, starts what the settings leave
unset, saves the URLs for the other commands, and undoes all of it however its block ends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from storefront.launch.backing import backing_services
from storefront.launch.children import port_open
from storefront.launch.datadir import is_serving, saved_urls
from storefront.platform.settings import environment, load_settings

DATABASE_URL = "postgresql://storefront@127.0.0.1:1/storefront"
VALKEY_URL = "valkey://127.0.0.1:1"


def test_the_bring_up_is_undone_when_its_block_fails(tmp_path: Path) -> None:
    environ = {"DATA_DIR": str(tmp_path), "DATABASE_URL": DATABASE_URL, "VALKEY_URL": VALKEY_URL}
    settings = load_settings(environ, dotenv=None)
    seen: dict[str, Any] = {}

    def fail_while_up() -> None:
        with backing_services(settings) as backends:
            seen.update(serving=is_serving(tmp_path), urls=saved_urls(tmp_path), direct=backends.direct_url)
            assert backends.smtp_url is not None  # SMTP_URL unset: the development sink
            seen["sink_port"] = int(backends.smtp_url.rsplit(":", 1)[1])
            seen["sink_open"] = port_open("127.0.0.1", int(seen["sink_port"]))
            raise RuntimeError("a failed start")

    with pytest.raises(RuntimeError, match="a failed start"):
        fail_while_up()
    assert seen["serving"]
    assert seen["sink_open"]
    assert seen["direct"] == DATABASE_URL
    assert seen["urls"] == {"database_url": DATABASE_URL, "valkey_url": VALKEY_URL}
    sink_port = int(seen["sink_port"])
    assert not is_serving(tmp_path)
    assert saved_urls(tmp_path) == {}
    assert not port_open("127.0.0.1", sink_port)


def test_a_launcher_names_settings_by_attribute_never_by_variable() -> None:
    decided = {"database_url": DATABASE_URL, "auth.secret_key": "k", "limits.trusted_proxies": "10.0.0.0/8"}
    assert environment({**decided, "mail.smtp_url": None}) == {
        "DATABASE_URL": DATABASE_URL,
        "SECRET_KEY": "k",
        "TRUSTED_PROXIES": "10.0.0.0/8",
    }
    with pytest.raises(KeyError):
        environment({"databse_url": DATABASE_URL})
