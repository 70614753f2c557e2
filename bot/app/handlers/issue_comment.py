"""issue_comment: `/gitops ...` commands on pull requests, run by `GitHubService.run_commands` in a worker."""

from __future__ import annotations

from bot.app.handlers.routing import HandlerContext, Payload, router
from bot.app.settings import AppSettings
from bot.commands.events import comment_event, may_hold_command


def _human(payload: Payload, settings: AppSettings) -> str | None:
    # Bots (ours included) never issue commands: this also stops comment loops.
    if (payload.get("sender") or {}).get("type") == "Bot":
        return "comment by a bot"
    return None


@router.register("issue_comment", "created", "edited", screen=_human)
def on_issue_comment(payload: Payload, ctx: HandlerContext) -> None:
    event = comment_event(payload, ctx.delivery_id)
    where = f"{(payload.get('repository') or {}).get('full_name', '?')}#{(payload.get('issue') or {}).get('number', '?')}"
    if event is None or not may_hold_command(event.body):
        ctx.log.info("comment on %s holds no command for the bot", where)
        return
    results = ctx.service.run_commands(event)
    ctx.log.info("comment on %s: %d command(s) run, %d refused or failed", where, len(results),
                 sum(1 for r in results if not r.ok))
