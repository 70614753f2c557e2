"""The App's process settings, read once from the environment and validated up front."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.sandbox import SandboxLimits
from bot.env import env_int
from bot.errors import ConfigError
from bot.github.sharing import github_sharing_from_env
from bot.reporters.github_check import DEFAULT_CHECK_NAME

QUEUE_BACKENDS = ("sqlite", "redis")
DEFAULT_SERVICE_FACTORY = "bot.app.service:GitHubService"
REDELIVERY_RETENTION_SECONDS = 3 * 24 * 3600  # GitHub keeps webhook deliveries three days


@dataclass(frozen=True)
class AppSettings:
    """Everything the web front, the queue and the GitHub edge need; secrets are kept out of ``repr``."""

    app_id: int
    private_key: str = field(repr=False)  # PEM text
    webhook_secret: str = field(repr=False)
    api_url: str = "https://api.github.com"
    check_name: str = DEFAULT_CHECK_NAME
    data_dir: Path = Path("./data")  # the SQLite queue lives here
    queue_backend: str = "sqlite"  # sqlite | redis
    redis_url: str | None = None  # required when queue_backend is redis
    worker_threads: int = 2  # embedded queue workers per process (0: none, e.g. a separate worker runs)
    job_lease_seconds: int = 600  # a job whose worker stopped renewing its lease this long is re-queued (crash recovery)
    job_timeout_seconds: int = 900  # an embedded job's evaluation process is killed after this (wall clock)
    worker_shutdown_seconds: int = 20  # an RQ worker's running job gets this long after SIGTERM, then goes back
    worker_metrics_port: int = 0  # `gitops-bot-worker` serves its Prometheus metrics here (0: no endpoint)
    max_body_bytes: int = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB
    app_slug: str = ""  # the App's login is "<slug>[bot]"; its own events are ignored
    service_factory: str = (
        DEFAULT_SERVICE_FACTORY  # "module:callable" taking AppSettings (test/extension hook)
    )
    # GITOPS_BOT_SCHEMA_LOCATIONS: the only schema locations the App reads; repositories select among them.
    schema_locations: tuple[str, ...] = ()
    # Missed-delivery recovery (bot.app.redelivery): how often (0: off), how far back, how many per run.
    redelivery_interval_seconds: int = 300
    redelivery_lookback_seconds: int = REDELIVERY_RETENTION_SECONDS
    redelivery_max_per_run: int = 20

    @property
    def bot_login(self) -> str:
        return f"{self.app_slug}[bot]" if self.app_slug else ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AppSettings:
        """Build settings from ``env`` (default ``os.environ``); a ConfigError names the bad variable."""
        env = os.environ if env is None else env
        queue_backend = _get(env, "GITOPS_BOT_QUEUE", "sqlite").lower()
        if queue_backend not in QUEUE_BACKENDS:
            raise ConfigError(
                f"GITOPS_BOT_QUEUE must be one of {', '.join(QUEUE_BACKENDS)}, got {queue_backend!r}"
            )
        redis_url = _get(env, "GITOPS_BOT_REDIS_URL") or None
        if queue_backend == "redis":
            if not redis_url:
                raise ConfigError("GITOPS_BOT_REDIS_URL is required when GITOPS_BOT_QUEUE=redis")
            if not redis_url.startswith(("redis://", "rediss://", "unix://")):
                raise ConfigError("GITOPS_BOT_REDIS_URL must start with redis://, rediss:// or unix://")
        # The sandbox reads its limits where it runs; a bad value must stop the App at start, not per PR.
        SandboxLimits.from_env(env)
        github_sharing_from_env(env, None)  # likewise a bad GITOPS_BOT_TOKEN_CACHE_KEY or rate-limit setting
        api_url = _get(env, "GITHUB_API_URL", "https://api.github.com").rstrip("/")
        if not api_url.startswith(("http://", "https://")):
            raise ConfigError(f"GITHUB_API_URL must be an http(s) URL, got {api_url!r}")
        return cls(
            app_id=_int(env, "GITHUB_APP_ID", required=True, minimum=1),
            private_key=_private_key(env),
            webhook_secret=_required(env, "GITHUB_WEBHOOK_SECRET"),
            api_url=api_url,
            check_name=_get(env, "GITOPS_BOT_CHECK_NAME", DEFAULT_CHECK_NAME),
            data_dir=Path(_get(env, "GITOPS_BOT_DATA_DIR", "./data")),
            queue_backend=queue_backend,
            redis_url=redis_url,
            worker_threads=_int(env, "GITOPS_BOT_WORKER_THREADS", default=2, minimum=0),
            job_lease_seconds=_int(env, "GITOPS_BOT_JOB_LEASE_SECONDS", default=600, minimum=1),
            job_timeout_seconds=_int(env, "GITOPS_BOT_JOB_TIMEOUT_SECONDS", default=900, minimum=1),
            worker_shutdown_seconds=_int(env, "GITOPS_BOT_WORKER_SHUTDOWN_SECONDS", default=20, minimum=1),
            worker_metrics_port=_int(env, "GITOPS_BOT_WORKER_METRICS_PORT", default=0, minimum=0),
            max_body_bytes=_int(env, "GITOPS_BOT_MAX_BODY_BYTES", default=25 * 1024 * 1024, minimum=1),
            app_slug=_get(env, "GITOPS_BOT_APP_SLUG"),
            service_factory=_get(env, "GITOPS_BOT_SERVICE_FACTORY", DEFAULT_SERVICE_FACTORY),
            schema_locations=_schema_locations(env),
            redelivery_interval_seconds=_int(env, "GITOPS_BOT_REDELIVERY_INTERVAL_SECONDS", default=300),
            redelivery_lookback_seconds=_lookback(env),
            redelivery_max_per_run=_int(env, "GITOPS_BOT_REDELIVERY_MAX_PER_RUN", default=20, minimum=1),
        )


def _get(env: Mapping[str, str], name: str, default: str = "") -> str:
    value = env.get(name, "").strip()
    return value or default


def _required(env: Mapping[str, str], name: str) -> str:
    value = _get(env, name)
    if not value:
        raise ConfigError(f"{name} is required")
    return value


def _int(
    env: Mapping[str, str], name: str, *, default: int = 0, required: bool = False, minimum: int = 0
) -> int:
    if required:
        _required(env, name)
    return env_int(env, name, default=default, minimum=minimum)


def _lookback(env: Mapping[str, str]) -> int:
    name = "GITOPS_BOT_REDELIVERY_LOOKBACK_SECONDS"
    value = _int(env, name, default=REDELIVERY_RETENTION_SECONDS, minimum=1)
    if value > REDELIVERY_RETENTION_SECONDS:
        raise ConfigError(f"{name} must be at most {REDELIVERY_RETENTION_SECONDS} (GitHub keeps deliveries "
                          f"three days), got {value}")
    return value


def _private_key(env: Mapping[str, str]) -> str:
    """The App key comes inline (GITHUB_APP_PRIVATE_KEY) or from a file (GITHUB_APP_PRIVATE_KEY_PATH)."""
    inline = env.get("GITHUB_APP_PRIVATE_KEY", "").strip()
    path = _get(env, "GITHUB_APP_PRIVATE_KEY_PATH")
    if inline:
        name = "GITHUB_APP_PRIVATE_KEY"
        # Many platforms cannot hold multi-line variables: accept "\n" escapes.
        pem = inline.replace("\\n", "\n") if "\n" not in inline else inline
    elif path:
        name = "GITHUB_APP_PRIVATE_KEY_PATH"
        try:
            pem = Path(path).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"GITHUB_APP_PRIVATE_KEY_PATH: cannot read {path}: {e}") from e
    else:
        raise ConfigError("GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_PATH is required")
    if not (pem.startswith("-----BEGIN ") and "PRIVATE KEY-----" in pem and "-----END " in pem):
        raise ConfigError(f"{name} must be a PEM private key (-----BEGIN ... PRIVATE KEY-----)")
    return pem + "\n"


def _schema_locations(env: Mapping[str, str]) -> tuple[str, ...]:
    """GITOPS_BOT_SCHEMA_LOCATIONS: kubeconform-style templates separated by newlines or commas."""
    from bot.core.schemas.catalog import check_location

    text = env.get("GITOPS_BOT_SCHEMA_LOCATIONS", "")
    locations: list[str] = []
    for item in text.replace("\\n", "\n").replace(",", "\n").splitlines():
        location = item.strip()
        if not location or location in locations:
            continue
        try:
            check_location(location)
        except ConfigError as e:
            raise ConfigError(f"GITOPS_BOT_SCHEMA_LOCATIONS: {e}") from None
        locations.append(location)
    return tuple(locations)
