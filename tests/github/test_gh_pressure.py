"""GitHub under pressure: rate limits, write turns, tokens and ETags shared through a real Redis by two factories."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import redis
from cryptography.fernet import Fernet
from gh_helpers import BASE, HEAD, REPO, RecordingSleep

from bot.errors import ConfigError, GitHubError
from bot.github import observe
from bot.github.client import GitHubClientFactory
from bot.github.conditional import worth_keeping
from bot.github.rate_limit import RateLimited, resource_of
from bot.github.retry import RetryPolicy
from bot.github.sharing import GitHubSharing, github_sharing_from_env
from bot.github.transport import writes
from tests.support.github_standin import FixtureRepo, GitHubStandIn, PullSpec, app_private_key
from tests.support.redis_server import running_redis

KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def shared(redis_url: str) -> Iterator[str]:
    redis.Redis.from_url(redis_url).flushdb()
    yield redis_url


def make_factory(standin: GitHubStandIn, sleeps: RecordingSleep, sharing: GitHubSharing | None = None
                 ) -> GitHubClientFactory:
    policy = RetryPolicy(max_attempts=4, max_wait_seconds=30.0, sleep=sleeps, clock=sleeps.clock)
    return GitHubClientFactory(42, app_private_key(), standin.base_url, policy, sharing=sharing)


def sharing(url: str | None, key: str | None = KEY) -> GitHubSharing:
    return github_sharing_from_env({"GITOPS_BOT_TOKEN_CACHE_KEY": key} if key else {}, url)


def redis_dump(url: str) -> dict[bytes, bytes]:
    """Every key of the database with its value (hashes flattened): what anyone reading Redis sees."""
    conn = redis.Redis.from_url(url)
    out: dict[bytes, bytes] = {}
    for key in conn.scan_iter():
        kind = conn.type(key)
        if kind == b"string":
            out[key] = conn.get(key) or b""
        elif kind == b"hash":
            out[key] = b" ".join(k + b"=" + v for k, v in conn.hgetall(key).items())
    return out


# ---- installation tokens ----------------------------------------------------------------------


def test_two_factories_share_one_token_through_redis_encrypted(
    standin: GitHubStandIn, shared: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    first, second = (make_factory(standin, RecordingSleep(), sharing(shared)) for _ in range(2))

    first.repo(1, REPO).get_pull(7)
    second.repo(1, REPO).get_pull(7)

    assert standin.tokens_minted == 1
    assert {r.authorization for r in standin.requests_to("GET", r"/repos/acme/gitops/pulls/7")} == {
        "token ghs_standin1x0001"}
    stored = redis_dump(shared)
    assert any(k.startswith(b"gitops-bot:token:") for k in stored)
    assert not any(b"ghs_standin" in k + v for k, v in stored.items())  # never in clear text
    assert "ghs_standin" not in caplog.text


def test_without_a_key_tokens_never_leave_the_process(standin: GitHubStandIn, shared: str) -> None:
    first, second = (make_factory(standin, RecordingSleep(), sharing(shared, key=None)) for _ in range(2))

    first.repo(1, REPO).get_pull(7)
    second.repo(1, REPO).get_pull(7)

    assert standin.tokens_minted == 2
    assert not any(k.startswith(b"gitops-bot:token:") for k in redis_dump(shared))


def test_a_401_drops_the_token_and_the_next_try_mints_a_new_one(
    standin: GitHubStandIn, factory: GitHubClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    factory.repo(1, REPO).get_pull(7)
    standin.fail_next(1, status=401, path_contains="/pulls/7/files")

    files = factory.repo(1, REPO).pull_files(7)

    assert [f.path for f in files] == ["apps/a.yaml", "apps/b.yaml"]
    tries = standin.requests_to("GET", r"/repos/acme/gitops/pulls/7/files")
    assert [r.authorization for r in tries] == ["token ghs_standin1x0001", "token ghs_standin1x0002"]
    assert standin.tokens_minted == 2
    assert "GitHub refused the token of installation 1 (401)" in caplog.text
    assert "ghs_standin" not in caplog.text


def test_a_revoked_token_is_dropped_from_redis_for_every_worker(standin: GitHubStandIn, shared: str) -> None:
    first, second = (make_factory(standin, RecordingSleep(), sharing(shared)) for _ in range(2))
    first.repo(1, REPO).get_pull(7)
    standin.revoke_tokens()

    second.repo(1, REPO).get_pull(7)  # reads token 1 from Redis, is refused, mints token 2 and stores it
    first.repo(1, REPO).get_pull(7)  # still holds token 1 in memory: refused, then takes token 2 from Redis

    assert standin.tokens_minted == 2
    assert [r.authorization for r in standin.requests_to("GET", r"/repos/acme/gitops/pulls/7")] == [
        "token ghs_standin1x0001", "token ghs_standin1x0001", "token ghs_standin1x0002",
        "token ghs_standin1x0001", "token ghs_standin1x0002"]


def test_a_token_refused_twice_is_a_clear_error(standin: GitHubStandIn, factory: GitHubClientFactory) -> None:
    standin.fail_next(5, status=401, path_contains="/pulls/7")
    with pytest.raises(GitHubError, match=r"refused to read pull request #7 in acme/gitops: 401 Bad credentials"):
        factory.repo(1, REPO).get_pull(7)
    assert len(standin.requests_to("GET", r"/repos/acme/gitops/pulls/7")) == 2


# ---- primary rate limit -------------------------------------------------------------------------


def test_near_the_end_of_the_window_every_worker_waits_for_the_reset(standin: GitHubStandIn, shared: str) -> None:
    first_sleeps, second_sleeps = RecordingSleep(), RecordingSleep()
    first = make_factory(standin, first_sleeps, sharing(shared))
    second = make_factory(standin, second_sleeps, sharing(shared))
    standin.set_rate_limit(1, remaining=11, reset_in=40)

    first.repo(1, REPO).get_pull(7)  # GitHub now says 10 left: the reserve
    second.repo(1, REPO).pull_files(7)

    assert first_sleeps.waits == []
    assert second_sleeps.waits == [pytest.approx(40, abs=2)]
    assert len(standin.requests_to("GET", r"/repos/acme/gitops/pulls/7/files")) == 1


def test_an_exhausted_limit_waits_for_the_reset_then_succeeds(standin: GitHubStandIn, sleeps: RecordingSleep,
                                                              factory: GitHubClientFactory) -> None:
    standin.clock = sleeps.clock  # GitHub's window moves with the test's clock
    standin.set_rate_limit(1, remaining=0, reset_in=20)

    assert factory.repo(1, REPO).get_pull(7).head_sha == HEAD

    assert sleeps.waits == [pytest.approx(20, abs=1)]
    assert len(standin.requests_to("GET", r"/repos/acme/gitops/pulls/7")) == 2


def test_an_exhausted_limit_that_resets_too_late_gives_up_clearly(
    standin: GitHubStandIn, sleeps: RecordingSleep, factory: GitHubClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    standin.clock = sleeps.clock
    standin.set_rate_limit(1, remaining=0, reset_in=3600)

    with pytest.raises(RateLimited, match="rate limit for installation 1 is used up"):
        factory.repo(1, REPO).get_pull(7)

    assert len(standin.requests_to("GET", r"/repos/acme/gitops/pulls/7")) == 1
    assert sleeps.waits == [60.0]  # one capped retry wait (never under a minute), then the bounded wait says no
    assert "giving up this call (the job is retried later)" in caplog.text


@pytest.mark.parametrize("use_redis", [False, True])
def test_graphql_and_rest_limits_are_separate_windows(standin: GitHubStandIn, redis_url: str,
                                                      use_redis: bool) -> None:
    redis.Redis.from_url(redis_url).flushdb()
    sleeps = RecordingSleep()
    factory = make_factory(standin, sleeps, sharing(redis_url) if use_redis else None)
    api = factory.repo(1, REPO)
    head, base = ({e.path: e for e in api.tree(sha)} for sha in (HEAD, BASE))
    first, second = [head["apps/a.yaml"], head["README.md"]], [head["apps/b.yaml"], base["apps/a.yaml"]]
    standin.set_rate_limit(1, remaining=11, reset_in=40, resource="graphql")
    standin.set_rate_limit(1, remaining=0, reset_in=3600)  # REST used up for an hour: GraphQL is not held back

    read = api.blobs([e.sha for e in first], {e.sha: e.size for e in first})  # GraphQL now says 10 left
    assert read == {first[0].sha: b"kind: A\nx: 2\n", first[1].sha: b"hi\n"}
    assert sleeps.waits == []
    standin.set_rate_limit(1, remaining=5000)  # REST back, GraphQL at its reserve
    assert api.get_pull(7).head_sha == HEAD
    assert sleeps.waits == []
    assert len(api.blobs([e.sha for e in second], {e.sha: e.size for e in second})) == 2

    assert sleeps.waits == [pytest.approx(40, abs=2)]  # only GraphQL waited for its own reset
    assert standin.graphql_windows[1].remaining == 9


# ---- secondary rate limits ----------------------------------------------------------------------


@pytest.mark.parametrize(("status", "retry_after", "secondary"), [(403, 5, False), (429, 5, False),
                                                                  (403, None, True), (429, None, True)])
def test_a_secondary_limit_backs_off_a_minute(standin: GitHubStandIn, factory: GitHubClientFactory,
                                              sleeps: RecordingSleep, status: int, retry_after: int | None,
                                              secondary: bool) -> None:
    standin.fail_next(1, status=status, retry_after=retry_after, secondary=secondary, path_contains="/pulls/7")
    assert factory.repo(1, REPO).get_pull(7).head_sha == HEAD
    assert sleeps.waits == [60.0]


def test_a_secondary_limit_holds_back_the_other_workers(standin: GitHubStandIn, shared: str) -> None:
    first_sleeps, second_sleeps = RecordingSleep(), RecordingSleep()
    first = make_factory(standin, first_sleeps, sharing(shared))
    second = make_factory(standin, second_sleeps, sharing(shared))
    standin.fail_next(1, status=403, retry_after=5, path_contains="/pulls/7")

    first.repo(1, REPO).get_pull(7)
    second.repo(1, REPO).pull_files(7)

    assert first_sleeps.waits == [60.0]
    assert second_sleeps.waits == [pytest.approx(60, abs=2)]


# ---- writes -------------------------------------------------------------------------------------


def test_content_creating_writes_are_a_second_apart(standin: GitHubStandIn, factory: GitHubClientFactory,
                                                   sleeps: RecordingSleep) -> None:
    api = factory.repo(1, REPO)
    run_id = api.create_check_run("GitOps policy", HEAD)
    api.update_check_run(run_id, conclusion="success")  # check runs notify nobody: no pause
    assert sleeps.waits == []

    api.create_issue_comment(7, "one")
    api.create_issue_comment(7, "two")

    assert sleeps.waits == [1.0]
    assert [c["body"] for c in standin.comments_on(REPO, 7)] == ["one", "two"]


@pytest.mark.parametrize("use_redis", [False, True])
def test_one_write_at_a_time_per_installation(standin: GitHubStandIn, redis_url: str, use_redis: bool) -> None:
    redis.Redis.from_url(redis_url).flushdb()
    share = sharing(redis_url) if use_redis else None
    holder = make_factory(standin, RecordingSleep(), share)
    writer = holder if not use_redis else make_factory(standin, RecordingSleep(), share)
    api = writer.repo(1, REPO)
    other_installation = writer.repo(2, REPO)
    done = threading.Event()

    with holder.limiter.write_turn(1, creates_content=False):
        thread = threading.Thread(target=lambda: (api.create_check_run("GitOps policy", HEAD), done.set()))
        thread.start()
        other_installation.create_check_run("GitOps policy", BASE)  # another installation is not held up
        assert not done.wait(0.5)
        assert len(standin.requests_to("POST", r"/repos/acme/gitops/check-runs")) == 1
    thread.join(10)

    assert done.is_set()
    assert [r["head_sha"] for r in standin.check_runs.values()] == [BASE, HEAD]


def test_graphql_reads_do_not_wait_for_the_write_turn(standin: GitHubStandIn, factory: GitHubClientFactory) -> None:
    api = factory.repo(1, REPO)
    entries = [e for e in api.tree(HEAD) if e.path.startswith("apps/")]
    read: dict[str, bytes] = {}

    with factory.limiter.write_turn(1, creates_content=False):  # a check-run write in progress
        thread = threading.Thread(target=lambda: read.update(
            api.blobs([e.sha for e in entries], {e.sha: e.size for e in entries})))
        thread.start()
        thread.join(30)
        assert sorted(read.values()) == [b"kind: A\nx: 2\n", b"kind: B\n"]  # done while the write turn is held
    assert len(standin.requests_to("POST", r"/graphql")) == 1


@pytest.mark.parametrize(("method", "url", "body", "write"), [
    ("POST", "/graphql", b'{"query": "query { viewer { login } }"}', False),
    ("POST", "/graphql", b'{"query": "{ repository(name: \\"mutation\\") { id } }"}', False),
    ("POST", "/graphql", b'{"query": "# mutation\\nquery { viewer { login } }"}', False),
    ("POST", "/api/graphql", b'{"query": "mutation { addStar(input: {}) { clientMutationId } }"}', True),
    ("POST", "/graphql", b"not json", True),
    ("POST", "/repos/acme/gitops/check-runs", b"{}", True),
    ("PATCH", "/repos/acme/gitops/check-runs/1", b"{}", True),
    ("GET", "/repos/acme/gitops/pulls/7", None, False),
])
def test_only_graphql_mutations_are_writes(method: str, url: str, body: bytes | None, write: bool) -> None:
    assert writes(method, resource_of(url), body) is write


# ---- conditional requests -----------------------------------------------------------------------


@pytest.fixture
def answers() -> Iterator[list[tuple[int, int, str | None]]]:
    """What `bot.github.observe` listeners (the metrics) see: (installation, status, x-ratelimit-remaining)."""
    seen: list[tuple[int, int, str | None]] = []

    def listen(installation_id: int, status: int, headers: Mapping[str, Any]) -> None:
        seen.append((installation_id, status, headers.get("x-ratelimit-remaining")))

    observe.add_listener(listen)
    yield seen
    observe.remove_listener(listen)


def test_repeated_reads_are_conditional_and_cost_no_rate_limit(
    standin: GitHubStandIn, factory: GitHubClientFactory, answers: list[tuple[int, int, str | None]]
) -> None:
    first = factory.repo(1, REPO)
    pull, files = first.get_pull(7), first.pull_files(7)
    remaining = standin.rate_windows[1].remaining

    again = factory.repo(1, REPO)
    assert again.get_pull(7) == pull
    assert again.pull_files(7) == files

    assert standin.not_modified == 2
    assert standin.rate_windows[1].remaining == remaining
    conditional = standin.requests_to("GET", r"/repos/acme/gitops/pulls/7(/files)?")
    assert len(conditional) == 4
    assert answers == [(1, 200, str(remaining + 1)), (1, 200, str(remaining)),  # the metrics see the real 304s
                       (1, 304, str(remaining)), (1, 304, str(remaining))]


def test_a_repository_named_app_gets_conditional_reads(tmp_path: Path) -> None:
    repo = FixtureRepo("acme/app", commits={BASE: {}, HEAD: {"a.yaml": b"a: 1\n"}}, pulls={7: PullSpec(7, BASE, HEAD)})
    server = GitHubStandIn([repo])
    with server.serving():
        factory = make_factory(server, RecordingSleep())
        assert factory.repo(1, "acme/app").get_pull(7) == factory.repo(1, "acme/app").get_pull(7)
    assert server.not_modified == 1


@pytest.mark.parametrize(("url", "kept"), [
    ("https://api.github.com/repos/acme/app/pulls/7", True),
    ("https://api.github.com/repos/app/app/issues/7/comments", True),
    ("https://ghe.example/api/v3/repos/acme/app/contents/a.yaml?ref=main", True),
    ("https://api.github.com/app/installations/1/access_tokens", False),
    ("https://ghe.example/api/v3/app", False),
    ("https://api.github.com/repos/acme/app/git/trees/" + HEAD, False),
    ("https://api.github.com/repos/acme/gitops/compare/a...b", False),
    ("https://api.github.com/repos/acme/gitops/contents/a.yaml?ref=" + HEAD, False),
])
def test_which_reads_are_kept_for_etags(url: str, kept: bool) -> None:
    assert worth_keeping("GET", url) is kept


def test_a_changed_pull_request_is_read_afresh(standin: GitHubStandIn, factory: GitHubClientFactory,
                                               fixture_repo: FixtureRepo) -> None:
    assert factory.repo(1, REPO).get_pull(7).head_sha == HEAD
    fixture_repo.pulls[7] = PullSpec(7, BASE, BASE)

    assert factory.repo(1, REPO).get_pull(7).head_sha == BASE
    assert standin.not_modified == 0


def test_etags_are_shared_across_workers_and_pages(shared: str) -> None:
    many = {f"apps/f{i:03d}.yaml": f"n: {i}\n".encode() for i in range(150)}
    repo = FixtureRepo(REPO, commits={BASE: {}, HEAD: many}, pulls={7: PullSpec(7, BASE, HEAD)})
    server = GitHubStandIn([repo])
    with server.serving():
        first = make_factory(server, RecordingSleep(), sharing(shared)).repo(1, REPO).pull_files(7)
        second = make_factory(server, RecordingSleep(), sharing(shared)).repo(1, REPO).pull_files(7)

    assert len(first) == 150 and second == first
    assert len(server.requests_to("GET", r"/repos/acme/gitops/pulls/7/files")) == 4  # two pages, twice
    assert server.not_modified == 2  # the second worker's pages, both answered 304 (Link header replayed)


@pytest.mark.parametrize("cache", ["disk", "memory", "off"])
def test_etag_answers_stay_out_of_redis_unless_the_content_cache_is_there(
    standin: GitHubStandIn, shared: str, cache: str
) -> None:
    share = github_sharing_from_env({"GITOPS_BOT_TOKEN_CACHE_KEY": KEY, "GITOPS_BOT_CACHE": cache}, shared)
    first, second = (make_factory(standin, RecordingSleep(), share) for _ in range(2))

    files = first.repo(1, REPO).pull_files(7)
    assert first.repo(1, REPO).pull_files(7) == files  # conditional within the process
    assert standin.not_modified == 1
    second.repo(1, REPO).pull_files(7)  # another worker: nothing shared, read in full

    assert standin.not_modified == 1
    stored = redis_dump(shared)
    assert not any(k.startswith(b"gitops-bot:etag:") for k in stored)
    assert not any(b"x: 2" in v for v in stored.values())  # the patch of apps/a.yaml
    assert any(k.startswith(b"gitops-bot:token:") for k in stored)  # Redis is in use for what may go there


def test_etag_answers_go_to_redis_with_the_content_cache(standin: GitHubStandIn, shared: str) -> None:
    share = github_sharing_from_env({"GITOPS_BOT_CACHE": "redis"}, shared)
    make_factory(standin, RecordingSleep(), share).repo(1, REPO).pull_files(7)
    make_factory(standin, RecordingSleep(), share).repo(1, REPO).pull_files(7)
    assert standin.not_modified == 1
    assert any(k.startswith(b"gitops-bot:etag:") for k in redis_dump(shared))


def test_etags_are_kept_per_installation(standin: GitHubStandIn, factory: GitHubClientFactory) -> None:
    factory.repo(1, REPO).get_pull(7)
    factory.repo(2, REPO).get_pull(7)
    assert standin.not_modified == 0
    second = standin.requests_to("GET", r"/repos/acme/gitops/pulls/7")[1]
    assert second.authorization == "token ghs_standin2x0002"


# ---- configuration ------------------------------------------------------------------------------


def test_settings_from_the_environment(tmp_path: Path) -> None:
    chosen = github_sharing_from_env({"GITOPS_BOT_RATE_LIMIT_RESERVE": "50",
                                      "GITOPS_BOT_RATE_LIMIT_MAX_WAIT_SECONDS": "120",
                                      "GITOPS_BOT_GITHUB_WRITE_PAUSE_SECONDS": "0.5"}, None)
    assert (chosen.rate_limits.reserve, chosen.rate_limits.max_wait_seconds,
            chosen.rate_limits.write_pause_seconds) == (50, 120.0, 0.5)
    assert chosen.connection is None and chosen.token_key is None
    with pytest.raises(ConfigError, match="GITOPS_BOT_TOKEN_CACHE_KEY must be Fernet keys"):
        github_sharing_from_env({"GITOPS_BOT_TOKEN_CACHE_KEY": "not-a-key"}, None)
    with pytest.raises(ConfigError, match="GITOPS_BOT_RATE_LIMIT_RESERVE must be an integer"):
        github_sharing_from_env({"GITOPS_BOT_RATE_LIMIT_RESERVE": "many"}, None)


def test_a_rotated_key_still_reads_tokens_sealed_with_the_old_one(standin: GitHubStandIn, shared: str) -> None:
    old = make_factory(standin, RecordingSleep(), sharing(shared, key=KEY))
    old.repo(1, REPO).get_pull(7)
    rotated = make_factory(standin, RecordingSleep(), sharing(shared, key=f"{Fernet.generate_key().decode()},{KEY}"))
    rotated.repo(1, REPO).get_pull(7)
    unrelated = make_factory(standin, RecordingSleep(), sharing(shared, key=Fernet.generate_key().decode()))
    unrelated.repo(1, REPO).get_pull(7)  # cannot decrypt: mints its own, never fails

    assert standin.tokens_minted == 2


# ---- another process --------------------------------------------------------------------------

_OTHER_PROCESS = """
import os
from bot.github.client import GitHubClientFactory
from bot.github.sharing import github_sharing_from_env

factory = GitHubClientFactory(42, os.environ["TEST_APP_KEY"], os.environ["GITHUB_API_URL"],
                              sharing=github_sharing_from_env(os.environ, os.environ["GITOPS_BOT_REDIS_URL"]))
print(factory.repo(1, "acme/gitops").get_pull(7).head_sha)
"""


def test_another_process_uses_the_same_token_etags_and_window(standin: GitHubStandIn, shared: str) -> None:
    make_factory(standin, RecordingSleep(), sharing(shared)).repo(1, REPO).get_pull(7)
    env = {**os.environ, "TEST_APP_KEY": app_private_key(), "GITHUB_API_URL": standin.base_url,
           "GITOPS_BOT_REDIS_URL": shared, "GITOPS_BOT_TOKEN_CACHE_KEY": KEY,
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}

    done = subprocess.run([sys.executable, "-c", _OTHER_PROCESS], env=env, capture_output=True, text=True,
                          timeout=120)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == HEAD
    assert standin.tokens_minted == 1
    assert standin.not_modified == 1
    window = redis.Redis.from_url(shared).hgetall(next(
        k for k in redis_dump(shared) if k.startswith(b"gitops-bot:ratelimit:window:")))
    assert int(window[b"remaining"]) == standin.rate_windows[1].remaining
