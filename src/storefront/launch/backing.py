"""The one bring-up `serve` and `cluster` share: hold DATA_DIR, start the backing services the
settings do not name (the embedded PostgreSQL and Valkey, the development mail sink), save their
URLs for the other commands (`just psql`, `just mail`), and undo all of it, in reverse, on the way out."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from storefront.launch.datadir import forget_urls, save_urls, take_lock
from storefront.launch.embedded import EmbeddedPostgres, EmbeddedValkey
from storefront.launch.mailsink import MAIL_DIR, MailSink
from storefront.platform.settings import Settings

log = logging.getLogger("storefront.launcher")


@dataclass(frozen=True)
class Backends:
    """Where the backing services answer: DATABASE_URL as configured (or the embedded server's), the
    direct connection beside it (MIGRATIONS_DATABASE_URL when DATABASE_URL is a pooler), Valkey, and
    the SMTP relay (None when mail is disabled)."""

    database_url: str
    direct_url: str
    valkey_url: str
    smtp_url: str | None


def smtp_url(settings: Settings, sink: MailSink) -> str | None:
    """SMTP_URL; without it (never in production), the local sink's: mail lands in DATA_DIR/mail/."""
    mail = settings.mail
    if mail.smtp_url or mail.mail_disabled:
        return mail.smtp_url
    url = sink.start()
    log.info("SMTP_URL is unset: mail goes to a local sink (`just mail` lists it)", extra={"dir": str(sink.directory)})
    return url


@contextmanager
def backing_services(settings: Settings, valkey_password: str | None = None) -> Iterator[Backends]:
    """Hold DATA_DIR (AlreadyRunning if another launcher does) and bring up what the settings leave
    unset; an embedded Valkey requires `valkey_password` when one is given. Everything stops when
    the block ends, however it ends: the mail sink, Valkey, PostgreSQL, then the lock."""
    data_dir = settings.data_dir
    with ExitStack() as stack:
        stack.callback(take_lock(data_dir).close)
        postgres = EmbeddedPostgres(data_dir)
        stack.callback(postgres.stop)
        valkey = EmbeddedValkey(data_dir, password=valkey_password)
        stack.callback(valkey.stop)
        sink = MailSink(data_dir / MAIL_DIR)
        stack.callback(sink.stop)
        database_url = settings.database_url or postgres.start(watch=True)
        backends = Backends(
            database_url=database_url,
            direct_url=settings.migrations_database_url or database_url,
            valkey_url=settings.valkey_url or valkey.start(),
            smtp_url=smtp_url(settings, sink),
        )
        stack.callback(forget_urls, data_dir)
        save_urls(data_dir, {"database_url": backends.database_url, "valkey_url": backends.valkey_url})
        yield backends
