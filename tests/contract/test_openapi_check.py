"""`just openapi-check` in a throwaway git repository: which version it compares with, and the
CHANGELOG.md lines that acknowledge a breaking change."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tools.openapi.changelog import acknowledged
from tools.openapi.check import check, default_base

REMOVED = "removed operation: DELETE /items"
CHANGELOG = """# Changelog

How to acknowledge a breaking change (an example, not an acknowledgement):

```markdown
### Breaking
- `{key}` — why
```

## [Unreleased]

### Added
- `{key}` is named here, outside a Breaking subsection

## [0.1.0] - 2026-01-01

### Added
- Items.
"""
ACKNOWLEDGED = CHANGELOG.replace("## [Unreleased]\n", "## [Unreleased]\n\n### Breaking\n- `{key}` — use PATCH.\n")


def contract(*methods: str) -> dict[str, Any]:
    return {"openapi": "3.1.0", "paths": {"/items": {method: {"responses": {"200": {}}} for method in methods}}}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{name}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{name}_EMAIL", "test@example.com")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    git(tmp_path, "init", "-q")
    return tmp_path


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def commit(root: Path, message: str, document: dict[str, Any] | None = None, changelog: str | None = None) -> None:
    if document is not None:
        (root / "openapi.json").write_text(json.dumps(document))
    if changelog is not None:
        (root / "CHANGELOG.md").write_text(changelog.replace("{key}", REMOVED))
    (root / "notes.txt").write_text(message)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def test_acknowledgements_are_backticked_keys_in_a_versions_breaking_subsection() -> None:
    assert acknowledged(CHANGELOG.replace("{key}", REMOVED)) == set()
    text = ACKNOWLEDGED.replace("{key}", REMOVED)
    assert acknowledged(text) == {REMOVED}
    released = text.replace("## [Unreleased]", "## [Unreleased]\n\n## [0.2.0] - 2026-02-01")
    assert acknowledged(released) == {REMOVED}  # still acknowledged once released


def test_nothing_to_compare_without_an_earlier_version(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "openapi.json").write_text(json.dumps(contract("get", "delete")))
    assert default_base(repo) is None  # not committed yet
    assert check(None, repo) == 0
    commit(repo, "first", contract("get", "delete"))
    assert default_base(repo) is None  # the root commit has no parent
    assert check(None, repo) == 0
    assert "nothing to compare" in capsys.readouterr().out


def test_an_unacknowledged_break_fails_and_prints_the_line_to_add(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit(repo, "first", contract("get", "delete"), CHANGELOG)
    commit(repo, "drop delete", contract("get"))
    assert check(None, repo) == 1
    out = capsys.readouterr().out
    assert f"MISSING {REMOVED}" in out
    assert f"- `{REMOVED}` — " in out


def test_an_acknowledged_break_passes_and_stays_checked_after_later_commits(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit(repo, "first", contract("get", "delete"), CHANGELOG)
    commit(repo, "drop delete", contract("get"), ACKNOWLEDGED)
    commit(repo, "unrelated")
    dropped = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--short", "HEAD~1"], capture_output=True, text=True
    ).stdout
    assert default_base(repo) == f"{dropped.strip()}^"
    assert check(None, repo) == 0  # the contract's last change, though HEAD~1 has the same file
    assert f"ok      {REMOVED}" in capsys.readouterr().out
    commit(repo, "forget it", changelog=CHANGELOG)
    assert check(None, repo) == 1


def test_uncommitted_work_is_checked_against_head_and_a_base_can_be_named(repo: Path) -> None:
    commit(repo, "first", contract("get", "delete", "post"), CHANGELOG)
    commit(repo, "drop post", contract("get", "delete"))
    (repo / "openapi.json").write_text(json.dumps(contract("get", "delete", "patch")))
    assert default_base(repo) == "HEAD"
    assert check(None, repo) == 0  # HEAD had no post either: only an addition since
    assert check("HEAD~1", repo) == 1  # post is gone since the first commit
    assert check("no-such-revision", repo) == 2  # a mistyped base is an error, not a pass
