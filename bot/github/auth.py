"""Installation tokens for the App: minted from the App JWT, cached until shortly before they expire."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC
from typing import Protocol

from github import Auth, GithubIntegration
from github.GithubException import GithubException

from bot.errors import GitHubError
from bot.github.retry import GitHubRefusal, RetryPolicy, call_with_retries, is_final

# Installation tokens live one hour; renewing five minutes early means a token handed out
# is always good for the length of one evaluation.
REFRESH_MARGIN_SECONDS = 5 * 60

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InstallationToken:
    token: str
    expires_at: float  # unix time


class SharedTokens(Protocol):
    """Tokens shared with other processes (`bot.github.token_store`): encrypted, in Redis."""

    def get(self, installation_id: int) -> InstallationToken | None: ...
    def put(self, installation_id: int, token: InstallationToken, ttl_seconds: float) -> None: ...
    def drop(self, installation_id: int, refused: str) -> None: ...
    def mint_turn(self, installation_id: int) -> AbstractContextManager[None]: ...


class InstallationTokenCache:
    """One token per installation, shared by all worker threads of the process (and by all processes via ``shared``)."""

    def __init__(
        self,
        app_id: int,
        private_key: str,
        api_url: str,
        retry_policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        shared: SharedTokens | None = None,
    ) -> None:
        self._integration = GithubIntegration(
            auth=Auth.AppAuth(app_id, private_key), base_url=api_url, retry=None,
            seconds_between_requests=None, seconds_between_writes=None,
        )
        self._retry_policy = retry_policy or RetryPolicy()
        self._clock = clock
        self._shared = shared
        self._tokens: dict[int, InstallationToken] = {}
        self._lock = threading.Lock()

    def _usable(self, token: InstallationToken | None) -> bool:
        return token is not None and token.expires_at - self._clock() > REFRESH_MARGIN_SECONDS

    def token(self, installation_id: int) -> str:
        """A token valid for at least REFRESH_MARGIN_SECONDS more."""
        with self._lock:  # one mint per installation even when many threads ask at once
            cached = self._tokens.get(installation_id)
            if cached is None or not self._usable(cached):
                cached = self._shared_or_minted(installation_id)
                self._tokens[installation_id] = cached
            return cached.token

    def _shared_or_minted(self, installation_id: int) -> InstallationToken:
        if self._shared is None:
            return self._mint(installation_id)
        stored = self._shared.get(installation_id)
        if stored is not None and self._usable(stored):
            return stored
        with self._shared.mint_turn(installation_id):
            stored = self._shared.get(installation_id)  # minted by another worker while this one waited
            if stored is not None and self._usable(stored):
                return stored
            fresh = self._mint(installation_id)
            self._shared.put(installation_id, fresh, fresh.expires_at - self._clock() - REFRESH_MARGIN_SECONDS)
            return fresh

    def forget(self, installation_id: int, refused: str | None = None) -> None:
        """Drop a token GitHub refused (401: revoked, expired early) here and in the shared store,
        so the next call mints a new one. With ``refused``, only if that is still the token held."""
        with self._lock:
            held = self._tokens.get(installation_id)
            if held is not None and (refused is None or held.token == refused):
                del self._tokens[installation_id]
            if self._shared is not None and refused:
                self._shared.drop(installation_id, refused)
        log.warning("GitHub refused the token of installation %d (401); the next call uses a new one", installation_id)

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


class InstallationAuth(Auth.Auth):
    """PyGithub authentication that asks the cache on every request: after a 401 the retry carries a new token."""

    def __init__(self, tokens: InstallationTokenCache, installation_id: int) -> None:
        self._tokens = tokens
        self._installation_id = installation_id

    @property
    def token_type(self) -> str:
        return "token"

    @property
    def token(self) -> str:
        return self._tokens.token(self._installation_id)

    @property
    def _masked_token(self) -> str:
        return "token (removed)"
