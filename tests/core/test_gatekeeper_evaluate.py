"""Gatekeeper templates and constraints inside `evaluate()`: findings, enforcement actions, broken objects, config paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.evaluate import EvalOptions, evaluate
from bot.core.findings import Finding, Severity
from bot.core.gatekeeper import evaluate_gatekeeper
from bot.core.manifests import load_manifest
from bot.core.rego import ENGINES
from bot.core.workspace import Workspace

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gatekeeper"
LIBRARY = FIXTURES / "library"
NO_BUILTINS = "policies:\n  builtin: false\n"


def library(name: str) -> str:
    return (LIBRARY / name / "template.yaml").read_text()


def gatekeeper_findings(report_findings: list[Finding]) -> list[tuple[str, str, str, int, str]]:
    return [
        (f.rule, f.severity.label, f.file, f.line, f.message)
        for f in sorted(report_findings, key=Finding.sort_key)
        if f.rule.startswith("gatekeeper/")
    ]


def run(files: dict[str, str], engine: str, **options: object) -> list[Finding]:
    files = {".gitops-bot.yaml": NO_BUILTINS, **files}
    return evaluate(Workspace.from_dict(files), options=EvalOptions(engine=engine, **options)).findings  # type: ignore[arg-type]


@pytest.mark.parametrize("engine", ENGINES)
def test_repository_with_templates_constraints_and_namespaces(engine: str) -> None:
    report = evaluate(Workspace.from_directory(FIXTURES / "repo"), options=EvalOptions(engine=engine))
    assert gatekeeper_findings(report.findings) == [
        (
            "gatekeeper/K8sRequiredLabels/deployments-need-team",
            "warning",
            "apps/deployments.yaml",
            4,
            'you must provide labels: {"team"}',
        ),
        (
            # An ExpansionTemplate (enforcementAction: warn) lets the Pod constraint judge the Deployment's Pods.
            "gatekeeper/K8sAllowedRepos/prod-pods-use-company-registry",
            "warning",
            "apps/deployments.yaml",
            44,
            "[Implied by expand-deployments] container <worker> has an invalid image repo "
            '<docker.io/library/worker:2>, allowed repos are ["registry.example.com/"]',
        ),
        (
            "gatekeeper/K8sRequiredLabels/namespaces-need-owner",
            "notice",
            "apps/namespaces.yaml",
            12,
            'you must provide labels: {"owner"}',
        ),
        (
            "gatekeeper/K8sAllowedRepos/prod-pods-use-company-registry",
            "error",
            "apps/pods.yaml",
            4,
            'container <shell> has an invalid image repo <busybox:1.36>, allowed repos are ["registry.example.com/"]',
        ),
    ]
    # The template's description annotation says what complying means.
    first = next(f for f in report.sorted_findings() if f.rule.startswith("gatekeeper/"))
    assert first.remediation == "Requires resources to carry the listed labels, with values matching a regex."
    # Templates, ExpansionTemplates and constraints with a known template are not "unknown kinds".
    assert [f for f in report.findings if f.rule == "schema/unknown-kind"] == []
    assert report.counts() == {"error": 1, "warning": 2, "notice": 1, "waived": 0}
    assert report.exit_code() == 1


TEAM_CONSTRAINT = """apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: need-team
spec:
  match:
    kinds:
      - apiGroups: ["apps"]
        kinds: ["Deployment"]
  parameters:
    labels:
      - key: {key}
"""

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: api
          image: registry.example.com/api:1
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_configured_paths_are_read_from_the_trusted_tree(engine: str) -> None:
    config = NO_BUILTINS + "gatekeeper:\n  paths: [policy/gatekeeper/]\n"
    trusted = Workspace.from_dict(
        {
            ".gitops-bot.yaml": config,
            "policy/gatekeeper/template.yaml": library("requiredlabels"),
            "policy/gatekeeper/constraint.yaml": TEAM_CONSTRAINT.replace("{key}", "team"),
        }
    )
    # The change edits the constraint to ask for another label: the trusted definition still judges it.
    head = Workspace.from_dict(
        {
            ".gitops-bot.yaml": config,
            "policy/gatekeeper/template.yaml": library("requiredlabels"),
            "policy/gatekeeper/constraint.yaml": TEAM_CONSTRAINT.replace("{key}", "nothing-at-all"),
            "apps/api.yaml": DEPLOYMENT,
        }
    )
    options = EvalOptions(engine=engine, changed_paths=["apps/api.yaml", "policy/gatekeeper/constraint.yaml"])
    report = evaluate(head, trusted=trusted, options=options)
    assert gatekeeper_findings(report.findings) == [
        ("gatekeeper/K8sRequiredLabels/need-team", "error", "apps/api.yaml", 4, 'you must provide labels: {"team"}'),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_gatekeeper_can_be_disabled(engine: str) -> None:
    files = {
        ".gitops-bot.yaml": NO_BUILTINS + "gatekeeper:\n  enabled: false\n",
        "t.yaml": library("requiredlabels"),
        "c.yaml": TEAM_CONSTRAINT.replace("{key}", "team"),
        "d.yaml": DEPLOYMENT,
    }
    findings = evaluate(Workspace.from_dict(files), options=EvalOptions(engine=engine)).findings
    assert gatekeeper_findings(findings) == []


def test_gatekeeper_config_keys_are_validated() -> None:
    findings = run({".gitops-bot.yaml": "gatekeeper:\n  path: [x]\n"}, "regorus")
    assert [(f.rule, f.line, f.message) for f in findings] == [
        ("config/invalid", 2, 'gatekeeper.path: unknown key (did you mean "paths"?)')
    ]


SCOPED = """apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: {name}
spec:
  enforcementAction: scoped
  scopedEnforcementActions:
    - action: {action}
      enforcementPoints:
        - name: {point}
  match:
    kinds: [{{apiGroups: ["apps"], kinds: ["Deployment"]}}]
  parameters:
    labels: [{{key: team}}]
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_scoped_enforcement_actions_use_the_webhook_and_gator_points(engine: str) -> None:
    constraints = "---\n".join(
        [
            SCOPED.format(name="webhook-warns", action="warn", point="validation.gatekeeper.sh"),
            SCOPED.format(name="everywhere-denies", action="deny", point='"*"'),
            SCOPED.format(name="audit-only", action="deny", point="audit.gatekeeper.sh"),
        ]
    )
    findings = run({"t.yaml": library("requiredlabels"), "c.yaml": constraints, "d.yaml": DEPLOYMENT}, engine)
    assert [(rule, severity) for rule, severity, *_ in gatekeeper_findings(findings)] == [
        ("gatekeeper/K8sRequiredLabels/everywhere-denies", "error"),
        ("gatekeeper/K8sRequiredLabels/webhook-warns", "warning"),
    ]


BROKEN_REGO = """apiVersion: templates.gatekeeper.sh/v1beta1
kind: ConstraintTemplate
metadata:
  name: k8sbroken
spec:
  crd:
    spec:
      names:
        kind: K8sBroken
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sbroken

        violation[{"msg": msg}] {
          msg := sprintf("x %v", [input.review.object.metadata.name]
        }
"""

WRONG_NAME = """apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: required-labels
spec:
  crd:
    spec:
      names:
        kind: K8sOtherLabels
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sotherlabels
        violation[{"msg": "x"}] { true }
"""

NO_VIOLATION = """apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8snoviolation
spec:
  crd:
    spec:
      names:
        kind: K8sNoViolation
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8snoviolation
        deny[msg] { msg := "conftest style" }
      libs:
        - |
          package lib.helpers
          x := 1
"""

BAD_LIB = """apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8sbadlib
spec:
  crd:
    spec:
      names:
        kind: K8sBadLib
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sbadlib
        violation[{"msg": "x"}] { true }
      libs:
        - |
          package helpers
          x := 1
"""

CEL_ONLY = """apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8scelonly
spec:
  crd:
    spec:
      names:
        kind: K8sCelOnly
  targets:
    - target: admission.k8s.gatekeeper.sh
      code:
        - engine: K8sNativeValidation
          source:
            validations:
              - expression: "true"
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_broken_templates_are_findings_on_the_template(engine: str) -> None:
    files = {
        "broken.yaml": BROKEN_REGO,
        "wrong-name.yaml": WRONG_NAME,
        "no-violation.yaml": NO_VIOLATION,
        "bad-lib.yaml": BAD_LIB,
        "cel.yaml": CEL_ONLY,
    }
    found = gatekeeper_findings(run(files, engine))
    assert [(rule, severity, file, line) for rule, severity, file, line, _ in found] == [
        ("gatekeeper/invalid-template", "error", "bad-lib.yaml", 16),
        # The engine's line inside the rego block, moved to the file (regorus blames the body's opening brace).
        ("gatekeeper/invalid-template", "error", "broken.yaml", {"regorus": 15, "opa": 17}[engine]),
        ("gatekeeper/unsupported-template", "notice", "cel.yaml", 10),
        ("gatekeeper/invalid-template", "error", "no-violation.yaml", 12),
        ("gatekeeper/invalid-template", "error", "wrong-name.yaml", 4),
    ]
    messages = {file: message for _, _, file, _, message in found}
    assert messages["bad-lib.yaml"] == "ConstraintTemplate k8sbadlib: libs[0]: package helpers must be lib or start with lib."
    assert messages["broken.yaml"].startswith("ConstraintTemplate k8sbroken: the Rego does not compile:")
    assert messages["no-violation.yaml"] == "ConstraintTemplate k8snoviolation: the Rego source must define a violation rule"
    assert messages["wrong-name.yaml"] == (
        "ConstraintTemplate required-labels: the template's name 'required-labels' must be the lowercase "
        "of its kind 'K8sOtherLabels' ('k8sotherlabels')"
    )


INVALID_CONSTRAINTS = """apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: labels-not-a-list
spec:
  parameters:
    labels: team
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: unknown-action
spec:
  enforcementAction: block
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_invalid_constraints_are_findings_on_the_constraint(engine: str) -> None:
    files = {"t.yaml": library("requiredlabels"), "c.yaml": INVALID_CONSTRAINTS, "d.yaml": DEPLOYMENT}
    assert gatekeeper_findings(run(files, engine)) == [
        (
            "gatekeeper/invalid-constraint",
            "error",
            "c.yaml",
            7,
            "constraint labels-not-a-list: spec.parameters.labels: 'team' is not of type 'array'",
        ),
        (
            "gatekeeper/invalid-constraint",
            "error",
            "c.yaml",
            14,
            "constraint unknown-action: enforcementAction 'block' is not one of deny, warn, dryrun, scoped",
        ),
    ]


NS_SELECTOR = """apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: prod-needs-team
spec:
  enforcementAction: warn
  match:
    kinds: [{apiGroups: ["apps"], kinds: ["Deployment"]}]
    namespaceSelector:
      matchLabels: {environment: prod}
  parameters:
    labels: [{key: team}]
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_namespace_selector_without_the_namespace_in_the_repository(engine: str) -> None:
    files = {"t.yaml": library("requiredlabels"), "c.yaml": NS_SELECTOR, "d.yaml": DEPLOYMENT}
    assert gatekeeper_findings(run(files, engine)) == [
        (
            "gatekeeper/match-error",
            "warning",
            "d.yaml",
            4,
            "constraint K8sRequiredLabels/prod-needs-team cannot tell whether it applies: namespace selector for "
            "namespace-scoped object but missing Namespace 'shop'; add the Namespace to the repository "
            "(Gatekeeper fails such reviews)",
        )
    ]
    namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {environment: prod}\n"
    found = gatekeeper_findings(run({**files, "ns.yaml": namespace}, engine))
    assert [(rule, line) for rule, _, _, line, _ in found] == [("gatekeeper/K8sRequiredLabels/prod-needs-team", 4)]


INGRESS = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {name}
  namespace: {namespace}
spec:
  rules:
    - host: {host}
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_inventory_holds_every_resource_of_the_repository(engine: str) -> None:
    ingresses = "---\n".join(
        [
            INGRESS.format(name="shop", namespace="shop", host="shop.example.com"),
            INGRESS.format(name="shop-copy", namespace="staging", host="shop.example.com"),
            INGRESS.format(name="blog", namespace="blog", host="blog.example.com"),
        ]
    )
    files = {
        "t.yaml": library("uniqueingresshost"),
        "c.yaml": (LIBRARY / "uniqueingresshost" / "samples" / "constraint.yaml").read_text(),
        "ingresses.yaml": ingresses,
    }
    message = "ingress host conflicts with an existing ingress <shop.example.com>"
    assert gatekeeper_findings(run(files, engine)) == [
        ("gatekeeper/K8sUniqueIngressHost/unique-ingress-host", "error", "ingresses.yaml", 4, message),
        ("gatekeeper/K8sUniqueIngressHost/unique-ingress-host", "error", "ingresses.yaml", 13, message),
    ]


def test_constraint_without_template_stays_an_unknown_kind() -> None:
    files = {"c.yaml": TEAM_CONSTRAINT.replace("{key}", "team"), "d.yaml": DEPLOYMENT}
    findings = run(files, "regorus")
    assert [(f.rule, f.file, f.severity) for f in findings] == [("schema/unknown-kind", "c.yaml", Severity.NOTICE)]


CONFLICT = """apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8sconflict
spec:
  crd:
    spec:
      names:
        kind: K8sConflict
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sconflict
        level := "a" { input.review.object }
        level := "b" { input.review.object }
        violation[{"msg": level}] { true }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sConflict
metadata:
  name: conflict
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_evaluation_errors_are_findings_on_the_resource(engine: str) -> None:
    resources = load_manifest("all.yaml", (CONFLICT + "---\n" + DEPLOYMENT).encode()).resources
    result = evaluate_gatekeeper(resources, engine=engine)
    assert [(f.rule, f.severity, f.resource.kind if f.resource else "") for f in result.findings] == [
        ("gatekeeper/evaluation-error", Severity.ERROR, "ConstraintTemplate"),
        ("gatekeeper/evaluation-error", Severity.ERROR, "K8sConflict"),
        ("gatekeeper/evaluation-error", Severity.ERROR, "Deployment"),
    ]
    assert result.findings[2].message.startswith("constraint K8sConflict/conflict could not be evaluated:")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_change_to_a_configured_template_is_compiled_but_never_judges(engine: str) -> None:
    config = NO_BUILTINS + "gatekeeper:\n  paths: [policy/]\n"
    good = library("requiredlabels")
    trusted = Workspace.from_dict(
        {
            ".gitops-bot.yaml": config,
            "policy/template.yaml": good,
            "policy/constraint.yaml": TEAM_CONSTRAINT.replace("{key}", "team"),
        }
    )
    broken = good.replace("count(missing) > 0", "count(missing) >")
    head = Workspace.from_dict({".gitops-bot.yaml": config, "policy/template.yaml": broken, "apps/api.yaml": DEPLOYMENT})
    options = EvalOptions(engine=engine, changed_paths=["apps/api.yaml", "policy/template.yaml"])
    found = gatekeeper_findings(evaluate(head, trusted=trusted, options=options).findings)
    assert [(rule, file) for rule, _, file, _, _ in found] == [
        ("gatekeeper/K8sRequiredLabels/need-team", "apps/api.yaml"),
        ("gatekeeper/invalid-template", "policy/template.yaml"),
    ]
