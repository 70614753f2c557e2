"""Retries against the stand-in: 5xx and rate limits end in the right result, other errors fail at once."""

from __future__ import annotations

import pytest
from gh_helpers import HEAD, REPO, RecordingSleep
from github.GithubException import GithubException

from bot.errors import GitHubError
from bot.github.client import GitHubClientFactory
from bot.github.rate_limit import RateLimited
from bot.github.retry import RetryPolicy, call_with_retries, is_retryable, rate_limit_wait
from tests.support.github_standin import GitHubStandIn


def test_two_server_errors_then_the_check_run_is_created_once(
    standin: GitHubStandIn, factory: GitHubClientFactory, sleeps: RecordingSleep
) -> None:
    api = factory.repo(1, REPO)
    standin.fail_next(2, status=500, path_contains="/check-runs")

    run_id = api.create_check_run("GitOps policy", HEAD)

    assert len(standin.requests_to("POST", r"/repos/acme/gitops/check-runs")) == 3
    assert list(standin.check_runs) == [run_id]
    assert standin.check_runs[run_id]["status"] == "in_progress"
    assert sleeps.waits == [1.0, 2.0]  # exponential backoff


def test_secondary_rate_limit_waits_at_least_a_minute(
    standin: GitHubStandIn, factory: GitHubClientFactory, sleeps: RecordingSleep
) -> None:
    api = factory.repo(1, REPO)
    run_id = api.create_check_run("GitOps policy", HEAD)
    standin.fail_next(1, status=403, retry_after=1, path_contains="/check-runs/")

    api.update_check_run(run_id, conclusion="success")

    assert len(standin.requests_to("PATCH", rf"/repos/acme/gitops/check-runs/{run_id}")) == 2
    assert standin.check_runs[run_id]["conclusion"] == "success"
    assert sleeps.waits == [60.0]  # GitHub asked for 1 s; its guidance is at least a minute


def test_a_longer_retry_after_is_waited_out_in_full(standin: GitHubStandIn, factory: GitHubClientFactory,
                                                    sleeps: RecordingSleep) -> None:
    standin.fail_next(1, status=429, retry_after=150, path_contains="/pulls/7")
    assert factory.repo(1, REPO).get_pull(7).head_sha == HEAD
    # the retry waits its capped minute, then the shared hold-off keeps the next request back for the rest
    assert sleeps.waits == [60.0, 90.0]


def test_a_retry_after_beyond_the_bounded_wait_gives_up_with_a_clear_error(
    standin: GitHubStandIn, factory: GitHubClientFactory, sleeps: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    standin.fail_next(1, status=429, retry_after=3600, path_contains="/pulls/7")
    with pytest.raises(RateLimited, match="installation 1 is used up for another 3540 s"):
        factory.repo(1, REPO).get_pull(7)
    assert sleeps.waits == [60.0]
    assert len(standin.requests_to("GET", r"/repos/acme/gitops/pulls/7")) == 1
    assert "giving up this call (the job is retried later)" in caplog.text


def test_persistent_server_errors_give_up_after_max_attempts(
    standin: GitHubStandIn, factory: GitHubClientFactory, sleeps: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    api = factory.repo(1, REPO)
    standin.fail_next(10, status=502, path_contains="/pulls/7/files")

    with pytest.raises(GitHubError, match=r"list files of #7 in acme/gitops: 502"):
        api.pull_files(7)

    assert len(standin.requests_to("GET", r"/repos/acme/gitops/pulls/7/files")) == 4
    assert len(sleeps.waits) == 3
    assert "list files of #7 (acme/gitops) failed 4 times, giving up: 502 Server Error" in caplog.text


def test_a_plain_403_is_not_retried(standin: GitHubStandIn, factory: GitHubClientFactory,
                                    sleeps: RecordingSleep) -> None:
    api = factory.repo(1, REPO)
    standin.fail_next(1, status=403, path_contains="/issues/7/comments")

    with pytest.raises(GitHubError, match="403"):
        api.issue_comments(7)

    assert len(standin.requests_to("GET", r"/repos/acme/gitops/issues/7/comments")) == 1
    assert sleeps.waits == []


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (403, {"Retry-After": "7"}, 60.0),  # secondary limits: at least a minute
        (429, {"retry-after": "0"}, 60.0),
        (403, {"Retry-After": "90"}, 90.0),
        (403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1090"}, 90.0),
        (403, {"X-RateLimit-Remaining": "12"}, None),
        (404, {"Retry-After": "7"}, None),
        (500, {}, None),
    ],
)
def test_rate_limit_wait(status: int, headers: dict[str, str], expected: float | None) -> None:
    exc = GithubException(status, {"message": "x"}, headers)
    assert rate_limit_wait(exc, clock=lambda: 1000.0) == expected


def test_a_secondary_limit_without_retry_after_is_known_by_its_message() -> None:
    exc = GithubException(403, {"message": "You have exceeded a secondary rate limit. Please wait."}, {})
    assert rate_limit_wait(exc, clock=lambda: 1000.0) == 60.0
    assert is_retryable(exc)


def test_what_is_retryable() -> None:
    assert is_retryable(GithubException(503, None, {}))
    assert is_retryable(ConnectionResetError())
    assert not is_retryable(GithubException(422, {"message": "Validation Failed"}, {}))
    assert not is_retryable(ValueError("bug"))


def test_call_with_retries_reraises_the_last_error() -> None:
    calls: list[int] = []

    def always_503() -> None:
        calls.append(1)
        raise GithubException(503, None, {})

    with pytest.raises(GithubException) as info:
        call_with_retries(RetryPolicy(max_attempts=3, sleep=lambda s: None), always_503)
    assert info.value.status == 503
    assert len(calls) == 3
