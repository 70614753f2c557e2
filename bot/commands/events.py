"""An `issue_comment` webhook reduced to what a command run needs (cheap to import: the web front uses it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CommentEvent:
    installation_id: int
    repo_full_name: str
    pull_number: int
    comment_id: int
    body: str
    author: str  # who wrote the comment (and so issues its commands)
    pull_author: str
    previous_body: str | None = None  # "edited": the text before, whose commands already ran
    delivery_id: str = ""
    # When the author wrote this text (GitHub's created_at, or updated_at for an edit), ISO 8601; an
    # approval covers only what the pull request showed then.
    written_at: str = ""


def comment_event(payload: Mapping[str, Any], delivery_id: str = "") -> CommentEvent | None:
    """The event, or None when it cannot carry a command: not on a pull request, or written by a bot."""
    issue = payload.get("issue") or {}
    comment = payload.get("comment") or {}
    user = comment.get("user") or {}
    if not issue.get("pull_request") or user.get("type") == "Bot":
        return None
    changes = payload.get("changes") or {}
    previous = (changes.get("body") or {}).get("from") if payload.get("action") == "edited" else None
    return CommentEvent(
        installation_id=int((payload.get("installation") or {}).get("id", 0)),
        repo_full_name=(payload.get("repository") or {}).get("full_name", ""),
        pull_number=int(issue.get("number", 0)),
        comment_id=int(comment.get("id", 0)),
        body=comment.get("body") or "",
        author=user.get("login", ""),
        pull_author=(issue.get("user") or {}).get("login", ""),
        previous_body=previous if isinstance(previous, str) else None,
        delivery_id=delivery_id,
        written_at=_text(comment.get("updated_at") if payload.get("action") == "edited" else comment.get("created_at")),
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def may_hold_command(body: str) -> bool:
    """Cheap pre-check before any GitHub request: every prefix starts with "/" at the start of a line."""
    return any(line.lstrip(" ").startswith("/") for line in body.splitlines())
