"""pull_request: evaluate the PR head against its base whenever the code or the base changes."""

from __future__ import annotations

from typing import cast

from bot.app.handlers.payloads import PullRequestEvent
from bot.app.handlers.requests import evaluation_request, webhook_pull
from bot.app.handlers.routing import HandlerContext, Payload, router
from bot.app.settings import AppSettings


def _base_changed(payload: Payload, settings: AppSettings) -> str | None:
    """An edit of the title or body changes nothing we judge; a new base branch does."""
    if payload.get("action") == "edited" and "base" not in (payload.get("changes") or {}):
        return "pull request edited without a base branch change"
    return None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


@router.register(
    "pull_request", "opened", "synchronize", "reopened", "ready_for_review", "edited", screen=_base_changed
)
def on_pull_request(payload: Payload, ctx: HandlerContext) -> None:
    event = cast(PullRequestEvent, payload)  # the web front refused deliveries without its required fields
    pull = event["pull_request"]
    head_repo = pull["head"].get("repo")
    request = evaluation_request(
        installation_id=event["installation"]["id"],
        repo_full_name=event["repository"]["full_name"],
        head_sha=pull["head"]["sha"],
        base_sha=pull["base"]["sha"],
        pull_number=event["number"],
        trigger=f"pull_request.{event['action']}",
        delivery_id=ctx.delivery_id,
        head_repo_full_name=(head_repo.get("full_name") or "") if head_repo else "",
        pull=webhook_pull(event["number"], pull),
        updated_at=_text(pull.get("updated_at")),
        before_sha=_text(payload.get("before")),  # synchronize: the head this push replaced
    )
    ctx.service.evaluate(request)
