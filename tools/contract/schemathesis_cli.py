"""Schemathesis' command line, run with `ast.parse` taken one thread at a time.

CPython before 3.11.8 and 3.12.2 keeps the AST constructor's recursion depth in one place per
interpreter (gh-106905, fixed by python/cpython#113035). Two threads parsing at once (schemathesis'
`--workers`, with Hypothesis describing its filters from their source) can raise
`SystemError: AST constructor recursion depth mismatch`: a crash of the tool, not a finding about
the API. One lock around `ast.parse` keeps the parses apart; it costs nothing worth measuring.
"""

from __future__ import annotations

import ast
import threading
from typing import Any


def serialize_ast_parse() -> None:
    """Replace `ast.parse` with a version that lets one thread parse at a time."""
    parse = ast.parse
    if getattr(parse, "serialized", False):
        return
    lock = threading.Lock()

    def serialized_parse(*args: Any, **kwargs: Any) -> ast.AST:
        with lock:
            return parse(*args, **kwargs)

    serialized_parse.serialized = True  # type: ignore[attr-defined]
    ast.parse = serialized_parse  # type: ignore[assignment]


if __name__ == "__main__":
    serialize_ast_parse()
    import schemathesis.cli

    schemathesis.cli.schemathesis()
