"""A live `storefront serve` for the generated clients: its mail in the local sink (DATA_DIR/mail,
as `just mail` reads it), one item in the catalog."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import valkey

from storefront.launch.mailsink import MAIL_DIR, stored_mail
from tests.support.http import admin
from tests.support.services import Services, empty_database, live_server
from tests.support.shop import make_item

STOCK = 5


@dataclass(frozen=True)
class Shop:
    """The server's base URL, its mail folder, and the item the clients order."""

    base: str
    mail: Path
    item_id: str

    def token_for(self, email: str, seconds: float = 15.0) -> str:
        """The token of the verification link mailed to `email`, once its message is in the sink."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for message in stored_mail(self.mail, limit=100):
                if message.to == email and message.link:
                    return parse_qs(urlsplit(message.link).query)["token"][0]
            time.sleep(0.05)
        raise AssertionError(f"no link mailed to {email}")


async def _stock_the_shop(base: str, dsn: str) -> str:
    async with httpx.AsyncClient(base_url=base) as client:
        _, headers = await admin(client, dsn)
        item = await make_item(client, headers, name="Client-tested thing", stock=STOCK)
        return str(item["id"])


@pytest.fixture(scope="package")
def shop(services: Services) -> Iterator[Shop]:
    """A server of the package's own on emptied tables, with one item of STOCK units."""
    asyncio.run(empty_database(services.database_url))
    valkey.Valkey.from_url(services.valkey_url).flushdb()
    with live_server(services) as server:
        item_id = asyncio.run(_stock_the_shop(server.base, services.database_url))
        yield Shop(server.base, server.data_dir / MAIL_DIR, item_id)
