"""ExpansionTemplates: the Pods a workload will create, judged by Pod constraints and reported on the workload."""

from __future__ import annotations

import pytest

from bot.core.findings import Severity
from bot.core.gatekeeper import evaluate_gatekeeper
from bot.core.gatekeeper.expansion import expand, read_expansion_template
from bot.core.gatekeeper.match import GENERATED, ORIGINAL, matches
from bot.core.gatekeeper.objects import InvalidObject
from bot.core.manifests import load_manifest
from bot.core.rego import ENGINES
from bot.core.resource import Resource

EXPAND = """apiVersion: expansion.gatekeeper.sh/v1alpha1
kind: ExpansionTemplate
metadata:
  name: {name}
spec:
  applyTo:
    - groups: [{groups}]
      kinds: [{kinds}]
      versions: ["v1"]
  templateSource: "{source}"
  generatedGVK: {{group: "{group}", version: v1, kind: {kind}}}
"""

CRONJOB = {
    "apiVersion": "batch/v1",
    "kind": "CronJob",
    "metadata": {"name": "Nightly", "namespace": "ops"},
    "spec": {"jobTemplate": {"spec": {"template": {"metadata": {"labels": {"app": "n"}}, "spec": {"containers": []}}}}},
}


def resource(text: str) -> Resource:
    return load_manifest("x.yaml", text.encode()).resources[0]


def test_expansion_is_recursive_and_names_like_gatekeeper() -> None:
    cron_to_job = read_expansion_template(
        resource(EXPAND.format(name="cron", groups='"batch"', kinds="CronJob", source="spec.jobTemplate", group="batch", kind="Job"))
    )
    job_to_pod = read_expansion_template(
        resource(EXPAND.format(name="job", groups='"batch"', kinds="Job", source="spec.template", group="", kind="Pod"))
    )
    resultants = expand(CRONJOB, [cron_to_job, job_to_pod])
    assert [(r.template.name, r.obj["apiVersion"], r.obj["kind"], r.obj["metadata"]["name"]) for r in resultants] == [
        ("job", "v1", "Pod", "nightly-job-pod"),
        ("cron", "batch/v1", "Job", "nightly-job"),
    ]
    pod = resultants[0].obj
    assert pod["metadata"]["namespace"] == "ops"
    assert pod["metadata"]["labels"] == {"app": "n"}
    assert pod["metadata"]["ownerReferences"] == [{"apiVersion": "batch/v1", "kind": "Job", "name": "nightly-job", "uid": ""}]
    assert resultants[0].message("no") == "[Implied by job] no"


def test_expansion_template_that_expands_its_own_output_is_invalid() -> None:
    loop = EXPAND.format(name="loop", groups='""', kinds="Pod", source="spec", group="", kind="Pod")
    with pytest.raises(InvalidObject, match="generates /v1/Pod, which it also applies to"):
        read_expansion_template(resource(loop))


def test_match_source_separates_generated_from_original_objects() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    assert matches({"source": "Generated"}, pod, None, source=GENERATED) is True
    assert matches({"source": "Generated"}, pod, None, source=ORIGINAL) is False
    assert matches({"source": "Original"}, pod, None, source=GENERATED) is False
    assert matches({"source": "All"}, pod, None, source=GENERATED) is True


TEMPLATE = """apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8snolatest
spec:
  crd:
    spec:
      names:
        kind: K8sNoLatest
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8snolatest
        violation[{"msg": msg}] {
          c := input.review.object.spec.containers[_]
          endswith(c.image, ":latest")
          msg := sprintf("%v uses a latest tag", [c.name])
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sNoLatest
metadata:
  name: no-latest
spec:
  match:
    kinds: [{apiGroups: [""], kinds: ["Pod"]}]
    source: {source}
---
apiVersion: expansion.gatekeeper.sh/v1alpha1
kind: ExpansionTemplate
metadata:
  name: expand-deployments
spec:
  applyTo: [{groups: ["apps"], kinds: ["Deployment"], versions: ["v1"]}]
  templateSource: spec.template
  enforcementAction: dryrun
  generatedGVK: {group: "", version: v1, kind: Pod}
---
apiVersion: expansion.gatekeeper.sh/v1alpha1
kind: ExpansionTemplate
metadata:
  name: broken
spec:
  applyTo: [{groups: ["apps"], kinds: ["StatefulSet"], versions: ["v1"]}]
  generatedGVK: {group: "", version: v1, kind: Pod}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers: [{name: web, image: "nginx:latest"}]
"""


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("source", "expected"), [("All", 1), ("Original", 0)])
def test_generated_pods_are_judged_and_reported_on_the_workload(engine: str, source: str, expected: int) -> None:
    resources = load_manifest("all.yaml", TEMPLATE.replace("{source}", source).encode()).resources
    result = evaluate_gatekeeper(resources, engine=engine)
    assert [(f.rule, f.severity, f.line, f.message) for f in result.findings] == [
        ("gatekeeper/invalid-expansion-template", Severity.ERROR, 43,
         "ExpansionTemplate broken: spec.templateSource is required"),
    ] + [
        ("gatekeeper/K8sNoLatest/no-latest", Severity.NOTICE, 50, "[Implied by expand-deployments] web uses a latest tag"),
    ][:expected]


def test_expansion_templates_alone_are_checked_and_not_unknown_kinds() -> None:
    from bot.core.evaluate import EvalOptions, evaluate
    from bot.core.workspace import Workspace

    good = EXPAND.format(name="pods", groups='"apps"', kinds="Deployment", source="spec.template", group="", kind="Pod")
    broken = good.replace('  templateSource: "spec.template"\n', "").replace("name: pods", "name: broken")
    files = {".gitops-bot.yaml": "policies:\n  builtin: false\n", "good.yaml": good, "broken.yaml": broken}
    findings = evaluate(Workspace.from_dict(files), options=EvalOptions()).findings
    assert [(f.rule, f.file, f.line, f.message) for f in findings] == [
        ("gatekeeper/invalid-expansion-template", "broken.yaml", 5, "ExpansionTemplate broken: spec.templateSource is required")
    ]
