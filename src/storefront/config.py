"""Settings: read once from the environment (and an optional `.env`), typed, validated, failing fast."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import msgspec

Environment = Literal["development", "production", "test"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

MIN_SECRET_BYTES = 32
SECRET_FILE = "secret_key"


class SettingsError(ValueError):
    """A configuration value is missing or invalid; the message names the variable."""


class AuthSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Token signing and lifetimes."""

    secret_key: str
    access_ttl_seconds: int = 900
    refresh_ttl_seconds: int = 2_592_000
    issuer: str = "storefront"
    audience: str = "storefront-api"


class LimitSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Rate limits (token buckets: a burst of N refilled at N per window); 0 turns a limit off."""

    per_minute: int = 600
    login_per_minute: int = 5
    register_per_hour: int = 10
    trusted_proxies: tuple[Network, ...] = ()


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Every setting of the service, grouped; built once by `load_settings`."""

    environment: Environment = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    data_dir: Path = Path(".data")
    database_url: str | None = None
    valkey_url: str | None = None
    db_pool_min: int = 2
    db_pool_max: int = 10
    first_admin_email: str | None = None
    first_admin_password: str | None = None
    cors_origins: tuple[str, ...] = ()
    metrics_token: str | None = None
    log_level: LogLevel = "INFO"
    docs_enabled: bool = True
    auth: AuthSettings
    limits: LimitSettings = LimitSettings()

    @property
    def is_production(self) -> bool:
        """True when running with `ENVIRONMENT=production`."""
        return self.environment == "production"


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a `.env` file: `KEY=VALUE` lines, `#` comments, optional quotes around values."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


class _Env:
    """Typed accessors over one merged mapping; each error names the variable."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values

    def text(self, name: str, default: str | None = None) -> str | None:
        value = str(self.values.get(name, "")).strip()
        return value or default

    def integer(self, name: str, default: int, low: int = 0, high: int = 2**31) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
        if not low <= value <= high:
            raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.text(name)
        if raw is None:
            return default
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off"}:
            return False
        raise SettingsError(f"{name} must be true or false, got {raw!r}")

    def choice(self, name: str, default: str, choices: tuple[str, ...], upper: bool = False) -> str:
        raw: str = self.text(name, default) or default
        value = raw.upper() if upper else raw.lower()
        if value not in choices:
            raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
        return value

    def url(self, name: str, schemes: tuple[str, ...]) -> str | None:
        raw = self.text(name)
        if raw is not None and not raw.startswith(tuple(f"{s}://" for s in schemes)):
            raise SettingsError(f"{name} must start with {' or '.join(s + '://' for s in schemes)}")
        return raw

    def csv(self, name: str) -> tuple[str, ...]:
        raw = self.text(name) or ""
        return tuple(part.strip() for part in raw.split(",") if part.strip())

    def networks(self, name: str) -> tuple[Network, ...]:
        try:
            return tuple(ipaddress.ip_network(part, strict=False) for part in self.csv(name))
        except ValueError as exc:
            raise SettingsError(f"{name} must be comma-separated IPs or CIDRs: {exc}") from None


def _secret_key(env: _Env, environment: str, data_dir: Path) -> str:
    """The JWT key: required and strong in production; generated once and kept in DATA_DIR otherwise."""
    key = env.text("SECRET_KEY")
    if key is not None:
        if environment == "production" and len(key.encode()) < MIN_SECRET_BYTES:
            raise SettingsError(f"SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes in production")
        return key
    if environment == "production":
        raise SettingsError("SECRET_KEY is required when ENVIRONMENT=production")
    path = data_dir / SECRET_FILE
    if path.is_file():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def load_settings(environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Settings:
    """Build the settings from `environ` (default: the process environment) over an optional `.env`."""
    merged = {**(read_dotenv(dotenv) if dotenv else {}), **(os.environ if environ is None else environ)}
    env = _Env(merged)
    environment = env.choice("ENVIRONMENT", "development", ("development", "production", "test"))
    data_dir = Path(env.text("DATA_DIR", ".data") or ".data")
    pool_min = env.integer("DB_POOL_MIN", 2, 1, 1000)
    pool_max = env.integer("DB_POOL_MAX", 10, 1, 1000)
    if pool_max < pool_min:
        raise SettingsError(f"DB_POOL_MAX ({pool_max}) must be at least DB_POOL_MIN ({pool_min})")
    return Settings(
        environment=environment,  # type: ignore[arg-type]
        host=env.text("HOST", "127.0.0.1") or "127.0.0.1",
        port=env.integer("PORT", 8000, 1, 65535),
        workers=env.integer("WORKERS", 1, 1, 256),
        data_dir=data_dir,
        database_url=env.url("DATABASE_URL", ("postgresql", "postgres")),
        valkey_url=env.url("VALKEY_URL", ("valkey", "valkeys", "redis", "rediss", "unix")),
        db_pool_min=pool_min,
        db_pool_max=pool_max,
        first_admin_email=env.text("FIRST_ADMIN_EMAIL"),
        first_admin_password=env.text("FIRST_ADMIN_PASSWORD"),
        cors_origins=env.csv("CORS_ORIGINS"),
        metrics_token=env.text("METRICS_TOKEN"),
        log_level=env.choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"), upper=True),  # type: ignore[arg-type]
        docs_enabled=env.boolean("DOCS_ENABLED", True),
        auth=AuthSettings(
            secret_key=_secret_key(env, environment, data_dir),
            access_ttl_seconds=env.integer("ACCESS_TOKEN_TTL_SECONDS", 900, 1, 86_400),
            refresh_ttl_seconds=env.integer("REFRESH_TOKEN_TTL_SECONDS", 2_592_000, 60, 31_536_000),
        ),
        limits=LimitSettings(
            per_minute=env.integer("RATE_LIMIT_PER_MINUTE", 600, 0, 10**9),
            login_per_minute=env.integer("LOGIN_RATE_LIMIT_PER_MINUTE", 5, 0, 10**9),
            register_per_hour=env.integer("REGISTER_RATE_LIMIT_PER_HOUR", 10, 0, 10**9),
            trusted_proxies=env.networks("TRUSTED_PROXIES"),
        ),
    )
