"""What an operator relies on when running the image, one function per check: each returns a short
detail for its ✓ line or raises CheckFailed with the evidence."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from tools.image.container import CheckFailed, Container, Lab, json_lines

UID = 10001
STOP_BUDGET = 2.0
VALKEY_BUDGET = 2.0
CLEAN_STOP = "database system is shut down"
UNCLEAN_START = ("database system was interrupted", "automatic recovery")
SECRET_ERROR = "storefront: configuration error: SECRET_KEY is required when ENVIRONMENT=production"
RELAY_ERROR = (
    "storefront: configuration error: SMTP_URL is required when ENVIRONMENT=production (or set MAIL_DISABLED=true)"
)
IMAGE_FACTS = """
import importlib.util, os, pwd, shutil, stat
left = [m for m in ("pip", "setuptools", "wheel", "pkg_resources") if importlib.util.find_spec(m)]
data = os.stat("/data")
nss = [p for p in ("/usr/lib/x86_64-linux-gnu/libnss_wrapper.so", "/usr/lib/aarch64-linux-gnu/libnss_wrapper.so")
       if os.path.exists(p)]
print(f"uid={os.getuid()} gid={os.getgid()} pip/setuptools/wheel={left or 'none'} tini={shutil.which('tini')} "
      f"nss_wrapper={bool(nss)} /data={data.st_uid}:{data.st_gid}:{stat.filemode(data.st_mode)} "
      f"home={os.environ.get('HOME')} user={pwd.getpwuid(os.getuid()).pw_name}")
"""


@dataclass
class Run:
    """What the checks share: the lab, the main container and the user registered on it."""

    lab: Lab
    main: Container | None = None
    volume: str = ""
    email: str = field(default_factory=lambda: f"image-{secrets.token_hex(4)}@example.com")
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18))

    def container(self) -> Container:
        """The main container (check 1 starts it)."""
        if self.main is None:
            raise CheckFailed("the main container did not start")
        return self.main


def expect(condition: object, evidence: str) -> None:
    """Fail the check with `evidence` unless `condition` holds."""
    if not condition:
        raise CheckFailed(evidence)


def register(base: str, email: str, password: str) -> None:
    """POST /api/v1/auth/register: 202 expected (the same answer whether or not the email is taken)."""
    body = {"email": email, "password": password, "full_name": "Image Test"}
    response = httpx.post(f"{base}/api/v1/auth/register", json=body, timeout=10)
    expect(response.status_code == 202, f"register answered {response.status_code}: {response.text[:200]}")


def login(base: str, email: str, password: str) -> str:
    """POST /api/v1/auth/login, then GET /api/v1/users/me with the token: the email it reports."""
    response = httpx.post(f"{base}/api/v1/auth/login", json={"email": email, "password": password}, timeout=10)
    expect(response.status_code == 200, f"login answered {response.status_code}: {response.text[:200]}")
    token = response.json()["access_token"]
    me = httpx.get(f"{base}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    expect(me.status_code == 200, f"/users/me answered {me.status_code}: {me.text[:200]}")
    return str(me.json()["email"])


def image_facts(run: Run) -> str:
    """0. The image itself: user, no pip/setuptools/wheel, tini, nss_wrapper, /data ownership."""
    result = run.lab.engine.run("run", "--rm", "--entrypoint", "python", run.lab.image, "-c", IMAGE_FACTS)
    facts = result.stdout.strip()
    expect(f"uid={UID} gid=0 pip/setuptools/wheel=none tini=/usr/bin/tini nss_wrapper=True" in facts, facts)
    expect(f"/data={UID}:0:drwxrwx" in facts, facts)
    return facts


def starts_healthy(run: Run) -> str:
    """1. Named volume, SECRET_KEY, published port: /health and /health/ready ok; HEALTHCHECK healthy."""
    run.volume = run.lab.volume()
    run.main = run.lab.run("main", volume=run.volume)
    took = run.main.wait_ready()
    verdict = run.main.healthcheck()
    expect(verdict == "healthy", f"ready in {took:.1f} s but the HEALTHCHECK says {verdict}")
    return f"ready in {took:.1f} s, {run.main.readiness()}, healthcheck {verdict}"


def accounts_work(run: Run) -> str:
    """2. register → login → /users/me."""
    base = run.container().base
    register(base, run.email, run.password)
    expect(login(base, run.email, run.password) == run.email, "/users/me names another user")
    return f"{run.email} registered, logged in, /users/me ok"


def runs_as_uid(run: Run) -> str:
    """3. Every process in the container runs as uid 10001, under tini as PID 1."""
    processes = run.container().processes()
    others = [f"{p.pid}:{p.uid}:{p.command[:40]}" for p in processes if p.uid != UID]
    expect(not others, f"not uid {UID}: {others}")
    init = next((p.command for p in processes if p.pid == 1), "?")
    expect(init.startswith("tini"), f"PID 1 is {init!r}")
    return f"{len(processes)} processes, all uid {UID}; PID 1: {init}"


def _valkeys(container: Container) -> list[int]:
    return [p.pid for p in container.processes() if "valkey-server" in p.command and p.state != "Z"]


def valkey_restarts(run: Run) -> str:
    """4. Kill -9 the embedded Valkey: a new one serves and readiness is ok within 2 s."""
    container = run.container()
    old = _valkeys(container)
    expect(len(old) == 1, f"expected one valkey-server, found {old}")
    container.exec("sh", "-c", f"kill -9 {old[0]}")
    killed, seen = time.monotonic(), set()
    while time.monotonic() - killed < VALKEY_BUDGET + 3:
        ready = container.readiness() or {}
        seen.add(str(ready.get("status")))
        if ready.get("status") == "ok" and (new := _valkeys(container)) and new != old:
            took = time.monotonic() - killed
            zombies = [p.pid for p in container.processes() if p.state == "Z"]
            expect(took <= VALKEY_BUDGET, f"back only after {took:.1f} s (readiness seen: {sorted(seen)})")
            expect(not zombies, f"zombies left: {zombies}")
            return f"pid {old[0]} killed, pid {new[0]} serving, ready ok after {took:.1f} s (seen {sorted(seen)})"
        time.sleep(0.1)
    states = [f"{p.pid}:{p.state}:{p.command[:30]}" for p in container.processes() if "valkey" in p.command]
    raise CheckFailed(f"no new valkey and ready ok within {VALKEY_BUDGET + 3:.0f} s: {states}, readiness seen {seen}")


def _postgres_log(run: Run) -> list[str]:
    return (run.lab.mountpoint(run.volume) / "postgres" / "log").read_text().splitlines()


def app_stop_seconds(lines: list[str]) -> str:
    """From the app's own log: seconds between its last "stopping…" and "stopped" lines, or "?"."""
    times: dict[str, datetime] = {}
    for line in lines:
        try:
            record = json.loads(line)
            stamp = datetime.strptime(record["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
        except (ValueError, KeyError, TypeError):
            continue
        for word in ("stopping", "stopped"):
            if str(record.get("msg", "")).startswith(word):
                times[word] = stamp
    if {"stopping", "stopped"} <= times.keys():
        return f"{(times['stopped'] - times['stopping']).total_seconds():.2f}"
    return "?"


def stops_and_restarts(run: Run) -> str:
    """5. `podman stop` < 2 s with a clean PostgreSQL shutdown; a restart keeps the user, no recovery."""
    container, problems = run.container(), []
    took, exited = container.stop()
    log = _postgres_log(run)
    last = log[-1] if log else "(empty log)"
    inside = app_stop_seconds(container.logs())
    if took >= STOP_BUDGET:
        problems.append(
            f"stop took {took:.2f} s (budget {STOP_BUDGET:.0f} s; exited after {exited:.2f} s;"
            f" SIGTERM to stopped in the app: {inside} s)"
        )
    if CLEAN_STOP not in last:
        problems.append(f"the PostgreSQL log ends: {last}")
    container.start()
    ready = container.wait_ready()
    after = _postgres_log(run)[len(log) :]
    if unclean := [line for line in after if any(marker in line for marker in UNCLEAN_START)]:
        problems.append(f"the restart recovered: {unclean}")
    if login(container.base, run.email, run.password) != run.email:
        problems.append("the user is gone after the restart")
    container.stop()
    expect(not problems, "; ".join(problems))
    return (
        f"stopped in {took:.2f} s (exited after {exited:.2f} s, the app's drain and stop {inside} s), clean PostgreSQL"
        f" shutdown; restarted (ready in {ready:.1f} s), user kept"
    )


def _read_only(run: Run, label: str, *options: str) -> str:
    container = run.lab.run(label, "--read-only", "--read-only-tmpfs=false", *options)
    took = container.wait_ready()
    container.stop()
    lines = container.logs()
    bad = json_lines(lines)
    expect(not bad, f"{len(bad)} of {len(lines)} lines are not JSON objects, e.g. {bad[:2]}")
    return f"ready in {took:.1f} s, {len(lines)} log lines, all JSON"


def read_only_root(run: Run) -> str:
    """6. `--read-only` root without any tmpfs, then with `--tmpfs /tmp`: ready ok, JSON-only output."""
    bare = _read_only(run, "ro")
    tmp = _read_only(run, "ro-tmp", "--tmpfs", "/tmp")  # noqa: S108 (a tmpfs in the container)
    return f"no tmpfs: {bare}; --tmpfs /tmp: {tmp}"


def other_port(run: Run) -> str:
    """7. PORT=9000: serves there and the HEALTHCHECK follows it."""
    container = run.lab.run("port", "-e", "PORT=9000", inner_port=9000)
    took = container.wait_ready()
    verdict = container.healthcheck()
    container.stop()
    expect(verdict == "healthy", f"ready on 9000 in {took:.1f} s but the HEALTHCHECK says {verdict}")
    return f"ready on 9000 in {took:.1f} s, healthcheck {verdict}"


def arbitrary_uid(run: Run) -> str:
    """8. `--user 12345:0` on a fresh volume: ready, and registration works."""
    # No passwd entry for the uid, as under Docker or Kubernetes (Podman would add one by default).
    container = run.lab.run("uid", "--user", "12345:0", "--passwd=false")
    took = container.wait_ready()
    register(container.base, run.email, run.password)
    container.stop()
    return f"ready in {took:.1f} s as 12345:0, registration ok"


def _failed_start(
    run: Run, label: str, *options: str, volume: str | None = None, secret: bool = True, mail_disabled: bool = True
) -> list[str]:
    """Start a container expected to refuse: (exit code, its output lines)."""
    container = run.lab.run(label, *options, volume=volume, inner_port=None, secret=secret, mail_disabled=mail_disabled)
    code = container.exit_code()
    return [str(code), *container.logs()]


def needs_secret(run: Run) -> str:
    """9. ENVIRONMENT=production without SECRET_KEY: non-zero exit, one line naming SECRET_KEY."""
    code, *lines = _failed_start(run, "nosecret", "-e", "ENVIRONMENT=production", secret=False)
    expect(code != "0" and lines == [SECRET_ERROR], f"exit {code}, output {lines[:4]}")
    return f"exit {code}: {lines[0]}"


def needs_relay(run: Run) -> str:
    """10. ENVIRONMENT=production without SMTP_URL (nor MAIL_DISABLED=true): one line naming SMTP_URL."""
    code, *lines = _failed_start(run, "norelay", mail_disabled=False)
    expect(code != "0" and lines == [RELAY_ERROR], f"exit {code}, output {lines[:4]}")
    return f"exit {code}: {lines[0]}"


def unwritable_data_dir(run: Run) -> str:
    """11. DATA_DIR not writable (uid 12345:12345 on a volume of 10001:0): exit 2, one clear line."""
    container = run.container()
    if container.running():
        container.stop()
    code, *lines = _failed_start(run, "nowrite", "--user", "12345:12345", volume=run.volume)
    expect(code == "2" and len(lines) == 1 and "DATA_DIR" in lines[0], f"exit {code}, output {lines[:4]}")
    return f"exit {code}: {lines[0]}"


CHECKS: list[Callable[[Run], str]] = [
    image_facts,
    starts_healthy,
    accounts_work,
    runs_as_uid,
    valkey_restarts,
    stops_and_restarts,
    read_only_root,
    other_port,
    arbitrary_uid,
    needs_secret,
    needs_relay,
    unwritable_data_dir,
]
