"""The cluster's parts that need no cluster: a missing program is one line with the install command,
and a child is stopped with its whole process group."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from storefront.launch.children import Child, ChildError, require
from tests.support.services import SRC


def test_a_missing_program_names_the_install_command() -> None:
    with pytest.raises(ChildError, match=r"^no-such-server is not installed: apt-get install it$"):
        require("no-such-server", "apt-get install it")


def test_stop_takes_the_childs_own_children_with_it(tmp_path: Path) -> None:
    script = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    child = Child("sleeper", [sys.executable, "-c", script], tmp_path / "sleeper.log")
    child.start()
    assert child.pid is not None
    deadline = time.monotonic() + 10
    while not psutil.Process(child.pid).children():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    grandchild = psutil.Process(child.pid).children()[0]
    child.stop(timeout=5)
    assert not child.alive()
    grandchild.wait(timeout=5)  # gone with its group


def test_a_cluster_of_no_instance_is_refused_in_one_line(tmp_path: Path) -> None:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": SRC, "DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "storefront", "cluster", "0"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "storefront: a cluster needs at least 1 instance"
