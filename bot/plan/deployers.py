"""Which Argo CD Applications and Flux Kustomizations in the repo deploy which directory."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from bot.core.classify import Classifier, FileKind
from bot.core.manifests import load_manifest
from bot.core.workspace import Workspace
from bot.plan.model import Deployer

MAX_SCANNED_FILES = 2000
# Cheap byte tests before parsing: only files that can hold a deployer are parsed.
_MARKERS = (b"argoproj.io", b"kustomize.toolkit.fluxcd.io")


@dataclass(frozen=True)
class Target:
    """A directory a deployer points at; Argo CD's ``directory.recurse`` also takes its subdirectories."""

    directory: str
    deployer: Deployer
    recurse: bool = False

    def covers(self, directory: str) -> bool:
        if directory == self.directory:
            return True
        return self.recurse and (self.directory == "" or directory.startswith(self.directory + "/"))


def find_targets(ws: Workspace, max_files: int = MAX_SCANNED_FILES) -> list[Target]:
    """Every (directory, deployer) pair declared by manifests of ``ws``, sorted by directory.

    Reads every manifest of the tree (each one an API call in the App), so a tree with
    more than ``max_files`` manifests is not scanned: its roots show no deployer.
    """
    classifier = Classifier(ws.paths)
    manifests = [p for p in ws.paths if classifier.classify(p) is FileKind.MANIFEST]
    if len(manifests) > max_files:
        return []
    targets: list[Target] = []
    for path in manifests:
        data = ws.read(path)
        if not data or not any(marker in data for marker in _MARKERS):
            continue
        for resource in load_manifest(path, data).resources:
            targets.extend(_targets_of(resource.obj, path))
    return sorted(targets, key=lambda t: (t.directory, t.deployer.display()))


def deployers_of(targets: list[Target], directory: str) -> list[Deployer]:
    out: list[Deployer] = []
    for target in targets:
        if target.covers(directory) and target.deployer not in out:
            out.append(target.deployer)
    return out


def _targets_of(obj: dict[str, Any], file: str) -> list[Target]:
    group = str(obj.get("apiVersion", "")).split("/", 1)[0]
    kind = obj.get("kind")
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    deployer = Deployer(str(kind), str(metadata.get("namespace") or ""), str(metadata.get("name") or ""), file)
    if group == "argoproj.io" and kind == "Application":
        sources = [spec.get("source")] + (spec.get("sources") if isinstance(spec.get("sources"), list) else [])
        return [
            Target(_normalise(s["path"]), deployer, _recurses(s))
            for s in sources
            if isinstance(s, dict) and isinstance(s.get("path"), str) and not s.get("chart")
        ]
    if group == "kustomize.toolkit.fluxcd.io" and kind == "Kustomization":
        path = _normalise(spec.get("path") if isinstance(spec.get("path"), str) else "")
        return [Target(path, deployer, recurse=True)]  # without a kustomization, Flux takes the whole subtree
    return []


def _recurses(source: dict[str, Any]) -> bool:
    directory = source.get("directory")
    return isinstance(directory, dict) and directory.get("recurse") is True


def _normalise(path: str) -> str:
    path = posixpath.normpath(path.strip().lstrip("/"))
    return "" if path == "." else path
