"""create_app in-process with hand-written fakes for the queue and the service."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from bot.app.queue import DeliveryHandler
from bot.app.settings import AppSettings
from bot.app.web import create_app, signature_of, signature_valid
from tests.support.gunicorn import sign

from .conftest import APP_ID, SECRET, load_example


@pytest.fixture
def settings(tmp_path: Path) -> AppSettings:
    """The web front notes pull request heads in the data directory (heads.sqlite3): one per test."""
    return AppSettings(app_id=APP_ID, private_key="k", webhook_secret=SECRET, max_body_bytes=50_000, data_dir=tmp_path)


class FakeQueue:
    backend = "fake"

    def __init__(self, reachable: bool = True, broken: bool = False) -> None:
        self.reachable = reachable
        self.broken = broken
        self.jobs: dict[str, tuple[str, dict[str, Any]]] = {}
        self.handler: DeliveryHandler | None = None

    def enqueue(self, delivery_id: str, event: str, payload: dict[str, Any], *, body: bytes | None = None) -> bool:
        if self.broken:
            raise ConnectionError("queue down")
        if delivery_id in self.jobs:
            return False
        self.jobs[delivery_id] = (event, payload)
        return True

    def ping(self) -> bool:
        return self.reachable

    def depth(self) -> int:
        return len(self.jobs)

    def oldest_age(self) -> float:
        return 12.5 if self.jobs else 0.0

    def start_workers(self, handler: DeliveryHandler) -> None:
        self.handler = handler

    def stop(self, timeout: float = 5.0) -> None:
        pass


@dataclasses.dataclass
class Outcome:
    conclusion: str


class FakeService:
    def __init__(self) -> None:
        self.requests: list[Any] = []

    def evaluate(self, request: Any) -> Outcome:
        self.requests.append(request)
        return Outcome("failure")


def post(client: Any, event: str, payload: dict[str, Any], delivery_id: str) -> Any:
    body = json.dumps(payload).encode()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id,
        "X-Hub-Signature-256": sign(body, SECRET),
    }
    return client.post("/webhook", data=body, headers=headers, content_type="application/json")


def test_queued_delivery_reaches_the_service_through_the_worker_handler(settings: AppSettings) -> None:
    queue, service = FakeQueue(), FakeService()
    client = create_app(settings, service=service, queue=queue).test_client()
    response = post(client, "merge_group", load_example("merge_group.checks_requested"), "w-1")
    assert (response.status_code, response.get_json()) == (202, {"status": "queued"})
    assert queue.handler is not None  # the first request started the (fake) workers
    event, payload = queue.jobs["w-1"]
    queue.handler(event, payload, "w-1")
    assert [(r.head_sha, r.base_sha, r.pull_number, r.trigger, r.delivery_id) for r in service.requests] == [
        (
            "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d",
            "380387fbc80638b734a49e1be1c4dfec1c01b33c",
            None,
            "merge_group.checks_requested",
            "w-1",
        )
    ]
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'gitops_bot_evaluations_total{outcome="failure"} 1.0' in metrics
    assert "gitops_bot_queue_depth 1.0" in metrics
    assert "gitops_bot_queue_oldest_age_seconds 12.5" in metrics


def test_readyz_reports_an_unreachable_queue(settings: AppSettings) -> None:
    client = create_app(settings, service=FakeService(), queue=FakeQueue(reachable=False)).test_client()
    response = client.get("/readyz")
    assert (response.status_code, response.get_json()) == (
        503,
        {"status": "unavailable", "queue": "fake", "reason": "fake queue unreachable"},
    )


def test_queue_failure_answers_503_so_the_delivery_is_not_silently_lost(settings: AppSettings) -> None:
    client = create_app(settings, service=FakeService(), queue=FakeQueue(broken=True)).test_client()
    response = post(client, "pull_request", load_example("pull_request.opened"), "w-2")
    assert (response.status_code, response.get_json()) == (
        503,
        {"status": "error", "reason": "queue unavailable"},
    )


def test_body_over_the_limit_is_413_before_anything_else(settings: AppSettings) -> None:
    queue = FakeQueue()
    client = create_app(settings, service=FakeService(), queue=queue).test_client()
    response = client.post("/webhook", data=b"x" * 50_001, headers={"X-GitHub-Event": "push"})
    assert (response.status_code, response.get_json()["reason"]) == (413, "body larger than 50000 bytes")
    assert queue.jobs == {}


def test_signature_matches_githubs_documented_example() -> None:
    # From GitHub's "Validating webhook deliveries" documentation.
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert signature_of(b"Hello, World!", "It's a Secret to Everybody") == expected
    assert signature_valid(b"Hello, World!", "It's a Secret to Everybody", expected) is True
    assert signature_valid(b"Hello, World!", "It's a Secret to Everybody", None) is False
    assert (
        signature_valid(b"Hello, World!", "It's a Secret to Everybody", "sha256=\u00e9" + "0" * 63) is False
    )
