"""The contract run's schemathesis survives threads parsing source at once (CPython gh-106905)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Two threads at different stack depths parse in a loop while a GC callback hands the GIL over in
# the middle of building an AST: on CPython 3.11.7 this raised "AST constructor recursion depth
# mismatch" within a few parses, as it did in CI's contract run.
RACE = textwrap.dedent(
    """
    import ast, gc, threading, time
    from tools.contract.schemathesis_cli import serialize_ast_parse

    serialize_ast_parse()
    source = "\\n".join(f"x{i} = [{', '.join(map(str, range(30)))}]" for i in range(400))
    errors = []
    gc.callbacks.append(lambda phase, info: time.sleep(0))

    def nested(depth, fn):
        return fn() if depth == 0 else nested(depth - 1, fn)

    def parse_often(depth):
        try:
            for _ in range(30):
                nested(depth, lambda: ast.parse(source))
        except SystemError as error:
            errors.append(str(error))

    threads = [threading.Thread(target=parse_often, args=(depth,)) for depth in (5, 40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(errors or "clean")
    """
)


def test_threads_parsing_at_once_do_not_crash() -> None:
    result = subprocess.run(
        [sys.executable, "-c", RACE], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "clean", result.stdout


def test_the_lock_is_installed_once() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import ast\nfrom tools.contract.schemathesis_cli import serialize_ast_parse\n"
         "serialize_ast_parse(); first = ast.parse; serialize_ast_parse()\nprint(ast.parse is first)"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert result.stdout.strip() == "True"
