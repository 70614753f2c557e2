"""conftest-compatible user policies: namespaces, deny/violation/warn, prefixes, exceptions, data files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.findings import Severity, Source, Waiver
from bot.core.manifests import load_manifest
from bot.core.rego import ENGINES, PolicySet
from bot.core.resource import Resource

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "policies" / "conftest"

# (file, line, rule, severity, path, message, waived)
V0_EXPECTED = [
    ("services.yaml", 4, "main.warn", "warning", "", "Found service web but services are not allowed", False),
    (
        "services.yaml",
        11,
        "main.warn",
        "warning",
        "",
        "Found service public but services are not allowed",
        False,
    ),
    (
        "workloads.yaml",
        4,
        "main.deny",
        "error",
        "",
        "Containers must not run as root in Deployment web",
        False,
    ),
    ("workloads.yaml", 4, "main.deny", "error", "", "web must include Kubernetes recommended labels", False),
    (
        "workloads.yaml",
        4,
        "main.deny_run_as_root",
        "error",
        "",
        "web: containers must not run as root",
        False,
    ),
    (
        "workloads.yaml",
        4,
        "main.violation",
        "error",
        "",
        "image docker.io/library/nginx:latest does not come from the company registry",
        False,
    ),
    (
        "workloads.yaml",
        22,
        "main.deny",
        "error",
        "",
        "Containers must not run as root in Deployment can-run-as-root",
        False,
    ),
    (
        "workloads.yaml",
        22,
        "main.deny_run_as_root",
        "error",
        "",
        "can-run-as-root: containers must not run as root",
        True,
    ),
]

V1_EXPECTED = [
    ("services.yaml", 4, "main.deny", "error", "", "Service web must not be of type LoadBalancer", False),
    ("services.yaml", 11, "main.deny", "error", "", "Service public must not be of type LoadBalancer", True),
    ("services.yaml", 11, "security.warn_odd", "warning", "", "42 (policy returned a int result)", False),
    (
        "workloads.yaml",
        3,
        "recommended-labels",
        "error",
        "metadata.labels",
        "Deployment web is missing labels: app.kubernetes.io/instance, app.kubernetes.io/name",
        False,
    ),
    ("workloads.yaml", 4, "main.warn_latest", "warning", "", "container app uses the latest tag", False),
    (
        "workloads.yaml",
        4,
        "security.warn_host_port",
        "warning",
        "",
        "container app binds host port 8080",
        False,
    ),
    (
        "workloads.yaml",
        17,
        "no-privileged",
        "error",
        "spec.template.spec.containers[1].securityContext.privileged",
        "container sidecar is privileged",
        False,
    ),
]


def load_resources(path: Path) -> list[Resource]:
    """Resources with the 1-based line of every key and sequence item, from the real manifest loader."""
    return load_manifest(path.name, path.read_bytes()).resources


@pytest.fixture(scope="module")
def inputs() -> list[Resource]:
    return load_resources(FIXTURES / "inputs" / "workloads.yaml") + load_resources(
        FIXTURES / "inputs" / "services.yaml"
    )


def summary(findings) -> list[tuple]:
    return sorted(
        (f.file, f.line, f.rule, f.severity.label, f.path, f.message, f.waived is not None) for f in findings
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_v0_conftest_example_policies(engine, inputs):
    policies = PolicySet.from_directories([FIXTURES / "v0" / "policy"], engine=engine, builtin=False)
    assert summary(policies.evaluate(inputs)) == sorted(V0_EXPECTED)


@pytest.mark.parametrize("engine", ENGINES)
def test_v1_policies_with_metadata_objects_and_namespaces(engine, inputs):
    policies = PolicySet.from_directories(
        [FIXTURES / "v1" / "policy"], engine=engine, builtin=False, namespaces=("main", "security", "labels")
    )
    assert summary(policies.evaluate(inputs)) == sorted(V1_EXPECTED)


@pytest.mark.parametrize("engine", ENGINES)
def test_only_configured_namespaces_are_evaluated(engine, inputs):
    policies = PolicySet.from_directories([FIXTURES / "v1" / "policy"], engine=engine, builtin=False)
    rules = {f.rule for f in policies.evaluate(inputs)}
    assert rules == {"main.deny", "main.warn_latest"}


@pytest.mark.parametrize("engine", ENGINES)
def test_finding_details(engine, inputs):
    policies = PolicySet.from_directories(
        [FIXTURES / "v1" / "policy"], engine=engine, builtin=False, namespaces=("main", "labels")
    )
    findings = {(f.rule, f.line): f for f in policies.evaluate(inputs)}
    labels = findings[("recommended-labels", 3)]
    assert labels.source == Source.POLICY
    assert labels.resource.display() == "Deployment/web"
    assert (
        labels.remediation == "Add app.kubernetes.io/name and app.kubernetes.io/instance to metadata.labels."
    )
    assert labels.column == 1
    excepted = findings[("main.deny", 11)]
    assert excepted.waived == Waiver(kind="exception", reason="policy exception")
    assert excepted.blocking is False


@pytest.mark.parametrize("engine", ENGINES)
def test_severity_overrides_change_or_disable_rules(engine, inputs):
    policies = PolicySet.from_directories(
        [FIXTURES / "v1" / "policy"], engine=engine, builtin=False, namespaces=("main", "security", "labels")
    )
    overrides = {"recommended-labels": Severity.NOTICE, "main.deny": None, "security.warn_odd": None}
    findings = policies.evaluate(inputs, severity_overrides=overrides)
    assert sorted((f.rule, f.severity.label) for f in findings) == [
        ("main.warn_latest", "warning"),
        ("no-privileged", "error"),
        ("recommended-labels", "notice"),
        ("security.warn_host_port", "warning"),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_patches_are_skipped(engine, inputs):
    policies = PolicySet.from_directories([FIXTURES / "v0" / "policy"], engine=engine, builtin=False)
    patch = Resource(inputs[0].obj, "overlays/prod/patch.yaml", is_patch=True)
    assert policies.evaluate([patch]) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_weird_results_are_stringified(engine):
    source = """package main
import rego.v1
deny contains [1, "two"] if true
deny contains {"message": "from message key", "id": "custom-id", "path": ["metadata", "name"]} if true
deny contains {"no": "msg"} if true
warn := 7
"""
    policies = PolicySet.load([("weird.rego", source)], engine=engine, builtin=False)
    resource = Resource(
        {"kind": "Pod", "metadata": {"name": "p"}},
        "pod.yaml",
        line=1,
        positions={("metadata",): (2, 1), ("metadata", "name"): (3, 3)},
    )
    assert sorted((f.rule, f.line, f.message) for f in policies.evaluate([resource])) == [
        ("custom-id", 3, "from message key"),
        ("main.deny", 3, '[1, "two"] (policy returned a list result)'),
        ("main.deny", 3, '{"no": "msg"} (policy returned a result without a string msg)'),
        ("main.warn", 3, "7 (policy returned a int result)"),
    ]
