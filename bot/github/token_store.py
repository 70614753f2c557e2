"""Installation tokens shared by every worker through Redis, encrypted at rest (Fernet, key from the environment).

Without a key nothing is stored outside the process: a token in Redis in clear text would
let anyone who can read Redis act as the App on every repository of the installation.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.errors import ConfigError
from bot.github.auth import InstallationToken

log = logging.getLogger(__name__)

PREFIX = "gitops-bot:token:"
KEY_VARIABLE = "GITOPS_BOT_TOKEN_CACHE_KEY"
MINT_WAIT_SECONDS = 30.0  # a mint takes one request; a worker waits this long for another's before minting itself


def fernet_from_text(text: str) -> MultiFernet:
    """Keys separated by commas, newest first (older ones still decrypt: rotation without a flush)."""
    keys = [k.strip() for k in text.split(",") if k.strip()]
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except (ValueError, TypeError):
        raise ConfigError(f"{KEY_VARIABLE} must be Fernet keys (32 url-safe base64-encoded bytes each, e.g. from "
                          "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)"
                          ) from None


class SharedTokenStore:
    """`InstallationToken`s by installation in Redis, each encrypted; expires with the token."""

    def __init__(self, connection: redis.Redis, fernet: MultiFernet, scope: str) -> None:
        self.connection = connection
        self._fernet = fernet
        self._scope = scope  # App id and API host: two Apps sharing a Redis never share tokens

    def _key(self, installation_id: int) -> str:
        return f"{PREFIX}{self._scope}:{installation_id}"

    def get(self, installation_id: int) -> InstallationToken | None:
        try:
            sealed = self.connection.get(self._key(installation_id))
        except redis.RedisError as exc:
            log.warning("token cache: Redis unavailable (%s): minting in this process", type(exc).__name__)
            return None
        if not isinstance(sealed, bytes):
            return None
        try:
            data = json.loads(self._fernet.decrypt(sealed))
            return InstallationToken(str(data["token"]), float(data["expires_at"]))
        except (InvalidToken, ValueError, KeyError, TypeError):
            log.warning("token cache: the entry of installation %d does not decrypt with %s (rotated key?); "
                        "minting a new token", installation_id, KEY_VARIABLE)
            return None

    def put(self, installation_id: int, token: InstallationToken, ttl_seconds: float) -> None:
        if ttl_seconds < 1:
            return
        sealed = self._fernet.encrypt(json.dumps({"token": token.token, "expires_at": token.expires_at}).encode())
        try:
            self.connection.set(self._key(installation_id), sealed, ex=int(ttl_seconds))
        except redis.RedisError as exc:
            log.warning("token cache: Redis unavailable (%s): token kept in this process only", type(exc).__name__)

    def drop(self, installation_id: int, refused: str) -> None:
        """Forget the stored token if it is the one GitHub refused (another worker may have replaced it)."""
        stored = self.get(installation_id)
        if stored is None or stored.token != refused:
            return
        try:
            self.connection.delete(self._key(installation_id))
        except redis.RedisError as exc:
            log.warning("token cache: Redis unavailable (%s): refused token not dropped there", type(exc).__name__)

    @contextmanager
    def mint_turn(self, installation_id: int) -> Iterator[None]:
        """One worker mints while the others wait for its token (a burst of jobs makes one mint, not N)."""
        lock = self.connection.lock(self._key(installation_id) + ":mint", timeout=MINT_WAIT_SECONDS, sleep=0.05,
                                    blocking_timeout=MINT_WAIT_SECONDS)
        try:
            got = bool(lock.acquire())
        except redis.RedisError:
            got = False
        try:
            yield
        finally:
            if got:
                try:
                    lock.release()
                except redis.RedisError:
                    pass  # expired: it freed itself
