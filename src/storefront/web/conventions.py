"""The HTTP conventions of DESIGN §3 that are numbers or names, written once and free of Litestar
(the bench's framework-free ceiling uses them too)."""

from __future__ import annotations

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
PROBLEM_MEDIA_TYPE = "application/problem+json"
MAX_BODY_BYTES = 1_048_576
MAX_BODY_TEXT = f"{MAX_BODY_BYTES // 1_048_576} MiB"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
