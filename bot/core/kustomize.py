"""Which files kustomizations use as patches, so partial objects are not validated as whole ones."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from bot.core.classify import KUSTOMIZATION_NAMES
from bot.core.findings import Finding
from bot.core.manifests import parse_finding
from bot.core.workspace import Workspace
from bot.core.yamlpos import DEFAULT_LIMITS, LoadLimits, load_yaml_bytes


@dataclass
class KustomizePatches:
    """Patch files referenced by every kustomization (and Component) of a tree."""

    strategic_merge: set[str] = field(default_factory=set)  # partial objects: load with is_patch=True
    json6902: set[str] = field(default_factory=set)  # lists of operations: not objects, skip
    findings: list[Finding] = field(default_factory=list)  # unreadable kustomization files


def kustomization_files(ws: Workspace) -> list[str]:
    """Every kustomization.yaml / kustomization.yml / Kustomization in the tree, sorted."""
    return [p for p in ws.paths if posixpath.basename(p) in KUSTOMIZATION_NAMES]


def find_patch_files(ws: Workspace, limits: LoadLimits = DEFAULT_LIMITS) -> tuple[set[str], list[Finding]]:
    """Strategic-merge patch files of the tree, and parse findings for broken kustomization files."""
    patches = scan_patches(ws, limits)
    return patches.strategic_merge, patches.findings


def scan_patches(ws: Workspace, limits: LoadLimits = DEFAULT_LIMITS) -> KustomizePatches:
    """Read every kustomization and sort the patch files it names into strategic-merge and JSON 6902.

    Paths are resolved against the kustomization's directory; paths that leave the
    tree, remote URLs, inline patches and files absent from the tree are ignored
    (rendering reports those).
    """
    result = KustomizePatches()
    tree = _Tree(ws)
    for path in kustomization_files(ws):
        data = ws.read(path)
        if data is None:
            continue
        stream = load_yaml_bytes(data, limits)
        result.findings.extend(parse_finding(path, problem) for problem in stream.problems)
        for doc in stream.documents:
            if isinstance(doc.value, dict):
                _collect(tree, posixpath.dirname(path), doc.value, result, limits)
    return result


class _Tree:
    """The workspace plus a set of its paths: ``Workspace.exists`` rebuilds one per call."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self.paths = frozenset(ws.paths)


def _collect(
    tree: _Tree, base: str, kustomization: dict[str, Any], out: KustomizePatches, limits: LoadLimits
) -> None:
    for entry in _as_list(kustomization.get("patchesStrategicMerge")):
        if isinstance(entry, str) and "\n" not in entry:  # multi-line entries are inline patches
            _add(tree, base, entry, out.strategic_merge)
    for entry in _as_list(kustomization.get("patchesJson6902")):
        if isinstance(entry, dict) and isinstance(entry.get("path"), str):
            _add(tree, base, entry["path"], out.json6902)
    for entry in _as_list(kustomization.get("patches")):
        if isinstance(entry, dict) and isinstance(entry.get("path"), str):
            resolved = _resolve(tree, base, entry["path"])
            if resolved is not None:
                kind = (
                    out.json6902
                    if _is_operation_list(tree.ws.read(resolved), limits)
                    else out.strategic_merge
                )
                kind.add(resolved)


def _add(tree: _Tree, base: str, reference: str, into: set[str]) -> None:
    resolved = _resolve(tree, base, reference)
    if resolved is not None:
        into.add(resolved)


def _resolve(tree: _Tree, base: str, reference: str) -> str | None:
    """``reference`` relative to ``base`` as a tree path, or None if remote, outside the tree or absent."""
    reference = reference.strip()
    if not reference or "://" in reference or reference.startswith(("/", "git@", "github.com/")):
        return None
    resolved = posixpath.normpath(posixpath.join(base, reference))
    if resolved == ".." or resolved.startswith("../") or resolved not in tree.paths:
        return None
    return resolved


def _is_operation_list(data: bytes | None, limits: LoadLimits) -> bool:
    """kustomize treats a ``patches`` file as JSON 6902 when it is a list of operations."""
    if data is None:
        return False
    stream = load_yaml_bytes(data, limits)
    return bool(stream.documents) and isinstance(stream.documents[0].value, list)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []

