"""Which roots the rendered verdict builds: bases deployed directly, the cap per evaluation, the render cache on disk.

Real kustomize (`kubectl kustomize`, installed by scripts/test.sh) on fixture repositories.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.evaluate import EvalOptions, evaluate
from bot.core.kustomization import KustomizationTree
from bot.core.rendered import DEFAULT_MAX_RENDERED_ROOTS, roots_near
from bot.core.report import Report
from bot.core.workspace import Workspace
from bot.core.yamlpos import DEFAULT_LIMITS
from bot.errors import ConfigError
from bot.github.content_cache import DiskStore
from bot.plan.kustomize_runner import KustomizeRunner
from bot.plan.verdict_renderer import KustomizeRenderer, max_rendered_roots
from bot.pull.evaluate import evaluate_change
from bot.pull.local import LocalPullContext
from tests.plan.repo_builder import GitRepo

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "rendered"


def summary(report: Report) -> set[tuple[str, str, str, int]]:
    return {(f.rule, f.resource.namespace if f.resource else "", f.file, f.line) for f in report.findings}


def test_a_change_to_a_base_an_application_also_deploys_renders_that_base_as_its_own_root(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    shutil.copytree(FIXTURES / "deployed-base", repo.root, dirs_exist_ok=True)
    repo.commit("base")
    deployment = repo.root / "base/web/deployment.yaml"
    deployment.write_text(deployment.read_text() + "          securityContext:\n            privileged: true\n")

    report = evaluate_change(LocalPullContext(repo.root, "main"), EvalOptions(renderer=KustomizeRenderer()))

    assert any(n.startswith("rendered 2 kustomize root(s)") for n in report.notices)
    line = deployment.read_text().splitlines().index("            privileged: true") + 1
    # Once as the production overlay applies it, once as the dev Application applies the base itself.
    assert {(ns, file, at) for rule, ns, file, at in summary(report) if rule == "privileged-container"} == {
        ("production", "base/web/deployment.yaml", line), ("", "base/web/deployment.yaml", line)}


def test_roots_past_the_cap_are_named_and_judged_file_by_file() -> None:
    renderer = KustomizeRenderer()
    ws = Workspace.from_directory(FIXTURES / "shop")
    report = evaluate(ws, options=EvalOptions(renderer=renderer, max_rendered_roots=2))
    assert renderer.builds == 2
    assert any(n.startswith("rendered 2 kustomize root(s)") for n in report.notices)
    (capped,) = [n for n in report.notices if n.startswith("more than 2 roots to render")]
    assert "2 were judged file by file" in capped and "overlays/latest, overlays/production" in capped
    # Their files are judged as written: the base's missing probes show again.
    assert any(f.rule == "readiness-probe" and f.file == "base/web/deployment.yaml" for f in report.findings)


def test_the_cap_comes_from_the_operators_environment() -> None:
    assert max_rendered_roots({}, DEFAULT_MAX_RENDERED_ROOTS) == 50
    assert max_rendered_roots({"GITOPS_BOT_MAX_RENDERED_ROOTS": " 7 "}, 50) == 7
    for bad in ("0", "-1", "many"):
        with pytest.raises(ConfigError, match="GITOPS_BOT_MAX_RENDERED_ROOTS must be a positive integer"):
            max_rendered_roots({"GITOPS_BOT_MAX_RENDERED_ROOTS": bad}, 50)


def test_renders_are_cached_on_disk_by_content_and_renderer_identity(tmp_path: Path) -> None:
    store = DiskStore(tmp_path / "renders")
    ws = Workspace.from_directory(FIXTURES / "shop")
    cold = KustomizeRenderer(store=store)
    first = evaluate(ws, options=EvalOptions(renderer=cold))
    assert cold.builds == 4 and store.size() > 0

    warm = KustomizeRenderer(store=store)  # a new process: empty memory, the same disk
    second = evaluate(Workspace.from_directory(FIXTURES / "shop"), options=EvalOptions(renderer=warm))
    assert warm.builds == 0
    assert summary(second) == summary(first)

    # Another kustomize binary (here: the same kubectl under another path) is another renderer: no stale hit.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = shutil.which("kubectl") or shutil.which("kustomize")
    assert kubectl is not None, "scripts/test.sh installs kubectl"
    shutil.copy(kubectl, bin_dir / Path(kubectl).name)
    other = KustomizeRenderer(KustomizeRunner(search_path=str(bin_dir)), store=store)
    evaluate(Workspace.from_directory(FIXTURES / "shop"), options=EvalOptions(renderer=other))
    assert other.builds == 4


def test_a_broken_cache_entry_is_a_miss_not_a_verdict(tmp_path: Path) -> None:
    store = DiskStore(tmp_path / "renders")
    evaluate(Workspace.from_directory(FIXTURES / "shop"), options=EvalOptions(renderer=KustomizeRenderer(store=store)))
    for entry in (tmp_path / "renders").rglob("*"):
        if entry.is_file():
            entry.write_bytes(b"{not json\n")
    again = KustomizeRenderer(store=store)
    report = evaluate(Workspace.from_directory(FIXTURES / "shop"), options=EvalOptions(renderer=again))
    assert again.builds == 4 and any(n.startswith("rendered 4 kustomize root(s)") for n in report.notices)


def test_the_cli_caps_roots_from_the_environment_and_caches_renders_under_xdg_cache_home(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "GITOPS_BOT_MAX_RENDERED_ROOTS": "1"}
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "check", "--format", "json", str(FIXTURES / "shop")],
                          capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert proc.stdout, proc.stderr
    assert "more than 1 roots to render" in proc.stdout
    assert any(p.is_file() for p in (tmp_path / "cache" / "gitops-bot" / "renders").rglob("*"))
    env["GITOPS_BOT_MAX_RENDERED_ROOTS"] = "none"
    bad = subprocess.run([sys.executable, "-m", "bot.cli", "check", str(FIXTURES / "shop")],
                         capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert bad.returncode == 2 and "GITOPS_BOT_MAX_RENDERED_ROOTS must be a positive integer" in bad.stderr


def _tree(files: dict[str, str]) -> KustomizationTree:
    return KustomizationTree(Workspace.from_dict(files), DEFAULT_LIMITS)


def test_overlays_of_a_base_are_found_in_a_sibling_tree_and_a_bounded_search_says_where_it_stopped() -> None:
    shop = KustomizationTree(Workspace.from_directory(FIXTURES / "shop"), DEFAULT_LIMITS)
    assert roots_near(shop, {"base/web/deployment.yaml"}) == (
        ["overlays/debug", "overlays/generated", "overlays/latest", "overlays/production"], [])

    # 40 apps, each a base with an overlay beside it: found near the base, however large the tree; what
    # might include the overlay elsewhere was not looked for, and the notice's list says so.
    apps = {f"apps/a{i:02d}/base/kustomization.yaml": "resources: [d.yaml]\n" for i in range(40)}
    apps |= {f"apps/a{i:02d}/prod/kustomization.yaml": "resources: [../base]\n" for i in range(40)}
    assert roots_near(_tree(apps), {"apps/a07/base/d.yaml"}) == (["apps/a07/prod"], ["apps/a07/prod"])

    # A base whose overlays live far away in a large tree: rendered as its own root, and said so.
    far = {**apps, "bases/web/kustomization.yaml": "resources: [d.yaml]\n",
           "clusters/prod/kustomization.yaml": "resources: [../../bases/web]\n"}
    assert roots_near(_tree(far), {"bases/web/d.yaml"}) == (["bases/web"], ["bases/web"])
