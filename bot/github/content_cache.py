"""Git trees and blobs by sha, shared by every worker: on disk (embedded mode) or in Redis (distributed mode).

Only what a sha addresses is ever stored: a blob's content (its id is its hash) and
the file listing of a commit (a commit id fixes its tree). Neither can go stale, so
there is no invalidation, only size-bounded eviction of the least recently used.
Tree listings are keyed by repository too: a sha read through one installation is
never answered from another's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import time
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bot.env import env_int
from bot.errors import ConfigError
from bot.github.api import TreeEntry
from bot.github.blobs import MemoryStore, git_blob_sha

if TYPE_CHECKING:  # imported where a Redis store is configured
    import redis

log = logging.getLogger(__name__)

_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")  # SHA-1 or SHA-256 object ids, lowercase hex
CACHE_MODES = ("auto", "disk", "redis", "memory", "off")
DEFAULT_DISK_BYTES = 512 * 1024 * 1024
DEFAULT_MEMORY_BYTES = 64 * 1024 * 1024
DEFAULT_REDIS_TTL_SECONDS = 7 * 24 * 3600
REDIS_PREFIX = "gitops-bot:cas:"


class ByteStore(Protocol):
    """Bytes by key; `put` may drop anything (it is a cache), `get` never returns another key's bytes."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, data: bytes) -> None: ...


class DiskStore:
    """Files under one directory, shared by every process on the host; LRU by modification time.

    Writes are atomic (temporary file + rename), so concurrent processes never see half
    an entry. A read touches the file; when the bytes written since the last sweep reach a
    tenth of the bound, the oldest entries are removed until the directory is under 90 % (so between
    sweeps it may pass its bound by less than a tenth).
    """

    def __init__(self, directory: Path, max_bytes: int = DEFAULT_DISK_BYTES) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._written = 0
        self._lock = threading.Lock()
        self._sweep()

    def _path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()
        return self.directory / digest[:2] / digest

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            os.utime(path)  # most recently used
        except OSError:
            pass
        return data

    def put(self, key: str, data: bytes) -> None:
        if len(data) > self.max_bytes // 8:
            return
        path = self._path(key)
        if path.exists():
            return
        try:
            path.parent.mkdir(exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except OSError as exc:  # a full or read-only disk costs requests, not the evaluation
            log.warning("content cache: cannot write %s: %s", self.directory, exc.strerror or exc)
            return
        with self._lock:
            self._written += len(data)
            due = self._written >= self.max_bytes // 10
            if due:
                self._written = 0
        if due:
            self._sweep()

    def size(self) -> int:
        return sum(size for _, size, _ in self._entries())

    def _entries(self) -> list[tuple[float, int, Path]]:
        entries = []
        for shard in self.directory.iterdir() if self.directory.exists() else ():
            if not shard.is_dir():
                continue
            for entry in os.scandir(shard):
                try:
                    stat = entry.stat()
                except OSError:
                    continue
                if entry.name.startswith(".tmp-") and stat.st_mtime < time.time() - 3600:
                    _unlink(Path(entry.path))  # left by a process killed mid-write
                    continue
                entries.append((stat.st_mtime, stat.st_size, Path(entry.path)))
        return entries

    def _sweep(self) -> None:
        entries = self._entries()
        total = sum(size for _, size, _ in entries)
        if total <= self.max_bytes:
            return
        target = self.max_bytes * 9 // 10
        for _, size, path in sorted(entries):
            if total <= target:
                break
            _unlink(path)
            total -= size


class RedisStore:
    """Keys in Redis with a TTL refreshed on every read: unused entries expire, and under
    ``maxmemory-policy allkeys-lru`` (or volatile-lru) Redis evicts the least recently used first."""

    def __init__(self, connection: redis.Redis, ttl_seconds: int = DEFAULT_REDIS_TTL_SECONDS,
                 max_entry_bytes: int = 8 * 1024 * 1024) -> None:
        self.connection = connection
        self.ttl_seconds = ttl_seconds
        self.max_entry_bytes = max_entry_bytes

    def get(self, key: str) -> bytes | None:
        import redis

        try:
            pipe = self.connection.pipeline(transaction=False)
            pipe.get(REDIS_PREFIX + key)
            pipe.expire(REDIS_PREFIX + key, self.ttl_seconds)
            data, _ = pipe.execute()
        except redis.RedisError as exc:
            log.warning("content cache: Redis unavailable (%s): reading from GitHub", type(exc).__name__)
            return None
        return data if isinstance(data, bytes) else None

    def put(self, key: str, data: bytes) -> None:
        import redis

        if len(data) > self.max_entry_bytes:
            return
        try:
            self.connection.set(REDIS_PREFIX + key, data, ex=self.ttl_seconds, nx=True)
        except redis.RedisError as exc:
            log.warning("content cache: Redis unavailable (%s): not stored", type(exc).__name__)


class ContentCache:
    """Blobs and commit trees by sha: a small in-process front over a shared store (or none)."""

    def __init__(self, shared: ByteStore | None = None, memory_bytes: int = DEFAULT_MEMORY_BYTES) -> None:
        self.memory = MemoryStore(memory_bytes)
        self.shared = shared
        self.hits = 0
        self.misses = 0

    def blob(self, sha: str) -> bytes | None:
        """The blob's bytes if cached; a SHA-1 entry is checked against its id, so a poisoned store is a miss."""
        if not _is_sha(sha):
            return None
        data = self._get(_blob_key(sha))
        if data is not None and len(sha) == 40 and git_blob_sha(data) != sha:
            log.warning("content cache: entry for blob %s does not match its id; ignored", sha[:7])
            return None
        return data

    def put_blob(self, sha: str, data: bytes) -> None:
        if _is_sha(sha):
            self._put(_blob_key(sha), data)

    def tree(self, repository: str, sha: str) -> list[TreeEntry] | None:
        if not _is_sha(sha):
            return None  # a branch or tag name moves: never cached
        packed = self._get(_tree_key(repository, sha))
        if packed is None:
            return None
        try:
            return [TreeEntry(p, s, n, m) for p, s, n, m in json.loads(packed)]
        except (ValueError, TypeError):
            return None

    def put_tree(self, repository: str, sha: str, entries: list[TreeEntry]) -> None:
        if _is_sha(sha):
            packed = json.dumps([[e.path, e.sha, e.size, e.mode] for e in entries], separators=(",", ":")).encode()
            self._put(_tree_key(repository, sha), packed)

    def _get(self, key: str) -> bytes | None:
        data = self.memory.get(key)
        if data is None and self.shared is not None:
            stored = self.shared.get(key)
            if stored is not None:
                data = _unpack(stored)
                if data is not None:
                    self.memory.put(key, data)
        if data is None:
            self.misses += 1
        else:
            self.hits += 1
        return data

    def _put(self, key: str, data: bytes) -> None:
        self.memory.put(key, data)
        if self.shared is not None:
            self.shared.put(key, zlib.compress(data, 1))


def _unpack(stored: bytes) -> bytes | None:
    try:
        return zlib.decompress(stored)
    except zlib.error:
        return None  # a damaged entry is a miss


def _is_sha(value: str) -> bool:
    return bool(_SHA.fullmatch(value))


def _blob_key(sha: str) -> str:
    return f"blob:{sha}"


def _tree_key(repository: str, sha: str) -> str:
    return f"tree2:{repository.lower()}:{sha}"  # tree2: entries carry their mode (symlinks)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def content_cache_mode(env: Mapping[str, str], redis_url: str | None) -> str:
    """GITOPS_BOT_CACHE resolved (``auto`` to ``redis`` or ``disk``): where repository content may be kept."""
    mode = (env.get("GITOPS_BOT_CACHE", "") or "auto").strip().lower()
    if mode not in CACHE_MODES:
        raise ConfigError(f"GITOPS_BOT_CACHE must be one of {', '.join(CACHE_MODES)}, got {mode!r}")
    if mode == "auto":
        return "redis" if redis_url else "disk"
    return mode


def content_cache_from_env(env: Mapping[str, str], data_dir: Path, redis_url: str | None) -> ContentCache:
    """The cache the operator chose (GITOPS_BOT_CACHE*); ``auto``: Redis when the queue is Redis, else disk."""
    mode = content_cache_mode(env, redis_url)
    memory = env_int(env, "GITOPS_BOT_CACHE_MEMORY_BYTES", default=DEFAULT_MEMORY_BYTES, minimum=1)
    if mode == "off":
        return ContentCache(None, memory_bytes=0)
    if mode == "memory":
        return ContentCache(None, memory)
    if mode == "redis":
        if not redis_url:
            raise ConfigError("GITOPS_BOT_CACHE=redis needs GITOPS_BOT_REDIS_URL")
        import redis

        connection = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
        ttl = env_int(env, "GITOPS_BOT_CACHE_TTL_SECONDS", default=DEFAULT_REDIS_TTL_SECONDS, minimum=1)
        return ContentCache(RedisStore(connection, ttl), memory)
    directory = Path(env.get("GITOPS_BOT_CACHE_DIR", "").strip() or data_dir / "cache")
    return ContentCache(DiskStore(directory, env_int(env, "GITOPS_BOT_CACHE_MAX_BYTES", default=DEFAULT_DISK_BYTES, minimum=1)), memory)
