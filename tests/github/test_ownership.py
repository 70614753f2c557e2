"""One "is it ours" test for every publisher: the App's login only, never any bot."""

from __future__ import annotations

from bot.app.publish import ownership, plan_comments, sticky_comment
from bot.github.api import Comment
from bot.reporters.github_comment import MARKER

BOT = "gitops-policy-bot[bot]"


def test_only_the_apps_login_is_ours_and_without_it_nothing_is() -> None:
    ours = Comment(1, f"{MARKER}\nsummary", BOT, "Bot")
    planted = Comment(2, f"{MARKER}\nsummary", "github-actions[bot]", "Bot")
    assert [ownership.is_ours(c, BOT) for c in (ours, planted)] == [True, False]
    assert [ownership.is_ours(c, "") for c in (ours, planted)] == [False, False]
    assert [sticky_comment.is_ours(c, BOT) for c in (ours, planted)] == [True, False]
    assert not sticky_comment.is_ours(Comment(3, "no marker", BOT, "Bot"), BOT)


def test_plan_parts_of_another_bot_are_not_ours() -> None:
    part = "<!-- gitops-policy-bot:plan part=1 -->\n## Plan"
    comments = [Comment(1, part, "github-actions[bot]", "Bot"), Comment(2, part, BOT, "Bot")]
    assert {n: c.id for n, c in plan_comments._our_parts(comments, BOT).items()} == {1: 2}
    assert plan_comments._our_parts(comments, "") == {}
