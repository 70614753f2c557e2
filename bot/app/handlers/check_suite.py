"""check_suite: GitHub asks for checks on a pushed head (or a re-run of all of them)."""

from __future__ import annotations

from typing import cast

from bot.app.handlers.payloads import CheckSuiteEvent
from bot.app.handlers.requests import evaluation_request
from bot.app.handlers.routing import HandlerContext, Payload, router


@router.register("check_suite", "requested", "rerequested")
def on_check_suite(payload: Payload, ctx: HandlerContext) -> None:
    event = cast(CheckSuiteEvent, payload)  # the web front refused deliveries without its required fields
    suite = event["check_suite"]

    def evaluate(base_sha: str | None, pull_number: int | None) -> None:
        ctx.service.evaluate(
            evaluation_request(
                installation_id=event["installation"]["id"],
                repo_full_name=event["repository"]["full_name"],
                head_sha=suite["head_sha"],
                base_sha=base_sha,
                pull_number=pull_number,
                trigger=f"check_suite.{event['action']}",
                delivery_id=ctx.delivery_id,
            )
        )

    pulls = suite.get("pull_requests") or []
    if not pulls:  # a push without a PR: check the whole tree at head
        evaluate(None, None)
    for pull in pulls:
        evaluate(pull["base"]["sha"], pull["number"])
