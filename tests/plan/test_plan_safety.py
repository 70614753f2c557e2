"""Rendering untrusted kustomizations: refused before anything runs, safe flags, no credentials, time limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.workspace import Workspace
from bot.plan import build_plan
from bot.plan.kustomize_runner import NOT_FOUND, KustomizeRunner
from bot.plan.model import FAILED, NOT_RENDERED, REFUSED, RENDERED
from tests.plan.fakes import FakeKustomize

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.25
"""
RENDERED_CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rendered\ndata:\n  a: b\n"


def _plan_of(kustomization: str, runner: KustomizeRunner, extra: dict[str, str] | None = None):
    files = {"app/kustomization.yaml": kustomization, "app/deployment.yaml": DEPLOYMENT, **(extra or {})}
    head = Workspace.from_dict(files, label="head")
    return build_plan(Workspace.from_dict({}, label="base"), head, list(files), runner=runner)


@pytest.mark.parametrize(
    ("kustomization", "reason"),
    [
        (
            "resources:\n  - github.com/example/repo//base?ref=v1\n",
            "app/kustomization.yaml: resources: remote reference 'github.com/example/repo//base?ref=v1': "
            "remote bases and resources are never fetched",
        ),
        (
            "resources:\n  - https://example.invalid/manifests.yaml\n",
            "app/kustomization.yaml: resources: remote reference 'https://example.invalid/manifests.yaml': "
            "remote bases and resources are never fetched",
        ),
        (
            "bases:\n  - git@github.com:example/repo.git\n",
            "app/kustomization.yaml: bases: remote reference 'git@github.com:example/repo.git': "
            "remote bases and resources are never fetched",
        ),
        (
            "components:\n  - example.com/org/components/labels\n",
            "app/kustomization.yaml: components: remote reference 'example.com/org/components/labels': "
            "remote bases and resources are never fetched",
        ),
        (
            "resources:\n  - ../../../etc\n",
            "app/kustomization.yaml: resources: '../../../etc' points outside the repository",
        ),
        (
            "resources: [deployment.yaml]\nhelmCharts:\n  - name: redis\n    repo: https://charts.example.invalid\n",
            "app/kustomization.yaml: helmCharts: Helm charts need --enable-helm, which the bot never passes",
        ),
        (
            "resources: [deployment.yaml]\ngenerators: [plugin.yaml]\n",
            "app/kustomization.yaml: generators: app/plugin.yaml configures plugin someteam.example.com/v1/"
            "SecretsFromVault: only kustomize's builtin plugins are allowed (exec and Go plugins are never run)",
        ),
        (
            "resources: [deployment.yaml]\ntransformers:\n  - |\n    apiVersion: example.com/v1\n    kind: Stamp\n"
            "    metadata:\n      name: x\n      annotations:\n        config.kubernetes.io/function: |\n"
            "          exec:\n            path: ./stamp.sh\n",
            "app/kustomization.yaml: transformers: inline entry runs a KRM function (exec or container): "
            "plugins are never run",
        ),
    ],
    ids=["go-getter", "url", "scp-git", "host-path", "escape", "helm", "exec-plugin", "krm-function"],
)
def test_unsafe_kustomizations_are_refused_without_running_anything(tmp_path: Path, kustomization: str, reason: str):
    fake = FakeKustomize(tmp_path, output=RENDERED_CONFIGMAP)
    plugin = "apiVersion: someteam.example.com/v1\nkind: SecretsFromVault\nmetadata:\n  name: vault\n"

    plan = _plan_of(kustomization, fake.runner(), {"app/plugin.yaml": plugin})

    [root] = plan.roots
    assert (root.path, root.status, root.reason) == ("app", REFUSED, reason)
    assert root.objects == []
    assert fake.calls == []  # kustomize was never started


def test_refusal_in_an_included_base_refuses_the_overlay(tmp_path: Path):
    fake = FakeKustomize(tmp_path, output=RENDERED_CONFIGMAP)
    files = {
        "base/kustomization.yaml": "resources:\n  - https://example.invalid/crds.yaml\n",
        "overlay/kustomization.yaml": "resources: [../base]\n",
    }
    plan = build_plan(Workspace.from_dict({}), Workspace.from_dict(files), list(files), runner=fake.runner())

    assert [(r.path, r.status) for r in plan.roots] == [("overlay", REFUSED)]
    assert plan.roots[0].reason.startswith("base/kustomization.yaml: resources: remote reference")
    assert fake.calls == []


def test_builtin_plugins_and_local_files_are_built_with_safe_flags_and_no_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_should_never_reach_kustomize_0000000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret-never-passed")
    fake = FakeKustomize(tmp_path, output=RENDERED_CONFIGMAP)
    builtin = "apiVersion: builtin\nkind: PrefixSuffixTransformer\nmetadata:\n  name: p\nprefix: x-\nfieldSpecs: []\n"

    plan = _plan_of("resources: [deployment.yaml]\ntransformers: [prefix.yaml]\n", fake.runner(), {"app/prefix.yaml": builtin})

    [root] = plan.roots
    assert (root.status, [o.key for o in root.objects]) == (RENDERED, [("", "ConfigMap", "", "rendered")])
    [call] = fake.calls
    # no --enable-* flag; the load restrictor is explicit, whatever the binary's default
    assert call.startswith("build --load-restrictor LoadRestrictionsRootOnly /") and call.endswith("/repo/app")
    assert "GITHUB_TOKEN" not in fake.environment and "AWS_SECRET" not in fake.environment
    assert "HOME=" in fake.environment and "/home" in fake.environment


def test_a_kustomize_error_is_reported_without_the_sandbox_path(tmp_path: Path):
    fake = FakeKustomize(tmp_path, exit_code=1)

    plan = _plan_of("resources: [deployment.yaml]\n", fake.runner())

    [root] = plan.roots
    assert (root.status, root.reason) == (FAILED, "head: Error: accumulating resources: open app/missing.yaml")


def test_a_kustomize_that_hangs_is_stopped(tmp_path: Path):
    fake = FakeKustomize(tmp_path, sleep_seconds=30)

    plan = _plan_of("resources: [deployment.yaml]\n", fake.runner(timeout=0.5))

    [root] = plan.roots
    assert (root.status, root.reason) == (FAILED, "head: kustomize build took longer than 0.5 s and was stopped")


def test_without_kustomize_roots_are_listed_as_not_rendered_and_plain_directories_still_work(tmp_path: Path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    runner = KustomizeRunner(search_path=str(empty))
    files = {
        "app/kustomization.yaml": "resources: [deployment.yaml]\n",
        "app/deployment.yaml": DEPLOYMENT,
        "plain/configmap.yaml": RENDERED_CONFIGMAP,
    }

    plan = build_plan(Workspace.from_dict({}), Workspace.from_dict(files), list(files), runner=runner)

    assert [(r.path, r.kind, r.status, r.reason) for r in plan.roots] == [
        ("app", "kustomize", NOT_RENDERED, NOT_FOUND),
        ("plain", "directory", RENDERED, ""),
    ]
    assert [(o.operation, o.key) for o in plan.roots[1].objects] == [("create", ("", "ConfigMap", "", "rendered"))]
