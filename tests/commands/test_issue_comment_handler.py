"""The issue_comment handler: which deliveries reach `run_commands`, and with what."""

from __future__ import annotations

import copy
import json
from typing import Any

from bot.app.handlers import dispatch
from bot.app.settings import AppSettings
from bot.commands.run import CommandResult
from tests.support.github_standin import REPO_ROOT

SETTINGS = AppSettings(app_id=1, private_key="k", webhook_secret="s", app_slug="gitops-policy-bot")
EXAMPLE = json.loads((REPO_ROOT / "fixtures/github/webhooks/issue_comment.created.json").read_text())


class FakeService:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def run_commands(self, event: Any) -> list[CommandResult]:
        self.events.append(event)
        return [CommandResult("/gitops validate", True)]


def pr_comment(body: str, **sender: str) -> dict[str, Any]:
    payload = copy.deepcopy(EXAMPLE)
    payload["issue"]["pull_request"] = {"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"}
    payload["comment"]["body"] = body
    payload["sender"].update(sender)
    return payload


def run(payload: dict[str, Any]) -> tuple[str, list[Any]]:
    service = FakeService()
    return dispatch("issue_comment", payload, "d-7", service=service, settings=SETTINGS), service.events


def test_a_command_on_a_pull_request_is_run_with_the_comment_and_pull_authors() -> None:
    result, [event] = run(pr_comment("/gitops validate"))
    assert result == "handled"
    assert (event.repo_full_name, event.pull_number, event.comment_id, event.author, event.pull_author,
            event.body, event.previous_body, event.delivery_id) == (
        "Codertocat/Hello-World", 1, 492700400, "Codertocat", "Codertocat", "/gitops validate", None, "d-7")


def test_comments_that_cannot_hold_a_command_cost_no_github_request() -> None:
    assert run(pr_comment("LGTM")) == ("handled", [])
    assert run(EXAMPLE | {"comment": {**EXAMPLE["comment"], "body": "/gitops validate"}}) == ("handled", [])  # issue
    assert run(pr_comment("/gitops validate", login="renovate[bot]", type="Bot")) == ("ignored: comment by a bot", [])
