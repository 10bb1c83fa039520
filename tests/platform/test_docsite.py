"""The documentation site's build pieces (tools/docsite): text written for GitHub — links relative
to their file, the README's sections, lists as GitHub reads them — comes out right in the site."""

from __future__ import annotations

import pytest
from tools.docsite.links import includes, relink
from tools.docsite.lists import github_lists


@pytest.mark.parametrize(
    ("target", "origin", "page", "seen"),
    [
        (
            "docs/scaling-out.md#the-multi-instance-tests",
            "README.md",
            "getting-started.md",
            "scaling-out.md#the-multi-instance-tests",
        ),
        ("deploy/README.md", "README.md", "index.md", "deploy/README.md"),
        (
            "../deploy/README.md#what-to-watch",
            "docs/observability.md",
            "observability.md",
            "deploy/README.md#what-to-watch",
        ),
        (
            "../docs/design.md#scale-out-topology",
            "deploy/README.md",
            "deploy/README.md",
            "../design.md#scale-out-topology",
        ),
        ("observability/README.md", "deploy/README.md", "deploy/README.md", "observability/README.md"),
        ("api.md#errors", "docs/design.md", "design.md", "api.md#errors"),
        ("docs/getting-started.md#recipes", "README.md", "getting-started.md", "#recipes"),
        (
            "../src/storefront/app.py",
            "docs/architecture.md",
            "architecture.md",
            "../src/storefront/app.py",
        ),  # not a page: the build says so
        ("https://docs.astral.sh/uv/", "README.md", "getting-started.md", "https://docs.astral.sh/uv/"),
        ("#errors", "docs/api.md", "api.md", "#errors"),
    ],
)
def test_a_link_points_at_the_same_file_in_the_site(target: str, origin: str, page: str, seen: str) -> None:
    assert relink(f"see [it]({target}).", origin, page) == f"see [it]({seen})."


def test_links_in_fenced_code_are_left_alone() -> None:
    text = "```md\n[x](docs/api.md)\n```\n[x](docs/api.md)"
    assert relink(text, "README.md", "index.md") == "```md\n[x](docs/api.md)\n```\n[x](api.md)"


def test_an_include_line_takes_in_the_section_it_names_with_its_links() -> None:
    readme = "# Shop\n\nThe intro.\n\n## Quick start\n\nRun it; see [Ops](docs/operations.md).\n\n## Recipes\n\nMore.\n"
    page = '# Start\n\n[The quick start](../README.md#quick-start "include")\n\n[Intro](../README.md "include")\n'
    out = includes(page, "docs/getting-started.md", "getting-started.md", {"README.md": readme}.__getitem__)
    assert out == "# Start\n\nRun it; see [Ops](operations.md).\n\nThe intro.\n"


def test_an_include_of_a_missing_section_fails() -> None:
    with pytest.raises(KeyError, match="#typed-clients"):
        includes(
            '[x](../README.md#typed-clients "include")', "docs/index.md", "index.md", lambda _: "# T\n\n## Recipes\n"
        )


def test_lists_written_for_github_get_what_python_markdown_needs() -> None:
    text = "The rules:\n- one\n  continued\n  - nested\n- two\n\nAfter.\n- again\n\n```\nx:\n- not a list\n```"
    assert github_lists(text) == (
        "The rules:\n\n- one\n  continued\n    - nested\n- two\n\nAfter.\n\n- again\n\n```\nx:\n- not a list\n```"
    )
