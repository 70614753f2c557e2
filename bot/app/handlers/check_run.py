"""check_run: someone pressed "Re-run" (or an action button) on our check run: evaluate again."""

from __future__ import annotations

from typing import cast

from bot.app.handlers.payloads import CheckRunEvent
from bot.app.handlers.requests import evaluation_request
from bot.app.handlers.routing import HandlerContext, Payload, router
from bot.app.settings import AppSettings


def _ours(payload: Payload, settings: AppSettings) -> str | None:
    run = payload.get("check_run") or {}
    if (run.get("app") or {}).get("id") == settings.app_id or run.get("name") == settings.check_name:
        return None
    return "check run of another App"


@router.register("check_run", "rerequested", "requested_action", screen=_ours)
def on_check_run(payload: Payload, ctx: HandlerContext) -> None:
    event = cast(CheckRunEvent, payload)  # the web front refused deliveries without its required fields
    run = event["check_run"]
    pulls = run.get("pull_requests") or []
    pull = pulls[0] if pulls else None  # a check run belongs to one head; its first PR gives the base
    ctx.service.evaluate(
        evaluation_request(
            installation_id=event["installation"]["id"],
            repo_full_name=event["repository"]["full_name"],
            head_sha=run["head_sha"],
            base_sha=pull["base"]["sha"] if pull else None,
            pull_number=pull["number"] if pull else None,
            trigger=f"check_run.{event['action']}",
            delivery_id=ctx.delivery_id,
        )
    )
