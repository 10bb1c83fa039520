"""The embedded Valkey with a password (as `just cluster` runs it): every command needs AUTH, and
the password sits only in a file of mode 0600."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
import valkey

from storefront.launch.embedded import AUTH_FILE, EmbeddedValkey


def test_a_valkey_with_a_password_refuses_unauthenticated_commands(tmp_path: Path) -> None:
    server = EmbeddedValkey(tmp_path, password="a-long-generated-password")
    url = urlsplit(server.start())
    try:
        assert url.password == "a-long-generated-password"
        stranger = valkey.Valkey(host=url.hostname, port=url.port)
        with pytest.raises(valkey.exceptions.AuthenticationError):
            stranger.set("k", "v")
        stranger.close()
        with pytest.raises(valkey.exceptions.AuthenticationError):
            valkey.Valkey(host=url.hostname, port=url.port, password="wrong").ping()
        owner = valkey.Valkey.from_url(url.geturl())
        assert owner.ping()
        owner.close()
        auth = tmp_path / "valkey" / AUTH_FILE
        assert auth.stat().st_mode & 0o777 == 0o600
        assert "a-long-generated-password" not in (tmp_path / "valkey" / "valkey.conf").read_text()
    finally:
        server.stop()
    assert server.server is None
