"""Lists as GitHub reads them, for Python-Markdown: GitHub starts a list right after a paragraph's
line and nests an item indented by two spaces; Python-Markdown wants a blank line before a list
and four spaces per level. The site's pages are written for GitHub, so the build adapts them."""

from __future__ import annotations

import re

_ITEM = re.compile(r"^( *)(?:[-*+]|\d+\.) ")
_FENCE = re.compile(r"^ *(```|~~~)")


def _nest(indent: int, levels: list[int]) -> int:
    """The nesting level of an item indented by `indent` spaces; `levels` holds the open ones."""
    while levels and indent < levels[-1]:
        levels.pop()
    if not levels or indent > levels[-1]:
        levels.append(indent)
    return len(levels) - 1


def github_lists(markdown: str) -> str:
    """The page with a blank line before each list that follows a paragraph's line, and nested
    items at four spaces a level."""
    out: list[str] = []
    fenced, in_list, levels = False, False, []
    for line in markdown.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        item = None if fenced else _ITEM.match(line)
        if item:
            if not in_list and out and out[-1].strip() and not out[-1].startswith("|"):
                out.append("")
            indent = len(item.group(1))
            line = "    " * _nest(indent, levels) + line[indent:]
            in_list = True
        elif not line.strip():
            in_list = in_list and not fenced  # a blank line may sit inside an item
        elif not fenced and in_list and not line.startswith(" ") and (not out or not out[-1].strip()):
            in_list, levels = False, []  # a paragraph after a blank line ends the list
        out.append(line)
    return "\n".join(out)
