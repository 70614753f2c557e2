"""The one sticky PR comment: found again by its hidden marker and edited in place, never posted twice."""

from __future__ import annotations

from bot.app.publish import ownership
from bot.github.api import Comment, RepoApi
from bot.reporters.github_comment import MARKER


def is_ours(comment: Comment, bot_login: str) -> bool:
    """Our comment: carries the marker and was written by this App."""
    return MARKER in comment.body and ownership.is_ours(comment, bot_login)


def upsert(api: RepoApi, pull_number: int, body: str, *, bot_login: str = "", create: bool = True) -> int | None:
    """Edit our comment if it exists (only when the text changed), else create it; returns its id."""
    existing = next((c for c in api.issue_comments(pull_number) if is_ours(c, bot_login)), None)
    if existing is not None:
        if existing.body != body:
            api.edit_issue_comment(existing.id, body)
        return existing.id
    if not create:
        return None
    return api.create_issue_comment(pull_number, body)
