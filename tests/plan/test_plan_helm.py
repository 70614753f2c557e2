"""Helm charts in the plan: refused unless the operator turns Helm on; then `helm template` in a sandbox.

No helm binary can be installed here (no Debian package, no PyPI wheel ships one), so a
stand-in `helm` on PATH (tests/support/helm_standin.py) records the arguments, environment
and working directory it was given and renders a ConfigMap from the values it was handed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.workspace import Workspace
from bot.plan.build import build_plan
from bot.plan.helm import HELM_NOT_FOUND, NO_NETWORK_PROXY, HelmRunner
from bot.plan.model import FAILED, HELM_NOT_RENDERED, NOT_RENDERED, REFUSED, RENDERED
from tests.support import helm_standin

APP = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web, namespace: argocd}
spec:
  project: default
  destination: {server: "https://kubernetes.default.svc", namespace: shop}
  source:
    repoURL: https://github.com/acme/platform.git
    path: charts/web
    helm:
      releaseName: web-prod
      valueFiles: [values-prod.yaml]
      valuesObject: {replicas: 3}
"""
CHART = {
    "argo/web.yaml": APP,
    "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    "charts/web/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n",
    "charts/web/values.yaml": "image: web:1.0\n",
}
BEFORE = {**CHART, "charts/web/values-prod.yaml": "tier: gold\n"}
AFTER = {**CHART, "charts/web/values-prod.yaml": "tier: platinum\n"}


def plan_with(helm: HelmRunner, before: dict = BEFORE, after: dict = AFTER, changed=("charts/web/values-prod.yaml",)):
    return build_plan(Workspace.from_dict(before), Workspace.from_dict(after), list(changed), helm=helm)


@pytest.fixture
def standin(tmp_path: Path):
    bin_dir = tmp_path / "bin"
    log = helm_standin.install(bin_dir)
    return bin_dir, log


def runner_for(bin_dir: Path, **kw) -> HelmRunner:
    return HelmRunner(enabled=True, search_path=f"{bin_dir}:/usr/bin:/bin", **kw)


def test_helm_stays_off_unless_the_operator_turns_it_on(standin) -> None:
    bin_dir, log = standin
    [root] = plan_with(HelmRunner(enabled=False, search_path=str(bin_dir))).roots
    assert (root.kind, root.status, root.reason) == ("helm", NOT_RENDERED, HELM_NOT_RENDERED)
    assert helm_standin.calls(log) == []
    assert not HelmRunner.from_environ({"PATH": str(bin_dir)}).enabled
    assert HelmRunner.from_environ({"PATH": str(bin_dir), "GITOPS_BOT_HELM": "1"}).enabled


def test_turned_on_without_a_helm_binary_says_so(tmp_path: Path) -> None:
    [root] = plan_with(HelmRunner(enabled=True, search_path=str(tmp_path))).roots
    assert (root.status, root.reason) == (NOT_RENDERED, HELM_NOT_FOUND)


def test_helm_template_runs_sandboxed_with_the_repositorys_values(
    standin, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir, log = standin
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_secret_that_must_not_reach_helm")
    [root] = plan_with(runner_for(bin_dir)).roots

    assert (root.status, root.reason) == (RENDERED, "")
    [change] = root.objects
    assert (change.operation, change.key) == ("update", ("", "ConfigMap", "shop", "web-prod-rendered"))
    assert "gold" in change.diff and "platinum" in change.diff  # the value file the Application names
    assert "image: web:1.0" in change.diff and "replicas: 3" in change.diff  # chart values, then valuesObject

    base_call, head_call = helm_standin.calls(log)
    argv, env, cwd = head_call["argv"], head_call["env"], head_call["cwd"]
    sandbox = Path(cwd).parent
    assert argv == [
        "template", "web-prod", f"{sandbox}/repo/charts/web", "--namespace", "shop", "--no-hooks",
        "--values", f"{sandbox}/repo/charts/web/values-prod.yaml", "--values", f"{sandbox}/home/inline-values.yaml",
    ]
    assert Path(cwd).name == "home"
    # nothing of ours: no token, no real HOME, Helm's homes and plugins inside the throwaway home, no network
    assert "GITHUB_TOKEN" not in env and "ghs_secret" not in json.dumps(env)
    home = f"{sandbox}/home"
    assert {k: v for k, v in env.items() if k.startswith("HELM_")} == {
        "HELM_CACHE_HOME": f"{home}/cache", "HELM_CONFIG_HOME": f"{home}/config", "HELM_DATA_HOME": f"{home}/data",
        "HELM_PLUGINS": f"{home}/no-plugins", "HELM_NO_PLUGINS": "1",
        "HELM_REGISTRY_CONFIG": f"{home}/config/registry/config.json",
        "HELM_REPOSITORY_CONFIG": f"{home}/config/repositories.yaml",
        "HELM_REPOSITORY_CACHE": f"{home}/cache/repository",
    }
    assert env["HOME"] == home and env["KUBECONFIG"] == f"{home}/no-kubeconfig"
    assert env["HTTPS_PROXY"] == env["HTTP_PROXY"] == env["https_proxy"] == NO_NETWORK_PROXY and env["NO_PROXY"] == ""
    # (LC_CTYPE: added by the stand-in's own Python at start-up, PEP 538)
    assert set(env) - {"LC_CTYPE"} == {
        "PATH", "HOME", "XDG_CONFIG_HOME", "KUSTOMIZE_PLUGIN_HOME", "LANG", "KUBECONFIG", "NO_PROXY", "no_proxy",
        "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", *(k for k in env if k.startswith("HELM_"))}
    assert not sandbox.exists()  # removed once rendered
    assert base_call["argv"][:2] + base_call["argv"][3:6] == argv[:2] + argv[3:6]


@pytest.mark.parametrize(
    ("helm_settings", "reason"),
    [
        ("valueFiles: ['https://evil.example/values.yaml']", "value file 'https://evil.example/values.yaml' is outside the repository"),
        ("valueFiles: ['../../../etc/passwd']", "value file '../../../etc/passwd' is outside the repository"),
        ("valueFiles: ['/etc/passwd']", "value file '/etc/passwd' is outside the repository"),
        ("valueFiles: ['$values/charts/web/values.yaml']", "is outside the repository"),
        ("releaseName: '--post-renderer=/bin/sh'", "is not a valid Helm release name"),
        ("parameters: [{name: image, value: evil}]", "helm.parameters are not rendered"),
        ("valueFiles: [missing.yaml]", "value file charts/web/missing.yaml is not in the repository"),
    ],
)
def test_what_leaves_the_repository_is_refused_before_helm_runs(standin, helm_settings: str, reason: str) -> None:
    bin_dir, log = standin
    app = APP.replace(
        "      releaseName: web-prod\n      valueFiles: [values-prod.yaml]\n", f"      {helm_settings}\n"
    )
    after = {**AFTER, "argo/web.yaml": app}
    [root] = plan_with(runner_for(bin_dir), after=after).roots
    assert root.status == REFUSED and reason in root.reason
    assert helm_standin.calls(log) == []


def test_a_failing_render_is_reported_without_sandbox_paths(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    helm_standin.install(bin_dir, mode="fail")
    [root] = plan_with(runner_for(bin_dir)).roots
    assert (root.status, root.reason) == (
        FAILED, "Error: template: web/templates/deployment.yaml:3:4: executing: nil pointer")


def test_a_render_that_hangs_is_stopped(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    helm_standin.install(bin_dir, mode="slow")
    [root] = plan_with(runner_for(bin_dir, timeout=0.5)).roots
    assert (root.status, root.reason) == (FAILED, "helm template took longer than 0.5 s and was stopped")


def test_a_chart_added_by_the_change_is_all_creates(standin) -> None:
    bin_dir, _ = standin
    before = {"argo/web.yaml": APP}
    [root] = [r for r in plan_with(runner_for(bin_dir), before=before, changed=sorted(AFTER)).roots if r.kind == "helm"]
    assert root.status == RENDERED
    assert [(o.operation, o.key[3]) for o in root.objects] == [("create", "web-prod-rendered")]
