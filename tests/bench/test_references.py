"""The bench's references, checked without a load run: the framework-free ceiling verifies what
Storefront verifies and runs its queries; the guides' stack lives in a venv of its own, from a lock
of its own, and its workers are found among uvicorn's processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import bench.ceiling as ceiling
import bench.guides_venv as guides_venv
import bench.infra as infra
import bench.replies as replies
import jwt
import pytest

from storefront.accounts.security import issue_access_token
from storefront.platform.settings import AuthSettings
from storefront.web.pagination import encode_cursor

ROOT = Path(__file__).resolve().parents[2]
SECRET = "a-bench-test-secret-that-is-long-enough-0123456789"


def test_ceiling_accepts_storefront_tokens() -> None:
    user_id, session_id = uuid.uuid4(), uuid.uuid4()
    token = issue_access_token(AuthSettings(secret_key=SECRET), user_id, session_id)
    assert ceiling.verify_access_token(token, SECRET.encode()) == (user_id, session_id)


@pytest.mark.parametrize(
    "change",
    [
        lambda now: {"typ": "refresh"},
        lambda now: {"aud": "someone-else"},
        lambda now: {"iss": "someone-else"},
        # Times relative to the test's own clock: parameters are built at collection, minutes earlier.
        lambda now: {"exp": now - 60},
        lambda now: {"nbf": now + 60},
    ],
)
def test_ceiling_rejects_what_storefront_rejects(change: Callable[[int], dict[str, object]]) -> None:
    now = int(time.time())
    claims = {
        "sub": str(uuid.uuid4()),
        "sid": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + 60,
        "jti": "x",
        "iss": "storefront",
        "aud": "storefront-api",
        "typ": "access",
        **change(now),
    }
    assert ceiling.verify_access_token(jwt.encode(claims, SECRET, algorithm="HS256"), SECRET.encode()) is None


def test_ceiling_rejects_forged_and_garbled_tokens() -> None:
    token = issue_access_token(AuthSettings(secret_key=SECRET), uuid.uuid4(), uuid.uuid4())
    assert ceiling.verify_access_token(token, b"another-key") is None
    assert ceiling.verify_access_token("not.a.token", SECRET.encode()) is None
    assert ceiling.verify_access_token("garbage", SECRET.encode()) is None


def test_ceiling_cursor_is_storefronts() -> None:
    at, id_ = datetime(2026, 11, 23, 6, 0, 1, 123456, tzinfo=UTC), uuid.uuid4()
    assert replies.encode_cursor(at, id_) == encode_cursor(at, id_)


def test_ceiling_is_framework_free_and_runs_storefronts_queries() -> None:
    probe = (
        "import sys, bench.ceiling as c; "
        "assert c.CatalogQueries.get_item.sql.startswith('SELECT'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('litestar', 'granian')))"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "src"), str(root)])}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "[]"


def test_ceiling_request_helpers() -> None:
    assert replies.bearer("Bearer abc ") == "abc"
    assert replies.bearer("Basic abc") is None
    assert replies.bearer(None) is None
    assert replies.query_limit("") == 20
    assert replies.query_limit("limit=50&x=1") == 50
    assert replies.query_limit("limit=0") is None
    assert replies.query_limit("limit=abc") is None


def test_the_main_venv_never_imports_the_guides_stack() -> None:
    probe = (
        "import sys, bench.cli, bench.infra, bench.report; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('fastapi', 'sqlalchemy', 'pydantic', 'starlette', 'uvicorn') or m.startswith('bench.guides.')))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "[]"
    for lock in ("requirements.lock", "requirements-dev.lock"):
        assert not re.search(r"^(fastapi|sqlalchemy)==", (ROOT / lock).read_text(), re.MULTILINE), lock


def test_the_guides_lock_pins_its_group_with_hashes_and_no_index() -> None:
    group = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]["guides"]
    lock = guides_venv.GUIDES_LOCK.read_text()
    pinned = {name.lower() for name in re.findall(r"^([A-Za-z0-9_.-]+)==", lock, re.MULTILINE)}
    wanted = {re.split(r"[\[<>=;! ]", requirement, maxsplit=1)[0].lower() for requirement in group}
    assert wanted <= pinned
    assert len(re.findall(r"==.*\\\n\s+--hash=sha256:[0-9a-f]{64}", lock)) == len(pinned)  # each one hashed
    assert not re.search(r"^\s*--(extra-)?index-url|^#.*uv pip compile|/tmp/|/root/|/home/", lock, re.MULTILINE)


def test_the_guides_venv_is_reused_while_its_lock_is_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lock, venv = tmp_path / "guides.lock", tmp_path / "venv"
    lock.write_text("anyio==4.16.0 --hash=sha256:00\n")
    calls: list[list[str]] = []

    def run(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        (venv / "bin").mkdir(parents=True, exist_ok=True)
        (venv / "bin" / "python").touch()
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(guides_venv.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(guides_venv.subprocess, "run", run)
    assert guides_venv.ensure_venv(venv, lock) is True
    assert [command[1:3] for command in calls] == [["venv", "-q"], ["pip", "sync"]]
    assert "--require-hashes" in calls[1]
    assert guides_venv.ensure_venv(venv, lock) is False
    assert len(calls) == 2
    lock.write_text("anyio==4.17.0 --hash=sha256:01\n")
    assert guides_venv.ensure_venv(venv, lock) is True
    assert len(calls) == 4


class FakeProcess:
    def __init__(self, *command: str) -> None:
        self.command = list(command)

    def cmdline(self) -> list[str]:
        return self.command


def test_uvicorn_workers_are_its_spawned_children_or_itself() -> None:
    main = FakeProcess("/v/bin/python", "-m", "uvicorn", "--workers", "1", "bench.guides.app:app")
    tracker = FakeProcess("/v/bin/python", "-c", "from multiprocessing.resource_tracker import main;main(4)")
    child = FakeProcess("/v/bin/python", "-c", "from multiprocessing.spawn import spawn_main; spawn_main()")
    assert infra.uvicorn_workers([main]) == [main]  # type: ignore[list-item]
    assert infra.uvicorn_workers([main, tracker, child]) == [child]  # type: ignore[list-item]
