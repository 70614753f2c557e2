"""Fixtures for the App's web/queue/handler tests: keys, environments, GitHub's webhook examples."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

# `tests.support` must import however pytest was started (plain `pytest` does not put the repo on sys.path).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import pytest  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from tests.support.gunicorn import REPO_ROOT  # noqa: E402

WEBHOOKS = REPO_ROOT / "fixtures" / "github" / "webhooks"
SECRET = "test-webhook-secret"
APP_ID = 25811  # the App of the vendored check_run.requested_action example
SLUG = "octocoders-linter"  # the bot that sent the vendored check_suite.rerequested example


def load_example(name: str) -> dict[str, Any]:
    """A vendored GitHub example (a fresh copy: tests may adapt ids and shas)."""
    return copy.deepcopy(json.loads((WEBHOOKS / f"{name}.json").read_text()))


@pytest.fixture(scope="session")
def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def base_env(private_key_pem: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of an App process using the recording service fake."""
    return {
        "GITHUB_APP_ID": str(APP_ID),
        "GITHUB_APP_PRIVATE_KEY": private_key_pem,
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "GITOPS_BOT_DATA_DIR": str(data_dir),
        "GITOPS_BOT_APP_SLUG": SLUG,
        "GITOPS_BOT_SERVICE_FACTORY": "tests.support.recording_service:make",
        "GITOPS_BOT_WORKER_THREADS": "2",
        "GITOPS_BOT_REDELIVERY_INTERVAL_SECONDS": "0",  # the missed-delivery tests turn it on
        **extra,
    }
