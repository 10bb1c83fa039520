"""`just observe`: a local Prometheus (Debian's `prometheus` package) scraping a running `just serve`
with Storefront's alert rules loaded, so the SLO recording rules and the alerts evaluate against
real traffic. Development tooling: a worker never imports it.

    just serve            # one terminal
    just observe          # another: http://127.0.0.1:9090 (Alerts, Graph), data in DATA_DIR/prometheus
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from storefront.platform.addresses import loopback_for
from storefront.platform.files import write_private
from storefront.platform.settings import Settings, load_settings

RULES = Path(__file__).resolve().parents[1] / "deploy" / "observability" / "alerts.yml"
PORT = 9090  # Prometheus's own default
SCRAPE_SECONDS = 5


def target(settings: Settings) -> str:
    """Where `just serve` answers, as a local client reaches it."""
    return f"{loopback_for(settings.host)}:{settings.port}"


def config(settings: Settings, rules: Path = RULES) -> dict[str, object]:
    """Prometheus's configuration: scrape this Storefront's `/metrics` (its METRICS_TOKEN as a bearer
    token when it has one) every SCRAPE_SECONDS, and evaluate `rules` as often."""
    job: dict[str, object] = {
        "job_name": "storefront",
        "metrics_path": "/metrics",
        "static_configs": [{"targets": [target(settings)]}],
    }
    if settings.metrics_token:
        job["authorization"] = {"type": "Bearer", "credentials": settings.metrics_token}
    interval = f"{SCRAPE_SECONDS}s"
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(rules)],
        "scrape_configs": [job],
    }


def command(settings: Settings, port: int) -> list[str]:
    """The Prometheus command line, its configuration written (mode 0600: it may hold the token)
    under DATA_DIR/prometheus; Prometheus reads YAML, of which JSON is a subset."""
    folder = (settings.data_dir / "prometheus").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "prometheus.yml"
    write_private(path, json.dumps(config(settings), indent=2))
    return [
        "prometheus",
        f"--config.file={path}",
        f"--storage.tsdb.path={folder / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]


def main(argv: list[str] | None = None) -> int:
    """Run Prometheus in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="just observe", description=__doc__)
    parser.add_argument("--port", type=int, default=PORT, help=f"Prometheus's port (default {PORT})")
    args = parser.parse_args(argv)
    if shutil.which("prometheus") is None:
        print("just observe: prometheus is not installed: apt-get install prometheus (Debian/Ubuntu)", file=sys.stderr)
        return 2
    settings = load_settings()
    prometheus = command(settings, args.port)
    print(f"Prometheus on http://127.0.0.1:{args.port} (Alerts, Graph), scraping {target(settings)}/metrics")
    os.execvp(prometheus[0], prometheus)  # noqa: S606 - Debian's prometheus, found on PATH above
    return 0


if __name__ == "__main__":
    sys.exit(main())
