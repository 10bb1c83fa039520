"""Settings are parsed once, typed, and fail fast with a line naming the variable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tools.docsite import configuration

import storefront
from storefront.platform.settings import SettingsError, load_settings, variable_names

SRC = str(Path(storefront.__file__).resolve().parents[1])


def _load(tmp_path: Path, **env: str) -> object:
    return load_settings({"DATA_DIR": str(tmp_path), **env}, dotenv=None)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "eighty"),
        ("PORT", "70000"),
        ("WORKERS", "0"),
        ("ENVIRONMENT", "staging"),
        ("DOCS_ENABLED", "perhaps"),
        ("DATABASE_URL", "mysql://x"),
        ("VALKEY_URL", "http://x"),
        ("TRUSTED_PROXIES", "10.0.0.0/33"),
        ("LOG_LEVEL", "LOUD"),
        ("RATE_LIMIT_PER_MINUTE", "-1"),
        ("DB_POOL_MIN", "5x"),
        ("DB_PGBOUNCER", "statement"),
        ("MIGRATIONS_DATABASE_URL", "mysql://x"),
    ],
)
def test_invalid_value_names_the_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        _load(tmp_path, **{name: value})


def test_pool_max_below_min_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="DB_POOL_MAX"):
        _load(tmp_path, DB_POOL_MIN="5", DB_POOL_MAX="2")


def test_a_transaction_pooler_needs_a_direct_connection_for_migrations(tmp_path: Path) -> None:
    pooled = {"DATABASE_URL": "postgresql://pgbouncer:6432/shop", "DB_PGBOUNCER": "transaction"}
    with pytest.raises(SettingsError, match="MIGRATIONS_DATABASE_URL is required when DB_PGBOUNCER=transaction"):
        _load(tmp_path, **pooled)
    settings = _load(tmp_path, **pooled, MIGRATIONS_DATABASE_URL="postgresql://db:5432/shop")
    assert settings.direct_database_url == "postgresql://db:5432/shop"  # type: ignore[attr-defined]
    assert _load(tmp_path, DATABASE_URL="postgresql://db/shop").direct_database_url == "postgresql://db/shop"  # type: ignore[attr-defined]


def test_production_requires_a_strong_secret(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY is required"):
        _load(tmp_path, ENVIRONMENT="production")
    with pytest.raises(SettingsError, match="at least 32 bytes"):
        _load(tmp_path, ENVIRONMENT="production", SECRET_KEY="short")
    settings = _load(tmp_path, ENVIRONMENT="production", SECRET_KEY="k" * 32, MAIL_DISABLED="true")
    assert settings.auth.secret_key == "k" * 32  # type: ignore[attr-defined]


def test_production_refuses_a_short_metrics_token(tmp_path: Path) -> None:
    production = {"ENVIRONMENT": "production", "SECRET_KEY": "k" * 32, "MAIL_DISABLED": "true"}
    with pytest.raises(SettingsError, match="^METRICS_TOKEN must be at least 32 bytes in production$"):
        _load(tmp_path, **production, METRICS_TOKEN="é" * 15 + "x")  # 31 bytes
    assert _load(tmp_path, **production, METRICS_TOKEN="é" * 16).metrics_token == "é" * 16  # type: ignore[attr-defined]
    assert _load(tmp_path, METRICS_TOKEN="short").metrics_token == "short"  # type: ignore[attr-defined]


def test_development_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = _load(tmp_path).auth.secret_key  # type: ignore[attr-defined]
    second = _load(tmp_path).auth.secret_key  # type: ignore[attr-defined]
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_defaults_and_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text('# comment\nPORT=9001\nexport CORS_ORIGINS="https://a.example, https://b.example"\n')
    settings = load_settings({"DATA_DIR": str(tmp_path), "PORT": "9002"}, dotenv=dotenv)
    assert settings.port == 9002  # the environment wins over .env
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert (settings.host, settings.workers, settings.limits.per_minute) == ("127.0.0.1", 1, 600)
    assert settings.auth.access_ttl_seconds == 900


def test_the_configuration_reference_documents_every_variable_once() -> None:
    page = (Path(SRC).parent / "docs" / "configuration.md").read_text()
    assert sorted(configuration.documented(page)) == sorted(variable_names())
    rendered = configuration.render(page)  # what the docs build shows: each row with its default
    rows = [line for line in rendered.split("\n") if line.startswith("| `")]
    assert all(line.count(" | ") == 2 for line in rows)
    assert "| `SESSION_MAX_AGE_SECONDS` | `7776000` (90 days) | a login session's" in rendered
    assert "<small>integer, 60 … 315\u202f360\u202f000</small> |" in rendered


def test_the_configuration_reference_refuses_a_variable_missing_or_unknown() -> None:
    page = (Path(SRC).parent / "docs" / "configuration.md").read_text()
    with pytest.raises(configuration.DriftError, match="not documented: DRAIN_SECONDS"):
        configuration.render("\n".join(line for line in page.split("\n") if "`DRAIN_SECONDS`" not in line))
    with pytest.raises(configuration.DriftError, match="documented but not a setting: NOT_A_SETTING"):
        configuration.render(page.replace("| `LOG_LEVEL` |", "| `LOG_LEVEL` / `NOT_A_SETTING` |"))


def test_cli_reports_a_bad_setting_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "storefront", "migrate", "--status"],
        env={"PORT": "nope", "DATA_DIR": str(tmp_path), "PYTHONPATH": SRC},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "storefront: configuration error: PORT must be an integer, got 'nope'"
    ]
