"""AppSettings.from_env: defaults, and a ConfigError naming the variable for every bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app.settings import AppSettings
from bot.errors import ConfigError

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----"


def env(**overrides: str) -> dict[str, str]:
    values = {"GITHUB_APP_ID": "42", "GITHUB_APP_PRIVATE_KEY": PEM, "GITHUB_WEBHOOK_SECRET": "s3cret"}
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def test_defaults_from_minimal_env() -> None:
    settings = AppSettings.from_env(env())
    assert settings.app_id == 42
    assert settings.private_key == PEM + "\n"
    assert settings.webhook_secret == "s3cret"
    assert settings.api_url == "https://api.github.com"
    assert settings.check_name == "GitOps policy"
    assert settings.data_dir == Path("./data")
    assert (settings.queue_backend, settings.redis_url) == ("sqlite", None)
    assert (settings.worker_threads, settings.job_lease_seconds, settings.job_timeout_seconds) == (2, 600, 900)
    assert settings.worker_shutdown_seconds == 20
    assert settings.max_body_bytes == 25 * 1024 * 1024
    assert settings.service_factory == "bot.app.service:GitHubService"
    assert settings.bot_login == ""


def test_every_variable_is_read() -> None:
    settings = AppSettings.from_env(
        env(
            GITHUB_API_URL="http://127.0.0.1:9999/api/v3/",
            GITOPS_BOT_CHECK_NAME="Policy",
            GITOPS_BOT_DATA_DIR="/var/lib/bot",
            GITOPS_BOT_QUEUE="redis",
            GITOPS_BOT_REDIS_URL="redis://localhost:6379/1",
            GITOPS_BOT_WORKER_THREADS="0",
            GITOPS_BOT_JOB_LEASE_SECONDS="30",
            GITOPS_BOT_JOB_TIMEOUT_SECONDS="120",
            GITOPS_BOT_WORKER_SHUTDOWN_SECONDS="7",
            GITOPS_BOT_MAX_BODY_BYTES="1000",
            GITOPS_BOT_APP_SLUG="gitops-bot",
            GITOPS_BOT_SERVICE_FACTORY="tests.support.recording_service:make",
        )
    )
    assert settings.api_url == "http://127.0.0.1:9999/api/v3"
    assert settings.check_name == "Policy"
    assert settings.data_dir == Path("/var/lib/bot")
    assert (settings.queue_backend, settings.redis_url) == ("redis", "redis://localhost:6379/1")
    assert (settings.worker_threads, settings.job_lease_seconds, settings.max_body_bytes) == (0, 30, 1000)
    assert settings.job_timeout_seconds == 120
    assert settings.worker_shutdown_seconds == 7
    assert settings.bot_login == "gitops-bot[bot]"
    assert settings.service_factory == "tests.support.recording_service:make"


def test_escaped_newlines_in_inline_key_are_accepted() -> None:
    settings = AppSettings.from_env(env(GITHUB_APP_PRIVATE_KEY=PEM.replace("\n", "\\n")))
    assert settings.private_key == PEM + "\n"


def test_key_read_from_path(tmp_path: Path) -> None:
    key_file = tmp_path / "app.pem"
    key_file.write_text(PEM + "\n")
    settings = AppSettings.from_env(
        env(GITHUB_APP_PRIVATE_KEY=None, GITHUB_APP_PRIVATE_KEY_PATH=str(key_file))
    )
    assert settings.private_key == PEM + "\n"


def test_secrets_stay_out_of_repr() -> None:
    text = repr(AppSettings.from_env(env()))
    assert "s3cret" not in text and "BEGIN" not in text
    assert "app_id=42" in text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"GITHUB_WEBHOOK_SECRET": None}, "GITHUB_WEBHOOK_SECRET is required"),
        ({"GITHUB_WEBHOOK_SECRET": "  "}, "GITHUB_WEBHOOK_SECRET is required"),
        ({"GITHUB_APP_ID": None}, "GITHUB_APP_ID is required"),
        ({"GITHUB_APP_ID": "abc"}, "GITHUB_APP_ID must be an integer, got 'abc'"),
        ({"GITHUB_APP_ID": "0"}, "GITHUB_APP_ID must be at least 1, got 0"),
        (
            {"GITHUB_APP_PRIVATE_KEY": None},
            "GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_PATH is required",
        ),
        (
            {"GITHUB_APP_PRIVATE_KEY": "not a key"},
            "GITHUB_APP_PRIVATE_KEY must be a PEM private key (-----BEGIN ... PRIVATE KEY-----)",
        ),
        (
            {"GITHUB_APP_PRIVATE_KEY": None, "GITHUB_APP_PRIVATE_KEY_PATH": "/nonexistent/app.pem"},
            "GITHUB_APP_PRIVATE_KEY_PATH: cannot read /nonexistent/app.pem",
        ),
        ({"GITOPS_BOT_QUEUE": "kafka"}, "GITOPS_BOT_QUEUE must be one of sqlite, redis, got 'kafka'"),
        ({"GITOPS_BOT_QUEUE": "redis"}, "GITOPS_BOT_REDIS_URL is required when GITOPS_BOT_QUEUE=redis"),
        (
            {"GITOPS_BOT_QUEUE": "redis", "GITOPS_BOT_REDIS_URL": "localhost:6379"},
            "GITOPS_BOT_REDIS_URL must start with redis://, rediss:// or unix://",
        ),
        ({"GITOPS_BOT_WORKER_THREADS": "two"}, "GITOPS_BOT_WORKER_THREADS must be an integer, got 'two'"),
        ({"GITOPS_BOT_JOB_LEASE_SECONDS": "0"}, "GITOPS_BOT_JOB_LEASE_SECONDS must be at least 1, got 0"),
        ({"GITHUB_API_URL": "ftp://x"}, "GITHUB_API_URL must be an http(s) URL, got 'ftp://x'"),
        ({"GITOPS_BOT_SANDBOX_TIMEOUT": "1m"}, "GITOPS_BOT_SANDBOX_TIMEOUT must be a number, got '1m'"),
        ({"GITOPS_BOT_SANDBOX_MEMORY_MB": "0"}, "GITOPS_BOT_SANDBOX_MEMORY_MB must be positive, got '0'"),
    ],
)
def test_bad_values_name_the_variable(overrides: dict[str, str | None], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        AppSettings.from_env(env(**overrides))
    assert str(caught.value).startswith(message)
