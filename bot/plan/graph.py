"""The kustomization reference graph of one tree: which files each kustomization's build reads.

Read statically, without running anything, by the core's one kustomization reader
(`bot.core.kustomization`): the same walk finds the roots a change affects, the
files a render needs, and what makes a kustomization unsafe to build.
"""

from __future__ import annotations

from bot.core.kustomization import KustomizationNode, KustomizationTree, is_remote
from bot.core.workspace import Workspace
from bot.core.yamlpos import DEFAULT_LIMITS, LoadLimits

__all__ = ["KustomizationGraph", "KustomizationNode", "is_remote"]


class KustomizationGraph:
    """Every kustomization of a tree and what it references; closures are computed on demand."""

    def __init__(self, ws: Workspace, limits: LoadLimits = DEFAULT_LIMITS):
        self.tree = KustomizationTree(ws, limits)
        self.ws = ws
        self.limits = limits
        self.paths = self.tree.paths
        self.directories = self.tree.directories
        self.kustomization_directories = self.tree.kustomization_directories
        self.nodes: dict[str, KustomizationNode] = self.tree.all_nodes()

    def is_kustomization(self, directory: str) -> bool:
        return directory in self.kustomization_directories

    def included_directories(self) -> set[str]:
        """Kustomizations some other kustomization builds in (so they are not roots themselves)."""
        return {d for node in self.nodes.values() for d in node.includes}

    def top_level(self) -> list[str]:
        """Kustomization directories nobody includes: what a reconciler is pointed at."""
        included = self.included_directories()
        return sorted(d for d, n in self.nodes.items() if d not in included and n.kind != "Component")

    def closure(self, directory: str) -> list[KustomizationNode]:
        """The kustomization in ``directory`` and every one its build includes, each once."""
        seen: dict[str, KustomizationNode] = {}
        stack = [directory]
        while stack:
            current = stack.pop()
            node = self.nodes.get(current)
            if node is None or current in seen:
                continue
            seen[current] = node
            stack.extend(sorted(node.includes))
        return list(seen.values())

    def files_of(self, directory: str) -> set[str]:
        return {f for node in self.closure(directory) for f in node.files}

    def problems_of(self, directory: str) -> list[str]:
        return [p for node in self.closure(directory) for p in node.problems]
