"""check_suite: GitHub asks for checks on a pushed head (or a re-run of all of them)."""

from __future__ import annotations

from bot.app.handlers.requests import evaluation_request
from bot.app.handlers.routing import HandlerContext, Payload, router


@router.register("check_suite", "requested", "rerequested")
def on_check_suite(payload: Payload, ctx: HandlerContext) -> None:
    suite = payload["check_suite"]
    common = dict(
        installation_id=payload["installation"]["id"],
        repo_full_name=payload["repository"]["full_name"],
        head_sha=suite["head_sha"],
        trigger=f"check_suite.{payload['action']}",
        delivery_id=ctx.delivery_id,
    )
    pulls = suite.get("pull_requests") or []
    if not pulls:  # a push without a PR: check the whole tree at head
        ctx.service.evaluate(evaluation_request(base_sha=None, pull_number=None, **common))
    for pull in pulls:
        ctx.service.evaluate(
            evaluation_request(base_sha=pull["base"]["sha"], pull_number=pull["number"], **common)
        )
