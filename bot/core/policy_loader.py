"""Which Rego policies judge a change: built-ins, the trusted tree's policy directories, local extras.

Compiled policy sets are cached per process by the content hash of their
sources, so the App compiles a repository's policies once, not per delivery.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence

from bot.core.config import RepoConfig
from bot.core.rego.policyset import PolicySet
from bot.core.workspace import Workspace

DEFAULT_ENGINE = "regorus"
POLICY_SUFFIXES = (".rego", ".json", ".yaml", ".yml")
_CACHE_SIZE = 32
_cache: OrderedDict[tuple, PolicySet] = OrderedDict()
_lock = threading.Lock()


def policy_files(ws: Workspace, dirs: Sequence[str]) -> list[str]:
    """Files under ``dirs`` that belong to a policy bundle (Rego modules and data documents)."""
    prefixes = tuple(d.strip().removeprefix("./").rstrip("/") + "/" for d in dirs)
    return [p for p in ws.paths if p.startswith(prefixes) and p.endswith(POLICY_SUFFIXES)]


def _fingerprint(ws: Workspace, paths: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.encode() + b"\0" + (ws.read(path) or b"") + b"\0")
    return digest.hexdigest()


def _cached(key: tuple, build) -> PolicySet:  # type: ignore[no-untyped-def]
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    policy_set = build()
    with _lock:
        _cache[key] = policy_set
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return policy_set


def load_policies(
    trusted: Workspace, config: RepoConfig, extra_dirs: Sequence[str] = (), *, engine: str | None = None
) -> list[PolicySet]:
    """Policy sets for one evaluation; raises `bot.errors.PolicyError` when a trusted policy does not compile."""
    engine = engine or config.policy_engine or DEFAULT_ENGINE
    namespaces = tuple(config.policy_namespaces)
    dirs = tuple(config.policy_dirs)
    files = policy_files(trusted, dirs) if dirs else []
    key = ("workspace", engine, namespaces, config.builtin_policies, dirs, _fingerprint(trusted, files))
    sets = [
        _cached(
            key,
            lambda: PolicySet.from_workspace(
                trusted, list(dirs), namespaces=namespaces, engine=engine, builtin=config.builtin_policies
            ),
        )
    ]
    if extra_dirs:
        sets.append(PolicySet.from_directories(list(extra_dirs), namespaces=namespaces, engine=engine, builtin=False))
    return sets
