"""`just bench --profile`: py-spy's collapsed stacks split by layer, and a real recording with its flame graph."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from bench.infra import ROOT
from bench.options import parse_args
from bench.profile import Profile, Recorder, layer_of, xml_safe

SITE = "/venv/lib/python3.11/site-packages"
RAW = f"""\
run (/usr/lib/python3.11/asyncio/runners.py:1);__call__ ({SITE}/litestar/app.py:2) 3
run (/usr/lib/python3.11/asyncio/runners.py:1);handle ({ROOT}/src/storefront/web/context.py:3) 5
run (/usr/lib/python3.11/asyncio/runners.py:1);_do_execute ({SITE}/asyncpg/connection.py:4) 2
garbage without a count
"""


def test_frames_belong_to_the_layer_of_their_file() -> None:
    assert layer_of(f"{SITE}/litestar/routes/http.py") == "litestar"
    assert layer_of(f"{ROOT}/src/storefront/catalog/service.py") == "storefront"
    assert layer_of(f"{ROOT}/bench/ceiling.py") == "bench app"
    assert layer_of("/usr/lib/python3.11/asyncio/events.py") == "asyncio"
    assert layer_of(f"{SITE}/uvloop/__init__.py") == "asyncio"
    assert layer_of(f"{SITE}/msgspec/__init__.py") == "third-party"
    assert layer_of("/usr/lib/python3.11/copy.py") == "stdlib"


def test_samples_count_for_their_innermost_frame() -> None:
    profile = Profile()
    profile.add_collapsed(RAW)
    assert profile.samples == 10
    assert profile.shares() == {"storefront": 50.0, "litestar": 30.0, "asyncpg": 20.0}
    summary = profile.summary("storefront", cpu_us=200.0)
    assert "storefront 50 % (100 µs)" in summary
    assert "litestar 30 % (60 µs)" in summary
    assert profile.as_dict()["top_functions_percent"]["storefront: handle (context.py)"] == 50.0


def test_a_flame_graph_loses_the_characters_xml_forbids() -> None:
    svg = b"<svg><g><title>(\x00\x00\x00:1641744832) (1 samples)</title></g>\n\t</svg>"
    assert xml_safe(svg) == b"<svg><g><title>(:1641744832) (1 samples)</title></g>\n\t</svg>"


def test_profile_is_an_option() -> None:
    assert parse_args(["--profile"]).profile
    assert not parse_args([]).profile


def test_a_recording_of_a_busy_process_finds_its_function(tmp_path: Path) -> None:
    script = tmp_path / "busy.py"
    script.write_text("import time\ndef spin():\n    while True:\n        sum(range(1000))\nspin()\n")
    busy = subprocess.Popen([sys.executable, str(script)])
    try:
        time.sleep(1.0)  # py-spy needs the interpreter loaded
        profile = Recorder([busy.pid], 1, tmp_path / "busy.collapsed.txt").finish()
    finally:
        busy.kill()
        busy.wait()
    assert profile.samples > 0
    assert any("spin" in name for name in profile.functions)
    assert (tmp_path / "busy.collapsed.txt").read_text()
    assert profile.flamegraphs == ["busy-worker1.svg"]  # each worker's, beside the raw stacks
    assert "spin" in (tmp_path / "busy-worker1.svg").read_text()


def test_a_checkout_in_a_folder_named_storefront_still_splits_by_package() -> None:
    venv = "/home/someone/storefront/.venv/lib/python3.11/site-packages"
    assert layer_of(f"{venv}/litestar/routes/http.py") == "litestar"
    assert layer_of(f"{venv}/asyncpg/connection.py") == "asyncpg"
    assert layer_of("/home/someone/storefront/bench/ceiling.py") != "storefront"
