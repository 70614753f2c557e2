"""Installation tokens for the App: minted from the App JWT, cached until shortly before they expire."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC

from github import Auth, GithubIntegration
from github.GithubException import GithubException

from bot.errors import GitHubError
from bot.github.retry import GitHubRefusal, RetryPolicy, call_with_retries, is_final

# Installation tokens live one hour; renewing five minutes early means a token handed out
# is always good for the length of one evaluation.
REFRESH_MARGIN_SECONDS = 5 * 60


@dataclass(frozen=True)
class InstallationToken:
    token: str
    expires_at: float  # unix time


class InstallationTokenCache:
    """One token per installation, shared by all worker threads of the process."""

    def __init__(
        self,
        app_id: int,
        private_key: str,
        api_url: str,
        retry_policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._integration = GithubIntegration(
            auth=Auth.AppAuth(app_id, private_key), base_url=api_url, retry=None,
            seconds_between_requests=None, seconds_between_writes=None,
        )
        self._retry_policy = retry_policy or RetryPolicy()
        self._clock = clock
        self._tokens: dict[int, InstallationToken] = {}
        self._lock = threading.Lock()

    def token(self, installation_id: int) -> str:
        """A token valid for at least REFRESH_MARGIN_SECONDS more."""
        with self._lock:  # one mint per installation even when many threads ask at once
            cached = self._tokens.get(installation_id)
            if cached and cached.expires_at - self._clock() > REFRESH_MARGIN_SECONDS:
                return cached.token
            fresh = self._mint(installation_id)
            self._tokens[installation_id] = fresh
            return fresh.token

    def forget(self, installation_id: int) -> None:
        """Drop a token GitHub refused (e.g. revoked) so the next call mints a new one."""
        with self._lock:
            self._tokens.pop(installation_id, None)

    def _mint(self, installation_id: int) -> InstallationToken:
        try:
            authorization = call_with_retries(
                self._retry_policy,
                lambda: self._integration.get_access_token(installation_id),
                f"create installation token for {installation_id}",
            )
        except GithubException as exc:
            if is_final(exc):  # 404: the App was uninstalled, or the id is not ours
                raise GitHubRefusal(f"GitHub refused a token for installation {installation_id}: {exc.status} "
                                    "(is the App still installed there?)") from exc
            raise GitHubError(f"GitHub could not mint a token for installation {installation_id}: "
                              f"{exc.status}") from exc
        expires = authorization.expires_at
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        return InstallationToken(authorization.token, expires.timestamp())
