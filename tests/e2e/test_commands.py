"""Comment commands end to end: a webhook into gunicorn, the worker, and the GitHub stand-in's record."""

from __future__ import annotations

from typing import Any

from tests.e2e.shop import INSTALLATION, PULLS, REPO, SHAS, example, pull_request_payload, send
from tests.support.github_standin import BOT_LOGIN, GitHubStandIn
from tests.support.gunicorn import wait_for

REASON = "worker image is pinned by the Q3 migration, OPS-12"


def comment_payload(standin: GitHubStandIn, number: int, body: str, author: str) -> dict[str, Any]:
    cid = standin.add_issue_comment(REPO, number, body, login=author)
    payload = example("issue_comment.created")
    payload["installation"]["id"] = INSTALLATION
    payload["repository"]["full_name"] = REPO
    payload["issue"].update(number=number, pull_request={"url": f"{standin.base_url}/repos/{REPO}/pulls/{number}"})
    payload["issue"]["user"]["login"] = "octocat"
    payload["comment"].update(id=cid, body=body)
    payload["comment"]["user"].update(login=author, type="User")
    payload["sender"].update(login=author, type="User")
    return payload


def reactions_on(standin: GitHubStandIn, comment_id: int) -> list[str]:
    return [r["content"] for r in standin.reactions if r["target"] == comment_id]


def finished(standin: GitHubStandIn, comment_id: int) -> list[str] | None:
    reactions = reactions_on(standin, comment_id)
    return reactions if len(reactions) == 2 else None


def test_approve_policies_on_a_red_pull_request_turns_the_check_green(app_url: str, standin: GitHubStandIn) -> None:
    number = PULLS["violating"]
    head = SHAS["violating"]
    standin.roles[(REPO, "reviewer")] = "write"
    send(app_url, "pull_request", pull_request_payload("opened", standin.repos[REPO].pulls[number], standin))
    wait_for(lambda: any("gitops-policy-bot:summary" in c["body"] for c in standin.comments_on(REPO, number)), 60)
    assert [r["conclusion"] for r in standin.runs_for(head)] == ["failure"]

    payload = comment_payload(standin, number, f'Reviewed.\n/gitops approve-policies --reason "{REASON}"', "reviewer")
    send(app_url, "issue_comment", payload)

    assert wait_for(lambda: finished(standin, payload["comment"]["id"]), 60) == ["eyes", "+1"]
    runs = standin.runs_for(head)
    assert [r["conclusion"] for r in runs] == ["failure", "success"]
    assert "2 blocking policy findings approved by @reviewer at " in runs[-1]["output"]["summary"]
    sticky = next(c["body"] for c in standin.comments_on(REPO, number) if "gitops-policy-bot:summary" in c["body"])
    assert sticky.count(f"| {REASON} | reviewer |") == 2
    counts = sticky.split("| ---: | ---: | ---: | ---: |\n", 1)[1].split("\n", 1)[0]
    assert counts.startswith("| 0 | ") and counts.endswith(" | 2 |")  # no blocking finding, two waived
    [approval] = [c["body"] for c in standin.comments_on(REPO, number)
                  if c["user"]["login"] == BOT_LOGIN and c["body"].startswith("<!-- gitops-policy-bot:approval")]
    assert "✅ **@reviewer approved 2 blocking policy findings**" in approval


def test_a_read_only_user_is_refused_and_the_check_stays_red(app_url: str, standin: GitHubStandIn) -> None:
    number = PULLS["many"]
    head = SHAS["many"]
    standin.roles[(REPO, "visitor")] = "read"
    send(app_url, "pull_request", pull_request_payload("opened", standin.repos[REPO].pulls[number], standin))
    wait_for(lambda: any("gitops-policy-bot:summary" in c["body"] for c in standin.comments_on(REPO, number)), 60)

    payload = comment_payload(standin, number, "/gitops approve-policies --reason 'looks fine to me'", "visitor")
    send(app_url, "issue_comment", payload)

    assert wait_for(lambda: finished(standin, payload["comment"]["id"]), 60) == ["eyes", "confused"]
    assert [r["conclusion"] for r in standin.runs_for(head)] == ["failure"]
    [refusal] = [c["body"] for c in standin.comments_on(REPO, number) if c["body"].startswith("Sorry @visitor")]
    assert refusal.endswith("you have read access.")
