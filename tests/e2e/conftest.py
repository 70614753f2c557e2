"""End to end: real gunicorn serving the App, real PyGithub calls to the local GitHub stand-in."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

# `tests.support` must import however pytest was started (plain `pytest` does not put the repo on sys.path).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import pytest  # noqa: E402

from tests.e2e.shop import SECRET, SLUG, shop_repo  # noqa: E402
from tests.support.github_standin import GitHubStandIn, all_request_problems, app_private_key  # noqa: E402
from tests.support.gunicorn import run_gunicorn  # noqa: E402


@pytest.fixture(scope="module")
def standin() -> Iterator[GitHubStandIn]:
    server = GitHubStandIn([shop_repo()])
    with server.serving():
        yield server
    assert all_request_problems(server.requests) == []


@pytest.fixture(scope="module")
def app_url(standin: GitHubStandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {
        "GITHUB_APP_ID": "4242",
        "GITHUB_APP_PRIVATE_KEY": app_private_key(),
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "GITHUB_API_URL": standin.base_url,
        "GITOPS_BOT_APP_SLUG": SLUG,
        "GITOPS_BOT_DATA_DIR": str(tmp_path_factory.mktemp("e2e-data")),
        # Several worker threads: each keeps its own compiled policies (regorus engines may not cross threads).
        "GITOPS_BOT_WORKER_THREADS": "3",
    }
    with run_gunicorn(env) as url:
        yield url
