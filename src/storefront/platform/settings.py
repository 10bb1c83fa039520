"""Settings: read once from the environment (and an optional `.env`), typed, validated, failing fast.

Every variable is a field below, written once: its name (the field's, upper-cased, unless a `name`
says otherwise), its type, its bounds (`Meta`) and its default. `load_settings` hands the raw
strings to `msgspec.convert` and words any error as one line that names the variable.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, field

from storefront.platform.addresses import LOOPBACK, Networks, loopback_for
from storefront.platform.environ import SettingsError as SettingsError  # the settings' error, raised here too
from storefront.platform.environ import explain, field_types, groups, read_dotenv, section, variables_for
from storefront.platform.files import write_private

Environment = Literal["development", "production", "test"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
PoolSize = Annotated[int, Meta(ge=1, le=1000)]
Rate = Annotated[int, Meta(ge=0, le=10**9, description="0 turns the limit off")]
PoolerMode = Literal["off", "transaction"]
DatabaseUrl = Annotated[str, Meta(pattern=r"^postgres(ql)?://", description="a postgresql:// or postgres:// URL")]
ValkeyUrl = Annotated[
    str,
    Meta(
        pattern=r"^(valkeys?|rediss?|unix)://",
        description="a valkey://, valkeys://, redis://, rediss:// or unix:// URL",
    ),
]
SmtpUrl = Annotated[
    str,
    Meta(
        pattern=r"^smtps?://[^/?#\s]+$",
        description="an smtp://[user:password@]host[:port] (STARTTLS) or smtps://… (TLS) URL",
    ),
]
MailFrom = Annotated[
    str,
    Meta(
        pattern=r"^(?:[^<>\r\n]*<[^@\s<>]+@[^@\s<>]+>|[^@\s<>]+@[^@\s<>]+)$",
        description="one address, such as 'Shop <no-reply@example.com>'",
    ),
]
PublicUrl = Annotated[
    str,
    Meta(pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$", description="an http:// or https:// URL without query"),
]
OtlpUrl = Annotated[
    str,
    Meta(
        pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$", description="an http:// or https:// URL (a collector's OTLP/HTTP)"
    ),
]

MIN_SECRET_BYTES = 32
SECRET_FILE = "secret_key"


class AuthSettings(msgspec.Struct, frozen=True, kw_only=True, rename="upper"):
    """Token signing and lifetimes, and how much password hashing may wait."""

    secret_key: str
    access_ttl_seconds: Annotated[int, Meta(ge=1, le=86_400)] = field(default=900, name="ACCESS_TOKEN_TTL_SECONDS")
    refresh_ttl_seconds: Annotated[int, Meta(ge=60, le=31_536_000)] = field(
        default=2_592_000, name="REFRESH_TOKEN_TTL_SECONDS"
    )
    # The absolute end of a login session (ASVS V7.3.2): rotation never carries it further.
    session_max_age_seconds: Annotated[int, Meta(ge=60, le=315_360_000)] = 7_776_000
    password_hash_queue: Annotated[int, Meta(ge=0, le=10_000)] = 32


class LimitSettings(msgspec.Struct, frozen=True, kw_only=True, rename="upper"):
    """Rate limits (token buckets: a burst of N refilled at N per window); 0 turns a limit off."""

    per_minute: Rate = field(default=600, name="RATE_LIMIT_PER_MINUTE")
    login_per_minute: Rate = field(default=5, name="LOGIN_RATE_LIMIT_PER_MINUTE")
    register_per_hour: Rate = field(default=10, name="REGISTER_RATE_LIMIT_PER_HOUR")
    password_reset_per_hour: Rate = field(default=5, name="PASSWORD_RESET_RATE_LIMIT_PER_HOUR")
    verify_email_per_hour: Rate = field(default=5, name="VERIFY_EMAIL_RATE_LIMIT_PER_HOUR")
    login_account_per_hour: Rate = field(default=100, name="LOGIN_ACCOUNT_RATE_LIMIT_PER_HOUR")
    mail_recipient_per_hour: Rate = field(default=10, name="MAIL_RECIPIENT_RATE_LIMIT_PER_HOUR")
    email_change_per_hour: Rate = field(default=3, name="EMAIL_CHANGE_RATE_LIMIT_PER_HOUR")
    ipv6_prefix_length: Annotated[int, Meta(ge=32, le=128)] = 64
    trusted_proxies: Networks = Networks()


class ServerSettings(msgspec.Struct, frozen=True, kw_only=True, rename="upper"):
    """What a connection may hold of the server (docs/design.md#resilience-contract): idle and trickling
    clients time out, and one worker keeps up to `max_connections` open before new ones wait in the
    backlog."""

    backlog: Annotated[int, Meta(ge=128, le=65535)] = 4096
    max_connections: Annotated[int, Meta(ge=16, le=1_000_000)] = 8192
    header_timeout_seconds: Annotated[int, Meta(ge=1, le=60)] = 10
    body_timeout_seconds: Annotated[int, Meta(ge=1, le=3600)] = 15
    drain_seconds: Annotated[float, Meta(ge=0, le=300)] = 0.5


class CacheSettings(msgspec.Struct, frozen=True, kw_only=True, rename="upper"):
    """Each worker's read cache (items, the popular list, the caller of a session), kept coherent
    by PostgreSQL's notifications (storefront/platform/readcache.py); `READ_CACHE=off` reads the
    database every time, as before the cache."""

    read_cache: bool = True
    read_cache_max_entries: Annotated[int, Meta(ge=100, le=10_000_000)] = 100_000
    read_cache_max_mb: Annotated[int, Meta(ge=1, le=65_536)] = 64


class MailSettings(msgspec.Struct, frozen=True, kw_only=True, rename="upper"):
    """Outgoing mail (docs/design.md#email-and-the-outbox): the SMTP relay, the sender, the base of
    links, delivery retries.

    With SMTP_URL unset outside production, `serve` starts a local sink that keeps every message as
    an `.eml` file under DATA_DIR/mail/; production refuses to start without it unless MAIL_DISABLED.
    """

    smtp_url: SmtpUrl | None = None
    mail_from: MailFrom = "Storefront <no-reply@localhost>"
    public_base_url: PublicUrl | None = None
    mail_disabled: bool = False
    mail_max_attempts: Annotated[int, Meta(ge=1, le=100)] = 12
    mail_retry_base_seconds: Annotated[float, Meta(ge=0.01, le=3600)] = 10.0
    smtp_timeout_seconds: Annotated[int, Meta(ge=1, le=300)] = 30

    @property
    def sender(self) -> Address:
        """MAIL_FROM as an address (display name and addr-spec)."""
        name, addr = parseaddr(self.mail_from)
        username, _, domain = addr.partition("@")
        return Address(display_name=name, username=username, domain=domain)


class TracingSettings(msgspec.Struct, frozen=True, kw_only=True, rename="upper"):
    """OpenTelemetry traces (storefront/platform/tracing.py), off unless OTEL_EXPORTER_OTLP_ENDPOINT
    names a collector; the SDK reads the other standard OTEL_* variables (sampler, headers, resource
    attributes, batching) from the process environment."""

    otel_exporter_otlp_endpoint: OtlpUrl | None = None
    otel_service_name: Annotated[str, Meta(min_length=1, max_length=255)] = "storefront"


class Settings(msgspec.Struct, frozen=True, kw_only=True, rename="upper"):
    """Every setting of the service, grouped; built once by `load_settings`."""

    environment: Environment = "development"
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535)] = 8000
    workers: Annotated[int, Meta(ge=1, le=256)] = 1
    data_dir: Path = Path(".data")
    database_url: DatabaseUrl | None = None
    migrations_database_url: DatabaseUrl | None = None
    db_pgbouncer: PoolerMode = "off"
    valkey_url: ValkeyUrl | None = None
    db_pool_min: PoolSize = 2
    db_pool_max: PoolSize = 10
    db_timeout_seconds: Annotated[int, Meta(ge=1, le=300)] = 5
    first_admin_email: str | None = None
    first_admin_password: str | None = None
    cors_origins: tuple[str, ...] = ()
    metrics_token: str | None = None
    log_level: LogLevel = "INFO"
    docs_enabled: bool = True
    auth: AuthSettings
    limits: LimitSettings = LimitSettings()
    server: ServerSettings = ServerSettings()
    cache: CacheSettings = CacheSettings()
    mail: MailSettings = MailSettings()
    tracing: TracingSettings = TracingSettings()

    @property
    def is_production(self) -> bool:
        """True when running with `ENVIRONMENT=production`."""
        return self.environment == "production"

    @property
    def direct_database_url(self) -> str | None:
        """A direct (not pooled) connection to PostgreSQL, for migrations and anything needing a
        session (advisory locks across statements, LISTEN): MIGRATIONS_DATABASE_URL, else DATABASE_URL."""
        return self.migrations_database_url or self.database_url

    @property
    def metrics_enabled(self) -> bool:
        """`/metrics` is served in development, and in production only behind METRICS_TOKEN."""
        return not self.is_production or self.metrics_token is not None


def _decode_custom(kind: type, value: Any) -> Any:
    if kind is Path:
        return Path(value)
    if kind is Networks:
        try:
            return Networks.parse(value)
        except ValueError as exc:
            raise ValueError(f"must be comma-separated IPs or CIDRs: {exc}") from None
    raise NotImplementedError(kind)


def variable_names() -> list[str]:
    """Every environment variable the settings read."""
    return [name for group in groups(Settings).values() for name in field_types(group)]


def environment(values: Mapping[str, object]) -> dict[str, str]:
    """The environment variables that give settings these values, by attribute path
    (`{"database_url": …, "auth.secret_key": …}` → `{"DATABASE_URL": …, "SECRET_KEY": …}`), so a
    launcher handing settings to a child never spells a variable's name; None leaves one out."""
    return variables_for(Settings, values)


def _check_mail(settings: Settings) -> MailSettings:
    """Production needs a relay (or MAIL_DISABLED) and the public URL of the links; elsewhere
    PUBLIC_BASE_URL defaults to this server's address."""
    mail = settings.mail
    if settings.is_production and not mail.mail_disabled:
        if mail.smtp_url is None:
            raise SettingsError("SMTP_URL is required when ENVIRONMENT=production (or set MAIL_DISABLED=true)")
        if mail.public_base_url is None:
            raise SettingsError("PUBLIC_BASE_URL is required when ENVIRONMENT=production (links in mail use it)")
    if mail.public_base_url is None:
        host = "localhost" if loopback_for(settings.host) == LOOPBACK else settings.host
        return msgspec.structs.replace(mail, public_base_url=f"http://{host}:{settings.port}")
    return msgspec.structs.replace(mail, public_base_url=mail.public_base_url.rstrip("/"))


def _secret_key(given: str | None, environment: str, data_dir: Path) -> str:
    """The JWT key: required and strong in production; generated once and kept in DATA_DIR otherwise."""
    if given is not None:
        if environment == "production" and len(given.encode()) < MIN_SECRET_BYTES:
            raise SettingsError(f"SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes in production")
        return given
    if environment == "production":
        raise SettingsError("SECRET_KEY is required when ENVIRONMENT=production")
    path = data_dir / SECRET_FILE
    try:
        if path.is_file():
            return path.read_text().strip()
        data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        write_private(path, key, exclusive=True)
    except OSError as exc:
        raise SettingsError(f"SECRET_KEY is unset and DATA_DIR={data_dir} cannot keep one: {exc.strerror}") from None
    return key


def _check_metrics_token(settings: Settings) -> None:
    """In production METRICS_TOKEN is a secret like SECRET_KEY: as long, or it is refused."""
    token = settings.metrics_token
    if settings.is_production and token is not None and len(token.encode()) < MIN_SECRET_BYTES:
        raise SettingsError(f"METRICS_TOKEN must be at least {MIN_SECRET_BYTES} bytes in production")


def load_settings(environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Settings:
    """Build the settings from `environ` (default: the process environment) over an optional `.env`.

    An empty variable counts as unset. The secret is resolved last, once everything else is valid,
    so a bad value never leaves a generated key behind.
    """
    merged = {**(read_dotenv(dotenv) if dotenv else {}), **(os.environ if environ is None else environ)}
    values = {name: str(value).strip() for name, value in merged.items() if str(value).strip()}
    given_secret = values.get("SECRET_KEY")
    raw = {key: section(group, values) for key, group in groups(Settings, "encode_name").items() if key}
    raw.update(section(Settings, values))
    raw["AUTH"]["SECRET_KEY"] = given_secret or ""
    try:
        settings = msgspec.convert(raw, Settings, strict=False, dec_hook=_decode_custom)
    except msgspec.ValidationError as exc:
        raise explain(exc, values, groups(Settings, "encode_name").values()) from None
    if settings.db_pool_max < settings.db_pool_min:
        raise SettingsError(
            f"DB_POOL_MAX ({settings.db_pool_max}) must be at least DB_POOL_MIN ({settings.db_pool_min})"
        )
    if settings.db_pgbouncer == "transaction" and not settings.migrations_database_url:
        raise SettingsError(
            "MIGRATIONS_DATABASE_URL is required when DB_PGBOUNCER=transaction: migrations hold a session-level "
            "advisory lock, which a transaction pooler cannot keep; give them a direct connection to PostgreSQL"
        )
    secret = _secret_key(given_secret, settings.environment, settings.data_dir)
    _check_metrics_token(settings)
    mail = _check_mail(settings)  # after the secret: its production error comes first
    return msgspec.structs.replace(settings, auth=msgspec.structs.replace(settings.auth, secret_key=secret), mail=mail)
