"""Retry GitHub calls on 5xx, dropped connections and rate limits, waiting as long as GitHub asks."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import requests
from github.GithubException import GithubException
from tenacity import RetryCallState, Retrying, stop_after_attempt

from bot.errors import GitHubError
from bot.github.rate_limit import secondary_limit_wait

log = logging.getLogger(__name__)

T = TypeVar("T")

# GitHub documents both forms: a secondary rate limit answers 403 or 429 with Retry-After;
# an exhausted primary limit answers 403/429 with x-ratelimit-remaining: 0 and x-ratelimit-reset.
# https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit
RATE_LIMIT_STATUSES = frozenset({403, 429})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. ``sleep`` and ``clock`` are injectable so tests never wait for real."""

    max_attempts: int = 5
    backoff_seconds: float = 1.0  # 1, 2, 4, ... for 5xx and connection errors
    max_wait_seconds: float = 60.0  # cap on any single wait, including Retry-After (but see the next line)
    secondary_backoff_seconds: float = 60.0  # GitHub: after a secondary limit, wait at least a minute
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    clock: Callable[[], float] = field(default=time.time, compare=False)


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def rate_limit_wait(exc: BaseException, clock: Callable[[], float] = time.time,
                    secondary_floor: float = 60.0) -> float | None:
    """Seconds to wait before trying again, or None when ``exc`` is not a rate limit.

    A secondary limit (Retry-After, or GitHub's message alone) waits at least ``secondary_floor``;
    an exhausted primary limit waits for its reset.
    """
    if not isinstance(exc, GithubException) or exc.status not in RATE_LIMIT_STATUSES:
        return None
    message = str(exc.data.get("message", "")) if isinstance(exc.data, dict) else ""
    secondary = secondary_limit_wait(exc.status, exc.headers or {}, message, secondary_floor)
    if secondary is not None:
        return secondary
    if _header(exc.headers, "x-ratelimit-remaining") == "0":
        reset = _header(exc.headers, "x-ratelimit-reset")
        try:
            return max(0.0, float(reset) - clock()) if reset is not None else 60.0
        except ValueError:
            return 60.0
    return None  # a plain 403 (missing permission) is not worth retrying


# Answers that no later attempt can change: bad request, forbidden (not a rate limit), not found
# (installation removed, repository gone), gone, unprocessable (unknown sha).
FINAL_STATUSES = frozenset({400, 403, 404, 410, 422})


class GitHubRefusal(GitHubError):
    """GitHub gave a final answer (404/410/422, a plain 403): the queue does not retry the job."""

    retryable = False


def is_final(exc: BaseException) -> bool:
    """True for answers that repeating the whole job cannot change (see FINAL_STATUSES)."""
    return isinstance(exc, GithubException) and exc.status in FINAL_STATUSES and rate_limit_wait(exc) is None


def is_retryable(exc: BaseException) -> bool:
    """5xx, connection problems and rate limits are transient; every other answer is final."""
    if isinstance(exc, GithubException):
        return exc.status >= 500 or rate_limit_wait(exc) is not None
    return isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout | ConnectionError)


def is_unauthorized(exc: BaseException) -> bool:
    """401: the token was refused (revoked, or expired early); one more try carries a freshly minted one."""
    return isinstance(exc, GithubException) and exc.status == 401


def call_with_retries(policy: RetryPolicy, operation: Callable[[], T], what: str = "GitHub call") -> T:
    """Run ``operation`` until it succeeds, fails for good, or runs out of attempts (then log and re-raise)."""

    def should_retry(state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if exc is None:
            return False
        return is_retryable(exc) or (is_unauthorized(exc) and state.attempt_number == 1)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if exc is not None and is_unauthorized(exc):
            return 0.0  # the refused token is already forgotten (bot.github.transport)
        asked = rate_limit_wait(exc, policy.clock, policy.secondary_backoff_seconds) if exc else None
        if asked is None:
            return min(policy.backoff_seconds * 2.0 ** (state.attempt_number - 1), policy.max_wait_seconds)
        # The cap guards against absurd Retry-After values; it never shortens GitHub's minimum back-off.
        return min(asked, max(policy.max_wait_seconds, policy.secondary_backoff_seconds))

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning("%s failed (attempt %d/%d): %s; retrying", what, state.attempt_number,
                    policy.max_attempts, exc)

    retrying = Retrying(
        retry=should_retry,
        stop=stop_after_attempt(policy.max_attempts),
        wait=wait,
        sleep=policy.sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return retrying(operation)
    except BaseException as exc:
        if is_retryable(exc):
            log.error("%s failed %d times, giving up: %s", what, policy.max_attempts, _short(exc))
        raise


def _short(exc: BaseException) -> str:
    if isinstance(exc, GithubException):
        message = exc.data.get("message", "") if isinstance(exc.data, dict) else ""
        return f"{exc.status} {message}".strip()
    return type(exc).__name__
