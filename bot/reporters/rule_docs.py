"""Where each rule is explained (docs/rules.md) and how much a security rule matters to code scanning."""

from __future__ import annotations

import re

PROJECT_URI = "https://github.com/gitops-policy-bot/gitops-policy-bot"
RULES_PAGE = f"{PROJECT_URI}/blob/main/docs/rules.md"

# Every rule id with its own heading in docs/rules.md (tests/reporters/test_rule_docs.py keeps them in step).
DOCUMENTED_RULES = frozenset(
    {
        # policies/kubernetes
        "automount-service-account-token", "dangerous-capabilities", "duplicate-object", "host-ipc",
        "host-network", "host-path", "host-pid", "host-port", "image-tag", "ingress-tls", "liveness-probe",
        "missing-namespace", "plain-secret", "privilege-escalation", "privileged-container",
        "rbac-cluster-admin", "rbac-wildcard", "read-only-root-filesystem", "readiness-probe",
        "resources-limits", "resources-requests", "run-as-non-root", "service-exposure", "single-replica",
        "pod-security-baseline", "pod-security-restricted",
        # policies/change
        "change-deployment-selector", "change-destructive-delete", "change-image-downgrade",
        "change-limits-removed", "change-replica-drop", "change-statefulset-immutable",
        # the bot's own checks
        "parse/yaml-syntax", "parse/duplicate-key", "parse/alias-limit", "parse/too-deep", "parse/too-large",
        "parse/too-many-documents", "parse/binary", "parse/encoding", "parse/not-an-object",
        "parse/missing-apiversion-or-kind",
        "schema/type", "schema/enum", "schema/required", "schema/unknown-field", "schema/format",
        "schema/pattern", "schema/range", "schema/invalid", "schema/unknown-kind",
        "schema/deprecated-api-version", "schema/removed-api-version", "schema/invalid-crd",
        "schema/api-version", "schema/quantity", "schema/int-or-string", "schema/dns-name", "schema/port-name",
        "schema/label", "schema/selector-mismatch", "schema/duplicate-name", "schema/undefined-volume",
        "schema/config-key", "schema/one-of", "schema/forbidden", "schema/catalog-unavailable",
        "schema/kubeconform-missing", "schema/kubeconform-failed", "policy/timeout", "policy/resource-limit",
        "render/failed", "render/not-rendered",
        "config/invalid", "policy-error", "policy/opa-unavailable", "policy-change/compile",
        "policy-change/test-failed", "waiver/missing-reason", "waiver/expired",
        "gatekeeper/invalid-template", "gatekeeper/unsupported-template", "gatekeeper/invalid-constraint",
        "gatekeeper/invalid-expansion-template", "gatekeeper/match-error", "gatekeeper/evaluation-error",
        "gatekeeper/ignored-violation",
    }
)
# Findings of Gatekeeper constraints are gatekeeper/<Kind>/<name>: one section explains them all.
GATEKEEPER_CONSTRAINTS_ANCHOR = "gatekeeper-constraints"

# GitHub code scanning ranks security alerts by this score (0.0-10.0: over 9 critical, 7-8.9 high,
# 4-6.9 medium, under 4 low): https://docs.github.com/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning#reportingdescriptor-object
# Our judgement of how much each built-in rule's violation opens a cluster to attack.
SECURITY_SEVERITY = {
    "privileged-container": "9.0",
    "host-pid": "8.0",
    "host-path": "8.0",
    "dangerous-capabilities": "8.0",
    "plain-secret": "8.0",
    "rbac-cluster-admin": "8.0",
    "host-network": "7.5",
    "rbac-wildcard": "7.5",
    "host-ipc": "7.0",
    "pod-security-baseline": "7.0",
    "privilege-escalation": "7.0",
    "run-as-non-root": "6.0",
    "pod-security-restricted": "5.0",
    "host-port": "5.0",
    "ingress-tls": "5.0",
    "service-exposure": "4.5",
    "image-tag": "4.0",
    "read-only-root-filesystem": "3.0",
    "automount-service-account-token": "3.0",
}


def anchor(rule_id: str) -> str:
    """GitHub's heading anchor for ``### <rule_id>``: lower case, punctuation other than ``-`` and ``_`` dropped."""
    return re.sub(r"[^\w\- ]", "", rule_id.lower()).replace(" ", "-")


def help_uri(rule_id: str) -> str | None:
    """The rule's entry in docs/rules.md, or None for rules the project does not document (your own)."""
    if rule_id in DOCUMENTED_RULES:
        return f"{RULES_PAGE}#{anchor(rule_id)}"
    if rule_id.startswith("gatekeeper/"):
        return f"{RULES_PAGE}#{GATEKEEPER_CONSTRAINTS_ANCHOR}"
    return None
