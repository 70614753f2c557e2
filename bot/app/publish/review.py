"""One review per evaluation: the planned comments not already on the pull request, as one COMMENT review."""

from __future__ import annotations

from bot.app.publish import ownership
from bot.github.api import RepoApi, ReviewComment
from bot.reporters.github_check import DEFAULT_CHECK_NAME, plural
from bot.reporters.github_review import MARKER_PREFIX, MAX_REVIEW_COMMENTS


def already_posted(api: RepoApi, pull_number: int, bot_login: str = "") -> set[str]:
    """Finding keys of review comments this App left on earlier runs."""
    keys = set()
    for c in api.review_comments(pull_number):
        mine = ownership.is_ours(c, bot_login)
        start = c.body.find(MARKER_PREFIX)
        if mine and start >= 0:
            keys.add(c.body[start + len(MARKER_PREFIX):].split(" ", 1)[0])
    return keys


def post(api: RepoApi, pull_number: int, head_sha: str, comments: list[ReviewComment], *,
         bot_login: str = "", check_name: str = DEFAULT_CHECK_NAME) -> int:
    """Post the comments not already on the PR as one COMMENT review; returns how many were posted."""
    if not comments:
        return 0
    posted = already_posted(api, pull_number, bot_login)
    fresh = [c for c in comments if c.body[c.body.find(MARKER_PREFIX) + len(MARKER_PREFIX):].split(" ", 1)[0]
             not in posted]
    if not fresh:
        return 0
    shown = fresh[:MAX_REVIEW_COMMENTS]
    body = f"{check_name}: {plural(len(fresh), 'blocking finding')} on lines this pull request changed."
    if len(fresh) > len(shown):
        body += f" The first {len(shown)} are commented here; the check run lists all of them."
    api.create_review(pull_number, head_sha, body, shown)
    return len(shown)
