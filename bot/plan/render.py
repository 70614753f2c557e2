"""Render one root on one side (base or head) into objects: kustomize in a sandbox, or a plain directory.

Two steps, so the slow one can run in parallel: `prepare_side` reads the tree
(through the `Workspace`, which may be an API client and stays on one thread) and
`finish_side` runs kustomize on the bytes it gathered.
"""

from __future__ import annotations

import posixpath
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.classify import Classifier, FileKind
from bot.core.manifests import load_manifest
from bot.core.rendered import MAX_ROOT_BYTES, MAX_ROOT_FILES
from bot.core.resource import Resource
from bot.core.workspace import Workspace
from bot.errors import GitOpsBotError
from bot.plan.graph import KustomizationGraph
from bot.plan.kustomize_runner import KustomizeRunner

# The same bounds as the verdict's renders: what one build may read.
MAX_MATERIALISED_BYTES = MAX_ROOT_BYTES
MAX_MATERIALISED_FILES = MAX_ROOT_FILES


class RenderRefused(GitOpsBotError):
    """The kustomization is unsafe to build (remote base, exec plugin, Helm, path outside the tree)."""


@dataclass
class Side:
    """One tree with its kustomization graph, built once per plan."""

    ws: Workspace
    graph: KustomizationGraph = field(init=False)
    classifier: Classifier = field(init=False)

    def __post_init__(self) -> None:
        self.graph = KustomizationGraph(self.ws)
        self.classifier = Classifier(self.ws.paths)

    def has(self, path: str) -> bool:
        return path in self.graph.paths

    def exists(self, directory: str) -> bool:
        prefix = f"{directory}/" if directory else ""
        return any(p.startswith(prefix) for p in self.ws.paths)


@dataclass
class Rendered:
    resources: list[Resource] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class KustomizeInput:
    """Everything one `kustomize build` reads: the root directory and the bytes of each file."""

    directory: str
    files: dict[str, bytes]


def refusals(side: Side, directory: str) -> list[str]:
    """Why building ``directory`` on this side is unsafe; empty when it may run."""
    if not side.graph.is_kustomization(directory):
        return []
    return side.graph.problems_of(directory)


def prepare_side(side: Side, directory: str, recurse: bool) -> Rendered | KustomizeInput:
    """A plain directory's objects, or what its kustomization build needs. Raises `RenderRefused`."""
    if not side.graph.is_kustomization(directory):
        return _plain_directory(side, directory, recurse)
    problems = refusals(side, directory)
    if problems:
        raise RenderRefused("; ".join(problems))
    paths = sorted(f for f in side.graph.files_of(directory) if f in side.graph.paths)
    if len(paths) > MAX_MATERIALISED_FILES:
        raise RenderRefused(f"the build reads more than {MAX_MATERIALISED_FILES} files")
    files: dict[str, bytes] = {}
    total = 0
    if sum(side.ws.size(p) or 0 for p in paths) <= MAX_MATERIALISED_BYTES:
        side.ws.prefetch(paths)  # the App reads them in one request
    for path in paths:
        files[path] = side.ws.read(path) or b""
        total += len(files[path])
        if total > MAX_MATERIALISED_BYTES:
            raise RenderRefused(f"the build reads more than {MAX_MATERIALISED_BYTES} bytes")
    return KustomizeInput(directory, files)


def finish_side(prepared: Rendered | KustomizeInput, runner: KustomizeRunner) -> Rendered:
    """Run kustomize where needed. Raises `KustomizeNotFound`, `RenderFailed` or `RenderRefused`."""
    if isinstance(prepared, Rendered):
        return prepared
    directory = prepared.directory
    label = posixpath.join(directory, "(kustomize build)") if directory else "(kustomize build)"
    return _loaded(label, _build(prepared, runner))


def build_kustomize_input(prepared: KustomizeInput, runner: KustomizeRunner) -> bytes:
    """The rendered stream of one prepared root (the verdict's renderer shares the plan's sandbox)."""
    return _build(prepared, runner)


def _build(prepared: KustomizeInput, runner: KustomizeRunner) -> bytes:
    """Write only the files the build reads into a fresh temporary directory and build there."""
    with tempfile.TemporaryDirectory(prefix="gitops-bot-plan-") as tmp:
        repo, home = materialise(Path(tmp), prepared.files)
        root = repo / prepared.directory if prepared.directory else repo
        root.mkdir(parents=True, exist_ok=True)
        return runner.build(root, home)


def materialise(sandbox: Path, files: Mapping[str, bytes]) -> tuple[Path, Path]:
    """Write ``files`` (and nothing else) under ``sandbox``/repo; an empty private home beside it.

    Returns (repo, home). A path that would land outside the repository is refused.
    """
    repo, home = sandbox / "repo", sandbox / "home"
    home.mkdir(mode=0o700)
    for path, data in files.items():
        target = (repo / path).resolve()
        if not target.is_relative_to(repo.resolve()):
            raise RenderRefused(f"{path}: outside the repository")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return repo, home


def _plain_directory(side: Side, directory: str, recurse: bool) -> Rendered:
    prefix = f"{directory}/" if directory else ""
    rendered = Rendered()
    manifests = [p for p in side.ws.paths if p.startswith(prefix) and (recurse or "/" not in p[len(prefix):])
                 and side.classifier.classify(p) is FileKind.MANIFEST]
    side.ws.prefetch(manifests)
    for path in manifests:
        loaded = _loaded(path, side.ws.read(path) or b"")
        rendered.resources.extend(loaded.resources)
        rendered.notes.extend(loaded.notes)
    return rendered


def _loaded(label: str, data: bytes) -> Rendered:
    result = load_manifest(label, data)
    notes = [f"{f.file}:{f.line}: {f.message}" for f in result.findings]
    return Rendered([r for r in result.resources if not r.is_patch], notes)
