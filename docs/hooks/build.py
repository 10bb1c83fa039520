"""mkdocs hooks (mkdocs.yml `hooks:`): the pieces of tools/docsite, wired into the build.

- the deploy guides and the changelog (tools/docsite/links.py EXTRA_PAGES) become pages of the site;
- a line that is only a link titled "include" takes in the section of the file it names;
- every link written for the repository points at the site's page for the same file, and lists
  written as GitHub reads them are given the blank line and indentation Python-Markdown wants;
- docs/configuration.md's table gains each variable's default and values from the settings;
- a page with a Mermaid diagram loads the vendored Mermaid (docs/assets/mermaid), never a CDN.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
for entry in (ROOT, ROOT / "src"):  # tools.docsite and the settings it reads, however mkdocs is started
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from mkdocs.structure.files import File, Files  # noqa: E402
from mkdocs.utils import get_relative_url  # noqa: E402
from tools.docsite import configuration, links, lists  # noqa: E402

MERMAID = "assets/mermaid/mermaid.min.js"


def on_files(files: Files, config: Any) -> Files:
    """Add the guides that live beside the code."""
    for path in links.EXTRA_PAGES:
        files.append(File.generated(config, path, abs_src_path=str(ROOT / path)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """Includes, links, lists, and the configuration reference."""
    site_file = page.file.src_uri
    origin = links.repo_path(site_file)
    markdown = links.relink(markdown, origin, site_file)
    markdown = links.includes(markdown, origin, site_file, lambda path: (ROOT / path).read_text())
    if site_file == "configuration.md":
        markdown = configuration.render(markdown)
    return lists.github_lists(markdown)


def on_post_page(output: str, page: Any, config: Any) -> str:
    """Load Mermaid where a diagram is, before the theme looks for it (it would fetch it from a CDN)."""
    if 'class="mermaid"' not in output:
        return output
    script = f'<script src="{get_relative_url(MERMAID, page.url)}" defer></script>'
    return output.replace("</head>", f"{script}\n</head>", 1)
