"""merge_group: the merge queue built a candidate commit; it must pass before it lands."""

from __future__ import annotations

import re
from typing import cast

from bot.app.handlers.payloads import MergeGroupEvent
from bot.app.handlers.requests import evaluation_request
from bot.app.handlers.routing import HandlerContext, Payload, router

# GitHub names merge-queue branches gh-readonly-queue/<base>/pr-<number>-<sha>.
_QUEUED_PR = re.compile(r"^(?:refs/heads/)?gh-readonly-queue/.+/pr-(\d+)-[0-9a-f]+$")


def queued_pull_number(head_ref: str) -> int | None:
    match = _QUEUED_PR.match(head_ref or "")
    return int(match.group(1)) if match else None


@router.register("merge_group", "checks_requested")
def on_merge_group(payload: Payload, ctx: HandlerContext) -> None:
    event = cast(MergeGroupEvent, payload)  # the web front refused deliveries without its required fields
    group = event["merge_group"]
    ctx.service.evaluate(
        evaluation_request(
            installation_id=event["installation"]["id"],
            repo_full_name=event["repository"]["full_name"],
            head_sha=group["head_sha"],
            base_sha=group["base_sha"],
            pull_number=None,
            trigger="merge_group.checks_requested",
            delivery_id=ctx.delivery_id,
            approvals_from=queued_pull_number(group.get("head_ref", "")),
        )
    )
