"""Text written for the repository, placed into the site. A link is written relative to the file its
text lives in, as GitHub reads it (`docs/scaling-out.md` in the README, `../deploy/README.md` in a
page); here each one is pointed at the same file in the site. Pages come from docs/ and from the
guides beside the code (EXTRA_PAGES); a link to anything else is left as written, and the strict
build names it."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable

DOCS = "docs"
# Guides that live beside what they describe and are pages of the site too, at the same path.
EXTRA_PAGES = ("deploy/README.md", "deploy/observability/README.md", "CHANGELOG.md")
_LINK = re.compile(r"\]\(([^()\s]+)\)")
_FENCE = re.compile(r"^(```|~~~)")
# A line that is only a link titled "include": GitHub shows the link, the site the text it names.
_INCLUDE = re.compile(r'^\[[^\]]*\]\(([^()\s#]+)(?:#(\S+))? "include"\)$', re.MULTILINE)


def site_path(repo_path: str) -> str | None:
    """Where a repository file is in the site's sources, or None when it is not a page."""
    if repo_path.startswith(f"{DOCS}/"):
        return repo_path.removeprefix(f"{DOCS}/")
    return repo_path if repo_path in EXTRA_PAGES else None


def repo_path(site_file: str) -> str:
    """The repository file a page of the site comes from."""
    return site_file if site_file in EXTRA_PAGES else f"{DOCS}/{site_file}"


def _relink(target: str, origin: str, page: str) -> str:
    """One link target, written in the repository file `origin`, as seen from the site page `page`."""
    if re.match(r"^[a-z][a-z0-9+.-]*:|^[#/]", target):
        return target  # a URL, an anchor on the same page, or a site-absolute path
    path, hash_, anchor = target.partition("#")
    site = site_path(posixpath.normpath(posixpath.join(posixpath.dirname(origin), path)))
    if site is None:
        return target
    if site == page:
        return f"#{anchor}" if anchor else "#"
    return posixpath.relpath(site, posixpath.dirname(page) or ".") + hash_ + anchor


def relink(markdown: str, origin: str, page: str) -> str:
    """Every link of `markdown` (outside fenced code), written in `origin`, pointed from `page`."""
    out, fenced = [], False
    for line in markdown.split("\n"):
        if _FENCE.match(line.lstrip()):
            fenced = not fenced
        if not fenced:
            line = _LINK.sub(lambda m: f"]({_relink(m.group(1), origin, page)})", line)
        out.append(line)
    return "\n".join(out)


def slug(heading: str) -> str:
    """A heading's anchor as GitHub and the site make it: `Quick start` → `quick-start`."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def section(markdown: str, anchor: str | None) -> str:
    """The body of the `## ` section with this anchor; with none, the text before the first `## `
    (without the file's `# ` title)."""
    parts = re.split(r"^## ", markdown, flags=re.MULTILINE)
    if anchor is None:
        return parts[0].split("\n", 1)[1].strip()
    for part in parts[1:]:
        title, _, body = part.partition("\n")
        if slug(title) == anchor:
            return body.strip()
    raise KeyError(f"no '## ' section #{anchor} to include")


def includes(markdown: str, origin: str, page: str, read: Callable[[str], str]) -> str:
    """Each include line (`[the README's recipes](../README.md#recipes "include")`, written in
    `origin`) replaced by the section it names, its links pointed from `page`; `read(repo_path)`
    gives a file's text."""

    def include(match: re.Match[str]) -> str:
        path, anchor = match.group(1), match.group(2)
        source = posixpath.normpath(posixpath.join(posixpath.dirname(origin), path))
        return relink(section(read(source), anchor), source, page)

    return _INCLUDE.sub(include, markdown)
