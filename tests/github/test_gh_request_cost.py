"""Cost follows the change: a one-file pull request makes the same requests whatever the repository's size."""

from __future__ import annotations

from collections import Counter

from gh_helpers import RecordingSleep

from bot.github.retry import RetryPolicy
from bot.service import EvaluationRequest, GitHubService
from bot.settings import AppSettings
from tests.support.github_standin import FixtureRepo, GitHubStandIn, PullSpec, app_private_key, fake_sha
from tests.support.gitops_corpus import gitops_repo

REPO = "acme/big"
BASE, HEAD = fake_sha("cost-base"), fake_sha("cost-head")


def _requests_for_one_file_pr(apps: int) -> Counter[str]:
    """Requests by kind (method + path with shas and numbers folded) for one cold evaluation."""
    base = gitops_repo(apps * 10, kustomize=True)
    head = gitops_repo(apps * 10, kustomize=True, changed=(7,))
    assert [p for p in head if head[p] != base.get(p)] == ["apps/app00007/deployment.yaml"]
    standin = GitHubStandIn([FixtureRepo(REPO, commits={BASE: base, HEAD: head}, pulls={5: PullSpec(5, BASE, HEAD)})])
    with standin.serving():
        settings = AppSettings(app_id=42, private_key=app_private_key(), webhook_secret="s",
                               api_url=standin.base_url, app_slug="gitops-policy-bot")
        outcome = GitHubService(settings, retry_policy=RetryPolicy(sleep=RecordingSleep())).evaluate(
            EvaluationRequest(1, REPO, HEAD, BASE, 5, "pull_request.opened", "d-cost"))
    assert outcome.conclusion == "success", outcome.title
    return Counter(_kind(r.method, r.path) for r in standin.requests)


def _kind(method: str, path: str) -> str:
    parts = ["{id}" if len(p) == 40 or p.isdigit() else p for p in path.split("/")]
    return f"{method} {'/'.join(parts)}"


def test_a_one_file_pull_request_costs_the_same_requests_at_50_and_500_kustomizations():
    small = _requests_for_one_file_pr(50)
    large = _requests_for_one_file_pr(500)

    assert large == small
    assert sum(large.values()) <= 15, large
    assert large["GET /repos/acme/big/git/blobs/{id}"] <= 4  # the changed file at both sides, its kustomization, its patch
