"""Which files kustomizations use as patches, so partial objects are not validated as whole ones."""

from __future__ import annotations

import posixpath
from collections.abc import Collection
from dataclasses import dataclass, field

from bot.core.classify import KUSTOMIZATION_NAMES
from bot.core.findings import Finding
from bot.core.kustomization import KustomizationNode, KustomizationTree
from bot.core.manifests import parse_finding
from bot.core.workspace import Workspace
from bot.core.yamlpos import DEFAULT_LIMITS, LoadLimits, load_yaml_bytes


@dataclass
class KustomizePatches:
    """Patch files referenced by the kustomizations (and Components) read."""

    strategic_merge: set[str] = field(default_factory=set)  # partial objects: load with is_patch=True
    json6902: set[str] = field(default_factory=set)  # lists of operations: not objects, skip
    findings: list[Finding] = field(default_factory=list)  # unreadable kustomization files
    read: list[str] = field(default_factory=list)  # the kustomization files read, sorted


def kustomization_files(ws: Workspace) -> list[str]:
    """Every kustomization.yaml / kustomization.yml / Kustomization in the tree, sorted."""
    return [p for p in ws.paths if posixpath.basename(p) in KUSTOMIZATION_NAMES]


def find_patch_files(
    ws: Workspace, limits: LoadLimits = DEFAULT_LIMITS, near: Collection[str] | None = None
) -> tuple[set[str], list[Finding]]:
    """Strategic-merge patch files, and parse findings for broken kustomization files.

    ``near`` given: only the kustomizations that can list those paths are read (see `scan_patches`).
    """
    patches = scan_patches(ws, limits, near)
    return patches.strategic_merge, patches.findings


def scan_patches(
    ws: Workspace, limits: LoadLimits = DEFAULT_LIMITS, near: Collection[str] | None = None
) -> KustomizePatches:
    """Read kustomizations and sort the patch files they name into strategic-merge and JSON 6902.

    ``near`` None: every kustomization of the tree (a whole-tree check). Otherwise only
    those that can name one of the ``near`` paths as a patch: kustomizations in the
    path's directory or above it (kustomize's default load restrictor, which the bot's
    renders use too, allows no patch outside a kustomization's own directory), plus
    the ``near`` kustomization files themselves. Reads stay proportional to the change.

    Paths that leave the tree, remote URLs, inline patches and files absent from the
    tree are ignored (rendering reports those).
    """
    tree = KustomizationTree(ws, limits)
    directories = sorted(tree.kustomization_directories) if near is None else _directories_near(tree, near)
    result = KustomizePatches()
    ws.prefetch(tree.files_by_directory[d] for d in directories)
    nodes = [node for directory in directories if (node := tree.node(directory)) is not None]
    ws.prefetch(path for node in nodes for path in node.patch_paths)
    for node in nodes:
        result.read.append(node.file)
        result.findings.extend(parse_finding(node.file, problem) for problem in node.yaml_problems)
        _collect(tree, node, result, limits)
    return result


def kustomizations_near(ws: Workspace, paths: Collection[str]) -> list[str]:
    """The kustomization files `scan_patches` reads for a change to ``paths`` (from the listing alone)."""
    tree = KustomizationTree(ws)
    return [tree.files_by_directory[d] for d in _directories_near(tree, paths)]


def _directories_near(tree: KustomizationTree, near: Collection[str]) -> list[str]:
    """Kustomization directories that are a ``near`` path's directory or one of its ancestors."""
    visited: set[str] = set()
    for path in near:
        directory = posixpath.dirname(path.strip("/"))
        while directory not in visited:
            visited.add(directory)
            if not directory:
                break
            directory = posixpath.dirname(directory)
    return sorted(d for d in visited if tree.is_kustomization(d))


def _collect(tree: KustomizationTree, node: KustomizationNode, out: KustomizePatches, limits: LoadLimits) -> None:
    out.strategic_merge |= node.strategic_merge
    out.json6902 |= node.json6902
    for path in sorted(node.patch_paths):
        kind = out.json6902 if _is_operation_list(tree.ws.read(path), limits) else out.strategic_merge
        kind.add(path)


def _is_operation_list(data: bytes | None, limits: LoadLimits) -> bool:
    """kustomize treats a ``patches`` file as JSON 6902 when it is a list of operations."""
    if data is None:
        return False
    stream = load_yaml_bytes(data, limits)
    return bool(stream.documents) and isinstance(stream.documents[0].value, list)
