"""The roots a change affects: kustomizations whose build reads a changed file, and plain manifest directories."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.core.classify import FileKind
from bot.core.manifests import load_manifest
from bot.core.rendered import NEAR_KUSTOMIZATIONS
from bot.plan.deployers import Target
from bot.plan.model import DIRECTORY_ROOT, HELM_ROOT, KUSTOMIZE_ROOT
from bot.plan.render import Side


@dataclass(frozen=True)
class AffectedRoot:
    path: str  # "" is the repository root
    kind: str  # kustomize | directory | helm
    recurse: bool = False  # a plain directory deployed with its subdirectories (Argo CD recurse, Flux)


def find_affected_roots(sides: Sequence[Side], changed: Iterable[str], targets: Sequence[Target],
                        notices: list[str] | None = None) -> list[AffectedRoot]:
    """Roots on either side whose render may differ because of ``changed`` paths, sorted by path.

    A kustomization is a root when no other kustomization includes it or when an
    Argo CD Application / Flux Kustomization points at it. A changed manifest that no
    kustomization reads makes its directory a root (or the recursive deployer's directory).
    Kustomizations are read near the change only (the verdict's search, `bot.core.rendered.roots_near`);
    where that search stopped short, a line is added to ``notices``.
    """
    changed_set = {p.strip("/") for p in changed if p}
    roots: dict[str, AffectedRoot] = {}
    far: set[str] = set()
    for side in sides:
        graph = side.graph
        near, beside_only = graph.roots_near(changed_set)
        far.update(beside_only)
        candidates = set(near) | {t.directory for t in targets if graph.is_kustomization(t.directory)}
        for directory in sorted(candidates):
            if graph.files_of(directory) & changed_set:
                roots[directory] = AffectedRoot(directory, KUSTOMIZE_ROOT)
    if far and notices is not None:
        shown = ", ".join(sorted(far)[:3]) + (" ..." if len(far) > 3 else "")
        notices.append(f"kustomizations that include {shown} were looked for among up to {NEAR_KUSTOMIZATIONS} "
                       "kustomizations beside it, not in the whole tree; it is planned as its own root")
    # A deployer pointed at a kustomization builds it; only plain directories are taken recursively.
    plain_targets = [t for t in targets if not any(side.graph.is_kustomization(t.directory) for side in sides)]
    read_by_kustomize = {p for p in changed_set if any(side.has(p) and side.graph.reads(p) for side in sides)}
    for path in sorted(changed_set - read_by_kustomize):
        chart = _deployed_chart(path, sides, targets)
        if chart is not None:
            roots.setdefault(chart, AffectedRoot(chart, HELM_ROOT))
            continue
        if not any(_holds_objects(side, path) for side in sides):
            continue
        directory = posixpath.dirname(path)
        if any(side.graph.is_kustomization(directory) for side in sides):
            continue  # in a kustomization's directory but not in its build: nothing deploys it
        root = _plain_root(directory, plain_targets)
        roots.setdefault(root.path, root)
    return [roots[p] for p in sorted(roots)]


def _holds_objects(side: Side, path: str) -> bool:
    """A manifest file with Kubernetes objects (or broken YAML, which may have held some) on this side."""
    if not side.has(path) or side.classifier.classify(path) is not FileKind.MANIFEST:
        return False
    loaded = load_manifest(path, side.ws.read(path) or b"")
    return bool(loaded.resources or loaded.findings)


def _deployed_chart(path: str, sides: Sequence[Side], targets: Sequence[Target]) -> str | None:
    """The Helm chart directory holding ``path`` when an Application deploys that chart, else None."""
    for side in sides:
        chart = side.classifier.chart_of(path) if side.has(path) else None
        if chart is not None and any(t.directory == chart for t in targets):
            return chart
    return None


def _plain_root(directory: str, targets: Sequence[Target]) -> AffectedRoot:
    """The directory itself, or the nearest recursive deployer's directory that contains it."""
    covering = [t for t in targets if t.recurse and t.covers(directory)]
    if covering:
        nearest = max(covering, key=lambda t: len(t.directory))
        return AffectedRoot(nearest.directory, DIRECTORY_ROOT, recurse=True)
    return AffectedRoot(directory, DIRECTORY_ROOT)


def in_scope(path: str, scopes: Sequence[str]) -> bool:
    """Whether a root lies in one of the PATH arguments (no scopes: everything)."""
    if not scopes:
        return True
    return any(s in ("", ".") or path == s or path.startswith(s.rstrip("/") + "/") for s in scopes)
