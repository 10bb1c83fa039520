"""The admin bootstrap never hands admin to an account someone else registered: `create-admin` only
creates, `--promote` takes a verified address and revokes the account's sessions, and a start with
FIRST_ADMIN_EMAIL creates the admin or finds it already active, else fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from storefront.accounts.bootstrap import ensure_first_admin
from tests.support.http import PASSWORD, admin, bearer, customer, login, unique_email
from tests.support.services import SRC, TEST_SECRET, Services, free_port, make_settings
from tests.support.shop import sql

pytestmark = pytest.mark.anyio
ME = "/api/v1/users/me"


def _storefront(services: Services, data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m storefront ARGS` on the suite's PostgreSQL and Valkey, without a terminal."""
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": SRC,
        "ENVIRONMENT": "test",
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": services.database_url,
        "VALKEY_URL": services.valkey_url,
        "SECRET_KEY": TEST_SECRET,
        "MAIL_DISABLED": "true",
        **env,
    }
    command = [sys.executable, "-m", "storefront", *args]
    return subprocess.run(command, env=environ, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


async def _account(services: Services, email: str) -> Any:
    rows = await sql(
        services.database_url, "SELECT role, is_active, deleted_at, password_hash FROM users WHERE email = $1", email
    )
    return rows[0]


def _refused(result: subprocess.CompletedProcess[str], reason: str) -> None:
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert reason in result.stderr


async def test_create_admin_creates_a_new_admin(
    client: AsyncTestClient[Any], services: Services, tmp_path: Path
) -> None:
    email = unique_email("ops")
    result = _storefront(services, tmp_path, "create-admin", email, FIRST_ADMIN_PASSWORD=PASSWORD)
    assert result.returncode == 0, result.stderr
    tokens = await login(client, email)
    assert (await client.get(ME, headers=bearer(tokens["access_token"]))).json()["role"] == "admin"


async def test_create_admin_refuses_an_existing_customer(
    client: AsyncTestClient[Any], services: Services, tmp_path: Path
) -> None:
    user, headers = await customer(client)
    result = _storefront(
        services, tmp_path, "create-admin", user["email"], FIRST_ADMIN_PASSWORD="typed by the operator"
    )
    _refused(result, "already belongs to a customer")
    assert (await client.get(ME, headers=headers)).json()["role"] == "customer"
    await login(client, user["email"])  # its password is the owner's still


async def test_promote_refuses_an_unverified_address(
    client: AsyncTestClient[Any], services: Services, tmp_path: Path
) -> None:
    user, headers = await customer(client)
    _refused(_storefront(services, tmp_path, "create-admin", user["email"], "--promote"), "not verified")
    assert (await client.get(ME, headers=headers)).json()["role"] == "customer"


async def test_promote_refuses_a_missing_or_deleted_account(
    client: AsyncTestClient[Any], services: Services, tmp_path: Path
) -> None:
    _refused(_storefront(services, tmp_path, "create-admin", unique_email(), "--promote"), "no account has the email")
    user, _ = await customer(client)
    deleted = "UPDATE users SET email_verified = true, is_active = false, deleted_at = now() WHERE email = $1"
    await sql(services.database_url, deleted, user["email"])
    _refused(_storefront(services, tmp_path, "create-admin", user["email"], "--promote"), "is a deleted account")
    assert (await _account(services, user["email"]))["role"] == "customer"


async def test_promote_makes_a_verified_customer_admin_keeps_its_password_and_revokes_its_sessions(
    client: AsyncTestClient[Any], services: Services, tmp_path: Path
) -> None:
    user, headers = await customer(client)
    await sql(services.database_url, "UPDATE users SET email_verified = true WHERE email = $1", user["email"])
    before = await _account(services, user["email"])
    result = _storefront(services, tmp_path, "create-admin", user["email"], "--promote")  # no password, no prompt
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stdout.splitlines() if user["email"] in line and "promoted" in line]
    after = await _account(services, user["email"])
    assert (after["role"], after["password_hash"]) == ("admin", before["password_hash"])
    assert (await client.get(ME, headers=headers)).status_code == 401  # the customer's token died with its session
    tokens = await login(client, user["email"])  # the owner's own password
    assert (await client.get(ME, headers=bearer(tokens["access_token"]))).json()["role"] == "admin"


async def test_first_admin_is_created_then_left_alone(client: AsyncTestClient[Any], services: Services) -> None:
    email = unique_email("first")
    await ensure_first_admin(
        services.database_url, make_settings(services, FIRST_ADMIN_EMAIL=email, FIRST_ADMIN_PASSWORD=PASSWORD)
    )
    tokens = await login(client, email)
    again = make_settings(services, FIRST_ADMIN_EMAIL=email, FIRST_ADMIN_PASSWORD="a different password")
    await ensure_first_admin(services.database_url, again)  # an active admin: a no-op
    assert (await client.get(ME, headers=bearer(tokens["access_token"]))).json()["role"] == "admin"
    await login(client, email)  # the password is the one it was created with


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        ("customer", "belongs to a customer"),
        ("deactivated admin", "belongs to a deactivated admin"),
        ("deleted admin", "belongs to a deleted account"),
    ],
)
async def test_a_start_with_first_admin_email_of_another_account_fails(
    client: AsyncTestClient[Any], services: Services, tmp_path: Path, make: str, reason: str
) -> None:
    if make == "customer":
        email = (await customer(client))[0]["email"]
    else:
        email, _ = await admin(client, services.database_url)
        change = "is_active = false" + (", deleted_at = now()" if make == "deleted admin" else "")
        await sql(services.database_url, f"UPDATE users SET {change} WHERE email = $1", email)
    before = await _account(services, email)
    start = _storefront(
        services, tmp_path, "serve", FIRST_ADMIN_EMAIL=email, FIRST_ADMIN_PASSWORD=PASSWORD, PORT=str(free_port())
    )
    _refused(start, reason)
    assert await _account(services, email) == before  # not promoted, re-activated or undeleted
