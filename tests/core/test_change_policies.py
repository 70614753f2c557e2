"""Change-aware policies: built-in `gitops.change.builtin.*` rules and repository `gitops.change` packages."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.change_policies import (
    ChangePolicySet,
    change_input,
    pull_request_facts,
)
from bot.core.changes import pair_objects
from bot.core.evaluate import EvalOptions, evaluate
from bot.core.findings import Severity, Waiver
from bot.core.manifests import load_workspace
from bot.core.rego import ENGINES, builtin_policy_dir, run_policy_tests
from bot.core.rego.results import POLICY_ERROR_RULE
from bot.core.workspace import Workspace
from bot.pull.evaluate import evaluate_change
from bot.pull.fake import FakePullContext

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "change"
DELETE_MSG = "; if intended, waive rule change-destructive-delete with an exception in .gitops-bot.yaml"


def tree(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def fixture_context(name: str) -> FakePullContext:
    return FakePullContext(head=tree(FIXTURES / name / "head"), base=tree(FIXTURES / name / "base"))


def change_findings(report, prefix: str = "change-"):
    return [f for f in report.sorted_findings() if f.rule.startswith(prefix)]


def rows(findings):
    return [(f.rule, f.severity.label, f.file, f.line, f.path, f.resource.display()) for f in findings]


@pytest.mark.parametrize("engine", ENGINES)
def test_builtin_change_rules_report_exact_findings(engine):
    report = evaluate_change(fixture_context("builtin"), EvalOptions(engine=engine))

    assert [f for f in report.findings if f.rule == POLICY_ERROR_RULE] == []
    assert rows(change_findings(report)) == [
        ("change-deployment-selector", "error", "api.yaml", 8, "spec.selector", "Deployment/shop/api"),
        ("change-destructive-delete", "error", "crd.yaml", 4, "metadata.name", "CustomResourceDefinition/widgets.example.com"),
        ("change-statefulset-immutable", "error", "db.yaml", 7, "spec.serviceName", "StatefulSet/shop/db"),
        ("change-statefulset-immutable", "error", "db.yaml", 20, "spec.volumeClaimTemplates", "StatefulSet/shop/db"),
        # namespaces.yaml still exists at head: the base line stays in the message only.
        ("change-destructive-delete", "error", "namespaces.yaml", 0, "metadata.name", "Namespace/legacy"),
        ("change-destructive-delete", "error", "storage.yaml", 4, "metadata.name", "PersistentVolumeClaim/shop/uploads"),
        ("change-destructive-delete", "error", "storage.yaml", 15, "metadata.name", "PersistentVolume/archive"),
        ("change-replica-drop", "warning", "web.yaml", 7, "spec.replicas", "Deployment/shop/web"),
        ("change-image-downgrade", "warning", "web.yaml", 18, "spec.template.spec.containers[0].image", "Deployment/shop/web"),
        ("change-limits-removed", "warning", "web.yaml", 23, "spec.template.spec.containers[0].resources.limits", "Deployment/shop/web"),
    ]
    messages = {(f.file, f.line): f.message for f in change_findings(report)}
    assert messages[("namespaces.yaml", 0)] == (
        'deleting Namespace "legacy" removes every object in the namespace, including its PersistentVolumeClaims '
        f"and Secrets{DELETE_MSG} (deleted in this change; line 9 of namespaces.yaml at the base)"
    )
    assert messages[("storage.yaml", 4)] == (
        'deleting PersistentVolumeClaim "uploads" removes the claim and, with the usual Delete reclaim policy, '
        f"its volume and data{DELETE_MSG} (deleted in this change; line 4 of storage.yaml at the base)"
    )
    assert messages[("db.yaml", 7)] == (
        'StatefulSet "db": spec.serviceName changed, but it is immutable; the API server would reject the apply'
    )
    assert messages[("web.yaml", 18)] == (
        'Deployment "web": container "web" image ghcr.io/acme/web moves from v1.4.0 back to older v1.3.9; '
        "make sure the rollback is intended"
    )
    selector = next(f for f in report.findings if f.rule == "change-deployment-selector")
    assert selector.remediation == (
        "Revert spec.selector, or create the Deployment under a new name and delete the old one."
    )
    # Sorted by (group, kind, namespace, name): core kinds first.
    assert [r.display() for r in report.deleted] == [
        "Namespace/legacy",
        "PersistentVolume/archive",
        "PersistentVolumeClaim/shop/uploads",
        "CustomResourceDefinition/widgets.example.com",
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_rego_unit_tests_of_the_change_rules_pass(engine):
    results = [r for r in run_policy_tests([builtin_policy_dir()], engine=engine) if r.package.startswith("gitops.change.")]
    assert [(r.package, r.name, r.error) for r in results if not r.passed] == []
    assert len(results) == 30
    assert {r.package.rsplit(".", 1)[-1] for r in results} == {
        "deployment_selector",
        "destructive_delete",
        "image_downgrade",
        "limits_removed",
        "replica_drop",
        "statefulset_immutable",
    }


def test_whole_tree_check_runs_no_change_rules():
    report = evaluate(Workspace.from_dict(tree(FIXTURES / "builtin" / "head")))
    assert change_findings(report) == []


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
{annotations}spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx:1.27.2
"""


def deployment(replicas: int, annotations: str = "") -> str:
    return DEPLOYMENT.format(replicas=replicas, annotations=annotations)


def test_annotation_on_the_after_object_waives_its_change_finding():
    annotations = '  annotations:\n    gitops-bot.io/skip.change-replica-drop: "traffic is back to normal after the sale"\n'
    ctx = FakePullContext(head={"web.yaml": deployment(2, annotations)}, base={"web.yaml": deployment(8)})
    report = evaluate_change(ctx)
    [drop] = change_findings(report)
    assert (drop.rule, drop.line, drop.blocking) == ("change-replica-drop", 9, False)
    assert drop.waived == Waiver(
        kind="annotation", reason="traffic is back to normal after the sale", by="gitops-bot.io/skip.change-replica-drop"
    )
    assert report.counts()["waived"] == 1


PVC = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: uploads
  namespace: shop
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 5Gi
"""

EXCEPTION_CONFIG = """\
exceptions:
  - rule: change-destructive-delete
    reason: uploads moved to object storage (OPS-77)
    resources:
      kind: PersistentVolumeClaim
      name: uploads
"""


def test_config_exception_from_the_base_waives_a_delete():
    base = {".gitops-bot.yaml": EXCEPTION_CONFIG, "pvc.yaml": PVC}
    report = evaluate_change(FakePullContext(head={".gitops-bot.yaml": EXCEPTION_CONFIG}, base=base))
    [delete] = change_findings(report)
    assert (delete.rule, delete.file, delete.line, delete.blocking) == ("change-destructive-delete", "pvc.yaml", 4, False)
    assert delete.waived == Waiver(kind="exception", reason="uploads moved to object storage (OPS-77)")
    assert report.passed()


def test_without_an_exception_the_delete_blocks():
    report = evaluate_change(FakePullContext(head={}, base={"pvc.yaml": PVC}))
    assert [(f.rule, f.severity, f.blocking) for f in report.findings] == [
        ("change-destructive-delete", Severity.ERROR, True)
    ]
    assert report.exit_code() == 1


def test_object_moved_to_another_file_is_not_a_delete():
    ctx = FakePullContext(head={"storage/pvc.yaml": PVC}, base={"pvc.yaml": PVC})
    assert change_findings(evaluate_change(ctx)) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_repository_change_policy_reads_pull_request_labels(engine):
    pr = {"author": "ana", "labels": [{"name": "docs"}], "base_ref": "main"}
    report = evaluate_change(fixture_context("user-policy"), EvalOptions(engine=engine, pull_request=pr))
    assert rows(change_findings(report, "acme-")) == [
        ("acme-delete-needs-label", "error", "apps/config.yaml", 0, "metadata.name", "ConfigMap/shop/flags")
    ]
    [denied] = change_findings(report, "acme-")
    assert denied.message == (
        "ConfigMap flags is deleted without the allow-deletes label (author: ana, into main) "
        "(deleted in this change; line 12 of apps/config.yaml at the base)"
    )
    assert denied.remediation == "Ask a maintainer to add the allow-deletes label to the pull request."

    labelled = {**pr, "labels": ["allow-deletes", "docs"]}
    report = evaluate_change(fixture_context("user-policy"), EvalOptions(engine=engine, pull_request=labelled))
    assert change_findings(report, "acme-") == []
    assert report.passed()


NAMESPACED_POLICY = """\
package acme.changes

import rego.v1

warn contains msg if {
\tinput.operation == "create"
\tmsg := sprintf("new %s %s in %s", [input.after.kind, input.after.metadata.name, input.file])
}
"""

IGNORED_POLICY = """\
package gitops.change

import rego.v1

deny contains "never queried" if true
"""


def test_change_namespaces_choose_the_packages_and_builtin_false_drops_the_library():
    config = "policies:\n  directories: [policy]\n  changeNamespaces: [acme.changes]\n  builtin: false\n"
    base = {".gitops-bot.yaml": config, "policy/a.rego": NAMESPACED_POLICY, "policy/b.rego": IGNORED_POLICY, "pvc.yaml": PVC}
    head = {**base, "pvc.yaml": PVC.replace("uploads", "media")}
    report = evaluate_change(FakePullContext(head=head, base=base))
    policy = [f for f in report.findings if f.source == "policy"]
    # Without a rule id in METADATA, findings are named by package and rule, like conftest's.
    assert [(f.rule, f.severity.label, f.line, f.message) for f in policy] == [
        ("acme.changes.warn", "warning", 4, "new PersistentVolumeClaim media in pvc.yaml"),
    ]


def test_a_failing_repository_rule_is_one_error_and_the_builtin_rules_still_run():
    broken = 'package gitops.change\n\nimport rego.v1\n\ndeny := "a" if true\n\ndeny := "b" if true\n'
    base = {".gitops-bot.yaml": "policies:\n  directories: [policy]\n", "policy/broken.rego": broken, "pvc.yaml": PVC}
    head = {k: v for k, v in base.items() if k != "pvc.yaml"}
    report = evaluate_change(FakePullContext(head=head, base=base))
    assert sorted((f.rule, f.file, f.line) for f in report.findings if f.source == "policy") == [
        ("change-destructive-delete", "pvc.yaml", 4),
        (POLICY_ERROR_RULE, "pvc.yaml", 1),
    ]
    error = next(f for f in report.findings if f.rule == POLICY_ERROR_RULE)
    assert error.message.startswith("change policy package gitops.change could not be evaluated for this change: ")


def test_change_input_shape_and_pull_request_facts():
    before = load_workspace(Workspace.from_dict({"web.yaml": deployment(4)}), ["web.yaml"]).resources
    after = load_workspace(Workspace.from_dict({"app/web.yaml": deployment(3)}), ["app/web.yaml"]).resources
    [change] = pair_objects(before, after)
    document = change_input(change, {"author": "bo", "labels": ["b", {"name": "a"}, "b", 7]})
    assert document["operation"] == "update"
    assert (document["before"]["spec"]["replicas"], document["after"]["spec"]["replicas"]) == (4, 3)
    assert document["file"] == "app/web.yaml"
    assert document["pull_request"] == {"author": "bo", "labels": ["a", "b"], "base_ref": ""}
    assert pull_request_facts(None) == {"author": "", "labels": [], "base_ref": ""}


def test_policy_set_without_changes_or_rules_returns_nothing():
    empty = ChangePolicySet.load([], namespaces=("gitops.change",), builtin=False)
    assert empty.targets == []
    assert empty.evaluate([]) == []


def test_per_document_evaluation_never_queries_the_change_packages():
    from bot.core.rego.policyset import PolicySet

    per_document = PolicySet.load([])
    assert [t.package for t in per_document.targets if t.package.startswith("gitops.change")] == []
    assert [r.id for r in per_document.rules if r.id.startswith("change-")] == []
    builtin = ChangePolicySet.load([])
    assert sorted({t.package for t in builtin.targets}) == [
        "gitops.change.builtin.deployment_selector",
        "gitops.change.builtin.destructive_delete",
        "gitops.change.builtin.image_downgrade",
        "gitops.change.builtin.limits_removed",
        "gitops.change.builtin.replica_drop",
        "gitops.change.builtin.statefulset_immutable",
    ]


def test_config_rules_relevel_and_disable_change_rules():
    base = {"web.yaml": deployment(8), ".gitops-bot.yaml": "rules:\n  change-replica-drop: error\n"}
    head = {**base, "web.yaml": deployment(1)}
    [drop] = change_findings(evaluate_change(FakePullContext(head=head, base=base)))
    assert (drop.rule, drop.severity, drop.line) == ("change-replica-drop", Severity.ERROR, 7)
    base[".gitops-bot.yaml"] = "rules:\n  change-replica-drop: off\n"
    assert change_findings(evaluate_change(FakePullContext(head=head, base=base))) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_change_policy_that_needs_the_per_document_library_fails_alone(engine):
    # Change rules compile without the per-document built-ins, so this call has no definition there.
    uses_builtin = (
        "package gitops.change\n\nimport rego.v1\n\n"
        "deny contains p if { p := data.gitops.builtin.image_tag.image_problem(input.after.spec.image) }\n"
    )
    config = "policies:\n  directories: [policy]\n"
    base = {".gitops-bot.yaml": config, "policy/c.rego": uses_builtin, "pvc.yaml": PVC}
    head = {**base, "pvc.yaml": PVC.replace("5Gi", "6Gi")}
    report = evaluate_change(FakePullContext(head=head, base=base), EvalOptions(engine=engine))
    broken = [f for f in report.findings if f.rule in ("config/invalid", POLICY_ERROR_RULE)]
    if engine == "opa":  # OPA type-checks calls when compiling: the whole change set is refused
        assert [(f.rule, f.file, f.line) for f in broken] == [("config/invalid", ".gitops-bot.yaml", 0)]
        assert broken[0].message.startswith("the repository's change policies do not compile: compile policy/c.rego")
    else:  # regorus finds the missing function when evaluating: that one package fails for that change
        assert [(f.rule, f.file, f.line) for f in broken] == [(POLICY_ERROR_RULE, "pvc.yaml", 1)]
