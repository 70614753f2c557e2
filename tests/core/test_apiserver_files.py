"""Files that are not Kubernetes objects are notices, never errors; every skipped file says why.

fixtures/non-kubernetes is a small repository with a Grafana provisioning file, empty files,
GitHub workflows next to a Kubernetes manifest kept under .github, and a kustomize overlay
inside a Helm chart directory whose patch must be checked as a patch.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from bot.core.evaluate import EvalOptions, evaluate
from bot.core.findings import Severity
from bot.core.manifests import load_manifest
from bot.core.report import Report
from bot.core.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
REPO = ROOT / "fixtures" / "non-kubernetes"


@cache
def report() -> Report:
    return evaluate(Workspace.from_directory(REPO), options=EvalOptions(policies=False))


def skipped() -> dict[str, str]:
    prefix = "skipped "
    out = {}
    for notice in report().notices:
        if notice.startswith(prefix):
            file, _, reason = notice[len(prefix) :].partition(": ")
            out[file] = reason
    return out


def test_only_the_real_mistakes_block() -> None:
    errors = sorted((f.file, f.line, f.rule) for f in report().findings if f.severity is Severity.ERROR)
    assert errors == [
        (".github/k8s/runner.yaml", 6, "schema/range"),  # manifests under .github are checked
        ("charts/web/overlay/memory-patch.yaml", 12, "schema/quantity"),  # a patch inside a chart directory
    ]


def test_every_skipped_file_says_why() -> None:
    reasons = skipped()
    assert reasons["grafana/provisioning/datasources/prometheus.yaml"].startswith(
        "no kind, and apiVersion 1 with no metadata: not a Kubernetes object"
    )
    for empty in ("config/empty.json", "config/empty.yaml", "config/comments-only.yaml"):
        assert reasons[empty].startswith("empty file"), empty
    assert reasons["config/settings.json"].startswith("no apiVersion/kind")
    assert reasons[".github/workflows/ci.yml"].startswith("GitHub Actions workflow")
    assert reasons[".github/dependabot.yml"].startswith("no apiVersion/kind")
    assert reasons["charts/web/templates/deployment.yaml"].startswith("Helm chart template")
    assert "charts/web/overlay/memory-patch.yaml" not in reasons


def test_the_patch_in_a_chart_is_partial_not_a_whole_deployment() -> None:
    rules = {f.rule for f in report().findings if f.file == "charts/web/overlay/memory-patch.yaml"}
    assert rules == {"schema/quantity"}  # no selector/image "missing": it is a patch


def test_a_kubernetes_looking_document_missing_its_kind_is_still_an_error() -> None:
    result = load_manifest("a.yaml", b"apiVersion: apps/v1\nmetadata:\n  name: web\nspec: {}\n")
    assert [(f.rule, f.line) for f in result.findings] == [("parse/missing-apiversion-or-kind", 1)]
    assert "no kind" in result.findings[0].message


def test_another_tools_kind_without_metadata_is_a_notice() -> None:
    result = load_manifest("pipeline.yml", b"kind: pipeline\ntype: docker\nsteps: []\n")
    assert result.findings == []
    assert result.skipped[0][1].startswith('no apiVersion, and kind "pipeline" without Kubernetes metadata')
