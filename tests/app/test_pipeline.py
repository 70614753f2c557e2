"""`bot.app.pipeline.evaluate_pull`: one change to one verdict with a fake context, no HTTP and no writes."""

from __future__ import annotations

from bot.app.options import AppOptions
from bot.app.pipeline import PipelineOptions, evaluate_pull
from bot.commands.approvals import approvable, marker, new_approval
from bot.pull.fake import FakeComment, FakePullContext
from tests.support.github_standin import load_tree

BOT = "gitops-policy-bot[bot]"
BASE = load_tree("shop/base")
VIOLATING = load_tree("shop/base", "shop/pr-violating")
DEPLOYMENT = "apps/worker/deployment.yaml"
# The whole file as one added hunk: every line of it is on the diff.
WHOLE_FILE = "@@ -0,0 +1,40 @@\n" + "\n".join("+" for _ in range(40))


def violating(**fields: object) -> FakePullContext:
    return FakePullContext(head=dict(VIOLATING), base=dict(BASE), **fields)  # type: ignore[arg-type]


def approval_comment(author: str, ctx: FakePullContext) -> FakeComment:
    report = evaluate_pull(ctx, PipelineOptions(bot_login=BOT)).report
    approval = new_approval(approvable(report), approver="lead", reason="known, tracked in OPS-1",
                            approved_at="2024-01-01T00:00:00Z", head_sha="head")
    return FakeComment(f"{marker(approval)}\nApproved.", author)


def test_blocking_policy_findings_fail_the_change() -> None:
    verdict = evaluate_pull(violating(number=2), PipelineOptions(bot_login=BOT))
    assert (verdict.conclusion, verdict.title) == ("failure", "2 blocking findings in 1 file")
    assert [(f.rule, f.line) for f in verdict.report.blocking] == [("image-tag", 19), ("run-as-non-root", 20)]
    assert verdict.changed_paths == [DEPLOYMENT]
    assert verdict.approvals == ()
    assert verdict.options == AppOptions()  # the shop's config sets none of the App's knobs


def test_an_approval_in_the_apps_own_comment_waives_and_passes() -> None:
    ctx = violating(number=2)
    ctx.pull_comments.append(approval_comment(BOT, ctx))
    verdict = evaluate_pull(ctx, PipelineOptions(bot_login=BOT))
    assert verdict.conclusion == "success"
    assert [f.waived.by for f in verdict.report.waived if f.waived] == ["lead", "lead"]
    assert [a.approver for a in verdict.approvals] == ["lead"]


def test_approval_markers_of_anyone_else_or_without_the_apps_login_are_ignored() -> None:
    ctx = violating(number=2)
    ctx.pull_comments.append(approval_comment("github-actions[bot]", ctx))
    assert evaluate_pull(ctx, PipelineOptions(bot_login=BOT)).conclusion == "failure"
    ctx.pull_comments[:] = [approval_comment(BOT, ctx)]
    verdict = evaluate_pull(ctx, PipelineOptions(bot_login=""))
    assert (verdict.conclusion, verdict.approvals) == ("failure", ())


def test_review_comments_are_planned_for_blocking_findings_on_diff_lines_of_a_pull_request() -> None:
    verdict = evaluate_pull(violating(number=2, patches={DEPLOYMENT: WHOLE_FILE}), PipelineOptions(bot_login=BOT))
    assert [(c.path, c.line) for c in verdict.review_comments] == [(DEPLOYMENT, 19), (DEPLOYMENT, 20)]
    assert "**image-tag**" in verdict.review_comments[0].body
    # A finding outside the diff's hunks gets no review comment (GitHub would refuse it).
    outside = evaluate_pull(violating(number=2, patches={DEPLOYMENT: "@@ -1,2 +1,2 @@\n a\n+b"}), PipelineOptions())
    assert outside.review_comments == ()


def test_a_change_without_pull_request_gets_no_review_and_reads_no_comments() -> None:
    ctx = violating(patches={DEPLOYMENT: WHOLE_FILE}, pull_comments=[FakeComment("not read", BOT)])
    verdict = evaluate_pull(ctx, PipelineOptions(bot_login=BOT))
    assert (verdict.conclusion, verdict.review_comments, verdict.approvals) == ("failure", (), ())


def test_repository_knobs_come_from_the_base_branch_config() -> None:
    config = b"github:\n  failOnWarnings: true\n"
    ctx = FakePullContext(head={**VIOLATING, ".gitops-bot.yaml": config}, base=dict(BASE), number=2)
    # The PR's edit of the config does not count: the base's file judges it.
    assert evaluate_pull(ctx, PipelineOptions()).options == AppOptions()
    base = {**BASE, ".gitops-bot.yaml": BASE[".gitops-bot.yaml"] + b"github:\n  reviewComments: false\n"}
    verdict = evaluate_pull(FakePullContext(head={**VIOLATING, ".gitops-bot.yaml": base[".gitops-bot.yaml"]},
                                            base=base, number=2, patches={DEPLOYMENT: WHOLE_FILE}),
                            PipelineOptions())
    assert verdict.options.review_comments is False and verdict.review_comments == ()


def test_an_invalid_base_config_is_a_blocking_finding_with_default_knobs() -> None:
    base = {**BASE, ".gitops-bot.yaml": b"policies: [not, a, mapping]\n"}
    verdict = evaluate_pull(FakePullContext(head={**VIOLATING, ".gitops-bot.yaml": base[".gitops-bot.yaml"]},
                                            base=base, number=2), PipelineOptions())
    assert verdict.conclusion == "failure"
    assert any(f.source == "config" and f.file == ".gitops-bot.yaml" for f in verdict.report.blocking)
    assert verdict.options == AppOptions()
