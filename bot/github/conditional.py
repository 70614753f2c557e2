"""Conditional reads: the last answer with an ETag per installation and URL, so GitHub can say 304 (free of rate limit).

Only reads that a sha does not address are kept (the pull request, its file list, comment
lists, check-run lists, a file at a branch): blobs and trees by sha never change and live
in `bot.github.content_cache`. An entry is the ETag, the body and the headers that give the
body its meaning (content type, pagination links). Kept in process (bounded LRU) and, when
Redis is configured, in Redis for every worker, keyed by App scope and installation: an
answer read through one installation is never replayed to another.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis

log = logging.getLogger(__name__)

REDIS_PREFIX = "gitops-bot:etag:"
DEFAULT_MEMORY_BYTES = 16 * 1024 * 1024
MAX_ENTRY_BYTES = 1024 * 1024  # a bigger answer is simply read again
DEFAULT_TTL_SECONDS = 24 * 3600
KEPT_HEADERS = ("content-type", "link")
# Repository paths addressed by sha (cached by content elsewhere); `/app/...` answers for the App, not a repository.
_BY_SHA = (("git", "blobs"), ("git", "trees"), ("compare",))
_AT_SHA = re.compile(r"[?&]ref=[0-9a-f]{40}(?:[0-9a-f]{24})?(?:&|$)")


@dataclass(frozen=True)
class CachedAnswer:
    etag: str
    body: bytes
    headers: dict[str, str]

    def pack(self) -> bytes:
        return json.dumps({"etag": self.etag, "headers": self.headers}).encode() + b"\n" + self.body

    @staticmethod
    def unpack(data: bytes) -> CachedAnswer | None:
        head, _, body = data.partition(b"\n")
        try:
            meta = json.loads(head)
            return CachedAnswer(str(meta["etag"]), body, {str(k): str(v) for k, v in meta["headers"].items()})
        except (ValueError, KeyError, TypeError, AttributeError):
            return None  # a damaged entry is a miss


def worth_keeping(method: str, url: str) -> bool:
    """GET reads that may be repeated and are not addressed by a sha (a file at a commit is, at a branch is not)."""
    if method != "GET" or _AT_SHA.search(url):
        return False
    parts = tuple(urlsplit(url).path.strip("/").split("/"))
    if parts[:2] == ("api", "v3"):  # GitHub Enterprise Server's API root
        parts = parts[2:]
    if parts[:1] == ("repos",):
        within = parts[3:]  # after /repos/{owner}/{name}: a repository named "app" is a repository
        return not any(within[:len(prefix)] == prefix for prefix in _BY_SHA)
    return parts[:1] != ("app",)


class ConditionalCache:
    """ETag answers by key; a Redis connection shares them across workers."""

    def __init__(self, connection: redis.Redis | None = None, memory_bytes: int = DEFAULT_MEMORY_BYTES,
                 ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
        self.connection = connection
        self.memory_bytes = memory_bytes
        self.ttl_seconds = ttl_seconds
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.not_modified = 0  # 304s answered from here (each one a request that cost no rate limit)

    @staticmethod
    def key(scope: str, installation_id: int, accept: str, url: str) -> str:
        return hashlib.sha256(f"{scope}\0{installation_id}\0{accept}\0{url}".encode()).hexdigest()

    def get(self, key: str) -> CachedAnswer | None:
        with self._lock:
            data = self._items.get(key)
            if data is not None:
                self._items.move_to_end(key)
        if data is None and self.connection is not None:
            try:
                stored = self.connection.get(REDIS_PREFIX + key)
            except redis.RedisError as exc:
                log.warning("ETag cache: Redis unavailable (%s): reading without a condition", type(exc).__name__)
                stored = None
            data = stored if isinstance(stored, bytes) else None
            if data is not None:
                self._remember(key, data)
        return CachedAnswer.unpack(data) if data is not None else None

    def put(self, key: str, answer: CachedAnswer) -> None:
        data = answer.pack()
        if len(data) > MAX_ENTRY_BYTES:
            return
        self._remember(key, data)
        if self.connection is not None:
            try:
                self.connection.set(REDIS_PREFIX + key, data, ex=self.ttl_seconds)
            except redis.RedisError as exc:
                log.warning("ETag cache: Redis unavailable (%s): not shared", type(exc).__name__)

    def _remember(self, key: str, data: bytes) -> None:
        if len(data) > self.memory_bytes // 8:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self._size -= len(old) if old is not None else 0
            self._items[key] = data
            self._size += len(data)
            while self._size > self.memory_bytes:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)
