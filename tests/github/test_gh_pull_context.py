"""The pull context reads one tree per side and only the blobs that are asked for."""

from __future__ import annotations

import pytest
from gh_helpers import BASE, HEAD, REPO

from bot.errors import GitHubError
from bot.github.blobs import MemoryStore as BlobCache
from bot.github.client import GitHubClientFactory
from bot.github.pull_context import GitHubPullContext
from bot.github.retry import RetryPolicy
from bot.pull.context import ChangedFile
from tests.support.github_standin import FixtureRepo, GitHubStandIn, app_private_key, blob_sha


def test_changed_files_of_a_pull_request_come_with_patches(standin: GitHubStandIn,
                                                           factory: GitHubClientFactory) -> None:
    ctx = GitHubPullContext(factory.repo(1, REPO), HEAD, BASE, pull_number=7)

    assert ctx.changed_files() == [
        ChangedFile("apps/a.yaml", "modified", "", "@@ -1,2 +1,2 @@\n kind: A\n-x: 1\n+x: 2"),
        ChangedFile("apps/b.yaml", "added", "", "@@ -0,0 +1 @@\n+kind: B"),
    ]
    ctx.changed_files()
    assert len(standin.requests_to("GET", r"/repos/acme/gitops/pulls/7/files")) == 1


def test_workspace_reads_lazily_and_caches(standin: GitHubStandIn, factory: GitHubClientFactory) -> None:
    ctx = GitHubPullContext(factory.repo(1, REPO), HEAD, BASE, pull_number=7)

    head = ctx.workspace(HEAD)
    assert head.paths == ["README.md", "apps/a.yaml", "apps/b.yaml"]  # directories are not files
    assert standin.requests_to("GET", r"/repos/acme/gitops/git/blobs/.*") == []

    assert head.read("apps/a.yaml") == b"kind: A\nx: 2\n"
    assert head.read("apps/a.yaml") == b"kind: A\nx: 2\n"
    assert head.read("missing.yaml") is None
    assert ctx.workspace(BASE).read("apps/a.yaml") == b"kind: A\nx: 1\n"
    assert ctx.workspace(HEAD) is head

    blobs = standin.requests_to("GET", r"/repos/acme/gitops/git/blobs/.*")
    assert [r.path.rsplit("/", 1)[1] for r in blobs] == [blob_sha(b"kind: A\nx: 2\n"), blob_sha(b"kind: A\nx: 1\n")]
    trees = standin.requests_to("GET", r"/repos/acme/gitops/git/trees/.*")
    assert [(r.path.rsplit("/", 1)[1], r.query.get("recursive")) for r in trees] == [(HEAD, "1"), (BASE, "1")]


def test_without_a_pull_request_the_commits_are_compared(standin: GitHubStandIn,
                                                         factory: GitHubClientFactory) -> None:
    ctx = GitHubPullContext(factory.repo(1, REPO), HEAD, BASE)
    assert [(c.path, c.status) for c in ctx.changed_files()] == [("apps/a.yaml", "modified"), ("apps/b.yaml", "added")]
    assert len(standin.requests_to("GET", rf"/repos/acme/gitops/compare/{BASE}\.\.\.{HEAD}")) == 1


def test_without_a_base_every_file_of_head_counts_as_added(standin: GitHubStandIn,
                                                           factory: GitHubClientFactory) -> None:
    ctx = GitHubPullContext(factory.repo(1, REPO), HEAD)
    assert ctx.base_sha() is None and ctx.head_sha() == HEAD
    assert [(c.path, c.status) for c in ctx.changed_files()] == [
        ("README.md", "added"), ("apps/a.yaml", "added"), ("apps/b.yaml", "added")]
    assert standin.requests_to("GET", r"/repos/acme/gitops/git/blobs/.*") == []


def test_big_pull_requests_are_listed_100_files_a_page(fixture_repo: FixtureRepo, factory: GitHubClientFactory,
                                                       standin: GitHubStandIn) -> None:
    fixture_repo.commits[HEAD] = {f"apps/app-{i:03d}.yaml": b"kind: X\n" for i in range(230)}
    ctx = GitHubPullContext(factory.repo(1, REPO), HEAD, BASE, pull_number=7)

    files = ctx.changed_files()

    assert len(files) == 232  # 230 added; apps/a.yaml and README.md removed
    assert sum(1 for f in files if f.status == "removed") == 2
    pages = standin.requests_to("GET", r"/repos/acme/gitops/pulls/7/files")
    assert [(r.query.get("per_page"), r.query.get("page", "1")) for r in pages] == [
        ("100", "1"), ("100", "2"), ("100", "3")]


def test_unreachable_github_is_a_clear_error(fixture_repo: FixtureRepo) -> None:
    server = GitHubStandIn([fixture_repo])
    with server.serving() as url:
        factory = GitHubClientFactory(1, app_private_key(), url, RetryPolicy(max_attempts=2, sleep=lambda s: None))
        api = factory.repo(1, REPO)
    with pytest.raises(GitHubError, match=r"could not reach GitHub to read pull request #7 in acme/gitops"):
        api.get_pull(7)


def test_blobs_are_shared_between_evaluations_by_sha(standin: GitHubStandIn, factory: GitHubClientFactory) -> None:
    first = GitHubPullContext(factory.repo(1, REPO), HEAD, BASE, pull_number=7)
    second = GitHubPullContext(factory.repo(2, REPO), HEAD, BASE, pull_number=7)

    assert first.workspace(HEAD).read("README.md") == b"hi\n"
    assert second.workspace(BASE).read("README.md") == b"hi\n"  # same blob at both shas
    assert second.workspace(HEAD).read("apps/a.yaml") == b"kind: A\nx: 2\n"

    assert len(standin.requests_to("GET", r"/repos/acme/gitops/git/blobs/.*")) == 2


def test_blob_cache_is_bounded() -> None:
    cache = BlobCache(max_bytes=80)
    for i in range(10):
        cache.put(f"sha{i}", b"x" * 10)
    cache.put("huge", b"y" * 11)  # more than an eighth of the budget: not kept

    assert [cache.get(f"sha{i}") is not None for i in range(10)] == [False, False] + [True] * 8
    assert cache.get("huge") is None
