"""Payloads a handler would index blindly are refused at the door, never queued to fail on every retry."""

from __future__ import annotations

import pytest

from bot.app.handlers.shape import missing_fields

WHERE = {"installation": {"id": 1}, "repository": {"full_name": "acme/shop"}}


@pytest.mark.parametrize(("event", "payload", "missing"), [
    ("check_run", {**WHERE, "check_run": {"head_sha": "a" * 40}}, []),
    ("check_run", {**WHERE, "check_run": {"head_sha": "a" * 40, "pull_requests": []}}, []),
    ("check_run", {**WHERE, "check_run": {"head_sha": "a" * 40,
                                          "pull_requests": [{"number": 1, "base": {"sha": "b" * 40}}]}}, []),
    ("check_run", {**WHERE, "check_run": {"head_sha": "a" * 40, "pull_requests": [{"number": 1}]}},
     ["check_run.pull_requests[0].base.sha"]),
    ("check_run", {**WHERE, "check_run": {"head_sha": "a" * 40, "pull_requests": "#1"}},
     ["check_run.pull_requests"]),
    ("check_suite", {**WHERE, "check_suite": {"head_sha": "a" * 40,
                                              "pull_requests": [{"base": {"sha": "b" * 40}}, None]}},
     ["check_suite.pull_requests[0].number", "check_suite.pull_requests[1].number",
      "check_suite.pull_requests[1].base.sha"]),
])
def test_pull_request_lists_must_hold_what_the_handlers_read(event: str, payload: dict, missing: list[str]) -> None:
    assert missing_fields(event, payload) == missing
