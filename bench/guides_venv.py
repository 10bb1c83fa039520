"""The guides' stack's own venv (FastAPI, SQLAlchemy, uvicorn: never in the main one), made on
demand from its hash-pinned lock."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from bench.infra import ROOT, StartFailed

GUIDES_LOCK = ROOT / "bench" / "requirements-guides.lock"
GUIDES_VENV = ROOT / ".venv-guides"


def lock_digest(lock: Path) -> str:
    """The SHA-256 of a lock file, as the justfile's `_venv` records it."""
    return hashlib.sha256(lock.read_bytes()).hexdigest()


def ensure_venv(venv: Path = GUIDES_VENV, lock: Path = GUIDES_LOCK) -> bool:
    """Create or refresh `venv` from the hash-pinned `lock` (`uv venv`, `uv pip sync --require-hashes`)
    on this interpreter's Python; a no-op while the SHA-256 it records is the lock's, as the justfile's
    `_venv`. True when it had to install."""
    want = lock_digest(lock)
    stamp = venv / ".lock-sha256"
    python = venv / "bin" / "python"
    with contextlib.suppress(OSError):
        if python.exists() and stamp.read_text().strip() == want:
            return False
    uv = shutil.which("uv")
    if uv is None:
        raise StartFailed(f"uv is required to create {venv.name}: python -m pip install uv")
    for command in (
        [uv, "venv", "-q", "--allow-existing", "--python", sys.executable, str(venv)],
        [uv, "pip", "sync", "-q", "--python", str(python), "--require-hashes", str(lock)],
    ):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise StartFailed(f"{' '.join(command[1:3])} for {venv.name} failed:\n{done.stderr[-2000:]}")
    stamp.write_text(want + "\n")
    return True
