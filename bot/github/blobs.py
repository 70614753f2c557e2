"""File contents by git blob sha, kept across evaluations: a content hash is never stale."""

from __future__ import annotations

import threading
from collections import OrderedDict


class BlobCache:
    """Process-wide, size-bounded cache of blob contents by git sha.

    Blob ids are content hashes, so an entry can never be stale, and a tree can
    only name a sha whose content it holds: sharing across installations leaks nothing.
    Policies and config at the base branch are the same blobs evaluation after evaluation.
    """

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, sha: str) -> bytes | None:
        with self._lock:
            data = self._items.get(sha)
            if data is not None:
                self._items.move_to_end(sha)
            return data

    def put(self, sha: str, data: bytes) -> None:
        if len(data) > self.max_bytes // 8:
            return  # one huge file must not flush everything else
        with self._lock:
            if sha in self._items:
                return
            self._items[sha] = data
            self._size += len(data)
            while self._size > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)
