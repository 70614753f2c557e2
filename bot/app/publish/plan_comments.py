"""The plan as PR comments: numbered parts edited in place on later plans, stale parts deleted."""

from __future__ import annotations

from bot.app.publish import ownership
from bot.github.api import Comment, RepoApi
from bot.reporters.github_plan import _MARKER_RE

MAX_PARTS = 5  # a longer plan is a reason to narrow it (paths), not to flood the pull request


def _our_parts(comments: list[Comment], bot_login: str) -> dict[int, Comment]:
    parts: dict[int, Comment] = {}
    for c in comments:
        match = _MARKER_RE.match(c.body)
        ours = ownership.is_ours(c, bot_login)
        if match and ours:
            parts.setdefault(int(match.group(1)), c)
    return parts


def publish_plan(api: RepoApi, pull_number: int, bodies: list[str], *, bot_login: str = "") -> list[int]:
    """Edit part N if it exists, else create it; delete parts left over from a longer plan. Returns ids."""
    existing = _our_parts(api.issue_comments(pull_number), bot_login)
    ids: list[int] = []
    for number, body in enumerate(bodies[:MAX_PARTS], start=1):
        comment = existing.pop(number, None)
        if comment is None:
            ids.append(api.create_issue_comment(pull_number, body))
            continue
        if comment.body != body:
            api.edit_issue_comment(comment.id, body)
        ids.append(comment.id)
    for stale in existing.values():
        api.delete_issue_comment(stale.id)
    return ids
