"""Issue 8, item 3, as an attacker tries it: `/gitops plan` on a PR whose kustomizations dodge the analysis.

Real `kubectl kustomize` on PATH, the App's plan path (`post_plan`) over the GitHub
stand-in, and a loopback HTTP listener that every attack points at: it must record nothing.
"""

from __future__ import annotations

import http.server
import shutil
import threading
from collections.abc import Iterator

import pytest

from bot.app.service import post_plan
from bot.github.client import GitHubClientFactory
from bot.github.pull_context import GitHubPullContext
from bot.github.retry import RetryPolicy
from tests.support.github_standin import FixtureRepo, GitHubStandIn, PullSpec, app_private_key, fake_sha

REPO = "acme/hostile"
BASE, HEAD = fake_sha("hostile-base"), fake_sha("hostile-head")
BOT = "gitops-policy-bot[bot]"


class _Listener(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        _Listener.hits.append(self.path)
        body = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fetched-from-the-attacker\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[str]:
    _Listener.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Listener)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def test_bypasses_of_the_old_reader_are_refused_and_nothing_is_fetched(listener: str):
    assert shutil.which("kubectl") or shutil.which("kustomize"), "kubectl or kustomize is required"
    remote = f"resources:\n  - {listener}/steal.yaml\n"
    head = {
        "dup/kustomization.yaml": remote + "resources:\n  - cm.yaml\n",  # duplicate key
        "docs/kustomization.yaml": "resources: [cm.yaml]\n---\n" + remote,  # several documents
        "big/kustomization.yaml": remote + "#" * 2_200_000 + "\n",  # over every size cap (the loader: 2 MiB)
        "escape/kustomization.yaml": "resources:\n  - ../../../etc\n",
        "plain/kustomization.yaml": remote,
    }
    for root in ("dup", "docs", "big", "escape", "plain"):
        head[f"{root}/cm.yaml"] = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {root}\n"
    repo = FixtureRepo(REPO, commits={BASE: {"README.md": b"x\n"}, HEAD: {"README.md": b"x\n", **{
        k: v.encode() for k, v in head.items()}}}, pulls={3: PullSpec(3, BASE, HEAD)})
    standin = GitHubStandIn([repo])
    with standin.serving():
        api = GitHubClientFactory(42, app_private_key(), standin.base_url, RetryPolicy(sleep=lambda _: None)).repo(
            1, REPO)
        post_plan(api, 3, GitHubPullContext(api, HEAD, BASE, 3), BOT)

    assert _Listener.hits == []
    [comment] = [c["body"] for c in standin.comments_on(REPO, 3)]
    assert "fetched-from-the-attacker" not in comment and "root:" not in comment
    for root, reason in [
        ("dup", "cannot be analysed"),
        ("docs", "holds 2 YAML documents"),
        ("big", "over the 262,144-byte limit"),
        ("escape", "points outside the repository"),
        ("plain", "remote bases and resources are never fetched"),
    ]:
        assert f"{root}/kustomization.yaml: " in comment and reason in comment, (root, comment)
