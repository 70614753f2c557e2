"""The kustomization reference graph of one tree: which files each kustomization's build reads.

Read statically, without running anything, by the core's one kustomization reader
(`bot.core.kustomization`): the same walk finds the roots a change affects, the
files a render needs, and what makes a kustomization unsafe to build. Kustomizations
are read on demand: a change reads those near it (`roots_near`), never the whole tree.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection

from bot.core.kustomization import KustomizationNode, KustomizationTree, is_remote
from bot.core.rendered import closure, roots_near
from bot.core.workspace import Workspace
from bot.core.yamlpos import DEFAULT_LIMITS, LoadLimits

__all__ = ["KustomizationGraph", "KustomizationNode", "is_remote"]


class KustomizationGraph:
    """The kustomizations of a tree and what they reference, each read on first use."""

    def __init__(self, ws: Workspace, limits: LoadLimits = DEFAULT_LIMITS):
        self.tree = KustomizationTree(ws, limits)
        self.ws = ws
        self.limits = limits
        self.paths = self.tree.paths
        self.directories = self.tree.directories
        self.kustomization_directories = self.tree.kustomization_directories

    @property
    def nodes(self) -> dict[str, KustomizationNode]:
        """Every kustomization of the tree: reads them all (whole-tree questions only)."""
        return self.tree.all_nodes()

    def is_kustomization(self, directory: str) -> bool:
        return directory in self.kustomization_directories

    def top_level(self) -> list[str]:
        """Kustomization directories nobody includes: what a reconciler is pointed at (reads every one)."""
        nodes = self.nodes
        included = {d for node in nodes.values() for d in node.includes}
        return sorted(d for d, n in nodes.items() if d not in included and n.kind != "Component")

    def roots_near(self, changed: Collection[str]) -> tuple[list[str], list[str]]:
        """The core's search for a change (`bot.core.rendered.roots_near`): roots, and kustomizations whose
        includers were looked for only beside them."""
        return roots_near(self.tree, set(changed))

    def reads(self, path: str) -> bool:
        """Whether some kustomization's build reads ``path``: only one in its directory or above can."""
        directory = posixpath.dirname(path)
        while True:
            node = self.tree.node(directory)
            if node is not None and path in node.files:
                return True
            if not directory:
                return False
            directory = posixpath.dirname(directory)

    def closure(self, directory: str) -> list[KustomizationNode]:
        """The kustomization in ``directory`` and every one its build includes, each once."""
        return closure(self.tree, directory)

    def files_of(self, directory: str) -> set[str]:
        return {f for node in self.closure(directory) for f in node.files}

    def problems_of(self, directory: str) -> list[str]:
        return [p for node in self.closure(directory) for p in node.problems]
