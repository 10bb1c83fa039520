"""The HTTP conventions of docs/design.md#http-conventions that are numbers or names, written once and free of Litestar
(the bench's framework-free ceiling uses them too)."""

from __future__ import annotations

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
PROBLEM_MEDIA_TYPE = "application/problem+json"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""The methods whose requests carry a body: the body checks and the body deadline apply to them."""
COMPRESS_FROM_BYTES = 1024  # gzip applies to bodies from this size on (when the client accepts it)
MAX_BODY_BYTES = 1_048_576
SMALL_BODY_BYTES = 4_096
"""The body cap of the auth and account routes: their bodies are a few short fields, and a refusal
must cost less than a login (OWASP API4:2023)."""
MAX_JSON_DEPTH = 32
"""The deepest a JSON body may nest (objects and arrays); request bodies use three levels at most."""
MAX_FORM_FIELDS = 16
"""The most fields a urlencoded form may have (the login form has six)."""


def size_text(size: int) -> str:
    """A byte count as people write it: `1 MiB`, `4 KiB`, `100 bytes`."""
    for unit, scale in (("MiB", 1_048_576), ("KiB", 1024)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"


MAX_BODY_TEXT = size_text(MAX_BODY_BYTES)
SMALL_BODY_TEXT = size_text(SMALL_BODY_BYTES)
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
