"""Which Rego policies judge a change: built-ins, the trusted tree's policy directories, local extras.

Compiled policy sets are cached by the content hash of their sources, so the
App compiles a repository's policies once, not per delivery: inside the thread's
sandbox worker (`bot.core.rego.trusted`), which compiles each set once and keeps it.
`cached_per_thread` serves code that compiles in this process (change-aware rules
inside that worker): the regorus engine is "unsendable", PyO3 panics when an engine
built on one thread is used on another.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from bot.core.config import RepoConfig
from bot.core.rego.sources import directory_sources, workspace_sources
from bot.core.rego.trusted import TrustedPolicySet
from bot.core.workspace import Workspace

DEFAULT_ENGINE = "regorus"
POLICY_SUFFIXES = (".rego", ".json", ".yaml", ".yml")
_CACHE_SIZE = 32
T = TypeVar("T")
_local = threading.local()


def _thread_cache() -> OrderedDict[tuple[Any, ...], Any]:
    cache = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = OrderedDict()
    return cache


def policy_files(ws: Workspace, dirs: Sequence[str]) -> list[str]:
    """Files under ``dirs`` that belong to a policy bundle (Rego modules and data documents)."""
    prefixes = tuple(d.strip().removeprefix("./").rstrip("/") + "/" for d in dirs)
    return [p for p in ws.paths if p.startswith(prefixes) and p.endswith(POLICY_SUFFIXES)]


def cached_per_thread(key: tuple[Any, ...], build: Callable[[], T]) -> T:
    """The compiled object for ``key`` on this thread, built once (a small LRU per thread)."""
    cache = _thread_cache()
    if key in cache:
        cache.move_to_end(key)
        cached: T = cache[key]  # built by the same ``build`` for this key
        return cached
    policy_set = cache[key] = build()
    while len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)
    return policy_set


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
