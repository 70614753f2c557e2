"""A small LRU per thread for compiled Rego: regorus engines are "unsendable" (PyO3 panics when an
engine built on one thread is used on another), so each thread compiles and keeps its own."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class ThreadLocalCache(Generic[T]):
    """At most ``size`` built objects per thread, the least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._local = threading.local()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The object for ``key`` on this thread, built once (``build`` runs on a miss)."""
        cache: OrderedDict[Hashable, T] | None = getattr(self._local, "cache", None)
        if cache is None:
            cache = self._local.cache = OrderedDict()
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        value = cache[key] = build()
        while len(cache) > self.size:
            cache.popitem(last=False)
        return value
