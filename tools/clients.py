"""`just clients`: the typed clients in clients/, generated from the OpenAPI document the app serves.

- clients/python/: a package (attrs models, httpx) by openapi-python-client, pinned in the dev
  dependency group (hash-locked in requirements-dev.lock); its settings are
  clients/openapi-python-client.yaml.
- clients/typescript/src/client/: TypeScript (fetch, no runtime dependency) by @hey-api/openapi-ts,
  pinned with TypeScript in clients/typescript/package.json and its package-lock.json.

Both are committed, so a consumer takes them from a clone; `--check` (and the suite) regenerates
them elsewhere and fails unless the result is byte-identical.
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from litestar.serialization import encode_json

from storefront.app import create_app
from storefront.platform.settings import load_settings
from storefront.web.openapi import finish_openapi

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = ROOT / "clients"
PYTHON_CONFIG = CLIENTS / "openapi-python-client.yaml"
PYTHON_CLIENT = Path("python")
TYPESCRIPT = CLIENTS / "typescript"
TYPESCRIPT_CLIENT = Path("typescript/src/client")
LOCK = TYPESCRIPT / "package-lock.json"
STAMP = TYPESCRIPT / "node_modules" / ".lock-sha256"
IGNORED = {"__pycache__", ".ruff_cache"}
_PACKAGE_PAGE = re.compile(r"\{@link https://[^\s/]+/package/\S+ (`[^`]+`)\}")  # {@link <page> `name`}


def openapi_document() -> bytes:
    """The document as `GET /openapi.json` answers it: the app built (no server, no database), the
    document finished as at startup, encoded as the route encodes it."""
    with tempfile.TemporaryDirectory(prefix="sf-openapi-") as data_dir:
        environ = {"ENVIRONMENT": "test", "SECRET_KEY": "openapi-" * 8, "DATA_DIR": data_dir, "LOG_LEVEL": "WARNING"}
        # Addresses nothing listens on: building the app opens no connection.
        environ |= {"DATABASE_URL": "postgresql://openapi@127.0.0.1:9/openapi", "VALKEY_URL": "valkey://127.0.0.1:9/0"}
        app = create_app(load_settings(environ, dotenv=None)).app
        finish_openapi(app)
        return encode_json(app.openapi_schema.to_schema())


def _run(command: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> None:
    """Run a generator quietly; its output only when it fails."""
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"clients: {' '.join(command[:3])} … failed ({done.returncode})")


def generate_python(document: Path, output: Path) -> None:
    """openapi-python-client into `output` (replaced whole); its ruff hooks run with the dev ruff."""
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "RUFF_NO_CACHE": "true"}
    command = [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(document)]
    command += ["--output-path", str(output), "--config", str(PYTHON_CONFIG), "--meta", "uv"]
    _run([*command, "--overwrite", "--fail-on-warning"], env=env)


def strip_lock_urls() -> None:
    """Drop the `funding` links npm records in package-lock.json: the lock then names no URL at all
    (`.npmrc` already keeps registry addresses out of it); `npm ci` does not read them."""
    lock = json.loads(LOCK.read_text())
    packages = lock.get("packages", {}).values()
    if any("funding" in package for package in packages):
        for package in packages:
            package.pop("funding", None)
        LOCK.write_text(json.dumps(lock, indent=2) + "\n")


def node_modules() -> None:
    """`npm ci` in clients/typescript unless its node_modules was installed from this very lock."""
    if shutil.which("npm") is None:
        raise SystemExit("clients: npm is required (Node.js ≥ 20.19)")
    want = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    if STAMP.is_file() and STAMP.read_text() == want:
        return
    _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=TYPESCRIPT)
    STAMP.write_text(want)


def generate_typescript(document: Path, output: Path) -> None:
    """@hey-api/openapi-ts into `output` (replaced whole), with clients/typescript's toolchain; its
    doc comments' links to a package's registry page become the package's name (no committed file
    names a registry's host)."""
    node_modules()
    _run([str(TYPESCRIPT / "node_modules/.bin/openapi-ts"), "-i", str(document), "-o", str(output)], cwd=TYPESCRIPT)
    for path in output.rglob("*.ts"):
        text = path.read_text()
        if (unlinked := _PACKAGE_PAGE.sub(r"\1", text)) != text:
            path.write_text(unlinked)


def generate(root: Path, document: bytes) -> None:
    """Both clients from `document`, under `root` as under clients/."""
    with tempfile.TemporaryDirectory(prefix="sf-clients-") as work:
        path = Path(work) / "openapi.json"
        path.write_bytes(document)
        generate_python(path, root / PYTHON_CLIENT)
        generate_typescript(path, root / TYPESCRIPT_CLIENT)


def differences(left: Path, right: Path) -> list[str]:
    """Files that differ between two trees, or are in only one of them (caches aside)."""
    compared = filecmp.dircmp(left, right, ignore=[*IGNORED])
    found = [str(left / name) for name in [*compared.left_only, *compared.right_only, *compared.funny_files]]
    _, mismatch, errors = filecmp.cmpfiles(left, right, compared.common_files, shallow=False)
    found += [str(left / name) for name in [*mismatch, *errors]]
    for name in compared.common_dirs:
        found += differences(left / name, right / name)
    return found


def stale(document: bytes) -> list[str]:
    """What regenerating from `document` would change in clients/ (empty when it is up to date)."""
    with tempfile.TemporaryDirectory(prefix="sf-clients-check-") as fresh:
        generate(Path(fresh), document)
        found: list[str] = []
        for client in (PYTHON_CLIENT, TYPESCRIPT_CLIENT):
            if not (CLIENTS / client).is_dir():
                found.append(str(CLIENTS / client))
            else:
                found += differences(CLIENTS / client, Path(fresh) / client)
        return found


def main(argv: list[str] | None = None) -> int:
    """Generate the clients (or, with --check, say whether they are current)."""
    parser = argparse.ArgumentParser(prog="just clients", description=__doc__)
    parser.add_argument("--check", action="store_true", help="regenerate elsewhere; fail if clients/ differs")
    parser.add_argument("--document", type=Path, help="generate from this OpenAPI document, not the app's")
    args = parser.parse_args(argv)
    document = args.document.read_bytes() if args.document else openapi_document()
    if args.check:
        found = stale(document)
        for path in found:
            print(f"clients: out of date: {Path(path).relative_to(ROOT)}")
        return 1 if found else 0
    strip_lock_urls()  # after an `npm install` that changed the lock
    generate(CLIENTS, document)
    print(f"clients: wrote clients/{PYTHON_CLIENT} and clients/{TYPESCRIPT_CLIENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
