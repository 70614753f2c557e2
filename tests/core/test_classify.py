"""File classification: only plain manifests are loaded; charts, kustomizations and tooling YAML are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.classify import Classifier, FileKind, classify, skip_reason
from bot.core.manifests import load_workspace
from bot.core.workspace import Workspace

REPO = Path(__file__).parents[2] / "fixtures" / "manifests" / "repo"

TREE = [
    "apps/web/deployment.yaml",
    "apps/web/kustomization.yaml",
    "apps/web/Kustomization",
    "apps/api/kustomization.yml",
    "apps/web/values-prod.yaml",
    "charts/web/Chart.yaml",
    "charts/web/Chart.lock",
    "charts/web/values.yaml",
    "charts/web/values-staging.yml",
    "charts/web/values.schema.json",
    "charts/web/ci/lint-values.yaml",
    "charts/web/templates/deployment.yaml",
    "charts/web/templates/tests/test-connection.yaml",
    "charts/web/templates/_helpers.tpl",
    "charts/web/templates/NOTES.txt",
    "charts/web/crds/widget.yaml",
    "charts/web/files/config.yaml",
    "charts/web/README.md",
    "charts/web/charts/sub/Chart.yaml",
    "charts/web/charts/sub/values.yaml",
    "charts/web/charts/sub/templates/svc.yaml",
    "templates/not-a-chart.yaml",
    "misc/_snippet.tpl",
    ".gitops-bot.yaml",
    ".github/workflows/ci.yaml",
    ".github/dependabot.yml",
    ".gitlab-ci.yml",
    ".pre-commit-config.yaml",
    "docker-compose.override.yml",
    "mkdocs.yml",
    "renovate.json",
    "crds/widget.json",
    "legacy/SERVICE.YML",
    "README.md",
    "Makefile",
]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("apps/web/deployment.yaml", FileKind.MANIFEST),
        ("apps/web/kustomization.yaml", FileKind.KUSTOMIZATION),
        ("apps/web/Kustomization", FileKind.KUSTOMIZATION),
        ("apps/api/kustomization.yml", FileKind.KUSTOMIZATION),
        ("apps/web/values-prod.yaml", FileKind.MANIFEST),  # not in a chart: loaded, then skipped if not k8s
        ("charts/web/Chart.yaml", FileKind.HELM_CHART),
        ("charts/web/Chart.lock", FileKind.HELM_CHART),
        ("charts/web/values.yaml", FileKind.HELM_VALUES),
        ("charts/web/values-staging.yml", FileKind.HELM_VALUES),
        ("charts/web/values.schema.json", FileKind.HELM_VALUES),
        ("charts/web/ci/lint-values.yaml", FileKind.HELM_VALUES),
        ("charts/web/templates/deployment.yaml", FileKind.HELM_TEMPLATE),
        ("charts/web/templates/tests/test-connection.yaml", FileKind.HELM_TEMPLATE),
        ("charts/web/templates/_helpers.tpl", FileKind.HELM_TEMPLATE),
        ("charts/web/templates/NOTES.txt", FileKind.HELM_TEMPLATE),
        ("charts/web/crds/widget.yaml", FileKind.MANIFEST),
        ("charts/web/files/config.yaml", FileKind.OTHER_YAML),
        ("charts/web/README.md", FileKind.NOT_YAML),
        ("charts/web/charts/sub/Chart.yaml", FileKind.HELM_CHART),
        ("charts/web/charts/sub/values.yaml", FileKind.HELM_VALUES),
        ("charts/web/charts/sub/templates/svc.yaml", FileKind.HELM_TEMPLATE),
        ("templates/not-a-chart.yaml", FileKind.MANIFEST),
        ("misc/_snippet.tpl", FileKind.HELM_TEMPLATE),
        (".gitops-bot.yaml", FileKind.GITOPS_CONFIG),
        (".github/workflows/ci.yaml", FileKind.CI_WORKFLOW),
        (".github/dependabot.yml", FileKind.MANIFEST),  # judged by its content: not Kubernetes, so skipped then
        (".github/k8s/runner.yaml", FileKind.MANIFEST),
        (".gitlab-ci.yml", FileKind.OTHER_YAML),
        (".pre-commit-config.yaml", FileKind.OTHER_YAML),
        ("docker-compose.override.yml", FileKind.OTHER_YAML),
        ("mkdocs.yml", FileKind.OTHER_YAML),
        ("renovate.json", FileKind.OTHER_YAML),
        ("crds/widget.json", FileKind.MANIFEST),
        ("legacy/SERVICE.YML", FileKind.MANIFEST),
        ("README.md", FileKind.NOT_YAML),
        ("Makefile", FileKind.NOT_YAML),
    ],
)
def test_classify(path, kind):
    assert classify(path, TREE) is kind


def test_a_chart_at_the_root_of_the_tree_is_found():
    tree = ["Chart.yaml", "values.yaml", "templates/deployment.yaml"]

    assert [classify(p, tree) for p in tree] == [FileKind.HELM_CHART, FileKind.HELM_VALUES, FileKind.HELM_TEMPLATE]


def test_classifier_reports_the_nearest_chart():
    classifier = Classifier(TREE)

    assert classifier.chart_of("charts/web/charts/sub/templates/svc.yaml") == "charts/web/charts/sub"
    assert classifier.chart_of("charts/web/templates/deployment.yaml") == "charts/web"
    assert classifier.chart_of("apps/web/deployment.yaml") is None


def test_every_kind_but_manifest_has_a_skip_reason():
    assert skip_reason(FileKind.HELM_TEMPLATE) == (
        "Helm chart template (Go template, not YAML): rendered by Helm, not validated here"
    )
    assert all(skip_reason(kind) for kind in FileKind if kind is not FileKind.MANIFEST)
    assert skip_reason(FileKind.MANIFEST) == ""


def test_load_workspace_never_reports_chart_templates_as_broken_yaml():
    ws = Workspace.from_directory(REPO)

    result = load_workspace(ws)

    assert result.findings == []
    skipped = dict(result.skipped)
    for template in (
        "charts/web/templates/deployment.yaml",
        "charts/web/templates/_helpers.tpl",
        "charts/web/templates/NOTES.txt",
        "charts/web/charts/sub/templates/service.yaml",
    ):
        assert skipped[template] == skip_reason(FileKind.HELM_TEMPLATE)
    assert skipped["charts/web/values.yaml"] == skip_reason(FileKind.HELM_VALUES)
    assert skipped[".github/workflows/ci.yaml"] == skip_reason(FileKind.CI_WORKFLOW)
    assert skipped["apps/base/kustomization.yaml"] == skip_reason(FileKind.KUSTOMIZATION)
    assert skipped[".gitops-bot.yaml"] == skip_reason(FileKind.GITOPS_CONFIG)
    assert "README.md" not in skipped  # walking the tree, non-YAML files are not candidates
    assert "charts/web/crds/widgets.yaml" in {r.file for r in result.resources}


def test_load_workspace_reports_non_yaml_files_it_was_asked_for():
    ws = Workspace.from_directory(REPO)

    result = load_workspace(ws, ["README.md", "apps/base/service.yaml"])

    assert result.skipped == [("README.md", "not a YAML or JSON file")]
    assert [(r.kind, r.name) for r in result.resources] == [("Service", "api")]
