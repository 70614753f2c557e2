"""The sticky comment is edited, never re-posted; review comments stay inside the diff and are not repeated."""

from __future__ import annotations

from gh_helpers import HEAD, REPO, finding

from bot.app.publish import review, sticky_comment
from bot.core.findings import Waiver
from bot.core.report import Report
from bot.github.client import GitHubClientFactory
from bot.pull.context import ChangedFile
from bot.reporters import github_comment, github_review
from bot.reporters.github_comment import MARKER, CommentContext
from tests.support.github_standin import BOT_LOGIN, GitHubStandIn, unified_patch

CTX = CommentContext("https://github.com/acme/gitops", HEAD, "GitOps policy")


def test_comment_body_links_findings_to_the_head_sha_and_explains_waivers() -> None:
    report = Report(findings=[
        finding("image-tag", 12, message="image nginx:latest is not pinned"),
        finding("run-as-non-root", 7, waived=Waiver("annotation", "vendor image", by="alice")),
    ], files_checked=1)
    report.policy_changes = [{"file": "policies/p.rego", "name": "p", "passed": True, "error": ""}]

    body = github_comment.render(report, CTX)

    assert body.startswith(MARKER + "\n## ❌ GitOps policy: 1 blocking finding in 1 file")
    assert (f"| [`apps/a.yaml:12`](https://github.com/acme/gitops/blob/{HEAD}/apps/a.yaml#L12) | `image-tag` "
            "| image nginx:latest is not pinned |") in body
    assert "| `run-as-non-root` | vendor image | alice |" in body
    assert "| `policies/p.rego` | p | ✅ passed |" in body
    assert 'gitops-bot.io/skip.<rule-id>: "<reason>"' in body


def test_sticky_comment_is_edited_not_reposted(standin: GitHubStandIn, factory: GitHubClientFactory) -> None:
    api = factory.repo(1, REPO)
    standin.add_issue_comment(REPO, 7, f"{MARKER} pretending to be the bot", login="mallory")
    first = sticky_comment.upsert(api, 7, github_comment.render(Report(findings=[finding()]), CTX),
                                  bot_login=BOT_LOGIN)
    second = sticky_comment.upsert(api, 7, github_comment.render(Report(findings=[finding(line=9)]), CTX),
                                   bot_login=BOT_LOGIN)
    third = sticky_comment.upsert(api, 7, github_comment.render(Report(findings=[finding(line=9)]), CTX),
                                  bot_login=BOT_LOGIN)

    ours = [c for c in standin.comments_on(REPO, 7) if c["user"]["login"] == BOT_LOGIN]
    assert first == second == third
    assert len(ours) == 1 and ours[0]["edits"] == 1  # the unchanged third body was not sent again
    assert "apps/a.yaml#L9" in ours[0]["body"]
    assert len(standin.requests_to("POST", r"/repos/acme/gitops/issues/7/comments")) == 1
    assert len(standin.requests_to("PATCH", r"/repos/acme/gitops/issues/comments/\d+")) == 1


def test_clean_change_does_not_open_a_comment(standin: GitHubStandIn, factory: GitHubClientFactory) -> None:
    api = factory.repo(1, REPO)
    report = Report(files_checked=2)
    assert sticky_comment.upsert(api, 7, github_comment.render(report, CTX), bot_login=BOT_LOGIN,
                                 create=github_comment.should_comment(report)) is None
    assert standin.comments_on(REPO, 7) == []


DEPLOYMENT_BEFORE = "".join(f"# filler {i}\n" for i in range(1, 21)) + """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0
          securityContext:
            readOnlyRootFilesystem: true
"""
DEPLOYMENT_AFTER = DEPLOYMENT_BEFORE.replace("ghcr.io/acme/web:1.0", "nginx:latest")


def review_inputs() -> tuple[Report, list[ChangedFile]]:
    patch = unified_patch(DEPLOYMENT_BEFORE.encode(), DEPLOYMENT_AFTER.encode())
    changed = [ChangedFile("apps/web.yaml", "modified", patch=patch)]
    report = Report(findings=[
        finding("image-tag", 30, file="apps/web.yaml", message="image nginx:latest is not pinned",
                path="spec.template.spec.containers[0].image"),
        finding("run-as-non-root", 31, file="apps/web.yaml", message="may run as root",
                path="spec.template.spec.containers[0].securityContext"),
        finding("replicas", 2, file="apps/web.yaml", message="outside the diff"),
        finding("image-tag", 30, file="apps/web.yaml", severity="warning", message="a warning"),
        finding("image-tag", 3, file="apps/other.yaml", message="file not in the change"),
    ])
    return report, changed


def test_review_comments_only_on_diff_lines_with_suggestions() -> None:
    report, changed = review_inputs()

    comments = github_review.plan(report, changed, lambda path: DEPLOYMENT_AFTER)

    assert [(c.path, c.line, c.side) for c in comments] == [("apps/web.yaml", 30, "RIGHT"),
                                                             ("apps/web.yaml", 31, "RIGHT")]
    assert "```suggestion" not in comments[0].body  # no mechanical fix for an image tag
    assert comments[1].body.startswith("**run-as-non-root** (error): may run as root")
    assert "```suggestion\n          securityContext:\n            runAsNonRoot: true\n```" in comments[1].body
    assert comments[1].body.endswith(github_review.marker(report.findings[1]))


def test_one_review_and_no_duplicates_on_rerun(standin: GitHubStandIn, factory: GitHubClientFactory) -> None:
    api = factory.repo(1, REPO)
    report, changed = review_inputs()
    comments = github_review.plan(report, changed, lambda path: DEPLOYMENT_AFTER)

    assert review.post(api, 7, HEAD, comments, bot_login=BOT_LOGIN) == 2
    assert review.post(api, 7, HEAD, comments, bot_login=BOT_LOGIN) == 0

    reviews = standin.requests_to("POST", r"/repos/acme/gitops/pulls/7/reviews")
    assert len(reviews) == 1
    assert reviews[0].json["event"] == "COMMENT" and reviews[0].json["commit_id"] == HEAD
    assert [(c["path"], c["line"], c["side"]) for c in reviews[0].json["comments"]] == [
        ("apps/web.yaml", 30, "RIGHT"), ("apps/web.yaml", 31, "RIGHT")]
    assert len(standin.review_comments) == 2


def test_finding_key_ignores_the_line_so_a_moved_finding_is_not_reposted() -> None:
    assert github_review.finding_key(finding(line=3)) != github_review.finding_key(finding(line=4))  # message
    a = finding(line=3, message="same")
    b = finding(line=40, message="same")
    assert github_review.finding_key(a) == github_review.finding_key(b)


def test_waiver_reasons_cannot_ping_people_or_inject_html():
    from bot.core.findings import Finding, Severity, Waiver
    from bot.core.report import Report
    from bot.reporters.github_check import inert
    from bot.reporters.github_comment import CommentContext, render

    reason = 'ok per @acme/security <img src=x onerror=alert(1)> ![pwn](http://x/y.png)\n| col'
    finding = Finding("image-tag", Severity.ERROR, "m", file="a.yaml", line=3, waived=Waiver("annotation", reason))
    body = render(Report(findings=[finding]), CommentContext(html_url="https://github.com/o/r", head_sha="abc"))
    assert "@acme" not in body and "<img" not in body and "![pwn]" not in body
    assert "@\u200bacme/security" in body and "&lt;img" in body
    assert inert("a\nb") == "a b"
