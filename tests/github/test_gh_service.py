"""GitHubService against the stand-in, in process: the whole App flow after the queue, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gh_helpers import RecordingSleep

from bot.app.evaluation_service import EvaluationRequest
from bot.app.service import GitHubService
from bot.app.settings import AppSettings
from bot.github.client import GitHubClientFactory, PyGithubRepo
from bot.github.retry import RetryPolicy
from tests.support.github_standin import (
    BOT_LOGIN,
    FixtureRepo,
    GitHubStandIn,
    PullSpec,
    all_request_problems,
    app_private_key,
    blob_sha,
    fake_sha,
    load_tree,
)

REPO = "acme/shop"
BASE = fake_sha("base")
COMPLIANT = fake_sha("compliant")
VIOLATING = fake_sha("violating")
POLICY_EDIT = fake_sha("policy-edit")
EMPTY = fake_sha("docs-only")


@pytest.fixture
def shop() -> FixtureRepo:
    return FixtureRepo(REPO, commits={
        BASE: load_tree("shop/base"),
        COMPLIANT: load_tree("shop/base", "shop/pr-compliant"),
        VIOLATING: load_tree("shop/base", "shop/pr-violating"),
        POLICY_EDIT: load_tree("shop/base", "shop/pr-policy-edit"),
        EMPTY: load_tree("shop/base", extra={"README.md": b"new docs\n"}),
    }, pulls={
        1: PullSpec(1, BASE, COMPLIANT), 2: PullSpec(2, BASE, VIOLATING), 3: PullSpec(3, BASE, POLICY_EDIT),
        4: PullSpec(4, BASE, EMPTY),
    }, protection={"main": ["GitOps policy"]})


@pytest.fixture
def standin(shop: FixtureRepo) -> Iterator[GitHubStandIn]:
    server = GitHubStandIn([shop])
    with server.serving():
        yield server
    assert all_request_problems(server.requests) == []


@pytest.fixture
def service(standin: GitHubStandIn, tmp_path: Path) -> GitHubService:
    settings = AppSettings(app_id=42, private_key=app_private_key(), webhook_secret="s", api_url=standin.base_url,
                           data_dir=tmp_path,
                           app_slug="gitops-policy-bot")
    return GitHubService(settings, retry_policy=RetryPolicy(sleep=RecordingSleep()))


def pr(number: int, head: str) -> EvaluationRequest:
    return EvaluationRequest(1, REPO, head, BASE, number, "pull_request.opened", "d-1")


def test_compliant_pull_request_succeeds(standin: GitHubStandIn, service: GitHubService) -> None:
    outcome = service.evaluate(pr(1, COMPLIANT))

    [run] = standin.runs_for(COMPLIANT)
    assert (run["status"], run["conclusion"]) == ("completed", "success")
    assert run["output"]["title"] == "No policy violations in 1 manifest"
    assert run["annotations"] == []
    assert outcome.conclusion == "success" and outcome.comment_id is None
    assert standin.comments_on(REPO, 1) == [] and standin.reviews == {}
    create = standin.requests_to("POST", r"/repos/acme/shop/check-runs")[0].json
    assert (create["status"], create["name"], create["head_sha"]) == ("in_progress", "GitOps policy", COMPLIANT)


def test_violating_pull_request_fails_with_annotations_comment_and_review(
    standin: GitHubStandIn, service: GitHubService
) -> None:
    outcome = service.evaluate(pr(2, VIOLATING))

    [run] = standin.runs_for(VIOLATING)
    assert run["conclusion"] == "failure"
    assert run["output"]["title"] == "2 blocking findings in 1 file"
    assert sorted((a["path"], a["start_line"], a["annotation_level"], a["title"]) for a in run["annotations"]) == [
        ("apps/worker/deployment.yaml", 7, "notice", "single-replica"),
        ("apps/worker/deployment.yaml", 19, "failure", "image-tag"),
        ("apps/worker/deployment.yaml", 20, "failure", "run-as-non-root"),
        ("apps/worker/deployment.yaml", 20, "notice", "read-only-root-filesystem"),
    ]
    [comment] = standin.comments_on(REPO, 2)
    assert comment["user"]["login"] == BOT_LOGIN
    assert f"https://github.com/acme/shop/blob/{VIOLATING}/apps/worker/deployment.yaml#L19" in comment["body"]
    [review] = standin.reviews.values()
    assert [(c["path"], c["line"]) for c in review["comments"]] == [
        ("apps/worker/deployment.yaml", 19), ("apps/worker/deployment.yaml", 20)]
    assert "```suggestion" not in review["comments"][0]["body"]
    assert ("```suggestion\n          securityContext:\n            runAsNonRoot: true\n```"
            in review["comments"][1]["body"])
    assert (outcome.conclusion, outcome.annotations, outcome.review_comments) == ("failure", 4, 2)


def test_re_evaluation_edits_the_comment_and_adds_no_review(standin: GitHubStandIn, service: GitHubService) -> None:
    service.evaluate(pr(2, VIOLATING))
    service.evaluate(EvaluationRequest(1, REPO, VIOLATING, BASE, 2, "check_run.rerequested", "d-2"))

    assert len(standin.runs_for(VIOLATING)) == 2
    assert len(standin.comments_on(REPO, 2)) == 1
    assert len(standin.reviews) == 1 and len(standin.review_comments) == 2


def test_policy_edits_do_not_judge_their_own_pull_request(standin: GitHubStandIn, service: GitHubService) -> None:
    outcome = service.evaluate(pr(3, POLICY_EDIT))

    [run] = standin.runs_for(POLICY_EDIT)
    assert run["conclusion"] == "success"
    assert "### Policy changes in this pull request" in run["output"]["summary"]
    assert "| `policies/replicas_test.rego` | test_one_replica_allowed | ✅ passed |" in run["output"]["summary"]
    assert outcome.comment_id is not None  # the policy change results are worth a comment


def test_change_without_manifests_is_a_success_saying_so(standin: GitHubStandIn, service: GitHubService) -> None:
    service.evaluate(pr(4, EMPTY))
    [run] = standin.runs_for(EMPTY)
    assert (run["conclusion"], run["output"]["title"]) == ("success", "No Kubernetes manifests changed")


def test_unprotected_base_branch_is_warned_about(standin: GitHubStandIn, service: GitHubService,
                                                 shop: FixtureRepo) -> None:
    shop.protection.clear()
    service.evaluate(pr(1, COMPLIANT))
    [run] = standin.runs_for(COMPLIANT)
    assert "> ⚠️ The base branch `main` is not protected" in run["output"]["summary"]


def test_protection_lookup_failure_is_best_effort(standin: GitHubStandIn, service: GitHubService) -> None:
    standin.fail_next(1, status=403, path_contains="/protection/")
    outcome = service.evaluate(pr(1, COMPLIANT))
    assert outcome.conclusion == "success"
    assert outcome.problems and outcome.problems[0].startswith("branch protection:")


def test_merge_group_is_checked_on_its_head_sha_by_comparing_commits(
    standin: GitHubStandIn, service: GitHubService
) -> None:
    outcome = service.evaluate(EvaluationRequest(1, REPO, VIOLATING, BASE, None, "merge_group.checks_requested"))

    assert [r["conclusion"] for r in standin.runs_for(VIOLATING)] == ["failure"]
    assert len(standin.requests_to("GET", rf"/repos/acme/shop/compare/{BASE}\.\.\.{VIOLATING}")) == 1
    assert standin.issue_comments == {} and standin.reviews == {}
    assert outcome.comment_id is None


def test_unexpected_github_failure_marks_the_check_run_failed_and_raises(
    standin: GitHubStandIn, service: GitHubService
) -> None:
    from bot.errors import GitHubError

    standin.fail_next(10, status=500, path_contains="/git/trees/")
    with pytest.raises(GitHubError):
        service.evaluate(pr(1, COMPLIANT))
    [run] = standin.runs_for(COMPLIANT)
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    assert run["output"]["title"] == "GitHub did not answer as expected"


class NativePanic(BaseException):
    """Like pyo3's PanicException: not an Exception subclass."""


class PanickingTreeFactory:
    """Hands out real stand-in clients whose tree listing blows up like a crashing native extension."""

    def __init__(self, real: GitHubClientFactory) -> None:
        self.real = real

    def repo(self, installation_id: int, full_name: str) -> PyGithubRepo:
        api = self.real.repo(installation_id, full_name)

        def tree(sha: str) -> list:
            raise NativePanic("engine sent to another thread")

        api.tree = tree  # type: ignore[method-assign]
        return api


def test_a_crash_that_is_not_an_exception_still_completes_the_check_run(standin: GitHubStandIn,
                                                                       tmp_path: Path) -> None:
    settings = AppSettings(app_id=42, private_key=app_private_key(), webhook_secret="s", api_url=standin.base_url,
                           data_dir=tmp_path)
    real = GitHubClientFactory(42, app_private_key(), standin.base_url, RetryPolicy(sleep=RecordingSleep()))
    service = GitHubService(settings, client_factory=PanickingTreeFactory(real))  # type: ignore[arg-type]

    with pytest.raises(NativePanic):
        service.evaluate(pr(1, COMPLIANT))

    [run] = standin.runs_for(COMPLIANT)
    assert (run["status"], run["conclusion"], run["output"]["title"]) == ("completed", "failure", "Internal error")
    assert "delivery d-1" in run["output"]["summary"]


def test_without_base_or_pull_request_the_whole_head_tree_is_checked(standin: GitHubStandIn,
                                                                     service: GitHubService) -> None:
    outcome = service.evaluate(EvaluationRequest(1, REPO, VIOLATING, None, None, "check_suite.requested"))

    [run] = standin.runs_for(VIOLATING)
    assert (run["conclusion"], run["output"]["title"]) == ("failure", "2 blocking findings in 1 file")
    assert "Checked 2 files with 2 resources" in run["output"]["summary"]
    assert standin.requests_to("GET", r"/repos/acme/shop/pulls/.*") == []
    assert standin.requests_to("GET", r"/repos/acme/shop/compare/.*") == []
    assert outcome.comment_id is None


def test_reads_are_proportional_to_the_change_not_the_repository(tmp_path: Path) -> None:
    base_files = load_tree("shop/base", extra={f"apps/team-{i:03d}/deployment.yaml":
                                               load_tree("shop/base")["apps/web/deployment.yaml"].replace(
                                                   b"name: web", f"name: team-{i:03d}".encode())
                                               for i in range(300)})
    head_files = {**base_files, "apps/team-007/deployment.yaml":
                  base_files["apps/team-007/deployment.yaml"].replace(b"replicas: 2", b"replicas: 3")}
    big = FixtureRepo(REPO, commits={BASE: base_files, COMPLIANT: head_files}, pulls={1: PullSpec(1, BASE, COMPLIANT)})
    server = GitHubStandIn([big])
    with server.serving():
        settings = AppSettings(app_id=42, private_key=app_private_key(), webhook_secret="s",
                               api_url=server.base_url, data_dir=tmp_path)
        outcome = GitHubService(settings, retry_policy=RetryPolicy(sleep=RecordingSleep())).evaluate(pr(1, COMPLIANT))

    by_sha = {blob_sha(data): path for files in (base_files, head_files) for path, data in files.items()}
    read = sorted({by_sha[sha] for sha in server.blobs_read(REPO)})
    assert outcome.conclusion == "success" and outcome.title == "No policy violations in 1 manifest"
    assert read == [".gitops-bot.yaml", "apps/team-007/deployment.yaml", "policies/replicas.rego",
                    "policies/replicas_test.rego"]
    assert len(server.requests_to("GET", r"/repos/acme/shop/git/trees/.*")) == 2


def service_of_app(standin: GitHubStandIn, app_id: int, data_dir: Path) -> GitHubService:
    settings = AppSettings(app_id=app_id, private_key=app_private_key(), webhook_secret="s",
                           api_url=standin.base_url, app_slug="gitops-policy-bot", data_dir=data_dir)
    return GitHubService(settings, retry_policy=RetryPolicy(sleep=RecordingSleep()))


def test_a_run_left_in_progress_by_an_earlier_attempt_is_continued_not_duplicated(
    standin: GitHubStandIn, tmp_path: Path
) -> None:
    service = service_of_app(standin, standin.app_id, tmp_path)
    api = GitHubClientFactory(standin.app_id, app_private_key(), standin.base_url).repo(1, REPO)
    older, left = api.create_check_run("GitOps policy", COMPLIANT), api.create_check_run("GitOps policy", COMPLIANT)

    outcome = service.evaluate(pr(1, COMPLIANT))

    assert outcome.check_run_id == left  # the newest open run carries the verdict
    assert [(r["id"], r["status"], r["conclusion"]) for r in standin.runs_for(COMPLIANT)] == [
        (older, "completed", "cancelled"), (left, "completed", "success")]
    assert len(standin.requests_to("POST", r"/repos/acme/shop/check-runs")) == 2  # ours above; the service made none


def test_runs_of_another_app_are_never_continued(standin: GitHubStandIn, tmp_path: Path) -> None:
    api = GitHubClientFactory(7, app_private_key(), standin.base_url).repo(1, REPO)
    api.create_check_run("GitOps policy", COMPLIANT)  # the stand-in says it belongs to its own app id
    service_of_app(standin, standin.app_id + 1, tmp_path).evaluate(pr(1, COMPLIANT))
    assert [r["status"] for r in standin.runs_for(COMPLIANT)] == ["in_progress", "completed"]


def test_abandoning_completes_the_open_run_with_the_reason(standin: GitHubStandIn, tmp_path: Path) -> None:
    service = service_of_app(standin, standin.app_id, tmp_path)
    api = GitHubClientFactory(standin.app_id, app_private_key(), standin.base_url).repo(1, REPO)
    run_id = api.create_check_run("GitOps policy", VIOLATING)

    service.abandon(pr(2, VIOLATING), "the evaluation ran longer than 900 s and was stopped")

    [run] = standin.runs_for(VIOLATING)
    assert (run["id"], run["conclusion"], run["output"]["title"]) == (run_id, "failure", "The evaluation did not finish")
    assert "the evaluation ran longer than 900 s" in run["output"]["summary"]
    service.abandon(pr(2, VIOLATING), "again")  # nothing open any more: nothing changes
    assert standin.runs_for(VIOLATING)[0]["output"]["summary"] == run["output"]["summary"]


def test_an_unknown_sha_is_a_final_refusal(standin: GitHubStandIn, service: GitHubService) -> None:
    from bot.github.retry import GitHubRefusal

    with pytest.raises(GitHubRefusal) as raised:
        service.evaluate(pr(1, fake_sha("never-pushed")))
    assert raised.value.retryable is False and "422" in str(raised.value)
