"""Retry GitHub calls on 5xx, dropped connections and rate limits, waiting as long as GitHub asks."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import requests
from github.GithubException import GithubException
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from bot.errors import GitHubError

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
    max_wait_seconds: float = 60.0  # cap on any single wait, including Retry-After
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    clock: Callable[[], float] = field(default=time.time, compare=False)


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def rate_limit_wait(exc: BaseException, clock: Callable[[], float] = time.time) -> float | None:
    """Seconds GitHub asked us to wait, or None when ``exc`` is not a rate limit."""
    if not isinstance(exc, GithubException) or exc.status not in RATE_LIMIT_STATUSES:
        return None
    retry_after = _header(exc.headers, "retry-after")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            return 60.0
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


def call_with_retries(policy: RetryPolicy, operation: Callable[[], T], what: str = "GitHub call") -> T:
    """Run ``operation`` until it succeeds, fails for good, or runs out of attempts (then re-raise)."""

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = rate_limit_wait(exc, policy.clock) if exc else None
        seconds = asked if asked is not None else policy.backoff_seconds * 2 ** (state.attempt_number - 1)
        return min(seconds, policy.max_wait_seconds)

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning("%s failed (attempt %d/%d): %s; retrying", what, state.attempt_number,
                    policy.max_attempts, exc)

    retrying = Retrying(
        retry=retry_if_exception(is_retryable),
        stop=stop_after_attempt(policy.max_attempts),
        wait=wait,
        sleep=policy.sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(operation)
