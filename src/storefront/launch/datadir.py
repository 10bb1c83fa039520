"""DATA_DIR: held by one `serve` at a time, the URLs it saves for other commands, and a process
environment in which the embedded servers can run anywhere: a read-only root filesystem, an
arbitrary uid without a passwd entry (OpenShift), a missing HOME."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import IO

from storefront.platform.files import write_private

log = logging.getLogger("storefront.datadir")
URLS_FILE = "urls.json"
LOCK_FILE = "serve.lock"
# Where Debian (and the image) put nss_wrapper, which lends a passwd entry to a uid that has none.
NSS_WRAPPER = ("/usr/lib/x86_64-linux-gnu/libnss_wrapper.so", "/usr/lib/aarch64-linux-gnu/libnss_wrapper.so")


class DataDirError(RuntimeError):
    """DATA_DIR cannot be used; the message says why in one line."""


class AlreadyRunning(RuntimeError):
    """Another `serve` holds DATA_DIR."""


def take_lock(data_dir: Path) -> IO[str]:
    """Hold DATA_DIR exclusively for this process (released when it exits)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = (data_dir / LOCK_FILE).open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise AlreadyRunning(
            f"another `storefront serve` is already running on DATA_DIR={data_dir}; stop it first "
            "or set DATA_DIR to another folder"
        ) from None
    return handle


def is_serving(data_dir: Path) -> bool:
    """True when a `serve` process holds DATA_DIR right now."""
    try:
        take_lock(data_dir).close()
    except AlreadyRunning:
        return True
    return False


def save_urls(data_dir: Path, urls: dict[str, str]) -> None:
    """Write the effective URLs for other commands (mode 0600)."""
    write_private(data_dir / URLS_FILE, json.dumps(urls))


def saved_urls(data_dir: Path) -> dict[str, str]:
    """The URLs the running `serve` saved, or {}."""
    try:
        return dict(json.loads((data_dir / URLS_FILE).read_text()))
    except (OSError, ValueError):
        return {}


def forget_urls(data_dir: Path) -> None:
    """Remove the saved URLs (the servers behind them are stopping)."""
    with contextlib.suppress(FileNotFoundError):
        (data_dir / URLS_FILE).unlink()


def prepare(data_dir: Path) -> None:
    """Make DATA_DIR usable by this process and the servers it starts, or DataDirError: it exists and
    is writable; HOME, a runtime directory and a temporary directory exist (inside DATA_DIR when the
    usual ones are missing or read-only); a uid without a passwd entry borrows one (nss_wrapper), as
    `initdb` refuses to run without it."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / ".writable"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise DataDirError(
            f"DATA_DIR={data_dir} is not writable by uid {os.getuid()} (gid {os.getgid()}): {exc.strerror}"
        ) from None
    run = _private_dir(data_dir / "run")
    if not _writable(os.environ.get("HOME")):
        os.environ["HOME"] = str(data_dir.resolve())
    if not _writable(os.environ.get("XDG_RUNTIME_DIR")):
        os.environ["XDG_RUNTIME_DIR"] = str(run)
    if not _has_usable_tempdir():
        os.environ["TMPDIR"] = str(_private_dir(data_dir / "tmp"))
        tempfile.tempdir = None  # recomputed from TMPDIR on next use
    _lend_passwd_entry(run)


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, exist_ok=True)
    return path.resolve()


def _writable(path: str | None) -> bool:
    return bool(path) and os.path.isdir(path) and os.access(path, os.W_OK | os.X_OK)  # type: ignore[arg-type]


def _has_usable_tempdir() -> bool:
    try:
        tempfile.gettempdir()
    except FileNotFoundError:  # "No usable temporary directory found"
        return False
    return _writable(tempfile.gettempdir())


def _lend_passwd_entry(run: Path) -> None:
    """For a uid with no passwd entry, preload nss_wrapper with a passwd file that names it."""
    import pwd

    uid, gid = os.getuid(), os.getgid()
    try:
        pwd.getpwuid(uid)
        return
    except KeyError:
        pass
    library = next((path for path in NSS_WRAPPER if os.path.exists(path)), None)
    if library is None:
        log.warning("uid has no passwd entry and nss_wrapper is not installed: initdb will refuse", extra={"uid": uid})
        return
    passwd, group = run / "passwd", run / "group"
    passwd.write_text(f"storefront:x:{uid}:{gid}:Storefront:{os.environ['HOME']}:/sbin/nologin\n")
    group.write_text(f"storefront:x:{gid}:\n")
    os.environ.update(LD_PRELOAD=library, NSS_WRAPPER_PASSWD=str(passwd), NSS_WRAPPER_GROUP=str(group))
