"""The rendered verdict for Helm charts of the repository: off unless the operator turns it on, then sandboxed and judged.

No helm binary can be installed here (no Debian package, no PyPI or npm package ships one), so two
`helm`s go on PATH: a stand-in (tests/support/helm_standin.py, mode ``chart``) that records its
arguments, environment and sandbox, and one that renders with Helm's own Go engine
(tests/support/helm_engine.py, over helm-python-sdk) for real template semantics.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.evaluate import EvalOptions, evaluate
from bot.core.findings import Finding, Severity
from bot.core.rendered import RULE_RENDER_FAILED, RULE_RENDER_SKIPPED
from bot.core.report import Report
from bot.core.workspace import Workspace
from bot.plan.helm import NO_NETWORK_PROXY, HelmRunner
from bot.plan.verdict_renderer import KustomizeRenderer
from bot.pull.evaluate import evaluate_change
from bot.pull.local import LocalPullContext
from tests.plan.repo_builder import GitRepo
from tests.support import helm_engine, helm_standin

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "rendered" / "charts"
WEB_ARGV_TAIL = ["--namespace", "shop", "--no-hooks"]


def line_of(file: str, needle: str) -> int:
    lines = (FIXTURE / file).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def helm_renderer(bin_dir: Path, **kw: float) -> KustomizeRenderer:
    return KustomizeRenderer(helm=HelmRunner(enabled=True, search_path=f"{bin_dir}:/usr/bin:/bin", **kw))


def check(renderer: KustomizeRenderer, ws: Workspace | None = None) -> Report:
    return evaluate(ws or Workspace.from_directory(FIXTURE), options=EvalOptions(renderer=renderer))


def by_rule(report: Report, rule: str) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule]


@pytest.fixture
def standin(tmp_path: Path) -> tuple[Path, Path]:
    bin_dir = tmp_path / "bin"
    return bin_dir, helm_standin.install(bin_dir, mode="chart")


def test_without_the_switch_each_release_is_a_visible_warning_saying_how_to_turn_it_on(standin) -> None:
    bin_dir, log = standin
    off = KustomizeRenderer(helm=HelmRunner(enabled=False, search_path=str(bin_dir)))
    report = check(off)
    skipped = by_rule(report, RULE_RENDER_SKIPPED)
    assert {(f.file, f.line, f.severity) for f in skipped} == {
        ("charts/web/Chart.yaml", 1, Severity.WARNING), ("charts/api/Chart.yaml", 1, Severity.WARNING)}
    assert all("GITOPS_BOT_HELM=1" in f.message and "templates were not judged" in f.message for f in skipped)
    assert any("2 Helm release(s) of repository charts were not rendered" in n for n in report.notices)
    assert helm_standin.calls(log) == []
    assert not by_rule(report, "privileged-container")  # nothing judged from a guess


@pytest.mark.parametrize("helm", ["stand-in", "helm engine"])
def test_findings_point_at_the_values_line_that_set_the_field_or_else_at_the_template(tmp_path: Path, helm: str) -> None:
    bin_dir = tmp_path / "bin"
    if helm == "stand-in":
        helm_standin.install(bin_dir, mode="chart")
    else:
        helm_engine.install(bin_dir)
    report = check(helm_renderer(bin_dir))

    (privileged,) = by_rule(report, "privileged-container")
    assert (privileged.file, privileged.line) == ("charts/web/values-prod.yaml", line_of("charts/web/values-prod.yaml", "privileged: true"))
    assert "`.Values.privileged` in charts/web/templates/deployment.yaml" in privileged.message
    assert (privileged.resource.kind, privileged.resource.namespace, privileged.resource.name) == ("Deployment", "shop", "web-prod")
    assert privileged.blocking

    (latest,) = by_rule(report, "image-tag")  # the tag, not the repository, decides
    assert (latest.file, latest.line) == ("charts/web/values-prod.yaml", line_of("charts/web/values-prod.yaml", "tag: latest"))

    (host_network,) = by_rule(report, "host-network")  # written in the template itself: no line is known
    assert (host_network.file, host_network.line) == ("charts/web/templates/deployment.yaml", 1)
    assert "Helm does not say which line of a template made a field" in host_network.message

    # Flux: inline values (highest) in the HelmRelease itself; release name <targetNamespace>-<name>
    (host_port,) = by_rule(report, "host-port")
    assert (host_port.file, host_port.line) == ("flux/api.yaml", line_of("flux/api.yaml", "hostPort: 8080"))
    assert (host_port.resource.kind, host_port.resource.name) == ("Pod", "shop-api")
    assert any(n.startswith("rendered 2 Helm release(s)") for n in report.notices)
    assert not [f for f in report.findings if "#rendered-" in f.file + f.message]  # every label mapped back


def test_helm_runs_in_the_sandbox_with_the_repositorys_chart_and_values_only(standin, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir, log = standin
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_secret_that_must_not_reach_helm")
    monkeypatch.setenv("HELM_PLUGINS", "/root/.local/share/helm/plugins")
    check(helm_renderer(bin_dir))
    calls = {c["argv"][1]: c for c in helm_standin.calls(log)}
    assert set(calls) == {"web-prod", "shop-api"}

    web = calls["web-prod"]
    sandbox = Path(web["cwd"]).parent
    assert web["argv"] == ["template", "web-prod", f"{sandbox}/repo/charts/web", *WEB_ARGV_TAIL,
                           "--values", f"{sandbox}/repo/charts/web/values-prod.yaml"]
    assert web["files"] == ["charts/web/Chart.yaml", "charts/web/templates/deployment.yaml",
                            "charts/web/values-prod.yaml", "charts/web/values.yaml"]  # nothing else of the repository
    api = calls["shop-api"]
    api_sandbox = Path(api["cwd"]).parent
    # Flux valuesFiles replace the chart's values.yaml (merged in order); inline values come last.
    assert api["argv"][2:] == [f"{api_sandbox}/repo/charts/api", "--namespace", "shop", "--no-hooks",
                               "--values", f"{api_sandbox}/home/inline-values.yaml"]
    assert api["files"] == ["charts/api/Chart.yaml", "charts/api/templates/pod.yaml", "charts/api/values.yaml",
                            "envs/prod/api-values.yaml"]
    for call in calls.values():
        env, home = call["env"], call["cwd"]
        assert "GITHUB_TOKEN" not in env and "ghs_secret" not in json.dumps(env)
        assert env["HOME"] == home and env["HELM_NO_PLUGINS"] == "1"
        assert all(v.startswith(home) for k, v in env.items() if k.startswith("HELM_") and k != "HELM_NO_PLUGINS")
        assert env["KUBECONFIG"] == f"{home}/no-kubeconfig" and not Path(env["KUBECONFIG"]).exists()
        assert env["HTTP_PROXY"] == env["HTTPS_PROXY"] == NO_NETWORK_PROXY and env["NO_PROXY"] == ""
    assert not sandbox.exists() and not api_sandbox.exists()


@pytest.mark.parametrize(
    ("mode", "limits", "reason"),
    [
        ("slow", {"timeout": 0.5}, "helm template took longer than 0.5 s and was stopped"),
        ("big", {"max_output_bytes": 10_000}, "helm template produced more than 10000 bytes and was stopped"),
        ("fail", {}, "Error: template: web/templates/deployment.yaml:3:4: executing: nil pointer"),
    ],
)
def test_a_render_past_its_limits_or_failing_blocks_at_the_chart(tmp_path: Path, mode: str, limits: dict, reason: str) -> None:
    bin_dir = tmp_path / "bin"
    helm_standin.install(bin_dir, mode=mode)
    report = check(helm_renderer(bin_dir, **limits))
    failed = by_rule(report, RULE_RENDER_FAILED)
    assert {f.file for f in failed} == {"charts/web/Chart.yaml", "charts/api/Chart.yaml"}
    assert all(f.blocking and reason in f.message and "/tmp" not in f.message for f in failed)


def test_what_the_bot_cannot_see_is_refused_before_helm_runs(standin) -> None:
    bin_dir, log = standin
    files = Workspace.from_directory(FIXTURE)
    tree = {p: files.read(p) or b"" for p in files.paths}
    tree["flux/api.yaml"] = tree["flux/api.yaml"].replace(
        b"  values:\n", b"  valuesFrom:\n    - kind: Secret\n      name: api-values\n  values:\n")
    tree["flux/remote.yaml"] = (  # a chart from a Helm repository: nothing of this repository to render
        b"apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: redis, namespace: flux-system}\n"
        b"spec:\n  chart:\n    spec:\n      chart: redis\n      sourceRef: {kind: HelmRepository, name: bitnami}\n")
    report = check(helm_renderer(bin_dir), Workspace.from_dict(tree))
    (refused,) = by_rule(report, RULE_RENDER_SKIPPED)
    assert (refused.file, refused.line) == ("flux/api.yaml", 1)
    assert "valuesFrom reads ConfigMaps/Secrets in the cluster" in refused.message
    assert [c["argv"][1] for c in helm_standin.calls(log)] == ["web-prod"]


def test_kustomize_helm_charts_stay_refused_whatever_the_switch(standin) -> None:
    bin_dir, log = standin
    tree = {"app/kustomization.yaml": b"helmCharts:\n  - name: web\n    repo: https://charts.example.com\n"}
    report = check(helm_renderer(bin_dir), Workspace.from_dict(tree))
    (refused,) = by_rule(report, RULE_RENDER_SKIPPED)
    assert refused.file == "app/kustomization.yaml" and "--enable-helm" in refused.message
    assert helm_standin.calls(log) == []


def test_renders_are_cached_by_content_and_a_change_renders_only_the_releases_it_touches(standin, tmp_path: Path) -> None:
    bin_dir, log = standin
    renderer = helm_renderer(bin_dir)
    check(renderer)
    check(renderer)
    assert renderer.builds == 2 and len(helm_standin.calls(log)) == 2

    repo = GitRepo(tmp_path / "repo")
    shutil.copytree(FIXTURE, repo.root, dirs_exist_ok=True)
    repo.commit("base")
    (repo.root / "envs/prod/api-values.yaml").write_text("image: ghcr.io/acme/api:latest\n")
    report = evaluate_change(LocalPullContext(repo.root, "main"), EvalOptions(renderer=helm_renderer(bin_dir)))
    assert {c["argv"][1] for c in helm_standin.calls(log)[2:]} == {"shop-api"}
    (latest,) = [f for f in report.findings if f.rule == "image-tag"]
    assert (latest.file, latest.line, latest.blocking) == ("envs/prod/api-values.yaml", 1, True)
    assert not [f for f in report.findings if f.file.startswith("charts/web")]


APPLICATION = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web, namespace: argocd}
spec:
  destination: {server: "https://kubernetes.default.svc", namespace: shop}
  source:
    repoURL: https://github.com/acme/platform.git
    path: charts/web
    helm:
      valueFiles: [values-prod.yaml]
"""
PROD_VALUES = """image:
  tag: latest
securityContext:
  privileged: true
service:
  type: LoadBalancer
"""


def test_helms_own_starter_chart_rendered_by_helms_engine_is_judged_at_the_lines_a_person_edits(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    helm_engine.install(bin_dir)
    repo = tmp_path / "repo"
    chart = helm_engine.create_chart("web", repo / "charts")  # what `helm create web` writes
    (chart / "values-prod.yaml").write_text(PROD_VALUES)
    (repo / "argo").mkdir()
    (repo / "argo/web.yaml").write_text(APPLICATION)

    report = check(helm_renderer(bin_dir), Workspace.from_directory(repo))
    assert any(n.startswith("rendered 1 Helm release(s)") for n in report.notices)
    (latest,) = by_rule(report, "image-tag")  # image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default ... }}"
    assert (latest.file, latest.line, latest.blocking) == ("charts/web/values-prod.yaml", 2, True)
    (exposed,) = by_rule(report, "service-exposure")  # type: {{ .Values.service.type }}
    assert (exposed.file, exposed.line) == ("charts/web/values-prod.yaml", 6)
    assert exposed.resource.name == "web"  # the release name (the Application's name)
    # `securityContext:` is written twice in the starter's deployment (pod and container): no line is trusted.
    (privileged,) = by_rule(report, "privileged-container")
    assert (privileged.file, privileged.line) == ("charts/web/templates/deployment.yaml", 1)
    assert "Helm does not say which line of a template made a field" in privileged.message
    # --no-hooks: the starter's test Pod (a hook) is not applied, so it is not judged.
    assert not [f for f in report.findings if f.resource and "test-connection" in f.resource.name]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_cli_follows_the_operators_switch_also_when_judging_in_several_processes(standin, jobs: str) -> None:
    bin_dir, _ = standin
    root = Path(__file__).resolve().parents[2]

    def run(extra_env: dict[str, str]) -> dict:
        env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(root), "PATH": f"{bin_dir}:{os.environ['PATH']}",
               "XDG_CACHE_HOME": str(bin_dir.parent / "cache"), **extra_env}
        proc = subprocess.run([sys.executable, "-m", "bot.cli", "check", "--jobs", jobs, "--format", "json", str(FIXTURE)],
                              capture_output=True, text=True, timeout=120, env=env, cwd=root)
        assert proc.stdout, proc.stderr
        return json.loads(proc.stdout)

    def rules(report: dict) -> set[tuple[str, str]]:
        return {(f["rule"], f["file"].split("fixtures/rendered/charts/")[-1]) for f in report["findings"]}

    off = rules(run({"GITOPS_BOT_HELM": ""}))
    assert {(RULE_RENDER_SKIPPED, "charts/web/Chart.yaml"), (RULE_RENDER_SKIPPED, "charts/api/Chart.yaml")} <= off
    on = rules(run({"GITOPS_BOT_HELM": "1"}))
    assert ("privileged-container", "charts/web/values-prod.yaml") in on and ("host-port", "flux/api.yaml") in on
    assert not {r for r in on if r[0] == RULE_RENDER_SKIPPED}
