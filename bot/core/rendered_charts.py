"""The rendered verdict for Helm: releases of repository charts, rendered by the front door's renderer, judged as objects.

Off unless the operator turned Helm on (the renderer says so): then every release in scope
is a visible ``render/not-rendered`` warning saying how to turn it on, never a silent pass.
On, each release is rendered from the chart's files and the repository's value files only,
and every object remembers the template Helm says made it (``# Source:`` comments).
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from bot.core.charts import ChartRelease, chart_releases, merged_values
from bot.core.classify import Classifier, FileKind
from bot.core.findings import Finding, Severity, Source
from bot.core.manifests import load_manifest
from bot.core.masking import mask_secrets
from bot.core.rendered import (
    RENDER_WORKERS,
    RULE_RENDER_FAILED,
    RULE_RENDER_SKIPPED,
    RenderedObject,
    RenderedRoots,
    read_bounded,
    rendered_label,
    strip_provenance,
)
from bot.core.renderer import FAILED, REFUSED, Renderer, RenderOutcome
from bot.core.workspace import Workspace
from bot.core.yaml_gateway import dump_yaml
from bot.core.yamlpos import LoadLimits

HELM_OFF = ("Helm rendering is off (the operator turns it on with GITOPS_BOT_HELM=1 and a helm binary on PATH; "
            "README: Rendered verdict)")
# Bytes any Application, HelmRelease or GitRepository holds: a changed file without them deploys no chart.
_DEPLOYER_MARKERS = (b"argoproj.io", b"helm.toolkit.fluxcd.io", b"source.toolkit.fluxcd.io")
_SOURCE = re.compile(r"^# Source: (\S+)[ \t]*$", re.MULTILINE)


def render_charts(ws: Workspace, renderer: Renderer, wanted: set[str] | None, limits: LoadLimits,
                  out: RenderedRoots, max_roots: int, base: Workspace | None = None) -> None:
    """Render the releases in scope into ``out``, while the evaluation has rendered fewer than ``max_roots`` roots.

    ``base`` (the tree before the change) tells what a deleted path was; without it a deletion may touch a release.
    """
    releases = _in_scope(ws, base, wanted, limits, out)
    if not releases:
        return
    if not renderer.helm_enabled:
        out.findings.extend(_not_rendered(r, REFUSED, HELM_OFF) for r in releases)
        out.notices.append(f"{len(releases)} Helm release(s) of repository charts were not rendered: {HELM_OFF}")
        return
    jobs: list[tuple[str, ChartRelease, ChartRelease, dict[str, bytes]]] = []
    budget = max(0, max_roots - len(out.closures))
    for index, release in enumerate(releases):
        if release.refusal:
            out.findings.append(_not_rendered(release, REFUSED, release.refusal))
            continue
        if len(jobs) >= budget:
            out.findings.append(_not_rendered(release, REFUSED, f"this evaluation already renders {max_roots} roots "
                                              "(GITOPS_BOT_MAX_RENDERED_ROOTS)"))
            continue
        prepared = _inputs(ws, release, limits)
        if isinstance(prepared, str):
            out.findings.append(_not_rendered(release, REFUSED, prepared))
            continue
        asked, files = prepared
        jobs.append((posixpath.join(release.chart, f"@helm-{index}"), release, asked, files))
    with ThreadPoolExecutor(max_workers=RENDER_WORKERS) as pool:
        outcomes = list(pool.map(lambda job: renderer.render_chart(job[2], job[3]), jobs))
    rendered = 0
    for (root, release, _, _), outcome in zip(jobs, outcomes, strict=True):
        if not outcome.rendered:
            out.findings.append(_not_rendered(release, outcome.status, outcome.reason))
        elif _add_objects(ws, out, root, release, outcome, limits):
            rendered += 1
    if rendered:
        out.notices.append(
            f"rendered {rendered} Helm release(s) of repository charts: policies judged their objects, reported at the "
            "template that made each one, or the values line it takes the value from (README: Rendered verdict)"
        )


def _in_scope(ws: Workspace, base: Workspace | None, wanted: set[str] | None, limits: LoadLimits,
              out: RenderedRoots) -> list[ChartRelease]:
    """Every release (whole tree), or those whose chart, value files or deployer a change touches."""
    if wanted is not None and not _may_touch_a_release(ws, base, wanted, limits):
        return []
    releases = chart_releases(ws, limits)
    if releases is None:
        out.notices.append("the tree has too many manifests to look for Applications and HelmReleases that install "
                           "its charts: Helm charts were not rendered (README: Rendered verdict)")
        return []
    if wanted is None:
        return releases
    paths = sorted(ws.paths)
    return [r for r in releases if r.reads(paths) & wanted]


def _may_touch_a_release(ws: Workspace, base: Workspace | None, wanted: set[str], limits: LoadLimits) -> bool:
    """Whether a change may alter a release: through a chart's file, a value file or a deployer.

    Decided from the changed files alone (their bytes are read anyway), so an ordinary manifest
    change never makes the whole tree be read for deployers (one request per file in the App).
    """
    classifier = Classifier(ws.paths)
    if not classifier.chart_dirs:
        return False
    return any(_may_touch(classifier, ws, base, p, limits) for p in sorted(wanted))


def _may_touch(classifier: Classifier, ws: Workspace, base: Workspace | None, path: str, limits: LoadLimits) -> bool:
    """A chart's file, a values file (by name, or YAML that is no Kubernetes object) or a deployer, at base or head."""
    if classifier.chart_of(path) is not None or fnmatch.fnmatchcase(posixpath.basename(path), "*values*"):
        return True
    if classifier.classify(path) is not FileKind.MANIFEST:
        return False  # a kustomization, CI or tooling file, not YAML: never read by Helm through a deployer
    if not ws.exists(path) and base is None:
        return True  # deleted, and what it was is unknown: it may have been a value file or a deployer
    for tree in (ws, base):
        data = tree.read(path) if tree is not None and tree.exists(path) else None
        if data is None:
            continue
        if any(marker in data for marker in _DEPLOYER_MARKERS):
            return True
        loaded = load_manifest(path, data, limits)
        if loaded.skipped or loaded.findings or not loaded.resources:
            return True  # not only Kubernetes objects: it may be a value file a deployer names
    return False


def _inputs(ws: Workspace, release: ChartRelease, limits: LoadLimits) -> tuple[ChartRelease, dict[str, bytes]] | str:
    """What Helm reads (the chart, the value files) and the release as Helm is asked; a reason when it cannot be."""
    prefix = f"{release.chart}/" if release.chart else ""
    paths = sorted(p for p in ws.paths if p.startswith(prefix))
    for value_file in release.value_files:
        if value_file not in ws.paths:
            return f"{release.deployer}: value file {value_file} is not in the repository"
        if value_file not in paths:
            paths.append(value_file)
    files = read_bounded(ws, paths, f"{release.chart_file}: the chart")
    if isinstance(files, str):
        return files
    if not release.replaces_chart_values:
        return release, files
    # Flux: the listed files, merged, are the chart's values (its own values.yaml only when listed).
    merged = merged_values([(f, files[f]) for f in release.value_files], limits)
    if isinstance(merged, str):
        return f"{release.deployer}: {merged}"
    files[posixpath.join(release.chart, "values.yaml")] = dump_yaml(merged).encode()
    return replace(release, value_files=()), files


def _add_objects(ws: Workspace, out: RenderedRoots, root: str, release: ChartRelease, outcome: RenderOutcome,
                 limits: LoadLimits) -> bool:
    label = posixpath.join(release.chart, "(helm template)")
    loaded = load_manifest(label, outcome.output, limits)
    if loaded.findings:
        out.findings.append(_not_rendered(release, FAILED, f"the output does not load: {loaded.findings[0].message}"))
        return False
    sources = source_lines(outcome.output.decode("utf-8", "replace"))
    for resource in loaded.resources:
        if resource.is_patch:
            continue
        strip_provenance(resource.obj, limits)  # a chart may carry kustomize's annotations too: never judged
        template = template_file(release.chart, _source_before(sources, resource.line), ws.paths)
        resource.file = rendered_label(root, len(out.objects))
        out.objects[resource.file] = RenderedObject(resource, root, {}, [], chart=release, template=template)
    return True


def source_lines(output: str) -> list[tuple[int, str]]:
    """(line, path) of every ``# Source: <chart>/templates/<file>`` comment Helm wrote, in order."""
    return [(output.count("\n", 0, m.start()) + 1, m.group(1)) for m in _SOURCE.finditer(output)]


def _source_before(sources: Sequence[tuple[int, str]], line: int) -> str:
    found = ""
    for at, path in sources:
        if at > line:
            break
        found = path
    return found


def template_file(chart: str, source: str, paths: Sequence[str] | frozenset[str]) -> str:
    """The repository file of a ``# Source:`` path (its first part is the chart's name, not its directory); "" if none."""
    if "/" not in source:
        return ""
    candidate = posixpath.normpath(posixpath.join(chart, source.split("/", 1)[1]))
    return candidate if candidate in paths and not candidate.startswith("../") else ""


def _not_rendered(release: ChartRelease, status: str, reason: str) -> Finding:
    """A release that cannot be rendered: a failed render blocks (the reconciler fails too), the rest warn."""
    failed = status == FAILED
    what = {REFUSED: "not rendered", FAILED: "helm template failed"}.get(status, "could not render it")
    refused_here = status == REFUSED and reason != HELM_OFF and "GITOPS_BOT_MAX_RENDERED_ROOTS" not in reason
    return Finding(
        rule=RULE_RENDER_FAILED if failed else RULE_RENDER_SKIPPED,
        severity=Severity.ERROR if failed else Severity.WARNING,
        message=mask_secrets(f"Helm chart {release.chart or '.'} (release {release.release} of {release.deployer}): "
                             f"{what}: {reason}; its templates were not judged"),
        file=release.file if refused_here else release.chart_file,
        line=release.line if refused_here else 1,
        source=Source.CONFIG,
        remediation=("Fix the template error (run `helm template` on the chart with the same values)." if failed else
                     "Keep the chart and its values in the repository (README: Rendered verdict)" if refused_here else
                     "Ask the operator to turn Helm rendering on (GITOPS_BOT_HELM=1, helm on PATH)."),
    )
