"""Bad bytes and values a stranger can send: each is a clear 4xx problem naming what is wrong,
decided before any password hashing or query, never a 500."""

from __future__ import annotations

import base64
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from storefront.errors import ValidationFailed
from storefront.platform.db import is_bad_input
from storefront.web.problems import to_domain_error
from tests.support.http import PASSWORD, assert_problem, customer, register, unique_email
from tests.support.shop import ITEMS, ORDERS, make_item, sql

pytestmark = pytest.mark.anyio
AUTH = "/api/v1/auth"
USERS = "/api/v1/users"
# Control and invisible format characters that names and emails refuse.
UNSEEN = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\u202e", "\u2066", "\u200b", "\ufeff", "a\nb"]


def _field(response: Any, status: int = 422, slug: str = "validation-error") -> str:
    body = assert_problem(response, status, slug)
    return str(body["errors"][0]["field"])


@pytest.mark.parametrize("bad", UNSEEN)
async def test_register_refuses_unseen_characters_in_email_and_name(client: AsyncTestClient[Any], bad: str) -> None:
    email = {"email": f"x{bad}y@example.com", "password": PASSWORD, "full_name": "Ada"}
    assert _field(await client.post(f"{AUTH}/register", json=email)) == "email"
    name = {"email": unique_email(), "password": PASSWORD, "full_name": f"Ada{bad}Lovelace"}
    assert _field(await client.post(f"{AUTH}/register", json=name)) == "full_name"


async def test_nul_in_login_json_and_form_is_422_on_its_field(client: AsyncTestClient[Any]) -> None:
    json_login = await client.post(f"{AUTH}/login", json={"email": "a\x00@example.com", "password": PASSWORD})
    assert _field(json_login) == "email"
    form_login = await client.post(f"{AUTH}/login", data={"username": "a\x00@example.com", "password": PASSWORD})
    assert _field(form_login) == "username"


async def test_profile_update_refuses_nul(client: AsyncTestClient[Any]) -> None:
    _, headers = await customer(client)
    assert _field(await client.patch(f"{USERS}/me", json={"full_name": "A\x00"}, headers=headers)) == "full_name"
    changed = {"email": "b\x00@example.com", "current_password": PASSWORD}
    assert _field(await client.patch(f"{USERS}/me", json=changed, headers=headers)) == "email"


async def test_items_refuse_nul_and_descriptions_keep_tab_and_newline(
    client: AsyncTestClient[Any], admin_headers: dict[str, str]
) -> None:
    base = {"sku": "NUL-1", "name": "Mug", "price_cents": 100, "stock": 1}
    for field, value in (("name", "M\x00ug"), ("description", "a\x00b"), ("sku", "NUL\x00"), ("name", "a\u202eb")):
        response = await client.post(ITEMS, json={**base, field: value}, headers=admin_headers)
        assert _field(response) == field, value
    item = await make_item(client, admin_headers, description="line one\n\tline two\r\n")
    assert item["description"] == "line one\n\tline two\r\n"
    patched = await client.patch(f"{ITEMS}/{item['id']}", json={"description": "x\x00"}, headers=admin_headers)
    assert _field(patched) == "description"


async def test_sku_with_a_final_newline_is_refused(client: AsyncTestClient[Any], admin_headers: dict[str, str]) -> None:
    body = {"sku": "BI-ITEM-1\n", "name": "Mug", "price_cents": 100, "stock": 1}
    assert _field(await client.post(ITEMS, json=body, headers=admin_headers)) == "sku"


async def test_search_terms_refuse_nul(client: AsyncTestClient[Any], admin_headers: dict[str, str]) -> None:
    assert _field(await client.get(ITEMS, params={"q": "a\x00b"})) == "q"
    assert _field(await client.get(USERS, params={"q": "a\x00b"}, headers=admin_headers)) == "q"


async def test_emails_are_nfc_normalised(client: AsyncTestClient[Any], services: Any) -> None:
    first = await register(client, "e\u0301x@example.com")
    assert first["email"] == "\u00e9x@example.com"
    again = {"email": "\u00c9X@example.com", "password": PASSWORD, "full_name": "Twin"}
    assert (await client.post(f"{AUTH}/register", json=again)).status_code == 202
    assert [row["email"] for row in await sql(services.database_url, "SELECT email FROM users")] == [first["email"]]


# Each would be read as a display name, a list, a group, a quoted string, a comment or a literal by a
# mail header parser: `x,victim@corp.com` is two recipients, `a<victim@corp.com>` reaches victim.
NOT_ONE_ADDRESS = [
    "x,victim@corp.com",
    "x;victim@corp.com",
    "a<victim@corp.com>",
    "Ann <victim@corp.com>",
    '"a b"@corp.com',
    "a(comment)@corp.com",
    "a b@corp.com",
    "x@a:victim@corp.com",
    "a@[127.0.0.1]",
    "a\\b@corp.com",
    "a@b@corp.com",
    "a@localhost",
    "a@corp.com\u00a0",
    "x" * 243 + "@example.com",  # 255 characters
]


@pytest.mark.parametrize("bad", NOT_ONE_ADDRESS)
async def test_every_email_field_takes_one_plain_address_only(client: AsyncTestClient[Any], bad: str) -> None:
    assert (
        _field(await client.post(f"{AUTH}/register", json={"email": bad, "password": PASSWORD, "full_name": "A"}))
        == "email"
    )
    assert _field(await client.post(f"{AUTH}/login", json={"email": bad, "password": PASSWORD})) == "email"
    assert _field(await client.post(f"{AUTH}/login", data={"username": bad, "password": PASSWORD})) == "username"
    assert _field(await client.post(f"{AUTH}/password-reset", json={"email": bad})) == "email"
    _, headers = await customer(client)
    changed = {"email": bad, "current_password": PASSWORD}
    assert _field(await client.patch(f"{USERS}/me", json=changed, headers=headers)) == "email"


async def test_a_pattern_refusal_says_what_is_wanted_never_the_regex(client: AsyncTestClient[Any]) -> None:
    email = {"email": "x,victim@corp.com", "password": PASSWORD, "full_name": "Ada"}
    body = assert_problem(await client.post(f"{AUTH}/register", json=email), 422, "validation-error")
    assert body["errors"] == [{"field": "email", "message": body["errors"][0]["message"]}]
    assert "one plain address, local@domain.tld" in body["errors"][0]["message"]
    assert "regex" not in body["detail"]
    name = {"email": unique_email(), "password": PASSWORD, "full_name": "Ada\u202eLovelace"}
    body = assert_problem(await client.post(f"{AUTH}/register", json=name), 422, "validation-error")
    assert body["errors"][0] == {
        "field": "full_name",
        "message": "must be one line with a visible character, without control or invisible characters",
    }


@pytest.mark.parametrize(
    "good", ["o'brien+tag@mail.example.co.uk", "\u00e9l\u00e8ve@\u00e9cole.example", "x" * 242 + "@example.com"]
)
async def test_plain_addresses_are_accepted(client: AsyncTestClient[Any], good: str) -> None:
    assert (await register(client, good))["email"] == good


async def test_invalid_utf8_is_400_and_other_charsets_415(client: AsyncTestClient[Any]) -> None:
    raw = b'{"email":"\xff@x.co","password":"correct horse battery","full_name":"A"}'
    json_type = {"content-type": "application/json"}
    response = await client.post(f"{AUTH}/register", content=raw, headers=json_type)
    assert_problem(response, 400, "malformed-request")
    key = b'{"\xfe":1}'
    assert_problem(await client.post(f"{AUTH}/register", content=key, headers=json_type), 400, "malformed-request")
    latin = {"content-type": "application/json; charset=latin-1"}
    body = b'{"email":"a@x.co","password":"correct horse battery","full_name":"A"}'
    assert_problem(await client.post(f"{AUTH}/register", content=body, headers=latin), 415, "unsupported-media-type")


@pytest.mark.parametrize(
    "headers",
    [{"content-length": "0"}, {"content-length": "00"}, {"transfer-encoding": "chunked"}],
    ids=["zero", "double-zero", "empty-chunked"],
)
async def test_an_empty_body_is_400(client: AsyncTestClient[Any], headers: dict[str, str]) -> None:
    response = await client.post(
        f"{AUTH}/register", content=b"", headers={"content-type": "application/json", **headers}
    )
    assert_problem(response, 400, "malformed-request")


def _cursor(timestamp: str) -> str:
    raw = f'["{timestamp}","0b7c7c7c-0000-4000-8000-000000000000"]'.encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("timestamp", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
async def test_cursors_outside_the_calendar_are_422(
    client: AsyncTestClient[Any], admin_headers: dict[str, str], timestamp: str
) -> None:
    cursor = _cursor(timestamp)
    assert _field(await client.get(ITEMS, params={"cursor": cursor})) == "cursor"
    assert _field(await client.get(ORDERS, params={"cursor": cursor}, headers=admin_headers)) == "cursor"
    assert _field(await client.get(USERS, params={"cursor": cursor}, headers=admin_headers)) == "cursor"


@pytest.mark.parametrize("query", ["limit=1.0", "limit=1e2", "limit=", "in_stock=1", "in_stock=TRUE"])
async def test_query_parameters_are_as_strict_as_bodies(client: AsyncTestClient[Any], query: str) -> None:
    assert _field(await client.get(f"{ITEMS}?{query}")) == query.split("=")[0]


async def test_strict_query_still_takes_what_json_would(client: AsyncTestClient[Any]) -> None:
    response = await client.get(f"{ITEMS}?limit=5&in_stock=true")
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.CharacterNotInRepertoireError("invalid byte sequence for encoding UTF8: 0x00"),
        asyncpg.UntranslatableCharacterError("untranslatable"),
        asyncpg.DatetimeFieldOverflowError("date out of range"),
        asyncpg.NumericValueOutOfRangeError("value out of range"),
    ],
)
def test_data_errors_client_input_can_cause_map_to_422(exc: Exception) -> None:
    assert is_bad_input(exc)
    assert isinstance(to_domain_error(exc), ValidationFailed)


def test_asyncpg_argument_errors_are_422_not_503() -> None:
    from asyncpg.exceptions._base import DataError  # what asyncpg raises for an unencodable argument

    assert isinstance(to_domain_error(DataError("invalid input for query argument $1")), ValidationFailed)


async def test_integers_may_be_written_with_a_zero_fraction(
    client: AsyncTestClient[Any], admin_headers: dict[str, str]
) -> None:
    body = {"sku": "FLOAT-1", "name": "Mug", "price_cents": 250.0, "stock": 3.0}
    created = await client.post(ITEMS, json=body, headers=admin_headers)
    assert created.status_code == 201, created.text
    assert (created.json()["price_cents"], created.json()["stock"]) == (250, 3)
    for field, value in (("price_cents", 2.5), ("stock", "3"), ("price_cents", -1.0)):
        response = await client.post(ITEMS, json={**body, "sku": "FLOAT-2", field: value}, headers=admin_headers)
        assert _field(response) == field, value
    assert_problem(
        await client.post(ITEMS, content=b"Z", headers={**admin_headers, "content-type": "application/json"}),
        400,
        "malformed-request",
    )
