"""`pip install .` gives a working `storefront` command that finds its SQL files: the wheel is built
(hatchling, `[build-system]` in pyproject.toml), installed into a fresh venv and run from there; a
checkout keeps reading `sql/` and `pyproject.toml` at its root."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from storefront.platform import migrations, project

ROOT = Path(__file__).resolve().parents[2]
# What uv says when it cannot get the build backend (no index reachable, nothing cached).
UNFETCHABLE = "Failed to resolve requirements from `build-system.requires`"
# Run inside the installed venv: where its storefront found its files, and what it found there.
REPORT = """
import json
from storefront.platform import migrations, project, sql
print(json.dumps({
    "package": str(project.PACKAGE_DIR),
    "installed": project.INSTALLED,
    "sql": str(project.SQL_DIR),
    "version": project.version(),
    "migrations": {m.version: m.checksum for m in migrations.discover()},
    "queries": sorted(path.name for path in sql.QUERIES_DIR.glob("*.sql")),
}))
"""


def _uv() -> str:
    uv = shutil.which("uv")
    assert uv, "uv is required (the justfile's _venv installs .venv with it)"
    return uv


def _build_wheel(out: Path) -> Path:
    """The project's wheel in `out`: with the index if it answers, else from uv's cache."""
    command = [_uv(), "build", "--wheel", "--quiet", "--python", sys.executable, "--out-dir", str(out), str(ROOT)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode:
        result = subprocess.run([*command, "--offline"], capture_output=True, text=True, timeout=120, check=False)
    if result.returncode and UNFETCHABLE in result.stderr:
        pytest.skip(f"the build backend (hatchling) cannot be fetched or found in uv's cache: {result.stderr[-400:]}")
    assert result.returncode == 0, result.stderr
    (wheel,) = out.glob("storefront-*.whl")
    return wheel


def _venv_with(wheel: Path, venv: Path) -> Path:
    """A fresh venv holding the wheel alone; its dependencies are the running interpreter's, reached
    through a .pth file (installing them again would take minutes and the network)."""
    subprocess.run([_uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    subprocess.run(
        [_uv(), "pip", "install", "--quiet", "--no-deps", "--python", str(python), str(wheel)], check=True, timeout=60
    )
    own = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout.strip()  # fmt: skip
    deps = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (Path(own) / "_storefront_test_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    return venv


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the freshly built wheel installed."""
    base = tmp_path_factory.mktemp("wheel")
    return _venv_with(_build_wheel(base / "dist"), base / "venv")


def _run(venv: Path, *command: str | Path) -> subprocess.CompletedProcess[str]:
    """Run in the venv, away from the checkout: no PYTHONPATH to src/, the venv as the working dir."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=venv, timeout=60, check=False)


def test_the_installed_command_runs(venv: Path) -> None:
    result = _run(venv, venv / "bin" / "storefront", "--help")
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout
    assert "migrate" in result.stdout


def test_the_installed_package_finds_its_sql_and_version(venv: Path) -> None:
    result = _run(venv, venv / "bin" / "python", "-c", REPORT)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    package = Path(found["package"])
    assert package.is_relative_to(venv), "storefront was imported from the checkout, not the wheel"
    assert found["installed"] is True
    assert Path(found["sql"]) == package / "sql"
    # The same bytes as the checkout's: a database migrated from either is current for the other.
    assert found["migrations"] == {migration.version: migration.checksum for migration in migrations.discover()}
    assert found["queries"] == sorted(path.name for path in (ROOT / "sql" / "queries").glob("*.sql"))
    with (ROOT / "pyproject.toml").open("rb") as fh:
        assert found["version"] == tomllib.load(fh)["project"]["version"]


def test_a_checkout_reads_its_root() -> None:
    assert project.INSTALLED is False
    assert project.SQL_DIR == ROOT / "sql"
    with (ROOT / "pyproject.toml").open("rb") as fh:
        assert project.version() == tomllib.load(fh)["project"]["version"]
