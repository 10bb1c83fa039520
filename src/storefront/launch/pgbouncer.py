"""PgBouncer (Debian's package) in transaction mode in front of one PostgreSQL: its config written
under a folder of DATA_DIR, run in the foreground as a child of the launcher, on a loopback port.
Clients authenticate with SCRAM-SHA-256 and a password generated at each start."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import pwd
import secrets
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from storefront.launch.children import Child, require
from storefront.platform.db import SESSION_SETTINGS
from storefront.platform.files import write_private

INSTALL_HINT = "apt-get install pgbouncer nginx (Debian/Ubuntu, as root)"
# PgBouncer refuses to run as root; as root, it runs as the user that runs the embedded PostgreSQL.
ROOT_USER = "embedded_postgres"
USERS_FILE = "users.txt"
SCRAM_ITERATIONS = 4096  # PostgreSQL's own default for its SCRAM secrets


def connect_query() -> str:
    """The session settings Storefront sends as startup parameters when it connects directly, run by
    PgBouncer on each new server connection instead (it forwards only a few startup parameters)."""
    return "; ".join(f"SET {name} = {value}" for name, value in SESSION_SETTINGS.items())


def scram_secret(password: str, salt: bytes | None = None) -> str:
    """The SCRAM-SHA-256 secret of `password` (RFC 5802/7677, as PostgreSQL stores it): what the
    auth file holds, so the password itself is never written there."""
    salt = salt or os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    stored_key = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    b64 = base64.b64encode
    return (
        f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt).decode()}${b64(stored_key).decode()}:{b64(server_key).decode()}"
    )


def config(target_dsn: str, port: int, folder: Path, pool_size: int, max_clients: int) -> str:
    """pgbouncer.ini: one database, `storefront`, pooled in transaction mode; clients on 127.0.0.1
    only, with the user's password checked by SCRAM-SHA-256 against the auth file."""
    parts = urlsplit(target_dsn)
    host = parse_qs(parts.query).get("host", [parts.hostname or "127.0.0.1"])[0]
    database = parts.path.lstrip("/") or "storefront"
    user = parts.username or "postgres"
    return f"""[databases]
{database} = host={host} port={parts.port or 5432} dbname={database} user={user} connect_query='{connect_query()}'

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {folder / USERS_FILE}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = {max_clients}
; no server_reset_query: in transaction mode no session state is left to reset
server_reset_query =
ignore_startup_parameters = extra_float_digits
log_connections = 0
log_disconnections = 0
"""


def pooled_url(target_dsn: str, port: int, password: str) -> str:
    """The DSN clients use to reach `target_dsn`'s database through PgBouncer on 127.0.0.1:port."""
    parts = urlsplit(target_dsn)
    user = parts.username or "postgres"
    return f"postgresql://{user}:{quote(password, safe='')}@127.0.0.1:{port}{parts.path or '/storefront'}"


class PgBouncer:
    """One PgBouncer process, its config in `folder`."""

    def __init__(self, folder: Path, target_dsn: str, port: int, pool_size: int = 40, max_clients: int = 2000) -> None:
        self.folder = folder
        self.port = port
        self.target_dsn = target_dsn
        self.password = secrets.token_urlsafe(32)
        self.url = pooled_url(target_dsn, port, self.password)
        self.pool_size, self.max_clients = pool_size, max_clients
        self.child: Child | None = None

    def start(self) -> str:
        """Write the config, start PgBouncer, wait until it listens; its URL for clients."""
        program = require("pgbouncer", INSTALL_HINT)
        self.folder.mkdir(parents=True, exist_ok=True)
        ini = self.folder / "pgbouncer.ini"
        ini.write_text(config(self.target_dsn, self.port, self.folder.resolve(), self.pool_size, self.max_clients))
        user = urlsplit(self.target_dsn).username or "postgres"
        write_private(self.folder / USERS_FILE, f'"{user}" "{scram_secret(self.password)}"\n')
        run_as = ROOT_USER if os.geteuid() == 0 else None
        if run_as is not None:
            entry = pwd.getpwnam(run_as)
            for path in (self.folder, ini, self.folder / USERS_FILE):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self.child = Child("pgbouncer", [program, str(ini)], self.folder / "pgbouncer.log", user=run_as)
        self.child.start()
        self.child.wait_port("127.0.0.1", self.port)
        return self.url

    def stop(self) -> None:
        """Stop PgBouncer (SIGTERM: it closes its connections and exits)."""
        if self.child is not None:
            self.child.stop(timeout=10)
            self.child = None
