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

from tests.e2e.shop import app_env, shop_repo  # noqa: E402
from tests.support.github_standin import GitHubStandIn, all_request_problems  # noqa: E402
from tests.support.gunicorn import run_gunicorn  # noqa: E402


@pytest.fixture(scope="module")
def standin() -> Iterator[GitHubStandIn]:
    server = GitHubStandIn([shop_repo()])
    with server.serving():
        yield server
    assert all_request_problems(server.requests) == []


@pytest.fixture(scope="module")
def app_url(standin: GitHubStandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with run_gunicorn(app_env(standin, str(tmp_path_factory.mktemp("e2e-data")))) as url:
        yield url
