"""Gatekeeper's spec.match semantics: kinds, scope, namespaces (globs), label and namespace selectors, name."""

from __future__ import annotations

import pytest

from bot.core.gatekeeper.match import MatchError, match_problems, matches, wildcard_matches


def pod(name: str = "web", namespace: str = "team-a", labels: dict | None = None) -> dict:
    meta: dict = {"name": name, "labels": labels or {}}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta}


def namespace(name: str, labels: dict | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}}


DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "team-a"}}
CLUSTER_ROLE = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "reader"}}


@pytest.mark.parametrize(
    ("pattern", "candidate", "expected"),
    [
        ("kube-system", "kube-system", True),
        ("kube-*", "kube-public", True),
        ("kube-*", "my-kube-public", False),
        ("*-system", "gatekeeper-system", True),
        ("*-system", "system-a", False),
        ("*mid*", "a-mid-b", True),
        ("kube", "kube-system", False),
    ],
)
def test_wildcards_are_prefix_suffix_or_infix_globs(pattern: str, candidate: str, expected: bool) -> None:
    assert wildcard_matches(pattern, candidate) is expected


@pytest.mark.parametrize(
    ("kinds", "obj", "expected"),
    [
        ([{"apiGroups": [""], "kinds": ["Pod"]}], pod(), True),
        ([{"apiGroups": [""], "kinds": ["Pod"]}], DEPLOYMENT, False),
        ([{"apiGroups": ["apps"], "kinds": ["Pod", "Deployment"]}], DEPLOYMENT, True),
        ([{"apiGroups": ["*"], "kinds": ["Deployment"]}], DEPLOYMENT, True),
        ([{"apiGroups": ["apps"], "kinds": ["*"]}], pod(), False),
        ([{"kinds": ["Pod"]}], pod(), True),  # no apiGroups: any group
        ([{"apiGroups": ["batch"], "kinds": ["Job"]}, {"apiGroups": [""], "kinds": ["Pod"]}], pod(), True),
        ([], DEPLOYMENT, True),
    ],
)
def test_kinds(kinds: list, obj: dict, expected: bool) -> None:
    assert matches({"kinds": kinds}, obj, None) is expected


@pytest.mark.parametrize(
    ("scope", "obj", "expected"),
    [
        ("Namespaced", pod(), True),
        ("Namespaced", CLUSTER_ROLE, False),
        ("Namespaced", namespace("team-a"), False),
        ("Cluster", CLUSTER_ROLE, True),
        ("Cluster", namespace("team-a"), True),  # a Namespace is cluster-scoped
        ("Cluster", pod(), False),
        ("*", pod(), True),
    ],
)
def test_scope(scope: str, obj: dict, expected: bool) -> None:
    assert matches({"scope": scope}, obj, None) is expected


def test_namespaces_and_exclusions_accept_globs() -> None:
    match = {"namespaces": ["team-*", "payments"], "excludedNamespaces": ["team-sandbox", "*-tmp"]}
    assert matches(match, pod(namespace="team-a"), None) is True
    assert matches(match, pod(namespace="payments"), None) is True
    assert matches(match, pod(namespace="default"), None) is False
    assert matches(match, pod(namespace="team-sandbox"), None) is False
    assert matches(match, pod(namespace="team-x-tmp"), None) is False


def test_namespace_criteria_compare_a_namespace_by_its_own_name() -> None:
    assert matches({"namespaces": ["team-*"]}, namespace("team-a"), None) is True
    assert matches({"namespaces": ["team-*"]}, namespace("default"), None) is False
    assert matches({"excludedNamespaces": ["kube-*"]}, namespace("kube-system"), None) is False


def test_namespace_criteria_never_filter_cluster_scoped_objects() -> None:
    assert matches({"namespaces": ["team-a"]}, CLUSTER_ROLE, None) is True
    assert matches({"excludedNamespaces": ["*"]}, CLUSTER_ROLE, None) is True


def test_label_selector_match_labels_and_expressions_are_anded() -> None:
    match = {
        "labelSelector": {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["frontend", "edge"]},
                {"key": "legacy", "operator": "DoesNotExist"},
            ],
        }
    }
    assert matches(match, pod(labels={"app": "web", "tier": "edge"}), None) is True
    assert matches(match, pod(labels={"app": "web", "tier": "backend"}), None) is False
    assert matches(match, pod(labels={"app": "web"}), None) is False  # In needs the key
    assert matches(match, pod(labels={"app": "web", "tier": "edge", "legacy": "1"}), None) is False
    assert matches(match, pod(labels={"app": "api", "tier": "edge"}), None) is False


def test_label_selector_not_in_and_exists() -> None:
    not_in = {"labelSelector": {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}]}}
    assert matches(not_in, pod(labels={}), None) is True  # a missing key is not in the set
    assert matches(not_in, pod(labels={"env": "prod"}), None) is True
    assert matches(not_in, pod(labels={"env": "dev"}), None) is False
    exists = {"labelSelector": {"matchExpressions": [{"key": "owner", "operator": "Exists"}]}}
    assert matches(exists, pod(labels={"owner": ""}), None) is True
    assert matches(exists, pod(labels={}), None) is False
    assert matches({"labelSelector": {}}, pod(labels={}), None) is True


def test_namespace_selector_uses_the_namespace_object() -> None:
    match = {"namespaceSelector": {"matchLabels": {"environment": "prod"}}}
    assert matches(match, pod(namespace="shop"), namespace("shop", {"environment": "prod"})) is True
    assert matches(match, pod(namespace="shop"), namespace("shop", {"environment": "dev"})) is False
    # A Namespace is selected by its own labels; other cluster-scoped objects always match.
    assert matches(match, namespace("shop", {"environment": "prod"}), None) is True
    assert matches(match, namespace("shop", {}), None) is False
    assert matches(match, CLUSTER_ROLE, None) is True


def test_namespace_selector_without_the_namespace_cannot_be_decided() -> None:
    with pytest.raises(MatchError, match="missing Namespace 'shop'"):
        matches({"namespaceSelector": {"matchLabels": {"environment": "prod"}}}, pod(namespace="shop"), None)


def test_name_glob() -> None:
    assert matches({"name": "web-*"}, pod(name="web-1"), None) is True
    assert matches({"name": "web-*"}, pod(name="api-1"), None) is False
    assert matches({"name": "*-canary"}, pod(name="web-canary"), None) is True


def test_all_criteria_must_hold() -> None:
    match = {"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}], "namespaces": ["team-a"], "name": "web"}
    assert matches(match, pod(), None) is True
    assert matches(match, pod(name="api"), None) is False
    assert matches(match, {**DEPLOYMENT, "metadata": {"name": "web", "namespace": "team-a"}}, None) is False


def test_invalid_match_problems() -> None:
    problems = match_problems(
        {
            "scope": "cluster",
            "labelSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]},
            "namespaceSelector": {"matchExpressions": [{"key": "b", "operator": "Equals", "values": ["x"]}]},
        }
    )
    assert problems == [
        "spec.match.scope 'cluster' is not one of *, Cluster, Namespaced",
        "spec.match.labelSelector.matchExpressions[0]: operator In needs a non-empty values list",
        "spec.match.namespaceSelector.matchExpressions[0].operator 'Equals' is not one of In, NotIn, Exists, DoesNotExist",
    ]
