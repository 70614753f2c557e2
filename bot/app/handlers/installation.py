"""installation / installation_repositories: nothing to evaluate; log for operators."""

from __future__ import annotations

from bot.app.handlers.routing import HandlerContext, Payload, router


@router.register("installation")
@router.register("installation_repositories")
def on_installation(payload: Payload, ctx: HandlerContext) -> None:
    account = ((payload.get("installation") or {}).get("account") or {}).get("login", "?")
    ctx.log.info(
        "installation %s %s for %s",
        (payload.get("installation") or {}).get("id", "?"),
        payload.get("action", "?"),
        account,
    )
