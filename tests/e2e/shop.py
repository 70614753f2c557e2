"""The shop repository the end-to-end tests serve, its pull requests, and webhook payloads for them."""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.app.queue.sqlite_queue import SqliteQueue
from tests.support.github_standin import (
    REPO_ROOT,
    FixtureRepo,
    GitHubStandIn,
    PullSpec,
    app_private_key,
    fake_sha,
    load_tree,
)
from tests.support.gunicorn import GunicornServer, post_webhook

SECRET = "e2e-webhook-secret"
REPO = "acme/shop"
FORK = "contributor/shop"
INSTALLATION = 77
SLUG = "gitops-policy-bot"

@dataclass
class App:
    """A running App under gunicorn, with its data directory (for the durable queue's view)."""

    url: str
    server: GunicornServer
    data_dir: Path

    def queue_status(self, delivery_id: str) -> dict[str, Any] | None:
        return SqliteQueue(self.data_dir / "queue.sqlite3", worker_threads=0).status(delivery_id)


def app_env(standin: GitHubStandIn, data_dir: str, **extra: str) -> dict[str, str]:
    """The environment of a real App talking to ``standin``; ``extra`` adds or overrides variables."""
    return {
        "GITHUB_APP_ID": "4242",
        "GITHUB_APP_PRIVATE_KEY": app_private_key(),
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "GITHUB_API_URL": standin.base_url,
        "GITOPS_BOT_APP_SLUG": SLUG,
        "GITOPS_BOT_DATA_DIR": data_dir,
        # Several worker threads: each keeps its own compiled policies (regorus engines may not cross threads).
        "GITOPS_BOT_WORKER_THREADS": "3",
        "GITOPS_BOT_REDELIVERY_INTERVAL_SECONDS": "0",  # the missed-delivery tests turn it on
        # GitHub wants a minute of quiet after a secondary limit; the stand-in's are injected by the tests.
        "GITOPS_BOT_SECONDARY_BACKOFF_SECONDS": "1",
        **extra,
    }


BASE = fake_sha("e2e-base")
SHAS = {name: fake_sha(f"e2e-{name}") for name in
        ("compliant", "violating", "violating-2", "policy-edit", "many", "merge-group", "fork", "flaky")}
PULLS = {"compliant": 1, "violating": 2, "policy-edit": 3, "many": 5, "fork": 6, "flaky": 8}


def many_violations() -> bytes:
    """30 Deployments with unpinned images and no securityContext: well over 50 findings."""
    docs = []
    for i in range(30):
        docs.append(f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: batch-{i}
  namespace: shop
spec:
  selector:
    matchLabels: {{app: batch-{i}}}
  template:
    metadata:
      labels: {{app: batch-{i}}}
    spec:
      containers:
        - name: job
          image: busybox:latest
""")
    return "---\n".join(docs).encode()


def shop_repo() -> FixtureRepo:
    v2 = load_tree("shop/base", "shop/pr-violating")
    v2["apps/worker/deployment.yaml"] = v2["apps/worker/deployment.yaml"].replace(b"replicas: 1", b"replicas: 3")
    commits = {
        BASE: load_tree("shop/base"),
        SHAS["compliant"]: load_tree("shop/base", "shop/pr-compliant"),
        SHAS["violating"]: load_tree("shop/base", "shop/pr-violating"),
        SHAS["violating-2"]: v2,
        SHAS["policy-edit"]: load_tree("shop/base", "shop/pr-policy-edit"),
        SHAS["many"]: load_tree("shop/base", extra={"apps/batch/jobs.yaml": many_violations()}),
        SHAS["merge-group"]: load_tree("shop/base", "shop/pr-violating"),
        SHAS["fork"]: load_tree("shop/base", "shop/pr-compliant"),
        SHAS["flaky"]: load_tree("shop/base", "shop/pr-compliant"),
    }
    pulls = {number: PullSpec(number, BASE, SHAS[name]) for name, number in PULLS.items()}
    pulls[PULLS["fork"]].head_repo = FORK
    return FixtureRepo(REPO, commits=commits, pulls=pulls, protection={"main": ["GitOps policy"]})


def example(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((REPO_ROOT / "fixtures" / "github" / "webhooks" / f"{name}.json").read_text()))


def pull_request_payload(action: str, pull: PullSpec, standin: GitHubStandIn) -> dict[str, Any]:
    payload = example("pull_request.opened")
    payload["action"] = action
    payload["number"] = pull.number
    payload["installation"]["id"] = INSTALLATION
    payload["repository"]["full_name"] = REPO
    payload["repository"]["name"] = REPO.split("/")[1]
    pr = payload["pull_request"]
    pr["number"] = pull.number
    pr["head"]["sha"] = pull.head_sha
    pr["head"]["repo"]["full_name"] = pull.head_repo or REPO
    pr["base"]["sha"] = pull.base_sha
    pr["base"]["ref"] = pull.base_ref
    pr["base"]["repo"]["full_name"] = REPO
    if action == "synchronize":
        payload["before"], payload["after"] = BASE, pull.head_sha
    return payload


def send(url: str, event: str, payload: dict[str, Any]) -> None:
    response = post_webhook(url, event, payload, SECRET, str(uuid.uuid4()))
    assert response.status_code == 202, response.text
