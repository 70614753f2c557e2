"""Which lines of a comment are commands, and how their arguments are read (table-driven)."""

from __future__ import annotations

import pytest

from bot.commands.events import comment_event, may_hold_command
from bot.commands.parse import (
    MAX_COMMANDS_PER_COMMENT,
    Command,
    CommandProblem,
    command_lines,
    parse_comment,
    parse_line,
)


def summary(body: str, prefix: str = "/gitops") -> list[tuple]:
    out: list[tuple] = []
    for item in parse_comment(body, prefix):
        if isinstance(item, Command):
            out.append((item.name, item.args, item.reason))
        else:
            out.append(("problem", item.message, item.suggestion))
    return out


@pytest.mark.parametrize(("body", "expected"), [
    ("/gitops help", [("help", (), "")]),
    ("/gitops", [("help", (), "")]),
    ("  /gitops validate  ", [("validate", (), "")]),
    ("/gitops check", [("validate", (), "")]),
    ("/gitops VALIDATE", [("validate", (), "")]),
    ("LGTM\n/gitops validate\nthanks\n/gitops plan apps/web apps/api/", [
        ("validate", (), ""), ("plan", ("apps/web", "apps/api"), "")]),
    ("/gitops validate\r\n/gitops help\r\n", [("validate", (), ""), ("help", (), "")]),
    ("please run /gitops validate", []),
    ("/gitopsvalidate", []),
    ("/other validate", []),
    ("```\n/gitops validate\n```", []),
    ("~~~yaml\n/gitops validate\n~~~\n/gitops help", [("help", (), "")]),
    ("````\n```\n/gitops validate\n```\n````\n/gitops check", [("validate", (), "")]),
    ("```\nunclosed fence\n/gitops validate", []),
    ("    /gitops validate", []),
    ("\t/gitops validate", []),
    ("> /gitops approve-policies --reason ok", []),
    ("  > quoted\n>/gitops validate", []),
    ("<!--\n/gitops approve-policies --reason hidden\n-->\n/gitops help", [("help", (), "")]),
    ("<!-- /gitops validate -->", []),
    ('/gitops approve-policies --reason "accepted until the Q3 migration"', [
        ("approve-policies", (), "accepted until the Q3 migration")]),
    ("/gitops approve-policies image-tag run-as-non-root --reason='legacy   image'", [
        ("approve-policies", ("image-tag", "run-as-non-root"), "legacy image")]),
    ("/gitops approve-policies image-tag image-tag --reason x", [("approve-policies", ("image-tag",), "x")]),
    ('/gitops approve-policies --reason "unclosed', [
        ("problem", "cannot split the arguments: no closing quotation", "")]),
    ("/gitops approve-policies image-tag", [
        ("problem", 'an approval needs a reason: add --reason "why these findings are acceptable"', "")]),
    ("/gitops approve-policies --reason '   '", [
        ("problem", 'an approval needs a reason: add --reason "why these findings are acceptable"', "")]),
    ("/gitops approve-policies --reason", [
        ("problem", '`--reason` needs a value, e.g. --reason "accepted until the migration"', "")]),
    ("/gitops approve-policies --reasn x", [("problem", "unknown option `--reasn`", "--reason")]),
    ("/gitops approve-policies --sha 12 --reason x", [
        ("problem", "`--sha` takes the head commit's id (7 to 40 hex digits)", "")]),
    ("/gitops approve-policies --sha", [("problem", "`--sha` needs a value, e.g. --sha 1a2b3c4", "")]),
    ("/gitops aprove-policies --reason x", [("problem", "unknown command `aprove-policies`", "approve-policies")]),
    ("/gitops validte", [("problem", "unknown command `validte`", "validate")]),
    ("/gitops aprove --reason x", [("problem", "unknown command `aprove`", "approve-policies")]),
    ("/gitops approve", [("problem", "unknown command `approve`", "approve-policies")]),
    ("/gitops chek", [("problem", "unknown command `chek`", "validate")]),
    ("/gitops deploy", [("problem", "unknown command `deploy`", "")]),
    ("/gitops validate now", [("problem", "`validate` takes no arguments", "")]),
    ("/gitops plan ../secrets", [("problem", "`../secrets` is not a path inside the repository", "")]),
    ("/gitops plan /etc", [("problem", "`/etc` is not a path inside the repository", "")]),
    ("/gitops plan --all", [("problem", "unknown option `--all`: `plan` takes only paths", "")]),
    ("/gitops plan", [("plan", (), "")]),
])
def test_parse_comment(body: str, expected: list[tuple]) -> None:
    assert summary(body) == expected


def test_a_configured_prefix_replaces_the_default() -> None:
    body = "/gitops validate\n/infra validate\n/infra-x help"
    assert summary(body, "/infra") == [("validate", (), "")]
    assert command_lines(body, "/infra") == ["/infra validate"]


def test_at_most_ten_commands_run_and_the_rest_is_reported_once() -> None:
    items = parse_comment("\n".join(["/gitops validate"] * 14))
    assert [type(i).__name__ for i in items] == ["Command"] * MAX_COMMANDS_PER_COMMENT + ["CommandProblem"]
    assert isinstance(items[-1], CommandProblem)
    assert items[-1].message == "at most 10 commands per comment are run"


def test_a_very_long_line_is_refused_without_splitting_it() -> None:
    problem = parse_line("/gitops approve-policies --reason " + "x" * 3000)
    assert isinstance(problem, CommandProblem)
    assert problem.message == "the line is longer than 2000 characters"


def test_comment_event_reads_pull_request_comments_only() -> None:
    payload = {
        "action": "edited", "installation": {"id": 5}, "repository": {"full_name": "acme/shop"},
        "issue": {"number": 9, "pull_request": {"url": "x"}, "user": {"login": "author"}},
        "comment": {"id": 77, "body": "/gitops validate", "user": {"login": "rev", "type": "User"}},
        "changes": {"body": {"from": "/gitops help"}},
    }
    event = comment_event(payload, "d-9")
    assert event is not None
    assert (event.installation_id, event.repo_full_name, event.pull_number, event.comment_id, event.author,
            event.pull_author, event.previous_body, event.delivery_id) == (
        5, "acme/shop", 9, 77, "rev", "author", "/gitops help", "d-9")
    del payload["issue"]["pull_request"]
    assert comment_event(payload) is None
    payload["issue"]["pull_request"] = {"url": "x"}
    payload["comment"]["user"]["type"] = "Bot"
    assert comment_event(payload) is None


@pytest.mark.parametrize(("body", "expected"), [
    ("/gitops help", True), ("text\n   /infra plan", True), ("no command here", False), ("see a/b", False),
])
def test_may_hold_command(body: str, expected: bool) -> None:
    assert may_hold_command(body) is expected


def test_approve_policies_takes_the_head_sha_it_was_written_for() -> None:
    [command] = parse_comment("/gitops approve-policies image-tag --sha=ABCDEF1 --reason seen")
    assert isinstance(command, Command)
    assert (command.args, command.sha, command.reason) == (("image-tag",), "abcdef1", "seen")


def test_comment_event_knows_when_the_text_was_written() -> None:
    comment = {"id": 7, "body": "/gitops validate", "user": {"login": "rev", "type": "User"},
               "created_at": "2026-01-01T10:00:00Z", "updated_at": "2026-01-02T10:00:00Z"}
    base = {"installation": {"id": 5}, "repository": {"full_name": "acme/shop"},
            "issue": {"number": 9, "pull_request": {"url": "x"}, "user": {"login": "author"}}, "comment": comment}
    created = comment_event({**base, "action": "created"})
    edited = comment_event({**base, "action": "edited", "changes": {"body": {"from": ""}}})
    assert created is not None and edited is not None
    assert (created.written_at, edited.written_at) == ("2026-01-01T10:00:00Z", "2026-01-02T10:00:00Z")
