"""regorus must judge exactly as OPA (the reference) does: the built-in library and the conftest fixtures."""

from __future__ import annotations

import itertools
from pathlib import Path

from bot.core.rego import PolicySet
from bot.core.resource import Resource

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "policies" / "conftest"

IMAGES = [
    "nginx",
    "nginx:latest",
    "registry.example.com/app:1.2.3",
    "redis@sha256:" + "a" * 64,
    "localhost:5000/x",
]
SECURITY = [
    {},
    {"runAsNonRoot": True, "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    {"privileged": True, "capabilities": {"add": ["SYS_ADMIN", "NET_ADMIN"]}},
]
RESOURCES = [{}, {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}]


def workloads() -> list[dict]:
    docs = []
    combos = itertools.product(
        ["Deployment", "StatefulSet", "DaemonSet", "CronJob", "Pod"], IMAGES, SECURITY, RESOURCES
    )
    for i, (kind, image, security, resources) in enumerate(combos):
        container = {"name": f"c{i}", "image": image, "securityContext": security, "resources": resources}
        if i % 2:
            container["livenessProbe"] = container["readinessProbe"] = {"tcpSocket": {"port": 80}}
        pod = {"containers": [container], "hostNetwork": i % 7 == 0, "hostPID": i % 11 == 0}
        if i % 5 == 0:
            pod["volumes"] = [{"name": "h", "hostPath": {"path": "/"}}]
        template = {"metadata": {"labels": {"app": "a"}}, "spec": pod}
        spec = {
            "Pod": pod,
            "CronJob": {"schedule": "@daily", "jobTemplate": {"spec": {"template": template}}},
        }.get(kind, {"replicas": 1 + i % 3, "template": template})
        api = {"Pod": "v1", "CronJob": "batch/v1"}.get(kind, "apps/v1")
        namespace = {} if i % 4 == 0 else {"namespace": "apps"}
        docs.append(
            {"apiVersion": api, "kind": kind, "metadata": {"name": f"w{i % 40}", **namespace}, "spec": spec}
        )
    return docs


def other_objects() -> list[dict]:
    return [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"password": "x"}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer"}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "np"}, "spec": {"type": "NodePort"}},
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "i"},
            "spec": {"rules": []},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "admins"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "cluster-admin",
            },
            "subjects": [{"kind": "Group", "name": "devs"}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "all", "namespace": "a"},
            "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
        },
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dup", "namespace": "a"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dup", "namespace": "a"}},
        {"kind": "Weird", "metadata": "not a mapping", "spec": [1, 2]},
        {},
    ]


def as_resources(docs: list[dict]) -> list[Resource]:
    return [Resource(doc, f"m/{i // 10}.yaml", i % 10, 1 + (i % 10) * 40) for i, doc in enumerate(docs)]


def test_builtin_library_findings_are_identical_on_both_engines():
    resources = as_resources(workloads() + other_objects())
    regorus = PolicySet.load([], engine="regorus").evaluate(resources)
    opa = PolicySet.load([], engine="opa").evaluate(resources)
    assert len(opa) > len(resources)  # the corpus trips many rules, so equality means something
    assert sorted(f.sort_key() + (f.path,) for f in regorus) == sorted(f.sort_key() + (f.path,) for f in opa)
    assert {f.rule for f in opa} >= {"image-tag", "run-as-non-root", "privileged-container", "host-network"}


def test_conftest_fixtures_give_identical_findings_on_both_engines():
    resources = as_resources(workloads() + other_objects())
    for directory, namespaces in (("v0", ("main",)), ("v1", ("main", "security", "labels"))):
        results = [
            sorted(
                f.sort_key() + (f.path, f.waived is not None)
                for f in PolicySet.from_directories(
                    [FIXTURES / directory / "policy"], engine=engine, builtin=False, namespaces=namespaces
                ).evaluate(resources)
            )
            for engine in ("regorus", "opa")
        ]
        assert results[0] == results[1], directory
        assert len(results[1]) > 0, directory
