"""nginx (Debian's package) load-balancing Storefront instances: its config written under a folder of
DATA_DIR, run in the foreground (`daemon off`) as a child of the launcher."""

from __future__ import annotations

import signal
from pathlib import Path

from storefront.launch.children import Child, require
from storefront.launch.pgbouncer import INSTALL_HINT
from storefront.platform.addresses import LOOPBACK, loopback_for

# nginx's address on its upstream connections: the instances trust X-Forwarded-For from it alone.
UPSTREAM_SOURCE = LOOPBACK
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def config(folder: Path, listen: str, upstreams: list[str], header_timeout: int) -> str:
    """nginx.conf: one `server` on `listen` proxying to every upstream (round robin, kept-alive
    connections). nginx is the edge: it *replaces* X-Forwarded-For with the peer's address, so a value
    a client forged never reaches the instances. A refused or reset connection before any answer moves
    the request to the next instance (an instance stopping); a POST that reached an instance is never
    sent twice. The bounds follow docs/operations.md, "what a reverse proxy should add"; upstream keep-alive
    connections idle less than the instances' HEADER_TIMEOUT_SECONDS, so nginx never reuses one an
    instance is closing."""
    servers = "\n".join(f"        server {address} max_fails=1 fail_timeout=2s;" for address in upstreams)
    temp = "\n".join(f"    {name}_temp_path {folder / 'tmp' / name};" for name in TEMP_PATHS)
    keepalive = max(1, min(header_timeout - 1, 5))
    return f"""daemon off;
worker_processes auto;
pid {folder / "nginx.pid"};
error_log stderr warn;

events {{
    worker_connections 8192;
}}

http {{
    access_log off;
{temp}
    server_tokens off;
    client_header_timeout 10s;
    client_body_timeout 10s;
    keepalive_timeout 15s;
    send_timeout 10s;
    reset_timedout_connection on;
    large_client_header_buffers 4 16k;
    # Above Storefront's 1 MiB, so it answers 413 in its own problem+json.
    client_max_body_size 2m;

    upstream storefront {{
{servers}
        keepalive 64;
        keepalive_timeout {keepalive}s;
    }}

    server {{
        listen {listen} backlog=4096;
        location / {{
            proxy_pass http://storefront;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            # Storefront continues the trace context of a trusted proxy only: a client's must not
            # pass through this one as if it were ours (it would choose what is sampled).
            proxy_set_header traceparent "";
            proxy_set_header tracestate "";
            proxy_bind {UPSTREAM_SOURCE};
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 3;
        }}
    }}
}}
"""


def listen_address(host: str, port: int) -> str:
    """`host:port` as nginx's `listen` takes it (IPv6 in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Nginx:
    """One nginx process, its config and temp files in `folder`."""

    def __init__(self, folder: Path, host: str, port: int, upstreams: list[str], header_timeout: int = 10) -> None:
        self.folder, self.host, self.port, self.upstreams = folder.resolve(), host, port, upstreams
        self.header_timeout = header_timeout
        self.child: Child | None = None

    def start(self) -> None:
        """Write the config, check it (`nginx -t`), start nginx and wait until it listens."""
        program = require("nginx", INSTALL_HINT)
        for name in TEMP_PATHS:
            (self.folder / "tmp" / name).mkdir(parents=True, exist_ok=True)
        conf = self.folder / "nginx.conf"
        listen = listen_address(self.host, self.port)
        conf.write_text(config(self.folder, listen, self.upstreams, self.header_timeout))
        argv = [program, "-p", str(self.folder), "-c", str(conf), "-e", "stderr"]
        self.child = Child("nginx", argv, self.folder / "nginx.log")
        self.child.start()
        self.child.wait_port(loopback_for(self.host), self.port)

    def stop(self) -> None:
        """Stop nginx gracefully (SIGQUIT: no new connections, in-flight requests finish)."""
        if self.child is not None:
            self.child.stop(timeout=15, signum=signal.SIGQUIT)
            self.child = None
