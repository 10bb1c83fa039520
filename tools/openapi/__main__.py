"""`just openapi`: write openapi.json, the contract `just test` holds the served document to."""

from __future__ import annotations

from tools.openapi import DOCUMENT, ROOT
from tools.openapi.document import write


def main() -> None:
    """Regenerate the committed document."""
    document = write()
    print(
        f"wrote {DOCUMENT.relative_to(ROOT)}: {len(document.get('paths', {}))} paths, version {document['info']['version']}"
    )


if __name__ == "__main__":
    main()
