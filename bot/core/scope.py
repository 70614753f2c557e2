"""What one evaluation reads: the files it judges, the CRDs it needs, the base side of a change."""

from __future__ import annotations

import fnmatch
from collections.abc import Collection
from dataclasses import dataclass, field

from bot.core.config import RepoConfig
from bot.core.deploy_targets import KUSTOMIZE_BUILTIN_KINDS, KustomizeTree, is_kustomize_config
from bot.core.findings import Finding, ResourceRef
from bot.core.kustomize import find_patch_files
from bot.core.manifests import LoadLimits, LoadResult, load_workspace
from bot.core.resource import Resource
from bot.core.workspace import Workspace

KUSTOMIZE_CONFIG = "kustomize generator/transformer config: read by kustomize, not a cluster object"


@dataclass
class Scope:
    """The head side as loaded, plus what the later stages need to know about it."""

    paths: list[str]
    limits: LoadLimits
    patch_files: set[str]
    loaded: LoadResult
    findings: list[Finding] = field(default_factory=list)  # parse problems (files and kustomizations)


def load_limits(config: RepoConfig) -> LoadLimits:
    defaults = LoadLimits()
    return LoadLimits(
        max_bytes=config.max_file_bytes or defaults.max_bytes,
        max_documents=config.max_documents or defaults.max_documents,
        max_depth=defaults.max_depth,
        max_nodes=defaults.max_nodes,
    )


def paths_to_check(head: Workspace, config: RepoConfig, changed: Collection[str] | None) -> list[str]:
    """Every file in scope, or only the changed ones that still exist."""
    candidates = head.paths if changed is None else [p for p in sorted(set(changed)) if head.exists(p)]
    return [p for p in candidates if config.selects(p)]


def load_head(head: Workspace, config: RepoConfig, changed: Collection[str] | None) -> Scope:
    paths = paths_to_check(head, config, changed)
    # A whole-tree check reads every kustomization; a change only those that can list a path it judges.
    limits = load_limits(config)
    patch_files, kustomize_findings = find_patch_files(head, limits, near=None if changed is None else paths)
    loaded = load_files(head, paths, limits, patch_files)
    in_scope = set(paths)
    findings = [f for f in kustomize_findings if f.file in in_scope] + loaded.findings
    return Scope(paths, limits, patch_files, loaded, findings)


def load_files(head: Workspace, paths: Collection[str], limits: LoadLimits, patch_files: Collection[str]) -> LoadResult:
    """Parse ``paths`` as cluster objects (kustomize plugin configs left out): shared with `bot.core.tree_chunks`."""
    return without_kustomize_configs(load_workspace(head, list(paths), limits, patch_files=set(patch_files)), head, limits)


def without_kustomize_configs(loaded: LoadResult, head: Workspace, limits: LoadLimits) -> LoadResult:
    """Generator/transformer/validator configs (``apiVersion: builtin`` or named by a kustomization) are not cluster objects."""
    plugin_files = KustomizeTree(head, limits).plugin_configs() if any(_maybe_config(r) for r in loaded.resources) else set()
    kept = [r for r in loaded.resources if not (r.file in plugin_files or is_kustomize_config(r.obj))]
    if len(kept) == len(loaded.resources):
        return loaded
    dropped = sorted({r.file for r in loaded.resources} - {r.file for r in kept})
    skipped = loaded.skipped + [(f, KUSTOMIZE_CONFIG) for f in dropped]
    return LoadResult(kept, loaded.findings, skipped)


def _maybe_config(resource: Resource) -> bool:
    """Cheap pre-test: only then are the kustomizations read (a plugin config has no namespace-scoped identity)."""
    return is_kustomize_config(resource.obj) or "Transformer" in resource.kind or "Generator" in resource.kind or (
        resource.kind in KUSTOMIZE_BUILTIN_KINDS
    )


def configured_crds(head: Workspace, config: RepoConfig, limits: LoadLimits, exclude: set[str]) -> list[Resource]:
    """CRDs from the configured locations, loaded even when the change does not touch them."""
    if not config.crds:
        return []
    wanted = [
        p
        for p in head.paths
        if p not in exclude and p.endswith((".yaml", ".yml", ".json")) and any(_under(p, loc) for loc in config.crds)
    ]
    return [r for r in load_workspace(head, wanted, limits).resources if r.kind == "CustomResourceDefinition"]


def _under(path: str, location: str) -> bool:
    loc = location.strip().removeprefix("./")
    if any(ch in loc for ch in "*?["):
        return fnmatch.fnmatchcase(path, loc)
    return path == loc or path.startswith(loc.rstrip("/") + "/")


def load_base(
    base: Workspace, config: RepoConfig, changed: Collection[str], deleted: Collection[str], scope: Scope
) -> LoadResult:
    """The changed and deleted files as they were at base (in scope of the config): the other side of each change."""
    paths = [p for p in sorted(set(changed) | set(deleted)) if base.exists(p) and config.selects(p)]
    return load_workspace(base, paths, scope.limits, patch_files=scope.patch_files)


def deleted_objects(before: LoadResult, after: LoadResult) -> list[ResourceRef]:
    """Objects defined in the changed files at base that no changed file defines any more."""
    after_keys = {r.ref.key() for r in after.resources if not r.is_patch}
    gone: dict[tuple[str, str, str, str], ResourceRef] = {}
    for r in before.resources:
        if not r.is_patch and r.ref.key() not in after_keys:
            gone.setdefault(r.ref.key(), r.ref)
    return [gone[k] for k in sorted(gone)]
