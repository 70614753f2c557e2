"""Which Rego policies judge a change: built-ins, the trusted tree's policy directories, local extras.

Compiled policy sets are cached by the content hash of their sources, so the
App compiles a repository's policies once, not per delivery: inside the thread's
sandbox worker (`bot.core.rego.trusted`), which compiles each set once and keeps it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from bot.core.config import RepoConfig
from bot.core.rego.engine import DEFAULT_ENGINE
from bot.core.rego.sources import directory_sources, workspace_sources
from bot.core.rego.trusted import TrustedPolicySet
from bot.core.workspace import Workspace

POLICY_SUFFIXES = (".rego", ".json", ".yaml", ".yml")


def policy_files(ws: Workspace, dirs: Sequence[str]) -> list[str]:
    """Files under ``dirs`` that belong to a policy bundle (Rego modules and data documents)."""
    prefixes = tuple(d.strip().removeprefix("./").rstrip("/") + "/" for d in dirs)
    return [p for p in ws.paths if p.startswith(prefixes) and p.endswith(POLICY_SUFFIXES)]


def load_policies(
    trusted: Workspace, config: RepoConfig, extra_dirs: Sequence[str] = (), *, engine: str | None = None
) -> list[TrustedPolicySet]:
    """Policy sets for one evaluation; raises `bot.errors.PolicyError` when a trusted policy does not compile.

    They compile and evaluate in the sandbox worker (`bot.core.rego.trusted`): a time limit for base policies too.
    """
    engine = engine or config.policy_engine or DEFAULT_ENGINE
    namespaces = tuple(config.policy_namespaces)
    dirs = tuple(config.policy_dirs)
    sets = [
        TrustedPolicySet(
            tuple(workspace_sources(trusted, list(dirs))) if dirs else (),
            namespaces,
            engine,
            config.builtin_policies,
            label=config.source or "policies",
        )
    ]
    if extra_dirs:
        sets.append(TrustedPolicySet(tuple(directory_sources(list(extra_dirs))), namespaces, engine, False, label=", ".join(extra_dirs)))
    # A set that regorus would judge differently is compiled for OPA instead (reported as a notice).
    return [policy_set if (used := policy_set.compile()) == engine else dataclasses.replace(policy_set, engine=used)
            for policy_set in sets]
