"""issue_comment: `/gitops ...` commands arrive here (parsed in a later issue; accepted and logged now)."""

from __future__ import annotations

from bot.handlers.routing import HandlerContext, Payload, router
from bot.settings import AppSettings


def _human(payload: Payload, settings: AppSettings) -> str | None:
    # Bots (ours included) never issue commands: this also stops comment loops.
    if (payload.get("sender") or {}).get("type") == "Bot":
        return "comment by a bot"
    return None


@router.register("issue_comment", "created", "edited", screen=_human)
def on_issue_comment(payload: Payload, ctx: HandlerContext) -> None:
    issue = payload.get("issue") or {}
    ctx.log.info(
        "comment on %s#%s received; comment commands are not implemented yet",
        (payload.get("repository") or {}).get("full_name", "?"),
        issue.get("number", "?"),
    )
