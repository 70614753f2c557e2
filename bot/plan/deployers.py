"""Which Argo CD Applications and Flux Kustomizations in the repo deploy which directory (the core finds them)."""

from __future__ import annotations

from bot.core.deploy_targets import MAX_SCANNED_FILES, Deployer, DeployerPath, find_deployer_paths
from bot.core.workspace import Workspace

Target = DeployerPath  # the plan's name for a (directory, deployer) pair

__all__ = ["MAX_SCANNED_FILES", "Target", "deployers_of", "find_targets"]


def find_targets(ws: Workspace, max_files: int | None = None) -> list[Target]:
    """Every (directory, deployer) pair declared by manifests of ``ws``, sorted by directory."""
    return find_deployer_paths(ws, max_files)


def deployers_of(targets: list[Target], directory: str) -> list[Deployer]:
    out: list[Deployer] = []
    for target in targets:
        if target.covers(directory) and target.deployer not in out:
            out.append(target.deployer)
    return out
