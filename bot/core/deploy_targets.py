"""Deploy targets: which objects of a tree are applied together (one cluster's view of the repository).

A target is a kustomize root (a kustomization nobody includes), the path of an
Argo CD Application / ApplicationSet or of a Flux Kustomization found in the
tree, or else the plain directory a manifest sits in. The same object identity
in two targets is normal (``clusters/production`` vs ``clusters/staging``);
inside one target it is a conflict. Read statically: nothing is rendered.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.classify import Classifier, FileKind
from bot.core.jsonfields import list_at, str_at
from bot.core.kustomization import KustomizationNode, KustomizationTree
from bot.core.manifests import load_manifest
from bot.core.resource import Resource
from bot.core.workspace import Workspace
from bot.core.yamlpos import DEFAULT_LIMITS, LoadLimits

MAX_SCANNED_FILES = 2000
# Cheap byte tests before parsing: only files that can hold a deployer are parsed.
_MARKERS = (b"argoproj.io", b"kustomize.toolkit.fluxcd.io")
# Kinds of kustomize's builtin generator/transformer plugins (apiVersion ``builtin``): configs, not objects.
KUSTOMIZE_BUILTIN_KINDS = frozenset({
    "AnnotationsTransformer", "ConfigMapGenerator", "HashTransformer", "HelmChartInflationGenerator",
    "ImageTagTransformer", "LabelTransformer", "NamespaceTransformer", "PatchJson6902Transformer",
    "PatchStrategicMergeTransformer", "PatchTransformer", "PrefixSuffixTransformer", "PrefixTransformer",
    "SuffixTransformer", "ReplacementTransformer", "ReplicaCountTransformer", "SecretGenerator",
    "ValueAddTransformer", "SortOrderTransformer",
})  # fmt: skip


@dataclass(frozen=True)
class Deployer:
    """An Argo CD Application(Set) or Flux Kustomization in the repo that deploys a directory."""

    kind: str  # "Application" | "ApplicationSet" (Argo CD) | "Kustomization" (Flux)
    namespace: str
    name: str
    file: str

    def display(self) -> str:
        tool = (
            f"Argo CD {self.kind}" if self.kind in ("Application", "ApplicationSet") else "Flux Kustomization"
        )
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{tool} {ns}{self.name}"

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name, "file": self.file}


@dataclass(frozen=True)
class DeployerPath:
    """A directory a deployer points at; Argo CD's ``directory.recurse`` and Flux also take subdirectories."""

    directory: str
    deployer: Deployer
    recurse: bool = False

    def covers(self, directory: str) -> bool:
        if directory == self.directory:
            return True
        return self.recurse and (self.directory == "" or directory.startswith(self.directory + "/"))


def find_deployer_paths(ws: Workspace, max_files: int | None = None) -> list[DeployerPath]:
    """Every (directory, deployer) pair declared by manifests of ``ws``, sorted by directory; [] past the cap.

    Where a tree too large to scan must not look like a tree without deployers, use `scan_deployer_paths`.
    """
    return scan_deployer_paths(ws, max_files) or []


def scan_deployer_paths(ws: Workspace, max_files: int | None = None) -> list[DeployerPath] | None:
    """Every (directory, deployer) pair declared by manifests of ``ws``, sorted by directory; None when not scanned.

    Reads every manifest holding a marker (batched by ``ws.prefetch`` in the App), so a tree
    with more than ``max_files`` (default `MAX_SCANNED_FILES`) manifests is not scanned: the caller says so.
    """
    classifier = Classifier(ws.paths)
    manifests = [p for p in ws.paths if classifier.classify(p) is FileKind.MANIFEST]
    if len(manifests) > (MAX_SCANNED_FILES if max_files is None else max_files):
        return None
    found: list[DeployerPath] = []
    ws.prefetch(manifests)  # the App reads them a hundred to a request
    for path in manifests:
        data = ws.read(path)
        if not data or not any(marker in data for marker in _MARKERS):
            continue
        for resource in load_manifest(path, data).resources:
            found.extend(deployer_paths_of(resource.obj, path))
    return sorted(found, key=lambda t: (t.directory, t.deployer.display()))


def deployer_paths_of(obj: dict[str, Any], file: str) -> list[DeployerPath]:
    """The directories one Argo CD Application/ApplicationSet or Flux Kustomization object deploys."""
    group = str(obj.get("apiVersion", "")).split("/", 1)[0]
    kind = obj.get("kind")
    metadata = _mapping(obj.get("metadata"))
    spec = _mapping(obj.get("spec"))
    deployer = Deployer(
        str(kind), str(metadata.get("namespace") or ""), str(metadata.get("name") or ""), file
    )
    if group == "argoproj.io" and kind in ("Application", "ApplicationSet"):
        if kind == "ApplicationSet":
            spec = _mapping(_mapping(spec.get("template")).get("spec"))
        sources = [spec.get("source")] + (
            list_at(spec, "sources")
        )
        return [
            DeployerPath(_normalise(s["path"]), deployer, _recurses(s))
            for s in sources
            if isinstance(s, dict)
            and isinstance(s.get("path"), str)
            and not s.get("chart")
            and "{{" not in s["path"]
        ]
    if group == "kustomize.toolkit.fluxcd.io" and kind == "Kustomization":
        path = _normalise(str_at(spec, "path"))
        return [
            DeployerPath(path, deployer, recurse=True)
        ]  # without a kustomization, Flux takes the whole subtree
    return []


@dataclass(frozen=True)
class DeployTarget:
    """Files applied together: what one reconciler (or one ``kubectl apply``) sees."""

    directory: str
    kind: str  # kustomize | argocd | flux | directory
    files: frozenset[str]


class KustomizeTree:
    """Every kustomization of a tree (through the one reader, `bot.core.kustomization`): roots and what they build."""

    def __init__(self, ws: Workspace, limits: LoadLimits = DEFAULT_LIMITS):
        self.paths = frozenset(ws.paths)
        self.nodes: dict[str, KustomizationNode] = KustomizationTree(ws, limits).all_nodes()

    def roots(self) -> list[str]:
        """Kustomization directories nobody includes: what a reconciler is pointed at."""
        included = {d for node in self.nodes.values() for d in node.includes}
        return sorted(d for d, n in self.nodes.items() if d not in included and n.kind != "Component")

    def files_of(self, directory: str) -> frozenset[str]:
        seen: set[str] = set()
        files: set[str] = set()
        stack = [directory]
        while stack:
            current = stack.pop()
            if current in seen or current not in self.nodes:
                continue
            seen.add(current)
            files |= self.nodes[current].resources
            stack.extend(self.nodes[current].includes)
        return frozenset(files)

    def plugin_configs(self) -> set[str]:
        return {f for node in self.nodes.values() for f in node.plugin_config_files}


def find_deploy_targets(
    ws: Workspace, deployer_paths: Sequence[DeployerPath] | None = None, tree: KustomizeTree | None = None
) -> list[DeployTarget]:
    """Kustomize roots and deployer paths of ``ws``; files no target covers fall back to their directory (``target_files``)."""
    tree = tree or KustomizeTree(ws)
    deployer_paths = find_deployer_paths(ws) if deployer_paths is None else deployer_paths
    targets = {d: DeployTarget(d, "kustomize", tree.files_of(d)) for d in tree.roots()}
    for dp in deployer_paths:
        kind = "argocd" if dp.deployer.kind in ("Application", "ApplicationSet") else "flux"
        if dp.directory in tree.nodes:
            targets.setdefault(dp.directory, DeployTarget(dp.directory, kind, tree.files_of(dp.directory)))
        elif dp.directory in targets:
            # Several deployers of one plain directory: the widest view (a recursive one takes subdirectories).
            seen = targets[dp.directory]
            targets[dp.directory] = DeployTarget(dp.directory, seen.kind, seen.files | _plain_files(tree, dp))
        else:
            targets[dp.directory] = DeployTarget(dp.directory, kind, _plain_files(tree, dp))
    return [targets[d] for d in sorted(targets)]


def target_groups(
    resources: Sequence[Resource], targets: Sequence[DeployTarget]
) -> list[tuple[list[Resource], list[Resource]]]:
    """(judged, peers) pairs: each resource with the objects applied together with it, grouped by peer set.

    A resource in several targets (a base used by two overlays) sees the union of
    their objects; a resource no target covers sees its directory's plain manifests.
    """
    peers_of = peer_files([r.file for r in resources], targets)
    groups: dict[frozenset[str], list[Resource]] = {}
    for r in resources:
        groups.setdefault(peers_of[r.file], []).append(r)
    return [(judged, [r for r in resources if r.file in files]) for files, judged in groups.items()]


def peer_files(files: Sequence[str], targets: Sequence[DeployTarget]) -> dict[str, frozenset[str]]:
    """Each of ``files`` with the files applied together with it (among all targets' files and ``files``).

    The union of its targets' files; a file no target covers gets the ``files`` of its directory
    that no target covers either. Works on paths alone, so a tree judged in chunks groups the same way.
    """
    by_file: dict[str, set[str]] = {}
    for target in targets:
        for f in target.files:
            by_file.setdefault(f, set()).add(target.directory)
    members: dict[str, set[str]] = {t.directory: set(t.files) for t in targets}
    for f in files:
        if f not in by_file:
            plain = "dir:" + posixpath.dirname(f)
            by_file[f] = {plain}
            members.setdefault(plain, set()).add(f)
    unions: dict[frozenset[str], frozenset[str]] = {}
    out: dict[str, frozenset[str]] = {}
    for f in files:
        key = frozenset(by_file[f])
        if key not in unions:
            unions[key] = frozenset(set().union(*(members[t] for t in key)))
        out[f] = unions[key]
    return out


def is_kustomize_config(obj: dict[str, Any]) -> bool:
    """A kustomize builtin plugin config (``apiVersion: builtin``): read by kustomize, never applied."""
    return obj.get("apiVersion") == "builtin" or (
        obj.get("kind") in KUSTOMIZE_BUILTIN_KINDS and str(obj.get("apiVersion", "")).startswith("builtin")
    )


def _plain_files(tree: KustomizeTree, dp: DeployerPath) -> frozenset[str]:
    """A plain directory's manifests (its subtree when recursive; a kustomization inside is built instead)."""
    files: set[str] = set()
    for path in tree.paths:
        directory = posixpath.dirname(path)
        if not dp.covers(directory):
            continue
        owner = next((d for d in _ancestors(directory, dp.directory) if d in tree.nodes), None)
        if owner is None:
            files.add(path)
        else:
            files |= tree.files_of(owner)
    return frozenset(files)


def _ancestors(directory: str, stop: str) -> Iterable[str]:
    """``directory`` and its parents down to (and including) ``stop``."""
    while True:
        yield directory
        if directory == stop or not directory:
            return
        directory = posixpath.dirname(directory)


def _recurses(source: dict[str, Any]) -> bool:
    directory = source.get("directory")
    return isinstance(directory, dict) and directory.get("recurse") is True


def _normalise(path: str) -> str:
    path = posixpath.normpath(path.strip().lstrip("/"))
    return "" if path == "." else path


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
