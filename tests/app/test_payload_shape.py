"""Payloads a handler would index blindly are refused at the door, never queued to fail on every retry."""

from __future__ import annotations

import typing

import pytest

from bot.app.handlers.payloads import EVENT_PAYLOADS, PullRef
from bot.app.handlers.shape import PULL_FIELDS, REQUIRED_FIELDS, missing_fields

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


def required_leaves(shape: type, prefix: str = "") -> set[str]:
    """Dotted paths of the required non-mapping fields of a payload TypedDict (``action`` is the router's)."""
    hints = typing.get_type_hints(shape)
    paths: set[str] = set()
    for key in shape.__required_keys__:
        if not prefix and key == "action":
            continue
        if typing.is_typeddict(hints[key]):
            paths |= required_leaves(hints[key], f"{prefix}{key}.")
        else:
            paths.add(prefix + key)
    return paths


@pytest.mark.parametrize("event", sorted(EVENT_PAYLOADS))
def test_the_payload_types_the_handlers_read_require_what_the_door_checks(event: str) -> None:
    assert required_leaves(EVENT_PAYLOADS[event]) == set(REQUIRED_FIELDS[event])


def test_the_pull_request_entries_the_handlers_read_require_what_the_door_checks() -> None:
    assert required_leaves(PullRef) == set(PULL_FIELDS)
    assert set(REQUIRED_FIELDS) == set(EVENT_PAYLOADS)
