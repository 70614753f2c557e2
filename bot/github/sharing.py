"""What GitHub clients share across processes (rate-limit state, ETag answers, tokens), chosen from the environment."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import redis
from cryptography.fernet import MultiFernet

from bot.env import env_int, env_number
from bot.github.content_cache import content_cache_mode
from bot.github.rate_limit import RateLimitPolicy
from bot.github.token_store import KEY_VARIABLE, fernet_from_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GitHubSharing:
    """``connection`` None: everything stays in the process. ``token_key`` None: tokens never leave the process.

    ``etags_in_redis``: ETag answers (pull-request file lists with patches, comments) go to Redis
    only when the operator keeps repository content there (the content cache is ``redis``).
    """

    connection: redis.Redis | None = None
    token_key: MultiFernet | None = field(default=None, repr=False)
    rate_limits: RateLimitPolicy = field(default_factory=RateLimitPolicy)
    etags_in_redis: bool = False


def github_sharing_from_env(env: Mapping[str, str], redis_url: str | None) -> GitHubSharing:
    """Redis when GITOPS_BOT_REDIS_URL is set; GITOPS_BOT_TOKEN_CACHE_KEY; GITOPS_BOT_CACHE; pacing (see README)."""
    policy = RateLimitPolicy(
        reserve=env_int(env, "GITOPS_BOT_RATE_LIMIT_RESERVE", default=10),
        max_wait_seconds=env_number(env, "GITOPS_BOT_RATE_LIMIT_MAX_WAIT_SECONDS", default=900),
        write_pause_seconds=env_number(env, "GITOPS_BOT_GITHUB_WRITE_PAUSE_SECONDS", default=1.0),
        # GitHub asks for at least a minute; only a test against a stand-in has reason to wait less.
        secondary_backoff_seconds=env_number(env, "GITOPS_BOT_SECONDARY_BACKOFF_SECONDS", default=60.0),
    )
    key_text = env.get(KEY_VARIABLE, "").strip()
    token_key = fernet_from_text(key_text) if key_text else None
    if not redis_url:
        return GitHubSharing(None, token_key, policy)
    connection = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
    if token_key is None:
        log.info("%s is not set: installation tokens are cached in each process only, never in Redis", KEY_VARIABLE)
    etags_in_redis = content_cache_mode(env, redis_url) == "redis"
    if not etags_in_redis:
        log.info("the content cache is not in Redis: ETag answers are kept in each process only")
    return GitHubSharing(connection, token_key, policy, etags_in_redis=etags_in_redis)
