"""The rate-limit state in Redis, so every worker process on every host paces the same installation together."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import redis

log = logging.getLogger(__name__)

PREFIX = "gitops-bot:ratelimit:"

# A later reset wins; within one window the lowest remaining wins (answers arrive out of order).
_RECORD = """
local old = redis.call('HMGET', KEYS[1], 'remaining', 'reset')
local remaining, reset = tonumber(ARGV[1]), tonumber(ARGV[2])
local old_remaining, old_reset = tonumber(old[1]), tonumber(old[2])
if old_reset and (old_reset > reset or (old_reset == reset and old_remaining <= remaining)) then return 0 end
redis.call('HSET', KEYS[1], 'remaining', remaining, 'reset', reset)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""

# A later deadline wins.
_HOLD = """
local old = tonumber(redis.call('GET', KEYS[1]) or '0')
if old >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
return 1
"""

STATE_TTL_SECONDS = 2 * 3600  # a window lasts an hour; older state is meaningless


class RedisRateLimitStore:
    """`RateLimitStore` in Redis. Redis trouble costs pacing, never the call: it is logged and the call goes on."""

    def __init__(self, connection: redis.Redis) -> None:
        self.connection = connection
        self._record = connection.register_script(_RECORD)
        self._hold = connection.register_script(_HOLD)

    def record(self, key: str, remaining: int, reset: float) -> None:
        self._quietly(lambda: self._record(keys=[PREFIX + "window:" + key], args=[remaining, reset, STATE_TTL_SECONDS]))

    def window(self, key: str) -> tuple[int, float] | None:
        values = self._quietly(lambda: self.connection.hmget(PREFIX + "window:" + key, "remaining", "reset"))
        if not isinstance(values, list) or values[0] is None or values[1] is None:
            return None
        return int(float(values[0])), float(values[1])

    def hold_off(self, key: str, until: float) -> None:
        self._quietly(lambda: self._hold(keys=[PREFIX + "hold:" + key], args=[until, STATE_TTL_SECONDS]))

    def held_off_until(self, key: str) -> float:
        value = self._quietly(lambda: self.connection.get(PREFIX + "hold:" + key))
        return float(value) if isinstance(value, bytes | str) else 0.0

    @contextmanager
    def write_turn(self, key: str, hold_seconds: float, wait_seconds: float) -> Iterator[bool]:
        lock = self.connection.lock(PREFIX + "write:" + key, timeout=hold_seconds, sleep=0.05,
                                    blocking_timeout=wait_seconds)
        try:
            got = bool(lock.acquire())
        except redis.RedisError as exc:
            log.warning("rate limit: Redis unavailable (%s): this write is not serialised", type(exc).__name__)
            yield True
            return
        try:
            yield got
        finally:
            if got:
                try:
                    lock.release()
                except redis.RedisError as exc:  # expired (held too long) or Redis gone: it frees itself
                    log.warning("rate limit: write turn not released cleanly (%s)", type(exc).__name__)

    def last_write(self, key: str) -> float:
        value = self._quietly(lambda: self.connection.get(PREFIX + "wrote:" + key))
        return float(value) if isinstance(value, bytes | str) else 0.0

    def wrote(self, key: str, at: float) -> None:
        self._quietly(lambda: self.connection.set(PREFIX + "wrote:" + key, repr(at), ex=STATE_TTL_SECONDS))

    @staticmethod
    def _quietly(operation: Callable[[], object]) -> object:
        try:
            return operation()
        except redis.RedisError as exc:
            log.warning("rate limit: Redis unavailable (%s): pacing from what this process knows",
                        type(exc).__name__)
            return None
