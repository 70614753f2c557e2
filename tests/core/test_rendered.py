"""The rendered verdict with real kustomize (`kubectl kustomize`): what will be applied, at the lines a person edits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.core.evaluate import EvalOptions, evaluate
from bot.core.findings import Severity
from bot.core.provenance import ProvenanceMap
from bot.core.rendered import PROVENANCE_ANNOTATIONS, RULE_RENDER_FAILED, RULE_RENDER_SKIPPED, render_roots
from bot.core.rendered_stage import NOT_RENDERED_NOTICE
from bot.core.report import Report
from bot.core.resource import parse_path
from bot.core.workspace import Workspace
from bot.core.yamlpos import DEFAULT_LIMITS
from bot.plan.kustomize_runner import KustomizeRunner
from bot.plan.verdict_renderer import KustomizeRenderer
from bot.pull.evaluate import evaluate_change
from bot.pull.local import LocalPullContext
from tests.plan.repo_builder import GitRepo

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rendered"


@pytest.fixture(scope="module")
def renderer() -> KustomizeRenderer:
    """The real kustomize (kubectl's): scripts/test.sh installs it, so its absence fails rather than skips."""
    found = KustomizeRenderer()
    assert found.runner.command() is not None, "kustomize or kubectl must be on PATH (scripts/test.sh installs it)"
    return found


def line_of(repo: str, file: str, needle: str) -> int:
    lines = (FIXTURES / repo / file).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def check(repo: str, renderer: KustomizeRenderer | None) -> Report:
    return evaluate(Workspace.from_directory(FIXTURES / repo), options=EvalOptions(renderer=renderer))


def located(report: Report, rule: str) -> set[tuple[str, int]]:
    return {(f.file, f.line) for f in report.findings if f.rule == rule}


@pytest.fixture(scope="module")
def shop(renderer: KustomizeRenderer) -> Report:
    return check("shop", renderer)


def test_a_base_fixed_by_overlay_patches_has_no_finding(shop: Report):
    # File by file, the base Deployment lacks probes, resources and a security context ...
    as_files = check("shop", None)
    assert ("base/web/deployment.yaml", line_of("shop", "base/web/deployment.yaml", "- name: web")) in located(
        as_files, "readiness-probe"
    )
    assert NOT_RENDERED_NOTICE in as_files.notices
    # ... but every root adds them through the hardening component: nothing applied lacks them.
    assert not [f for f in shop.findings if f.file.startswith("base/") and f.severity >= Severity.WARNING]
    assert not [f for f in shop.findings if f.resource and f.resource.namespace == "production"]
    assert any(n.startswith("rendered 4 kustomize root(s)") for n in shop.notices)


def test_an_overlay_patch_that_introduces_a_violation_is_reported_at_the_patch_line(shop: Report):
    assert located(shop, "privileged-container") == {
        ("overlays/debug/privileged.yaml", line_of("shop", "overlays/debug/privileged.yaml", "privileged: true"))
    }
    (finding,) = [f for f in shop.findings if f.rule == "privileged-container"]
    assert finding.blocking and finding.resource.name == "debug-web"  # the rendered object (namePrefix applied)
    assert finding.path == "spec.template.spec.containers[0].securityContext.privileged"


def test_an_images_override_to_latest_is_reported_at_the_kustomization_line(shop: Report):
    assert located(shop, "image-tag") == {
        ("overlays/latest/kustomization.yaml", line_of("shop", "overlays/latest/kustomization.yaml", "- name: ghcr.io/acme/web"))
    }


def test_a_generated_configmap_is_judged_at_its_generator_entry(shop: Report):
    (finding,) = [f for f in shop.findings if f.rule == "main.deny"]
    assert (finding.file, finding.line) == (
        "overlays/generated/kustomization.yaml",
        line_of("shop", "overlays/generated/kustomization.yaml", "- name: web-flags"),
    )
    assert finding.resource.kind == "ConfigMap" and finding.resource.name.startswith("web-flags-")


def test_fields_map_to_the_component_base_or_kustomization_that_decided_them(renderer: KustomizeRenderer):
    ws = Workspace.from_directory(FIXTURES / "shop")
    rendered = render_roots(ws, renderer, None, DEFAULT_LIMITS)
    provenance = ProvenanceMap(ws, rendered, DEFAULT_LIMITS)
    (web,) = [o for o in rendered.objects.values() if o.root == "overlays/production" and o.resource.kind == "Deployment"]
    where = {
        text: provenance.locate(web, parse_path(text))[:2]
        for text in (
            "spec.template.spec.containers[0].resources.limits.memory",  # set by the component's patch
            "spec.template.spec.containers[0].image",  # untouched: the base
            "metadata.namespace",  # the overlay's namespace transformer
        )
    }
    assert where == {
        "spec.template.spec.containers[0].resources.limits.memory": (
            "components/hardening/hardening.yaml", line_of("shop", "components/hardening/hardening.yaml", "memory: 256Mi")),
        "spec.template.spec.containers[0].image": (
            "base/web/deployment.yaml", line_of("shop", "base/web/deployment.yaml", "image:")),
        "metadata.namespace": (
            "overlays/production/kustomization.yaml", line_of("shop", "overlays/production/kustomization.yaml", "namespace:")),
    }
    # kustomize's provenance annotations never reach schemas or policies.
    for obj in rendered.objects.values():
        assert not set(obj.resource.annotations) & set(PROVENANCE_ANNOTATIONS)
        assert obj.origin  # ... but were read first


def test_a_name_prefix_collision_inside_a_root_is_a_blocking_finding_at_its_kustomization(renderer: KustomizeRenderer):
    report = check("collision", renderer)
    (failed,) = [f for f in report.findings if f.rule == RULE_RENDER_FAILED]
    assert (failed.file, failed.blocking) == ("kustomization.yaml", True)
    assert "team-web" in failed.message and "already registered" in failed.message
    # The files are judged one by one instead, and the report says so.
    assert {f.file for f in report.findings if f.rule == "missing-namespace"} == {"team/web.yaml", "team-web.yaml"}
    assert any("could not be rendered (kustomization.yaml)" in n for n in report.notices)


def test_a_root_that_fails_to_render_is_a_finding_and_its_files_are_judged_one_by_one(renderer: KustomizeRenderer):
    report = check("broken", renderer)
    (failed,) = [f for f in report.findings if f.rule == RULE_RENDER_FAILED]
    assert failed.file == "overlay/kustomization.yaml" and failed.blocking
    assert "missing-patch.yaml" in failed.message and "/tmp" not in failed.message  # no sandbox path leaks
    assert ("base/deployment.yaml", line_of("broken", "base/deployment.yaml", "- name: web")) in located(report, "readiness-probe")
    assert any("overlay/kustomization.yaml" in n and "judged file by file" in n for n in report.notices)


def test_without_kustomize_the_roots_are_a_visible_warning_not_a_pass(tmp_path: Path):
    renderer = KustomizeRenderer(KustomizeRunner(search_path=str(tmp_path)))  # an empty PATH: no binary
    report = check("shop", renderer)
    skipped = [f for f in report.findings if f.rule == RULE_RENDER_SKIPPED]
    assert len(skipped) == 4 and all(f.severity == Severity.WARNING and "kustomize not found" in f.message for f in skipped)
    # The file-by-file view judges the base as written.
    assert ("base/web/deployment.yaml", line_of("shop", "base/web/deployment.yaml", "- name: web")) in located(report, "readiness-probe")


def test_a_refused_root_is_never_built(renderer: KustomizeRenderer):
    files = {
        "app/kustomization.yaml": b"resources:\n  - https://example.com/remote.yaml\n  - deploy.yaml\n",
        "app/deploy.yaml": (FIXTURES / "shop/base/web/deployment.yaml").read_bytes(),
    }
    before = renderer.builds
    report = evaluate(Workspace.from_dict(files), options=EvalOptions(renderer=renderer))
    (refused,) = [f for f in report.findings if f.rule == RULE_RENDER_SKIPPED]
    assert refused.file == "app/kustomization.yaml" and "remote" in refused.message
    assert renderer.builds == before


def test_renders_are_cached_by_content(tmp_path: Path):
    renderer = KustomizeRenderer()
    check("shop", renderer)
    assert renderer.builds == 4
    check("shop", renderer)
    assert renderer.builds == 4  # same bytes: no new build


def test_check_base_renders_only_affected_roots_and_compares_rendered_objects(tmp_path: Path, renderer: KustomizeRenderer):
    repo = GitRepo(tmp_path / "repo")
    shutil.copytree(FIXTURES / "shop", repo.root, dirs_exist_ok=True)
    repo.commit("base")
    kustomization = repo.root / "overlays/debug/kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "images:\n  - name: ghcr.io/acme/web\n    newTag: latest\n")
    report = evaluate_change(LocalPullContext(repo.root, "main"), EvalOptions(renderer=renderer))
    assert any(n.startswith("rendered 1 kustomize root(s)") for n in report.notices)  # only overlays/debug
    # New: the image override; already on the base branch (the same rendered field): the privileged patch.
    assert {(f.rule, f.file) for f in report.findings if f.blocking} == {("image-tag", "overlays/debug/kustomization.yaml")}
    assert ("privileged-container", "overlays/debug/privileged.yaml") in {(f.rule, f.file) for f in report.preexisting}
    assert not [f for f in report.findings + report.preexisting if "generated" in f.file or "latest" in f.file]
