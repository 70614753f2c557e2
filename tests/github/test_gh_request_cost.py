"""Cost follows the change: a one-file pull request makes the same requests whatever the repository's size."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from gh_helpers import RecordingSleep

from bot.app.evaluation_service import EvaluationRequest
from bot.app.service import GitHubService
from bot.app.settings import AppSettings
from bot.github.api import PullInfo
from bot.github.client import GitHubClientFactory
from bot.github.content_cache import ContentCache
from bot.github.pull_context import GitHubPullContext
from bot.github.retry import RetryPolicy
from tests.support.github_standin import (
    FixtureRepo,
    GitHubStandIn,
    PullSpec,
    all_request_problems,
    app_private_key,
    fake_sha,
)
from tests.support.gitops_corpus import gitops_repo

REPO = "acme/big"
BASE, HEAD = fake_sha("cost-base"), fake_sha("cost-head")


# A repository chart and the Application that installs it: beside them, a manifest change costs the same.
CHART = {
    "charts/web/Chart.yaml": b"apiVersion: v2\nname: web\nversion: 1.0.0\n",
    "charts/web/values.yaml": b"replicas: 1\n",
    "charts/web/templates/cm.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n",
    "argo/web.yaml": b"apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: web, namespace: argocd}\n"
                     b"spec: {source: {path: charts/web}}\n",
}


def _requests_for_one_file_pr(apps: int, data_dir: Path, runs: int = 1, changed: tuple[int, ...] = (7,),
                              extra: dict[str, bytes] | None = None) -> list[Counter[str]]:
    """Requests by kind (method + path, shas and numbers folded) per evaluation, each by a fresh service.

    A fresh `GitHubService` is what a new worker process holds: only the content cache
    under ``data_dir`` carries over from one run to the next.
    """
    base = {**gitops_repo(apps * 10, kustomize=True), **(extra or {})}
    head = {**gitops_repo(apps * 10, kustomize=True, changed=changed), **(extra or {})}
    assert [p for p in head if head[p] != base.get(p)] == [f"apps/app{i:05d}/deployment.yaml" for i in changed]
    standin = GitHubStandIn([FixtureRepo(REPO, commits={BASE: base, HEAD: head}, pulls={5: PullSpec(5, BASE, HEAD)})])
    counts = []
    with standin.serving():
        for run in range(runs):
            settings = AppSettings(app_id=42, private_key=app_private_key(), webhook_secret="s",
                                   api_url=standin.base_url, app_slug="gitops-policy-bot", data_dir=data_dir)
            start = len(standin.requests)
            pull = PullInfo(5, HEAD, BASE, "main", f"https://github.com/{REPO}/pull/5")  # as the delivery carries it
            outcome = GitHubService(settings, retry_policy=RetryPolicy(sleep=RecordingSleep())).evaluate(
                EvaluationRequest(1, REPO, HEAD, BASE, 5, "pull_request.opened", f"d-cost-{run}", pull=pull))
            assert outcome.conclusion == "success", outcome.title
            counts.append(Counter(_kind(r.method, r.path) for r in standin.requests[start:]))
    assert all_request_problems(standin.requests) == []  # REST by GitHub's description, GraphQL by its schema
    return counts


def _kind(method: str, path: str) -> str:
    parts = ["{id}" if len(p) == 40 or p.isdigit() else p for p in path.split("/")]
    return f"{method} {'/'.join(parts)}"


def test_a_one_file_pull_request_costs_the_same_13_requests_at_50_and_1500_kustomizations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("GITOPS_BOT_CACHE_DIR")  # the cache lives under each run's data directory
    [small] = _requests_for_one_file_pr(50, tmp_path / "small")
    [large] = _requests_for_one_file_pr(1500, tmp_path / "large")

    assert large == small
    # Token, open runs, new run, 2 trees, PR files, branch protection, the verdict, the sticky comment (2):
    # 10 requests whatever the change. The rendered verdict reads every file of the changed file's kustomize
    # root at head and base (13 distinct blobs), in 3 requests: the changed file at both sides with the
    # kustomizations above it, then the patch the kustomization names, then the rest of the root's build.
    assert large["POST /graphql"] == 2 and large["GET /repos/acme/big/git/blobs/{id}"] == 1, large
    assert sum(large.values()) == 13, large


def test_a_helm_chart_in_the_repository_does_not_make_a_manifest_change_read_the_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Only a chart's file, a value file or a deployer can change a release: other manifests never scan for deployers."""
    monkeypatch.delenv("GITOPS_BOT_CACHE_DIR")
    [plain] = _requests_for_one_file_pr(50, tmp_path / "plain")
    [charted] = _requests_for_one_file_pr(50, tmp_path / "charted", extra=CHART)

    assert charted == plain, charted
    assert sum(charted.values()) == 13, charted


def test_twenty_changed_apps_cost_the_same_at_50_and_500_kustomizations(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("GITOPS_BOT_CACHE_DIR")
    apps = tuple(range(0, 40, 2))
    [small] = _requests_for_one_file_pr(50, tmp_path / "small", changed=apps)
    [large] = _requests_for_one_file_pr(500, tmp_path / "large", changed=apps)

    assert large == small
    # The same 10 requests around the verdict; 20 roots of 12 files at both sides are read in 4 GraphQL queries:
    # the changed files with their kustomizations, the 20 patches, then the 180 other files of the builds.
    assert large["POST /graphql"] == 4 and large["GET /repos/acme/big/git/blobs/{id}"] == 0, large
    assert sum(large.values()) == 14, large


def test_a_second_worker_reads_trees_and_blobs_from_the_shared_disk_cache(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("GITOPS_BOT_CACHE_DIR")
    cold, warm = _requests_for_one_file_pr(50, tmp_path / "data", runs=2)

    assert cold["GET /repos/acme/big/git/trees/{id}"] == 2 and cold["POST /graphql"] == 2
    assert warm["GET /repos/acme/big/git/trees/{id}"] == 0 and warm["GET /repos/acme/big/git/blobs/{id}"] == 0
    assert warm["POST /graphql"] == 0
    assert warm["GET /repos/acme/big/pulls/{id}/files"] == 1  # what is not addressed by a sha is asked again
    assert any((tmp_path / "data" / "cache").rglob("*"))


H1, H2, H3 = fake_sha("push-1"), fake_sha("push-2"), fake_sha("push-3")


def _listing_requests(standin: GitHubStandIn, start: int) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for r in standin.requests[start:]:
        if "/git/trees/" in r.path:
            kinds["tree recursive" if r.query.get("recursive") else "tree root"] += 1
        elif "/contents/" in r.path:
            kinds["directory"] += 1
        elif "/compare/" in r.path:
            kinds["compare"] += 1
    return kinds


def test_a_new_head_of_the_same_pull_request_lists_only_the_directories_it_touches():
    """Base's listing is cached from the first push: the second is listed where it changed, not as a whole tree."""
    base = gitops_repo(2500, kustomize=False)
    first = gitops_repo(2500, kustomize=False, changed=(7,))
    second = {**first, "apps/app00009/extra.yaml": b"kind: ConfigMap\n", "README.md": b"changed\n"}
    del second["apps/app00003/service.yaml"]
    second["apps/app00007/settings-0.yaml"] = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
    diverged = {**first, "apps/app00011/deployment.yaml": b"kind: Deployment\n"}
    repo = FixtureRepo(REPO, commits={BASE: base, H1: first, H2: second, H3: diverged},
                       pulls={5: PullSpec(5, BASE, H1)}, diverged={(BASE, H3)})
    standin = GitHubStandIn([repo])
    cache = ContentCache()  # what the workers of one installation share
    with standin.serving():
        def context(head: str) -> GitHubPullContext:
            repo.pulls[5] = PullSpec(5, BASE, head)
            api = GitHubClientFactory(42, app_private_key(), standin.base_url, cache=cache).repo(1, REPO)
            return GitHubPullContext(api, head, BASE, pull_number=5)

        start = len(standin.requests)
        context(H1).workspace(H1), context(H1).workspace(BASE)
        assert _listing_requests(standin, start) == {"tree recursive": 2}  # cold: nothing to start from

        start = len(standin.requests)
        ctx = context(H2)
        head = ctx.workspace(H2)
        assert head.paths == sorted(second)
        assert all(head.size(p) == len(second[p]) for p in head.paths)
        assert head.read("apps/app00007/settings-0.yaml") == second["apps/app00007/settings-0.yaml"]
        assert head.read("apps/app00009/extra.yaml") == b"kind: ConfigMap\n"
        # apps/app00003, apps/app00007 and apps/app00009 by the contents API, the root by a one-level tree.
        assert _listing_requests(standin, start) == {"compare": 1, "directory": 3, "tree root": 1}

        start = len(standin.requests)
        assert context(H2).workspace(H2).paths == sorted(second)  # the assembled listing is cached like any other
        assert _listing_requests(standin, start) == {}

        start = len(standin.requests)
        assert context(H3).workspace(H3).paths == sorted(diverged)  # base moved on: not an ancestor, list it all
        assert _listing_requests(standin, start) == {"compare": 1, "tree recursive": 1}
    assert all_request_problems(standin.requests) == []
