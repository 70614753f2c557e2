"""One rate-limit policy for every process: GitHub's primary and secondary limits and write pacing, per installation.

GitHub's rules (https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api):
every answer carries ``x-ratelimit-remaining``/``x-ratelimit-reset`` for the installation and the
limit named by ``x-ratelimit-resource`` (``core`` for REST, ``graphql``, ...: separate windows); a secondary
limit answers 403/429 with ``Retry-After`` (or only a message) and wants at least a minute of quiet;
writes go one at a time, a second apart when they create content. The state lives in a `RateLimitStore`:
in process, or in Redis so that every worker on every host obeys the same numbers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from bot.errors import GitHubError

log = logging.getLogger(__name__)

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
SECONDARY_LIMIT_TEXT = "secondary rate limit"  # GitHub's message when a secondary limit answers without Retry-After


@dataclass(frozen=True)
class RateLimitPolicy:
    """How the App paces itself. ``sleep`` and ``clock`` are injectable so tests never wait for real."""

    reserve: int = 10  # requests of the window kept back: at or below this, calls wait for the reset
    max_wait_seconds: float = 900.0  # longest wait for a reset or a back-off; beyond it the call fails (and is retried)
    secondary_backoff_seconds: float = 60.0  # GitHub: wait at least a minute after a secondary limit
    write_pause_seconds: float = 1.0  # between two content-creating writes of one installation
    write_lock_seconds: float = 120.0  # a write turn held longer (its holder died) is freed
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    clock: Callable[[], float] = field(default=time.time, compare=False)


def resource_of(path: str) -> str:
    """The limit a request counts against before GitHub says so: GraphQL has its own window, REST is ``core``."""
    return "graphql" if path.rstrip("/").endswith("/graphql") else "core"


class RateLimited(GitHubError):
    """The installation's limit will not reset within the bounded wait: the job is retried later."""

    retryable = True


class RateLimitStore(Protocol):
    """Per-installation limit state shared by every worker that uses the same store."""

    def record(self, key: str, remaining: int, reset: float) -> None:
        """Remember the window; a later reset wins, and within one window the lowest remaining wins."""

    def window(self, key: str) -> tuple[int, float] | None:
        """(remaining, reset) last seen, or None."""

    def hold_off(self, key: str, until: float) -> None:
        """No request before ``until`` (a secondary limit); a later deadline wins."""

    def held_off_until(self, key: str) -> float: ...

    def write_turn(self, key: str, hold_seconds: float, wait_seconds: float) -> AbstractContextManager[bool]:
        """Exclusive write turn; the context yields False when it could not be had within ``wait_seconds``."""

    def last_write(self, key: str) -> float: ...

    def wrote(self, key: str, at: float) -> None: ...


class MemoryRateLimitStore:
    """The state of one process (no Redis configured): threads share it, other processes do not."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, float]] = {}
        self._holds: dict[str, float] = {}
        self._writes: dict[str, float] = {}
        self._turns: dict[str, threading.Lock] = {}

    def record(self, key: str, remaining: int, reset: float) -> None:
        with self._lock:
            old = self._windows.get(key)
            if old is None or reset > old[1] or (reset == old[1] and remaining < old[0]):
                self._windows[key] = (remaining, reset)

    def window(self, key: str) -> tuple[int, float] | None:
        with self._lock:
            return self._windows.get(key)

    def hold_off(self, key: str, until: float) -> None:
        with self._lock:
            self._holds[key] = max(until, self._holds.get(key, 0.0))

    def held_off_until(self, key: str) -> float:
        with self._lock:
            return self._holds.get(key, 0.0)

    @contextmanager
    def write_turn(self, key: str, hold_seconds: float, wait_seconds: float) -> Iterator[bool]:
        with self._lock:
            turn = self._turns.setdefault(key, threading.Lock())
        got = turn.acquire(timeout=wait_seconds)
        try:
            yield got
        finally:
            if got:
                turn.release()

    def last_write(self, key: str) -> float:
        with self._lock:
            return self._writes.get(key, 0.0)

    def wrote(self, key: str, at: float) -> None:
        with self._lock:
            self._writes[key] = max(at, self._writes.get(key, 0.0))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def secondary_limit_wait(status: int, headers: Mapping[str, str], message: str, floor: float) -> float | None:
    """Seconds to back off after a secondary limit (at least ``floor``), or None when it is not one."""
    if status not in (403, 429):
        return None
    retry_after = _number(_header(headers, "retry-after"))
    if retry_after is None and SECONDARY_LIMIT_TEXT not in message.lower():
        return None
    return max(floor, retry_after or 0.0)


class RateLimiter:
    """Waits before a request when the installation has to, and learns from every answer."""

    def __init__(self, store: RateLimitStore | None = None, policy: RateLimitPolicy | None = None,
                 scope: str = "") -> None:
        self.store: RateLimitStore = store or MemoryRateLimitStore()
        self.policy = policy or RateLimitPolicy()
        self._scope = scope  # the App (id, API host): two Apps sharing a Redis never share limits

    def _key(self, installation_id: int) -> str:
        return f"{self._scope}:{installation_id}"

    def _window_key(self, installation_id: int, resource: str) -> str:
        """Windows are per limit (core, graphql, search...): one used up never holds back the others."""
        return f"{self._scope}:{installation_id}:{resource}"

    def before_request(self, installation_id: int, resource: str = "core") -> None:
        """Sleep while the installation is held off or has used ``resource``'s window down to the reserve."""
        now = self.policy.clock()
        wait, why = self.store.held_off_until(self._key(installation_id)) - now, "a secondary rate limit"
        window = self.store.window(self._window_key(installation_id, resource))
        if window is not None and window[0] <= self.policy.reserve and window[1] - now > wait:
            wait, why = window[1] - now, f"the {resource} rate limit to reset ({window[0]} requests left)"
        if wait <= 0:
            return
        if wait > self.policy.max_wait_seconds:
            log.error("GitHub installation %d: waiting for %s would take %.0f s, more than %.0f s; "
                      "giving up this call (the job is retried later)", installation_id, why, wait,
                      self.policy.max_wait_seconds)
            raise RateLimited(f"GitHub's rate limit for installation {installation_id} is used up for another "
                              f"{wait:.0f} s; the job will be retried")
        log.warning("GitHub installation %d: waiting %.1f s for %s", installation_id, wait, why)
        self.policy.sleep(wait)

    def after_response(self, installation_id: int, status: int, headers: Mapping[str, str], message: str = "",
                       resource: str = "core") -> None:
        """Record the window GitHub reported (for the limit it names, else ``resource``) and any secondary limit."""
        key = self._key(installation_id)
        remaining = _number(_header(headers, "x-ratelimit-remaining"))
        reset = _number(_header(headers, "x-ratelimit-reset"))
        if remaining is not None and reset is not None and status != 304:
            named = (_header(headers, "x-ratelimit-resource") or resource).strip().lower() or resource
            self.store.record(self._window_key(installation_id, named), int(remaining), reset)
        backoff = secondary_limit_wait(status, headers, message, self.policy.secondary_backoff_seconds)
        if backoff is not None:
            log.warning("GitHub installation %d: secondary rate limit (%d); no requests for %.0f s",
                        installation_id, status, backoff)
            self.store.hold_off(key, self.policy.clock() + backoff)

    @contextmanager
    def write_turn(self, installation_id: int, creates_content: bool) -> Iterator[None]:
        """One write at a time per installation (across processes with Redis), paced when it creates content."""
        key = self._key(installation_id)
        with self.store.write_turn(key, self.policy.write_lock_seconds, self.policy.max_wait_seconds) as got:
            if not got:
                log.error("GitHub installation %d: no write turn within %.0f s; giving up this write",
                          installation_id, self.policy.max_wait_seconds)
                raise RateLimited(f"another worker kept the write turn of installation {installation_id}; "
                                  "the job will be retried")
            if creates_content:
                wait = self.store.last_write(key) + self.policy.write_pause_seconds - self.policy.clock()
                if wait > 0:
                    self.policy.sleep(min(wait, self.policy.write_pause_seconds))
            try:
                yield
            finally:
                if creates_content:
                    self.store.wrote(key, self.policy.clock())
