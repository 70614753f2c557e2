"""pull_request: evaluate the PR head against its base whenever the code or the base changes."""

from __future__ import annotations

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
    pull = payload["pull_request"]
    request = evaluation_request(
        installation_id=payload["installation"]["id"],
        repo_full_name=payload["repository"]["full_name"],
        head_sha=pull["head"]["sha"],
        base_sha=pull["base"]["sha"],
        pull_number=payload["number"],
        trigger=f"pull_request.{payload['action']}",
        delivery_id=ctx.delivery_id,
        head_repo_full_name=((pull["head"].get("repo") or {}).get("full_name") or ""),
        pull=webhook_pull(payload["number"], pull),
        updated_at=_text(pull.get("updated_at")),
        before_sha=_text(payload.get("before")),  # synchronize: the head this push replaced
    )
    ctx.service.evaluate(request)
