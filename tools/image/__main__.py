"""`just image-test` (`python -m tools.image`): set up rootful Podman as this project's machines need
it, build the image, run every check against it (one ✓/✗ line each), remove what the run created;
non-zero on any ✗. `python -m tools.image build` (`just image`) only builds, with docker when its
daemon answers.

Each phase prints its time. A run from a fresh machine takes a few minutes, most of it the
debootstrap of the stand-in base image (cached for the next run).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tools.image import engine as engines
from tools.image.checks import CHECKS, Run
from tools.image.container import Lab
from tools.image.engine import TAG, Engine

# The image's parts worth knowing when it grows.
PARTS = ["/opt/venv", "/usr", "/app", "/var", "/etc"]


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Print how long the phase took, even when it fails."""
    began = time.monotonic()
    try:
        yield
    finally:
        print(f"── {name}: {time.monotonic() - began:.1f} s", flush=True)


def prepare(engine: Engine) -> None:
    """Make the Containerfile's base images available (Podman: pulled, or the Debian stand-in)."""
    if engine.name != "podman":
        return
    for image in engines.base_images():
        print(f"base {image}: {engines.ensure_base(engine, image)}", flush=True)


def describe(engine: Engine) -> None:
    """Print the image's size and what takes the room inside it."""
    size = engines.image_size(engine)
    du = engine.run("run", "--rm", "--entrypoint", "du", TAG, "-xsh", *PARTS, check=False).stdout.split()
    parts = ", ".join(f"{path} {amount}" for amount, path in zip(du[::2], du[1::2], strict=True))
    print(f"image {TAG}: {size / 1e6:.0f} MB ({parts})", flush=True)


def build(engine: Engine) -> None:
    """Base images, then the build, each timed."""
    with phase("base image"):
        prepare(engine)
    with phase(f"build ({engine.name})"):
        engines.build(engine)
    describe(engine)


def run_check(check: Callable[[Run], str], run: Run) -> bool:
    """Run one check and print its ✓/✗ line; True when it held."""
    title = (check.__doc__ or check.__name__).splitlines()[0]
    began = time.monotonic()
    try:
        detail = check(run)
    except Exception as exc:
        print(f"✗ {title} [{time.monotonic() - began:.1f} s]\n    {type(exc).__name__}: {exc}", flush=True)
        return False
    print(f"✓ {title} [{time.monotonic() - began:.1f} s]\n    {detail}", flush=True)
    return True


def check_all(engine: Engine) -> int:
    """Every check on a fresh lab, which is removed afterwards; the number that failed."""
    run = Run(Lab(engine))
    try:
        results = [run_check(check, run) for check in CHECKS]
    finally:
        with phase("cleanup"):
            run.lab.cleanup()
    failed = results.count(False)
    print(f"image: {len(results) - failed} passed, {failed} failed", flush=True)
    return failed


def image_test() -> int:
    """Set up Podman, build, check, clean up; the exit status."""
    ip_forward = engines.IP_FORWARD.read_text().strip() if engines.IP_FORWARD.exists() else ""
    with phase("podman set-up"):
        engine = engines.setup_podman()
    try:
        build(engine)
        failed = check_all(engine)
    except subprocess.CalledProcessError as exc:
        print(f"✗ {' '.join(map(str, exc.cmd[:3]))} failed ({exc.returncode}): {(exc.stderr or '').strip()[-500:]}")
        failed = 1
    finally:
        if engine.installed_here:
            with phase("podman reset (installed by this run)"):
                engines.reset_podman(engine, ip_forward)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """`build` (just image) or `test` (just image-test, the default)."""
    parser = argparse.ArgumentParser(prog="python -m tools.image", description=__doc__)
    parser.add_argument("command", nargs="?", choices=["build", "test"], default="test")
    args = parser.parse_args(argv)
    began = time.monotonic()
    if args.command == "build":
        with phase("engine"):
            engine = engines.pick_engine()
        build(engine)
        if engine.name == "podman":
            print(f"run it with CONTAINERS_CONF={engines.cache_dir() / 'containers.conf'} podman run …")
        status = 0
    else:
        status = image_test()
    print(f"── total: {time.monotonic() - began:.1f} s", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
