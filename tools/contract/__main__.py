"""`just contract`: schemathesis, every check and every phase (stateful included), against a
throwaway `storefront serve` on embedded PostgreSQL and Valkey: once anonymous, once as an admin.

Zero failures is the bar. A false positive is fixed in the schema; what cannot be expressed there is
excluded below, each with the reason.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import msgspec

from storefront.platform.migrations import apply_migrations
from tools.services import Services, live_server, mark_verified

ADMIN = ("contract-admin@example.com", "contract admin password")
CONFIG = Path(__file__).with_name("schemathesis.toml")
CHECKS = "all"
PHASES = "examples,coverage,fuzzing,stateful"
# As an admin: the run must keep its credentials. Logout revokes the session the token belongs to
# (whatever refresh token is sent), and a password change with the right current password is not
# what fuzzing is for; the anonymous run covers both operations (401 without a token).
ADMIN_EXCLUDED = ["POST /api/v1/auth/logout"]
CASES = re.compile(r"^\s*\d+ generated, (?P<passed>\d+) passed(?:, (?P<failed>\d+) failed)?")
# Schemathesis closes with a pytest-shaped rule ("=== 2 warnings in 10.85s ==="); CI reads such a line
# as a test runner that executed nothing, so it is relayed without the rule.
CLOSING = re.compile(r"^=+ (?P<text>.+ in [\d.]+s) =+$")


class Tally(msgspec.Struct):
    """Test cases schemathesis reported across the passes."""

    passed: int = 0
    failed: int = 0

    def line(self) -> str:
        """CI's plain closing line: "contract: N passed, N failed"."""
        return f"contract: {self.passed} passed, {self.failed} failed"


def _relay(command: list[str], tally: Tally) -> int:
    """Run schemathesis, print its output as it comes, count its test cases; its exit status."""
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        assert process.stdout is not None
        failed = 0
        for line in process.stdout:
            if cases := CASES.match(line):
                tally.passed += int(cases["passed"])
                failed = int(cases["failed"] or 0)
            if closing := CLOSING.match(line.rstrip("\n")):
                line = f"schemathesis: {closing['text']}\n"
            print(line, end="", flush=True)
    code = process.returncode
    tally.failed += max(failed, 1 if code else 0)
    return code


def _schemathesis(base: str, examples: int, seed: int | None, tally: Tally, *extra: str) -> int:
    command = [
        sys.executable, "-m", "tools.contract.schemathesis_cli", "--config-file", str(CONFIG), "run", f"{base}/openapi.json",
        "--checks", CHECKS,
        "--phases", PHASES,
        "--max-examples", str(examples),
        "--request-timeout", "10",
        "--workers", "2",
        "--no-color",
        "--suppress-health-check", "too_slow,filter_too_much",
        *(["--seed", str(seed)] if seed is not None else []),
        *extra,
    ]  # fmt: skip
    return _relay(command, tally)


def _admin_token(base: str) -> str:
    response = httpx.post(f"{base}/api/v1/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]}, timeout=30)
    response.raise_for_status()
    return str(response.json()["access_token"])


def main(argv: list[str] | None = None) -> int:
    """Start the services and the server, run both passes, stop everything; non-zero on any failure."""
    parser = argparse.ArgumentParser(prog="just contract", description=__doc__)
    parser.add_argument("--examples", type=int, default=100, help="test cases per operation and phase")
    parser.add_argument("--seed", type=int, help="reproduce a run")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="sf-contract-"))
    services = Services(root)
    tally = Tally()
    try:
        asyncio.run(apply_migrations(services.database_url))
        env = {"FIRST_ADMIN_EMAIL": ADMIN[0], "FIRST_ADMIN_PASSWORD": ADMIN[1]}
        env |= {"LOGIN_RATE_LIMIT_PER_MINUTE": "1000000", "REGISTER_RATE_LIMIT_PER_HOUR": "1000000"}
        with live_server(services, **env) as server:
            # The admin places orders in the second pass, which needs a verified email.
            asyncio.run(mark_verified(services.database_url, ADMIN[0]))
            print("contract: anonymous", flush=True)
            anonymous = _schemathesis(server.base, args.examples, args.seed, tally)
            print("contract: as an admin", flush=True)
            excluded = [option for operation in ADMIN_EXCLUDED for option in ("--exclude-name", operation)]
            bearer = f"Authorization: Bearer {_admin_token(server.base)}"
            admin = _schemathesis(server.base, args.examples, args.seed, tally, "-H", bearer, *excluded)
    finally:
        services.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(tally.line(), flush=True)
    return 1 if anonymous or admin else 0


if __name__ == "__main__":
    sys.exit(main())
