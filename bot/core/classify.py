"""What a file in a GitOps repo is, so only plain manifests are loaded as Kubernetes objects."""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Collection
from enum import Enum


class FileKind(Enum):
    MANIFEST = "manifest"
    KUSTOMIZATION = "kustomization"
    HELM_CHART = "helm-chart"
    HELM_VALUES = "helm-values"
    HELM_TEMPLATE = "helm-template"
    GITOPS_CONFIG = "gitops-config"
    CI_WORKFLOW = "ci-workflow"
    OTHER_YAML = "other-yaml"
    NOT_YAML = "not-yaml"


_SKIP_REASONS = {
    FileKind.KUSTOMIZATION: "kustomization file: an input to kustomize build, not a Kubernetes object",
    FileKind.HELM_CHART: "Helm chart metadata (Chart.yaml): not a Kubernetes object",
    FileKind.HELM_VALUES: "Helm values file: input to chart templates, not a Kubernetes object",
    FileKind.HELM_TEMPLATE: "Helm chart template (Go template, not YAML): rendered by Helm, not validated here",
    FileKind.GITOPS_CONFIG: "gitops-bot configuration: read as settings, not validated as a manifest",
    FileKind.CI_WORKFLOW: "GitHub Actions workflow (.github/workflows): CI configuration, not a Kubernetes object",
    FileKind.OTHER_YAML: "not a Kubernetes manifest (CI, tooling or application config): not validated",
    FileKind.NOT_YAML: "not a YAML or JSON file",
}

MANIFEST_EXTENSIONS = (".yaml", ".yml", ".json")
KUSTOMIZATION_NAMES = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})
GITOPS_CONFIG_NAMES = frozenset({".gitops-bot.yaml", ".gitops-bot.yml"})
CHART_FILE = "Chart.yaml"
_CHART_METADATA = frozenset({CHART_FILE, "Chart.lock", "requirements.yaml", "requirements.lock"})

# Directories and file names of CI systems and tools whose YAML is never a Kubernetes object.
# (.github is not one: only its workflows are CI; Kubernetes manifests kept there are checked.)
_WORKFLOWS_DIR = ".github/workflows"
_TOOLING_DIRS = frozenset(
    {".gitlab", ".circleci", ".buildkite", ".devcontainer", ".vscode", ".idea"}
)
_TOOLING_FILES = (
    ".gitlab-ci.y*ml",
    ".pre-commit-config.y*ml",
    ".pre-commit-hooks.y*ml",
    "docker-compose*.y*ml",
    "compose.y*ml",
    "compose.*.y*ml",
    "mkdocs.y*ml",
    ".travis.y*ml",
    ".golangci.y*ml",
    ".yamllint*",
    "codecov.y*ml",
    ".codecov.y*ml",
    ".readthedocs.y*ml",
    "azure-pipelines*.y*ml",
    "bitbucket-pipelines.y*ml",
    ".goreleaser.y*ml",
    "taskfile.y*ml",
    ".markdownlint*",
    ".kube-linter.y*ml",
    "skaffold*.y*ml",
    "devfile.y*ml",
    ".sops.y*ml",
    ".argocd-source*.y*ml",
    "renovate.json",
    ".renovaterc*",
    "package.json",
    "package-lock.json",
    "tsconfig*.json",
    "composer.json",
    "lerna.json",
    ".eslintrc*",
    ".prettierrc*",
)


def skip_reason(kind: FileKind) -> str:
    """Why ``load_workspace`` leaves a file of this kind alone, for the run's notices."""
    return _SKIP_REASONS.get(kind, "")


class Classifier:
    """Classifies paths of one tree; knows where its Helm charts are (directories with Chart.yaml)."""

    def __init__(self, all_paths: Collection[str]):
        self.chart_dirs = frozenset(
            posixpath.dirname(p) for p in all_paths if posixpath.basename(p) == CHART_FILE
        )

    def classify(self, path: str) -> FileKind:
        path = path.strip("/")
        name = posixpath.basename(path)
        if name in GITOPS_CONFIG_NAMES:
            return FileKind.GITOPS_CONFIG
        if name.endswith(".tpl") or name == "NOTES.txt":
            return FileKind.HELM_TEMPLATE
        if name in KUSTOMIZATION_NAMES:
            return FileKind.KUSTOMIZATION
        chart = self.chart_of(path)
        if chart is not None:
            return _classify_in_chart(path[len(chart) + 1 :] if chart else path)
        if not name.lower().endswith(MANIFEST_EXTENSIONS):
            return FileKind.NOT_YAML
        if path.startswith(_WORKFLOWS_DIR + "/") or f"/{_WORKFLOWS_DIR}/" in path:
            return FileKind.CI_WORKFLOW
        if _is_tooling(path, name):
            return FileKind.OTHER_YAML
        return FileKind.MANIFEST

    def chart_of(self, path: str) -> str | None:
        """The nearest enclosing chart directory ('' for the root), or None outside any chart."""
        directory = posixpath.dirname(path)
        while True:
            if directory in self.chart_dirs:
                return directory
            if not directory:
                return None
            directory = posixpath.dirname(directory)


def classify(path: str, all_paths: Collection[str]) -> FileKind:
    """What ``path`` is, given every path of its tree (to find the Helm charts around it).

    For many paths of one tree, build one `Classifier` instead: this rescans ``all_paths``.
    """
    return Classifier(all_paths).classify(path)


def _classify_in_chart(relative: str) -> FileKind:
    """A file inside a chart, by its path relative to the chart directory."""
    top, _, _ = relative.partition("/")
    name = posixpath.basename(relative)
    if top == "templates" and "/" in relative:
        return FileKind.HELM_TEMPLATE
    if top == "crds" and "/" in relative and name.lower().endswith(MANIFEST_EXTENSIONS):
        return FileKind.MANIFEST  # Helm installs crds/ as they are: plain manifests worth checking
    if relative in _CHART_METADATA:
        return FileKind.HELM_CHART
    if not name.lower().endswith(MANIFEST_EXTENSIONS):
        return FileKind.NOT_YAML
    if fnmatch.fnmatchcase(name, "values*") or fnmatch.fnmatchcase(name, "*values.y*ml") or top == "ci":
        return FileKind.HELM_VALUES
    return FileKind.OTHER_YAML


def _is_tooling(path: str, name: str) -> bool:
    if any(part in _TOOLING_DIRS for part in path.split("/")[:-1]):
        return True
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in _TOOLING_FILES)
