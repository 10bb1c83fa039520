"""The one way Storefront writes URLs, passwords and keys to disk."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, text: str, *, exclusive: bool = False) -> None:
    """Write a file only its owner may read or write (mode 0600, an existing file's mode included).
    `exclusive`: create it or raise FileExistsError, so two processes racing to make a key cannot
    both believe their own is the one kept."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(text)
