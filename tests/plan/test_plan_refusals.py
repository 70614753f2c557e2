"""Renders fail closed: whatever the one kustomization reader cannot fully analyse or finds unsafe is never built."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.kustomization import MAX_KUSTOMIZATION_BYTES
from bot.core.workspace import Workspace
from bot.plan import build_plan
from bot.plan.model import REFUSED
from tests.plan.fakes import FakeKustomize

DEPLOYMENT = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
EXEC_PLUGIN = (
    "apiVersion: example.com/v1\nkind: Stamp\nmetadata:\n  name: x\n  annotations:\n"
    "    config.kubernetes.io/function: |\n      exec:\n        path: ./stamp.sh\n"
)
# Each bypass of the old reader pairs something unanalysable with a remote resource it would have fetched.
REMOTE = "resources:\n  - http://127.0.0.1:9/steal.yaml\n"

CASES = {
    "duplicate-key": (REMOTE + "resources:\n  - deployment.yaml\n", "cannot be analysed (line 3): "),
    "several-documents": ("resources: [deployment.yaml]\n---\n" + REMOTE, "holds 2 YAML documents"),
    "over-size-cap": (REMOTE + "#" * (MAX_KUSTOMIZATION_BYTES + 1) + "\n", "over the 262,144-byte limit"),
    "syntax-error": (REMOTE + "patches: [\n", "cannot be analysed"),
    "not-a-mapping": ("- deployment.yaml\n", "is not a mapping of kustomization fields"),
    "unknown-field": ("resources: [deployment.yaml]\nremoteResources: [x]\n", "unknown field 'remoteResources'"),
    "resources-not-a-list": ("resources: deployment.yaml\n", "resources: expected a list"),
    "escape": ("resources:\n  - ../../../etc/passwd\n", "'../../../etc/passwd' points outside the repository"),
    "absolute": ("resources:\n  - /etc/passwd\n", "'/etc/passwd' points outside the repository"),
    "http": ("resources:\n  - http://example.invalid/x.yaml\n", "remote reference 'http://example.invalid/x.yaml'"),
    "https-no-slashes": ("resources:\n  - https:example.invalid/x.yaml\n", "remote reference"),
    "ref-query": ("resources:\n  - repo/base?ref=main\n", "remote reference 'repo/base?ref=main'"),
    "remote-subdir": ("resources:\n  - example/repo//base\n", "remote reference 'example/repo//base'"),
    "scp-git": ("components:\n  - git@example.invalid:org/repo.git\n", "remote reference"),
    "github-path": ("bases:\n  - github.com/org/repo/base\n", "remote reference 'github.com/org/repo/base'"),
    "patch-url": ("patches:\n  - path: https://example.invalid/p.yaml\n", "patches: remote reference"),
    "krm-function-file": ("resources: [deployment.yaml]\ntransformers: [stamp.yaml]\n", "app/stamp.yaml runs a KRM function"),
    "krm-function-inline": (
        "generators:\n  - apiVersion: example.com/v1\n    kind: Stamp\n    metadata:\n      annotations:\n"
        "        config.kubernetes.io/function: '{container: {image: evil}}'\n",
        "inline entry runs a KRM function",
    ),
    "helm-charts": ("helmCharts:\n  - name: redis\n", "helmCharts: Helm charts need --enable-helm"),
    "helm-inflation": ("helmChartInflationGenerator:\n  - chartName: x\n", "helmChartInflationGenerator: Helm"),
    "generator-file-outside-root": (
        "configMapGenerator:\n  - name: c\n    files: [key=../shared/secret.txt]\n",
        "files entry 'key=../shared/secret.txt' is outside the kustomization's directory 'app'",
    ),
    "generator-env-outside-root": (
        "secretGenerator:\n  - name: s\n    envs: [../shared/secret.env]\n",
        "envs entry '../shared/secret.env' is outside the kustomization's directory 'app'",
    ),
    "generator-file-escaping-repo": (
        "configMapGenerator:\n  - name: c\n    files: [../../../../root/.ssh/id_rsa]\n", "points outside the repository",
    ),
}


@pytest.mark.parametrize(("kustomization", "reason_part"), list(CASES.values()), ids=list(CASES))
def test_refused_kustomizations_never_start_kustomize(tmp_path: Path, kustomization: str, reason_part: str):
    fake = FakeKustomize(tmp_path, output="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
    files = {
        "app/kustomization.yaml": kustomization,
        "app/deployment.yaml": DEPLOYMENT,
        "app/stamp.yaml": EXEC_PLUGIN,
        "shared/secret.txt": "s3cr3t\n",
        "shared/secret.env": "A=b\n",
    }
    head = Workspace.from_dict(files, label="head")

    plan = build_plan(Workspace.from_dict({}, label="base"), head, ["app/kustomization.yaml"], runner=fake.runner())

    [root] = plan.roots
    assert (root.path, root.status) == ("app", REFUSED)
    assert root.reason.startswith("app/kustomization.yaml: ") and reason_part in root.reason, root.reason
    assert root.objects == []
    assert fake.calls == []  # kustomize was never started


def test_a_refusal_at_base_refuses_the_root_even_when_head_is_clean(tmp_path: Path):
    fake = FakeKustomize(tmp_path, output="")
    base = Workspace.from_dict({"app/kustomization.yaml": REMOTE + "resources: [d.yaml]\n"})  # duplicate key
    head = Workspace.from_dict({"app/kustomization.yaml": "resources: [d.yaml]\n", "app/d.yaml": DEPLOYMENT})

    plan = build_plan(base, head, ["app/kustomization.yaml", "app/d.yaml"], runner=fake.runner())

    assert [(r.path, r.status) for r in plan.roots] == [("app", REFUSED)]
    assert fake.calls == []


def test_local_references_that_look_like_hosts_and_generators_inside_the_root_are_built(tmp_path: Path):
    fake = FakeKustomize(tmp_path, output="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
    files = {
        "app/kustomization.yaml": (
            "resources:\n  - config.d/extra.yaml\n  - ./deployment.yaml\n"
            "configMapGenerator:\n  - name: c\n    files: [conf/app.properties, key=conf/other.txt]\n"
            "    envs: [conf/vars.env]\n"
        ),
        "app/config.d/extra.yaml": DEPLOYMENT,
        "app/deployment.yaml": DEPLOYMENT,
        "app/conf/app.properties": "a=b\n",
        "app/conf/other.txt": "x\n",
        "app/conf/vars.env": "A=b\n",
    }

    plan = build_plan(Workspace.from_dict({}), Workspace.from_dict(files), list(files), runner=fake.runner())

    [root] = plan.roots
    assert (root.status, root.reason) == ("rendered", "")
    assert len(fake.calls) == 1
