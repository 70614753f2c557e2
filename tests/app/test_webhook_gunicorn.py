"""POST /webhook against the real app under gunicorn, over real sockets, with a recording service."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.app.queue.sqlite_queue import SqliteQueue
from tests.support.gunicorn import GunicornServer, post_webhook, run_gunicorn, sign, wait_for
from tests.support.recording_service import read_records

from .conftest import APP_ID, SECRET, base_env, load_example

PR_HEAD = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
PR_BASE = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
MAX_BODY = 40_000  # above every vendored example (<= 28 kB), small enough to fit socket buffers
_ids = itertools.count()


class App:
    def __init__(self, url: str, data_dir: Path) -> None:
        self.url = url
        self.data_dir = data_dir
        self.queue = SqliteQueue(data_dir / "queue.sqlite3", worker_threads=0)

    def post(
        self, event: str, payload: Any, delivery_id: str | None = None, **kwargs: Any
    ) -> requests.Response:
        return post_webhook(
            self.url, event, payload, SECRET, delivery_id or f"delivery-{next(_ids)}", **kwargs
        )

    def records(self, delivery_id: str) -> list[dict[str, Any]]:
        return [r for r in read_records(self.data_dir / "requests.jsonl") if r["delivery_id"] == delivery_id]

    def wait_done(self, delivery_id: str) -> None:
        wait_for(lambda: (self.queue.status(delivery_id) or {}).get("status") == "done")


@pytest.fixture(scope="module")
def app(private_key_pem: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    data_dir = tmp_path_factory.mktemp("web")
    env = base_env(private_key_pem, data_dir, GITOPS_BOT_MAX_BODY_BYTES=str(MAX_BODY))
    with run_gunicorn(env, workers=2) as url:
        yield App(url, data_dir)


def request(head: str, base: str | None, pull: int | None, trigger: str, **fields: Any) -> dict[str, Any]:
    return {
        "installation_id": fields.get("installation_id", 1),
        "repo_full_name": fields.get("repo", "Codertocat/Hello-World"),
        "head_sha": head,
        "base_sha": base,
        "pull_number": pull,
        "trigger": trigger,
        "head_repo_full_name": fields.get("head_repo", ""),
        "approvals_from": fields.get("approvals_from"),
        "pull": fields.get("pull_object"),
    }


def adapt_check_run_to_our_app(payload: dict[str, Any]) -> dict[str, Any]:
    payload["check_run"]["app"]["id"] = APP_ID
    return payload


def adapt_sender_to_a_user(payload: dict[str, Any]) -> dict[str, Any]:
    payload["sender"].update(login="Codertocat", type="User")
    return payload


PR_FIELDS = {"head_repo": "Codertocat/Hello-World", "pull_object": {  # the payload's pull request, handed on as is
    "number": 2, "head_sha": PR_HEAD, "base_sha": PR_BASE, "base_ref": "master", "author": "Codertocat",
    "html_url": "https://github.com/Codertocat/Hello-World/pull/2", "labels": ["bug"]}}
EVALUATED = [
    ("pull_request.opened", None, [request(PR_HEAD, PR_BASE, 2, "pull_request.opened", **PR_FIELDS)]),
    (
        "pull_request.synchronize",
        None,
        [request(PR_HEAD, PR_BASE, 2, "pull_request.synchronize", **PR_FIELDS)],
    ),
    ("pull_request.reopened", None, [request(PR_HEAD, PR_BASE, 2, "pull_request.reopened", **PR_FIELDS)]),
    (
        "pull_request.ready_for_review",
        None,
        [request(PR_HEAD, PR_BASE, 2, "pull_request.ready_for_review", **PR_FIELDS)],
    ),
    (
        "check_suite.requested",
        None,
        [request(PR_BASE, None, None, "check_suite.requested", installation_id=957387)],
    ),
    (
        "check_suite.rerequested",
        adapt_sender_to_a_user,
        [request(PR_HEAD, PR_BASE, 2, "check_suite.rerequested", installation_id=957387)],
    ),
    (
        "check_run.rerequested",
        adapt_check_run_to_our_app,
        [
            request(
                "d6fde92930d4715a2b49857d24b940956b26d2d3",
                None,
                None,
                "check_run.rerequested",
                repo="github/hello-world",
            )
        ],
    ),
    (
        "check_run.requested_action",
        None,
        [
            request(
                "5bd5f196a46b8222fb7484f05faba41a73cf34bd",
                "45eee468647309e9e6cdb2a88a3b460a59771fef",
                26764,
                "check_run.requested_action",
                installation_id=690857,
                repo="electron/electron",
            )
        ],
    ),
    (
        "merge_group.checks_requested",
        None,
        [
            request(
                "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d",
                "380387fbc80638b734a49e1be1c4dfec1c01b33c",
                None,
                "merge_group.checks_requested",
                repo="octo-org/octo-repo",
                approvals_from=104,
            )
        ],
    ),
]


@pytest.mark.parametrize(("example", "adapt", "expected"), EVALUATED, ids=[e[0] for e in EVALUATED])
def test_signed_example_is_queued_and_evaluated_once(
    app: App, example: str, adapt: Any, expected: list
) -> None:
    payload = load_example(example)
    payload = adapt(payload) if adapt else payload
    delivery_id = f"{example}-{next(_ids)}"
    response = app.post(example.split(".")[0], payload, delivery_id)
    assert (response.status_code, response.json()) == (202, {"status": "queued"})
    app.wait_done(delivery_id)
    recorded = app.records(delivery_id)
    assert [
        # updated_at / before_sha (who supersedes whom) are checked in test_handlers.py
        {k: v for k, v in r.items() if k not in ("phase", "pid", "ppid", "delivery_id", "updated_at", "before_sha")}
        for r in recorded
    ] == expected


@pytest.mark.parametrize("example", ["issue_comment.created", "installation.created"])
def test_logged_only_events_are_accepted_and_evaluate_nothing(app: App, example: str) -> None:
    delivery_id = f"{example}-{next(_ids)}"
    response = app.post(example.split(".")[0], load_example(example), delivery_id)
    assert response.status_code == 202
    app.wait_done(delivery_id)
    assert app.records(delivery_id) == []


@pytest.mark.parametrize(
    ("event", "example", "adapt", "reason"),
    [
        ("ping", "ping", None, "no handler for ping"),
        ("push", "push", None, "no handler for push"),
        ("deployment", "push", None, "no handler for deployment"),
        ("check_suite", "check_suite.rerequested", None, "event caused by this App"),
        ("check_run", "check_run.rerequested", None, "check run of another App"),
        (
            "issue_comment",
            "issue_comment.created",
            lambda p: p["sender"].update(login="dependabot[bot]", type="Bot"),
            "comment by a bot",
        ),
    ],
)
def test_uninteresting_deliveries_are_ignored_and_not_queued(
    app: App, event: str, example: str, adapt: Any, reason: str
) -> None:
    payload = load_example(example)
    if adapt:
        adapt(payload)
    delivery_id = f"ignored-{next(_ids)}"
    response = app.post(event, payload, delivery_id)
    assert (response.status_code, response.json()) == (200, {"status": "ignored", "reason": reason})
    assert app.queue.status(delivery_id) is None


@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64, "sha1=abc", sign(b"other body", SECRET)])
def test_bad_or_missing_signature_is_rejected_and_nothing_queued(app: App, signature: str) -> None:
    delivery_id = f"forged-{next(_ids)}"
    response = app.post("pull_request", load_example("pull_request.opened"), delivery_id, signature=signature)
    assert (response.status_code, response.json()) == (
        401,
        {"status": "error", "reason": "invalid signature"},
    )
    assert app.queue.status(delivery_id) is None


def test_signature_is_checked_before_json_parsing(app: App) -> None:
    response = app.post("pull_request", b"{not json", signature="sha256=bad")
    assert response.status_code == 401


def test_malformed_json_is_a_bad_request(app: App) -> None:
    delivery_id = f"malformed-{next(_ids)}"
    response = app.post("pull_request", b'{"action": "opened",', delivery_id)
    assert (response.status_code, response.json()["reason"]) == (400, "body is not a JSON object")
    assert app.queue.status(delivery_id) is None


def test_missing_event_header_is_a_bad_request(app: App) -> None:
    body = b'{"action": "opened"}'
    headers = {"X-GitHub-Delivery": "no-event", "X-Hub-Signature-256": sign(body, SECRET)}
    response = requests.post(app.url + "/webhook", data=body, headers=headers, timeout=10)
    assert (response.status_code, response.json()["reason"]) == (400, "missing GitHub headers")


def test_oversized_body_is_rejected(app: App) -> None:
    payload = load_example("pull_request.opened")
    payload["pull_request"]["body"] = "x" * MAX_BODY
    delivery_id = f"huge-{next(_ids)}"
    response = app.post("pull_request", payload, delivery_id)
    assert response.status_code == 413
    assert app.queue.status(delivery_id) is None


def test_redelivery_with_the_same_id_is_processed_once(app: App) -> None:
    payload = load_example("pull_request.synchronize")
    delivery_id = f"redelivered-{next(_ids)}"
    first = app.post("pull_request", payload, delivery_id)
    second = app.post("pull_request", payload, delivery_id)
    assert (first.status_code, second.status_code, second.json()) == (202, 200, {"status": "duplicate"})
    app.wait_done(delivery_id)
    third = app.post("pull_request", payload, delivery_id)  # after it ran, too
    assert third.json() == {"status": "duplicate"}
    assert len(app.records(delivery_id)) == 1
    assert app.queue.status(delivery_id)["attempts"] == 1


def test_many_deliveries_across_two_workers_each_run_exactly_once(app: App) -> None:
    ids = [f"burst-{next(_ids)}" for _ in range(12)]
    for delivery_id in ids + ids:
        assert app.post(
            "merge_group", load_example("merge_group.checks_requested"), delivery_id
        ).status_code in (200, 202)
    for delivery_id in ids:
        app.wait_done(delivery_id)
    assert [len(app.records(d)) for d in ids] == [1] * 12


def test_health_and_readiness(app: App) -> None:
    assert requests.get(app.url + "/healthz", timeout=5).json()["status"] == "ok"
    ready = requests.get(app.url + "/readyz", timeout=5)
    assert (ready.status_code, ready.json()) == (200, {"status": "ready", "queue": "sqlite"})


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} not in /metrics"
    return float(match.group(1))


def test_metrics_count_deliveries_by_result(private_key_pem: str, tmp_path: Path) -> None:
    with run_gunicorn(base_env(private_key_pem, tmp_path), workers=1) as url:
        app = App(url, tmp_path)
        payload = load_example("pull_request.opened")
        assert app.post("pull_request", payload, "m-1").status_code == 202
        assert app.post("pull_request", payload, "m-1").status_code == 200
        assert app.post("pull_request", payload, "m-2", signature="sha256=00").status_code == 401
        assert app.post("deployment", {"action": "created"}, "m-3").status_code == 200
        app.wait_done("m-1")
        wait_for(lambda: "gitops_bot_evaluations_total" in requests.get(url + "/metrics", timeout=5).text)
        text = requests.get(url + "/metrics", timeout=5).text
    assert metric(text, 'gitops_bot_deliveries_total{event="pull_request",result="queued"}') == 1
    assert metric(text, 'gitops_bot_deliveries_total{event="pull_request",result="duplicate"}') == 1
    assert metric(text, 'gitops_bot_deliveries_total{event="pull_request",result="invalid_signature"}') == 1
    assert metric(text, 'gitops_bot_deliveries_total{event="other",result="ignored"}') == 1
    assert metric(text, "gitops_bot_signature_failures_total") == 1
    assert metric(text, "gitops_bot_duplicate_deliveries_total") == 1
    assert metric(text, "gitops_bot_queue_depth") == 0
    assert metric(text, 'gitops_bot_job_duration_seconds_count{event="pull_request"}') == 1
    assert metric(text, 'gitops_bot_evaluations_total{outcome="success"}') == 1


def test_gunicorn_refuses_to_start_without_a_webhook_secret(private_key_pem: str, tmp_path: Path) -> None:
    server = GunicornServer(base_env(private_key_pem, tmp_path, GITHUB_WEBHOOK_SECRET=""))
    try:
        server.process.wait(30)
        assert server.process.returncode != 0
        assert "ConfigError: GITHUB_WEBHOOK_SECRET is required" in server.output()
    finally:
        server.stop()
