"""gator-style test suites (kind: Suite) run by `gitops-bot test-policies`, and the review shape templates see."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import cli
from bot.core.evaluate import EvalOptions, evaluate
from bot.core.gatekeeper import run_gatekeeper_suites, run_suites
from bot.core.gatekeeper.compat import rewrite_deprecated_calls
from bot.core.rego import ENGINES
from bot.core.workspace import Workspace

LIBRARY = Path(__file__).resolve().parents[2] / "fixtures" / "gatekeeper" / "library"


@pytest.mark.parametrize("engine", ENGINES)
def test_fixture_library_suites_pass(engine: str) -> None:
    results = run_gatekeeper_suites([LIBRARY], engine=engine)
    assert [(r.name, r.error) for r in results if not r.passed] == []
    assert len(results) == 21
    host_network = [(r.package, r.name) for r in results if r.file.endswith("hostnetwork/suite.yaml")]
    assert host_network == [
        ("block-host-network", "allowed-port"),
        ("block-host-network", "host-network"),
        ("block-host-network", "host-port-out-of-range"),
        ("block-host-network", "exempt-by-label"),
        ("block-host-network", "namespace-not-selected"),
        ("block-host-network", "admission-review-update"),
        ("block-host-network-in-workloads", "deployment-pod-template"),  # with an ExpansionTemplate
    ]


TEMPLATE = """apiVersion: templates.gatekeeper.sh/v1beta1
kind: ConstraintTemplate
metadata:
  name: k8sreviewshape
spec:
  crd:
    spec:
      names:
        kind: K8sReviewShape
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sreviewshape

        violation[{"msg": msg}] {
          r := input.review
          msg := sprintf("op=<%v> kind=<%v/%v/%v> name=<%v> params=<%v>", [r.operation, r.kind.group, r.kind.version, r.kind.kind, r.name, input.parameters])
        }
"""

CONSTRAINT = """apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sReviewShape
metadata:
  name: shape
spec:
  match:
    kinds: [{apiGroups: ["apps"], kinds: ["Deployment"]}]
    namespaceSelector:
      matchLabels: {environment: prod}
"""

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
"""

NAMESPACE = """apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {environment: prod}
"""

SUITE = """kind: Suite
apiVersion: test.gatekeeper.sh/v1alpha1
tests:
- name: shape
  template: template.yaml
  constraint: constraint.yaml
  cases:
  - name: gator-review-has-no-operation
    object: deployment.yaml
    inventory: [namespace.yaml]
    assertions:
    - violations: 1
      message: "^op=<> kind=<apps/v1/Deployment> name=<api> params=<{}>$"
  - name: wrong-count
    object: deployment.yaml
    inventory: [namespace.yaml]
    assertions:
    - violations: 2
  - name: wrong-message
    object: deployment.yaml
    inventory: [namespace.yaml]
    assertions:
    - violations: yes
      message: nomatch
  - name: unexpected-violation
    object: deployment.yaml
    inventory: [namespace.yaml]
    assertions:
    - violations: no
  - name: namespace-unknown
    object: deployment.yaml
    assertions:
    - violations: no
  - name: two-objects
    object: two.yaml
    assertions:
    - violations: no
  - name: no-assertions
    object: deployment.yaml
  - name: skipped
    skip: true
    object: missing.yaml
- name: expects-invalid
  template: template.yaml
  constraint: constraint.yaml
  invalid: true
- name: missing-template
  template: nowhere.yaml
  constraint: constraint.yaml
  cases: []
"""


def suite_workspace() -> Workspace:
    return Workspace.from_dict(
        {
            "policies/shape/suite.yaml": SUITE,
            "policies/shape/template.yaml": TEMPLATE,
            "policies/shape/constraint.yaml": CONSTRAINT,
            "policies/shape/deployment.yaml": DEPLOYMENT,
            "policies/shape/namespace.yaml": NAMESPACE,
            "policies/shape/two.yaml": DEPLOYMENT + "---\n" + NAMESPACE,
            "policies/other/not-a-suite.yaml": "kind: Suite\napiVersion: example.com/v1\ntests: [{name: x}]\n",
        }
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_suite_results_and_failure_messages(engine: str) -> None:
    results = run_suites(suite_workspace(), engine=engine)
    assert {r.file for r in results} == {"policies/shape/suite.yaml"}
    outcome = [(r.package, r.name, r.error) for r in results]
    got = "['op=<> kind=<apps/v1/Deployment> name=<api> params=<{}>']"
    assert outcome == [
        ("shape", "gator-review-has-no-operation", ""),
        ("shape", "wrong-count", f"got 1 violations but want exactly 2: got messages {got}"),
        ("shape", "wrong-message", f"got 0 violations containing 'nomatch' but want at least 1: got messages {got}"),
        ("shape", "unexpected-violation", f"got 1 violations but want none: got messages {got}"),
        (
            "shape",
            "namespace-unknown",
            "failed to run match criteria: namespace selector for namespace-scoped object but missing Namespace 'shop'",
        ),
        ("shape", "two-objects", "two.yaml defines 2 objects; a case reviews exactly one"),
        ("shape", "no-assertions", "assertions must be non-empty"),
        (
            "expects-invalid",
            "<template and constraint>",
            "the constraint is valid for its template, but the test expects it to be invalid",
        ),
        ("missing-template", "<template and constraint>", "template file policies/shape/nowhere.yaml not found"),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_repository_reviews_say_create_and_pass_parameters(engine: str) -> None:
    constraint = CONSTRAINT.replace("    namespaceSelector:\n      matchLabels: {environment: prod}\n", "")
    constraint += "  parameters:\n    level: 2\n"
    files = {
        # 1.31: the spec-less Deployment under review is schema-valid there (1.37's schema requires spec).
        ".gitops-bot.yaml": "kubernetesVersion: '1.31'\npolicies:\n  builtin: false\n",
        "t.yaml": TEMPLATE,
        "c.yaml": constraint,
        "d.yaml": DEPLOYMENT,
    }
    report = evaluate(Workspace.from_dict(files), options=EvalOptions(engine=engine))
    assert [(f.rule, f.file, f.line, f.message) for f in report.findings] == [
        ("gatekeeper/K8sReviewShape/shape", "d.yaml", 4, 'op=<CREATE> kind=<apps/v1/Deployment> name=<api> params=<{"level": 2}>')
    ]


def test_test_policies_command_runs_suites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["test-policies", str(LIBRARY)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "21 passed, 0 failed"
    ws = suite_workspace()
    for path in ws.paths:
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(ws.read(path) or b"")
    assert cli.main(["test-policies", str(tmp_path / "policies")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "1 passed, 8 failed"
    assert out[0] == (
        f"FAIL  {tmp_path}/policies/shape/suite.yaml: shape.wrong-count  got 1 violations but want exactly 2: "
        "got messages ['op=<> kind=<apps/v1/Deployment> name=<api> params=<{}>']"
    )


def test_deprecated_builtins_are_rewritten_outside_strings_and_comments() -> None:
    source = 'x { not any(xs); all([true]); re_match("any(", s) }  # any(x)\ny := `all(` \nz := net.cidr_overlap(a, b); myany(q)\n'
    assert rewrite_deprecated_calls(source) == (
        "x { not data.gitops.gatekeeper_compat.any_true(xs); data.gitops.gatekeeper_compat.all_true([true]); "
        'data.gitops.gatekeeper_compat.re_match("any(", s) }  # any(x)\n'
        "y := `all(` \nz := data.gitops.gatekeeper_compat.cidr_overlap(a, b); myany(q)\n"
    )
