"""Helm charts of the repository that a deployer installs: the chart, the release and the values each one asks for.

An Argo CD Application whose ``source.path`` is a chart directory, or a Flux HelmRelease
whose chart comes from a GitRepository path, installs a chart of this repository. Read
statically (nothing runs here); what would reach outside the repository (remote value
files, values from cluster objects, parameters, post-renderers) is a refusal with the
reason, so such a release is reported as not rendered instead of judged from a guess.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.core.classify import Classifier, FileKind
from bot.core.manifests import load_manifest
from bot.core.workspace import Workspace
from bot.core.yaml_gateway import YamlError, dump_yaml, load_value
from bot.core.yamlpos import DEFAULT_LIMITS, LoadLimits

CHART_FILE = "Chart.yaml"
MAX_SCANNED_FILES = 2000  # as bot.core.deploy_targets: a larger tree is not scanned for deployers
# Cheap byte tests before parsing: only files that can hold an Application or a HelmRelease are parsed.
_MARKERS = (b"argoproj.io", b"helm.toolkit.fluxcd.io")
# Helm's own limit for release names; also keeps a name from being read as a flag.
RELEASE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,51}[a-z0-9])?$")
NAMESPACE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class ChartRelease:
    """One release of a repository chart: what `helm template` is asked, and who asks (for messages)."""

    chart: str  # repository-relative chart directory ("" is the root)
    release: str
    namespace: str
    value_files: tuple[str, ...]  # repository-relative, lowest precedence first (after the chart's values.yaml)
    inline_values: str  # YAML, "" when none; highest precedence
    deployer: str  # "Argo CD Application argocd/web", for messages
    file: str  # the deployer's file
    refusal: str = ""  # why this release is not rendered ("" when it may be)
    replaces_chart_values: bool = False  # Flux ``valuesFiles``: they replace the chart's values.yaml
    line: int = 1  # where the deployer's document starts in ``file``

    @property
    def chart_file(self) -> str:
        return posixpath.join(self.chart, CHART_FILE) if self.chart else CHART_FILE

    def reads(self, paths: Sequence[str]) -> set[str]:
        """Every path of ``paths`` the render depends on: the chart's files, the value files, the deployer."""
        prefix = f"{self.chart}/" if self.chart else ""
        return {p for p in paths if p.startswith(prefix)} | set(self.value_files) | {self.file}


def chart_releases(ws: Workspace, limits: LoadLimits = DEFAULT_LIMITS,
                   max_files: int = MAX_SCANNED_FILES) -> list[ChartRelease] | None:
    """Every release of a repository chart declared in ``ws``, in file order; None when the tree is too large to scan.

    Costs nothing in a tree without a ``Chart.yaml``; otherwise reads every manifest (as the
    deploy-target scan does, batched by ``ws.prefetch``), so a tree with more than ``max_files``
    manifests is not scanned. For a change, `bot.core.rendered_charts` first asks whether it can touch a release.
    """
    classifier = Classifier(ws.paths)
    charts = set(classifier.chart_dirs)
    if not charts:
        return []
    manifests = [p for p in sorted(ws.paths) if classifier.classify(p) is FileKind.MANIFEST]
    if len(manifests) > max_files:
        return None
    found: list[ChartRelease] = []
    ws.prefetch(manifests)  # the App reads them a hundred to a request, not one each
    for path in manifests:
        data = ws.read(path)
        if not data or not any(marker in data for marker in _MARKERS):
            continue
        for resource in load_manifest(path, data, limits).resources:
            found.extend(replace(r, line=resource.line) for r in releases_of(resource.obj, path, charts, limits))
    return found


def releases_of(obj: dict[str, Any], file: str, charts: set[str], limits: LoadLimits = DEFAULT_LIMITS) -> list[ChartRelease]:
    """The repository charts one Argo CD Application or Flux HelmRelease installs (``charts``: chart directories)."""
    group = str(obj.get("apiVersion", "")).split("/", 1)[0]
    kind = obj.get("kind")
    metadata, spec = _mapping(obj.get("metadata")), _mapping(obj.get("spec"))
    where = f"{metadata.get('namespace') or ''}/{metadata.get('name') or ''} ({file})"
    if group == "argoproj.io" and kind == "Application":
        return [application_release(chart, obj, s, file)
                for s in application_sources(spec) if (chart := normalise(s.get("path"))) in charts]
    if group == "helm.toolkit.fluxcd.io" and kind == "HelmRelease":
        chart_spec = _mapping(_mapping(spec.get("chart")).get("spec"))
        source_ref = _mapping(chart_spec.get("sourceRef"))
        chart = normalise(chart_spec.get("chart"))
        if source_ref.get("kind") != "GitRepository" or chart not in charts:
            return []  # a chart from a Helm or OCI repository: nothing of this repository to render
        return [_flux_release(chart, metadata, spec, chart_spec, f"Flux HelmRelease {where}", file, limits)]
    return []


def application_sources(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """An Application's ``source`` and ``sources`` entries (the mappings among them)."""
    listed = spec.get("sources")
    return [s for s in [spec.get("source"), *(listed if isinstance(listed, list) else [])] if isinstance(s, dict)]


def application_release(chart: str, obj: dict[str, Any], source: dict[str, Any], file: str) -> ChartRelease:
    """The release one Application source asks for (Argo CD: value files relative to the chart)."""
    metadata, spec = _mapping(obj.get("metadata")), _mapping(obj.get("spec"))
    where = f"{metadata.get('namespace') or ''}/{metadata.get('name') or ''} ({file})"
    helm = _mapping(source.get("helm"))
    release = str(helm.get("releaseName") or metadata.get("name") or "")
    namespace = str(_mapping(spec.get("destination")).get("namespace") or "default")
    refusal = ""
    for unsupported in ("parameters", "fileParameters"):
        if helm.get(unsupported):
            refusal = refusal or f"Application {where}: helm.{unsupported} are not rendered; use values files"
    value_files: list[str] = []
    for entry in helm.get("valueFiles") or []:
        text = str(entry)
        path = posixpath.normpath(posixpath.join(chart, text))
        if "://" in text or text.startswith(("/", "$")) or path == ".." or path.startswith("../"):
            refusal = refusal or (f"Application {where}: value file {text!r} is outside the repository; "
                                  "only the repository's files are used")
            continue
        value_files.append(path)
    inline = helm.get("valuesObject") if isinstance(helm.get("valuesObject"), dict) else helm.get("values")
    inline_text = dump_yaml(inline) if isinstance(inline, dict) else str(inline or "")
    refusal = refusal or _name_refusal(f"Application {where}", release, namespace)
    return ChartRelease(chart, release, namespace, tuple(value_files), inline_text,
                        f"Argo CD Application {where}", file, refusal)


def _flux_release(chart: str, metadata: Mapping[str, Any], spec: Mapping[str, Any], chart_spec: Mapping[str, Any],
                  who: str, file: str, limits: LoadLimits) -> ChartRelease:
    """Flux: value files relative to the GitRepository (this repository's root); valuesFrom reads the cluster."""
    name = str(metadata.get("name") or "")
    target = str(spec.get("targetNamespace") or "")
    release = str(spec.get("releaseName") or (f"{target}-{name}" if target else name))
    namespace = target or str(metadata.get("namespace") or "default")
    refusal = ""
    if spec.get("valuesFrom"):
        refusal = f"{who}: valuesFrom reads ConfigMaps/Secrets in the cluster, which the bot cannot see"
    elif spec.get("postRenderers"):
        refusal = f"{who}: postRenderers change the output after Helm, and the bot does not apply them"
    files_field = chart_spec.get("valuesFiles") or ([chart_spec["valuesFile"]] if chart_spec.get("valuesFile") else [])
    value_files: list[str] = []
    for entry in files_field if isinstance(files_field, list) else []:
        text = str(entry)
        path = normalise(text)
        if "://" in text or text.startswith("/") or path == ".." or path.startswith("../"):
            refusal = refusal or f"{who}: value file {text!r} is outside the repository; only the repository's files are used"
            continue
        value_files.append(path)
    inline = spec.get("values")
    inline_text = dump_yaml(inline) if isinstance(inline, dict) else ""
    refusal = refusal or _name_refusal(who, release, namespace)
    return ChartRelease(chart, release, namespace, tuple(value_files), inline_text, who, file, refusal,
                        replaces_chart_values=bool(value_files))


def merged_values(documents: Sequence[tuple[str, bytes]], limits: LoadLimits = DEFAULT_LIMITS) -> dict[str, Any] | str:
    """(path, bytes) value files merged as Helm merges them (later files win, mappings key by key); a reason when one does not load."""
    merged: dict[str, Any] = {}
    for path, data in documents:
        try:
            value = load_value(data, limits)
        except YamlError as e:
            return f"{path}: not a values file Helm can read ({e})"
        if value is None:
            continue
        if not isinstance(value, dict):
            return f"{path}: a values file must be a mapping"
        merged = _merge(merged, value)
    return merged


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _name_refusal(who: str, release: str, namespace: str) -> str:
    if not RELEASE_NAME.match(release):
        return f"{who}: {release!r} is not a valid Helm release name"
    if not NAMESPACE_NAME.match(namespace):
        return f"{who}: {namespace!r} is not a valid namespace"
    return ""


def normalise(path: Any) -> str:
    """A deployer's chart path as a tree path (``./charts/web/`` -> ``charts/web``); never a directory for non-strings."""
    if not isinstance(path, str):
        return "\x00"
    text = posixpath.normpath(path.strip().lstrip("/"))
    return "" if text == "." else text


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
