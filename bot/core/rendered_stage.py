"""The render stage of `evaluate`: which objects policies judge, and where their findings are reported."""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Sequence

from bot.core.classify import KUSTOMIZATION_NAMES
from bot.core.findings import Finding
from bot.core.provenance import ProvenanceMap
from bot.core.rendered import DEFAULT_MAX_RENDERED_ROOTS, RenderedRoots, render_roots
from bot.core.rendered_charts import render_charts
from bot.core.renderer import Renderer
from bot.core.report import Report
from bot.core.resource import Resource
from bot.core.scope import Scope
from bot.core.workspace import Workspace

NOT_RENDERED_NOTICE = (
    "kustomize roots were not rendered (no renderer was given): their files were judged one by one, "
    "as written, not as applied (README: Rendered verdict)"
)


class RenderStage:
    """Rendered objects of the roots in scope, and the map from their findings back to source lines."""

    def __init__(self, rendered: RenderedRoots, provenance: ProvenanceMap | None):
        self.rendered = rendered
        self.provenance = provenance

    @property
    def resources(self) -> list[Resource]:
        return self.rendered.resources

    def judged(self, file_resources: Sequence[Resource]) -> list[Resource]:
        """What policies see: files no rendered root reads, plus the rendered objects (never both views)."""
        skip = self.rendered.fed_files - self.rendered.fallback_files
        return [r for r in file_resources if r.file not in skip] + self.rendered.resources

    def remap(self, findings: list[Finding]) -> list[Finding]:
        return self.provenance.remap(findings) if self.provenance is not None else findings


def render_stage(
    head: Workspace,
    renderer: Renderer | None,
    changed: Collection[str] | None,
    deleted: Collection[str],
    scope: Scope,
    report: Report,
    max_roots: int = DEFAULT_MAX_RENDERED_ROOTS,
    base: Workspace | None = None,
) -> RenderStage:
    """Render what is in scope with ``renderer``; without one, say that roots were judged as files."""
    if renderer is None:
        if _has_kustomization(head, changed):
            report.notices.append(NOT_RENDERED_NOTICE)
        return RenderStage(RenderedRoots(), None)
    wanted = None if changed is None else {*changed, *deleted}
    rendered = render_roots(head, renderer, wanted, scope.limits, max_roots)
    render_charts(head, renderer, None if wanted is None else {p.strip("/") for p in wanted}, scope.limits,
                  rendered, max_roots, base)
    report.findings.extend(rendered.findings)
    report.notices.extend(rendered.notices)
    return RenderStage(rendered, ProvenanceMap(head, rendered, scope.limits))


def _has_kustomization(head: Workspace, changed: Collection[str] | None) -> bool:
    """Whether any root could be in scope (cheap: the listing, plus the changed paths' directories)."""
    kustomizations = [p for p in head.paths if posixpath.basename(p) in KUSTOMIZATION_NAMES]
    if changed is None or not kustomizations:
        return bool(kustomizations)
    directories = {posixpath.dirname(k) for k in kustomizations}
    return any(_under_any(p, directories) for p in changed)


def _under_any(path: str, directories: set[str]) -> bool:
    return any(not d or path.startswith(d + "/") for d in directories)
