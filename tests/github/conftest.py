"""Fixtures for the GitHub edge: the API stand-in (every request checked against GitHub's REST description)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

# `tests.support` must import however pytest was started (plain `pytest` does not put the repo on sys.path).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import pytest  # noqa: E402
from gh_helpers import BASE, HEAD, REPO, RecordingSleep  # noqa: E402

from bot.github.client import GitHubClientFactory  # noqa: E402
from bot.github.retry import RetryPolicy  # noqa: E402
from tests.support.github_standin import (  # noqa: E402
    FixtureRepo,
    GitHubStandIn,
    PullSpec,
    all_request_problems,
    app_private_key,
)


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def retry_policy(sleeps: RecordingSleep) -> RetryPolicy:
    return RetryPolicy(max_attempts=4, backoff_seconds=1.0, max_wait_seconds=30.0, sleep=sleeps,
                       clock=sleeps.clock)


@pytest.fixture
def fixture_repo() -> FixtureRepo:
    return FixtureRepo(
        REPO,
        commits={
            BASE: {"apps/a.yaml": b"kind: A\nx: 1\n", "README.md": b"hi\n"},
            HEAD: {"apps/a.yaml": b"kind: A\nx: 2\n", "apps/b.yaml": b"kind: B\n", "README.md": b"hi\n"},
        },
        pulls={7: PullSpec(7, BASE, HEAD)},
    )


@pytest.fixture
def standin(fixture_repo: FixtureRepo) -> Iterator[GitHubStandIn]:
    server = GitHubStandIn([fixture_repo])
    with server.serving():
        yield server
    assert all_request_problems(server.requests) == []


@pytest.fixture
def factory(standin: GitHubStandIn, retry_policy: RetryPolicy) -> GitHubClientFactory:
    return GitHubClientFactory(42, app_private_key(), standin.base_url, retry_policy)
