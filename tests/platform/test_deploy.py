"""deploy/kubernetes says what the app reads: real variable names and valid values, the probes the
ops endpoints serve, a grace period past the drain, and the hardening every pod keeps. The schemas
themselves are `just validate-deploy`'s (kubernetes-validate)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from storefront.launch.serve import KILL_TIMEOUT_SECONDS
from storefront.platform.settings import load_settings, variable_names

MANIFESTS = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
# Settings that other issue-14 branches add; drop each name once it is in `variable_names()`.
SECRETS = {
    "SECRET_KEY",
    "DATABASE_URL",
    "MIGRATIONS_DATABASE_URL",
    "VALKEY_URL",
    "SMTP_URL",
    "METRICS_TOKEN",
    "FIRST_ADMIN_EMAIL",
    "FIRST_ADMIN_PASSWORD",
}


def _documents() -> list[dict[str, Any]]:
    return [doc for path in sorted(MANIFESTS.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def _of(kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [d for d in _documents() if d["kind"] == kind and name in (None, d["metadata"]["name"])]


def _storefront_pods() -> list[dict[str, Any]]:
    """The pod specs that run the Storefront image: the API's Deployment and the migration Job."""
    return [_of("Deployment", "storefront")[0]["spec"]["template"]["spec"], _of("Job")[0]["spec"]["template"]["spec"]]


def _env(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry for container in pod["containers"] for entry in container.get("env", [])]


def test_every_variable_is_a_setting() -> None:
    known = set(variable_names())
    for pod in _storefront_pods():
        unknown = {entry["name"] for entry in _env(pod)} - known
        assert not unknown, f"not settings: {sorted(unknown)}"


# What the Secret would hold, in the shape each variable takes.
SAMPLE_SECRETS = {
    "SECRET_KEY": "k" * 32,
    "DATABASE_URL": "postgresql://storefront:pw@pgbouncer:5432/storefront",
    "MIGRATIONS_DATABASE_URL": "postgresql://storefront:pw@postgres:5432/storefront",
    "VALKEY_URL": "valkey://valkey:6379/0",
    "SMTP_URL": "smtps://user:pw@smtp.example.com:465",
    "METRICS_TOKEN": "m" * 32,
    "FIRST_ADMIN_EMAIL": "admin@example.com",
    "FIRST_ADMIN_PASSWORD": "correct horse battery",
}


def test_the_manifests_environment_is_valid_settings(tmp_path: Path) -> None:
    for pod in _storefront_pods():
        env = {
            entry["name"]: entry["value"] if "value" in entry else SAMPLE_SECRETS[entry["name"]] for entry in _env(pod)
        }
        settings = load_settings({**env, "DATA_DIR": str(tmp_path)}, dotenv=None)
        assert settings.is_production


def test_secrets_come_from_the_secret_and_migrations_skip_the_pooler() -> None:
    for pod in _storefront_pods():
        refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in _env(pod) if "valueFrom" in e}
        assert {ref["name"] for ref in refs.values()} == {"storefront"}
        assert set(refs) <= SECRETS
        assert {ref["key"] for ref in refs.values()} <= SECRETS
    job_refs = {
        e["name"]: e["valueFrom"]["secretKeyRef"]["key"] for e in _env(_storefront_pods()[1]) if "valueFrom" in e
    }
    assert job_refs["DATABASE_URL"] == "MIGRATIONS_DATABASE_URL"


def test_one_worker_per_pod_and_a_grace_period_past_the_drain() -> None:
    pod = _storefront_pods()[0]
    env = {entry["name"]: entry.get("value") for entry in _env(pod)}
    assert env["WORKERS"] == "1"
    assert pod["terminationGracePeriodSeconds"] > float(env["DRAIN_SECONDS"]) + KILL_TIMEOUT_SECONDS + 1


def test_the_api_probes_the_ops_endpoints() -> None:
    (container,) = _storefront_pods()[0]["containers"]
    assert container["startupProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    ports = {port["name"] for port in container["ports"]}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["port"] in ports


@pytest.mark.parametrize("kind", ["Deployment", "Job"])
def test_every_pod_is_hardened_and_sized(kind: str) -> None:
    for workload in _of(kind):
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            assert {"cpu", "memory"} <= set(container["resources"]["requests"])
            assert "memory" in container["resources"]["limits"]
            if kind == "Deployment":
                assert {"livenessProbe", "readinessProbe"} <= set(container)


def test_selectors_find_their_pods() -> None:
    deployment = _of("Deployment", "storefront")[0]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    job_labels = _of("Job")[0]["spec"]["template"]["metadata"]["labels"]
    selector = _of("Service", "storefront")[0]["spec"]["selector"]
    assert selector.items() <= labels.items()
    assert not selector.items() <= job_labels.items()  # the Service never routes to a migration pod
    assert _of("PodDisruptionBudget", "storefront")[0]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert _of("HorizontalPodAutoscaler")[0]["spec"]["scaleTargetRef"]["name"] == "storefront"
    assert "replicas" not in deployment["spec"]  # the autoscaler owns the count
