"""Which comments are the App's own: the one test every publisher and the approvals use.

Only the App's login ("<slug>[bot]") counts. "Any bot" would include bots a pull
request author controls (a workflow's github-actions[bot]), who could then plant
a summary, a plan part or a review marker for the bot to edit or trust.
"""

from __future__ import annotations

from bot.github.api import Comment

# Said wherever a write is skipped because the App's login is unknown.
NO_LOGIN = ("GITOPS_BOT_APP_SLUG is not set, so the bot cannot recognise its own comments; "
            "set it to the App's slug")


def is_ours(comment: Comment, bot_login: str) -> bool:
    """Written by this App; without its login nothing is ours (so nothing is edited, deleted or trusted)."""
    return bool(bot_login) and comment.author == bot_login
