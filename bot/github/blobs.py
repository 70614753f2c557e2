"""Git object ids and the process-local LRU that fronts the shared content cache."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict


def git_blob_sha(data: bytes) -> str:
    """Git's SHA-1 id of a blob with these bytes: what a cached blob must hash to."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class MemoryStore:
    """Process-wide LRU of bytes by key, bounded by total size; one entry may use at most an eighth of it.

    Keys are content addresses (blob shas, commit shas), so an entry can never be stale.
    """

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            data = self._items.get(key)
            if data is not None:
                self._items.move_to_end(key)
            return data

    def put(self, key: str, data: bytes) -> None:
        if len(data) > self.max_bytes // 8:
            return  # one huge entry must not flush everything else
        with self._lock:
            if key in self._items:
                return
            self._items[key] = data
            self._size += len(data)
            while self._size > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)
