"""A request worker is the app and what it imports: never the launcher's package (process
supervision) nor the development mail sink (aiosmtpd). `just lint` holds the same rule statically;
this proves it on what Granian's worker really loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import storefront

LOADED = """
import json, sys
import storefront.app
print(json.dumps(sorted(sys.modules)))
"""


def test_importing_the_app_loads_no_launch_module_and_no_aiosmtpd() -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(storefront.__file__).parents[1])}
    out = subprocess.run([sys.executable, "-c", LOADED], env=env, check=True, capture_output=True, text=True).stdout
    modules = json.loads(out)
    assert "storefront.app" in modules
    assert [m for m in modules if m == "storefront.launch" or m.startswith("storefront.launch.")] == []
    assert [m for m in modules if m.split(".")[0] == "aiosmtpd"] == []
