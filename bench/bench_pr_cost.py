"""What one pull request costs the App against the GitHub stand-in: API calls by kind, bytes, seconds, RSS.

    python bench/bench_pr_cost.py                          # 500, 5,000 and 20,000 documents
    python bench/bench_pr_cost.py --sizes 500 5000 --changed 1

For each repository size, plain (manifests only) and with a kustomization per app
(10 documents per app), and for 1 and 20 changed files, the App's evaluation
(`GitHubService.evaluate`: check run, comment, review, everything after the queue)
runs in a fresh spawned process, so nothing is shared with this one:

- ``cold``: the first delivery of a new process with an empty content cache;
- ``warm``: a second delivery of the same pull request in that same process;
- ``shared``: a new process whose content cache directory the first one filled
  (what another worker, or a restarted one, pays);
- ``push``: a new process with that cache judging a new head of the same pull
  request (one more commit changing the first changed file again).

The pull request comes with the delivery, as a ``pull_request`` webhook carries it. Blobs
are read through GraphQL in batches (`bot.github.graphql_blobs`), counted as reads.
Calls and bytes are counted at the stand-in (response bodies), seconds around
``evaluate`` in the child, RSS is the child's peak. Not run by CI.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from tests.support.github_standin import (  # noqa: E402
    FixtureRepo,
    GitHubStandIn,
    PullSpec,
    app_private_key,
    fake_sha,
)
from tests.support.gitops_corpus import changed_deployments, gitops_repo  # noqa: E402

REPO = "bench/gitops"
BASE, HEAD, PUSH = fake_sha("bench-base"), fake_sha("bench-head"), fake_sha("bench-push")
DOCS_PER_APP = 10


class _ByteCounter:
    """WSGI middleware: adds each response body's size to ``total``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.total = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        for chunk in self.app(environ, start_response):
            self.total += len(chunk)
            yield chunk


def _child(api_url: str, data_dir: str, runs: int, results: Any, go: Any, head: str = HEAD) -> None:
    """Evaluate the pull request ``runs`` times with one service (one worker process)."""
    start = time.perf_counter()
    from bot.app.evaluation_service import EvaluationRequest
    from bot.app.service import GitHubService
    from bot.app.settings import AppSettings
    from bot.github.api import PullInfo
    from bot.github.retry import RetryPolicy

    imports = time.perf_counter() - start
    settings = AppSettings(app_id=42, private_key=app_private_key(), webhook_secret="s", api_url=api_url,
                           app_slug="gitops-policy-bot", data_dir=Path(data_dir))
    service = GitHubService(settings, retry_policy=RetryPolicy(sleep=lambda _: None))
    for run in range(runs):
        results.put(("ready", run))
        go.get()  # the parent has noted the stand-in's counters
        begin = time.perf_counter()
        pull = PullInfo(5, head, BASE, "main", f"https://github.com/{REPO}/pull/5")  # as the delivery carries it
        outcome = service.evaluate(EvaluationRequest(1, REPO, head, BASE, 5, "pull_request.opened", f"bench-{run}",
                                                     pull=pull))
        seconds = time.perf_counter() - begin
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        results.put(("done", run, seconds, rss, imports, outcome.conclusion))


def _measure(
    standin: GitHubStandIn, counter: _ByteCounter, data_dir: str, runs: int, head: str = HEAD
) -> list[dict[str, Any]]:
    ctx = mp.get_context("spawn")
    results, go = ctx.Queue(), ctx.Queue()
    process = ctx.Process(target=_child, args=(standin.base_url, data_dir, runs, results, go, head))
    process.start()
    out = []
    for _ in range(runs):
        assert results.get(timeout=600)[0] == "ready"
        requests_before, bytes_before = len(standin.requests), counter.total
        go.put(True)
        _, _, seconds, rss, imports, conclusion = results.get(timeout=600)
        calls = Counter(_kind(r.method, r.path) for r in standin.requests[requests_before:])
        out.append({"calls": calls, "bytes": counter.total - bytes_before, "seconds": seconds, "rss": rss,
                    "imports": imports, "conclusion": conclusion})
    process.join(60)
    return out


def _kind(method: str, path: str) -> str:
    parts = path.strip("/").split("/")
    if parts[:1] == ["repos"]:
        parts = parts[3:]
    names = [p for p in parts if not (len(p) == 40 or p.isdigit() or "..." in p)]
    return f"{method} {'/'.join(names)}"


def _scenario(documents: int, kustomize: bool, changed: int) -> dict[str, Any]:
    apps = max(1, documents // DOCS_PER_APP)
    which = changed_deployments(changed, apps)
    base = gitops_repo(documents, kustomize=kustomize, docs_per_app=DOCS_PER_APP)
    head = gitops_repo(documents, kustomize=kustomize, docs_per_app=DOCS_PER_APP, changed=which)
    first = next(p for p in sorted(head) if head[p] != base.get(p))
    pushed = {**head, first: head[first].replace(b"-next", b"-next2")}
    repo = FixtureRepo(REPO, commits={BASE: base, HEAD: head, PUSH: pushed}, pulls={5: PullSpec(5, BASE, HEAD)})
    standin = GitHubStandIn([repo])
    counter = _ByteCounter(standin.app.wsgi_app)
    standin.app.wsgi_app = counter  # type: ignore[method-assign]
    with standin.serving(), tempfile.TemporaryDirectory(prefix="bench-pr-cost-") as data_dir:
        cold, warm = _measure(standin, counter, data_dir, runs=2)
        [shared] = _measure(standin, counter, data_dir, runs=1)
        repo.pulls[5] = PullSpec(5, BASE, PUSH)
        [push] = _measure(standin, counter, data_dir, runs=1, head=PUSH)
    kustomizations = sum(1 for p in head if p.endswith("kustomization.yaml"))
    return {"docs": documents, "kustomizations": kustomizations, "changed": changed,
            "runs": {"cold": cold, "warm": warm, "shared": shared, "push": push}}


def _print(row: dict[str, Any]) -> None:
    layout = f"{row['kustomizations']} kustomizations" if row["kustomizations"] else "plain"
    for name, run in row["runs"].items():
        calls = run["calls"]
        reads = {k: n for k, n in calls.items() if k.startswith("GET") or k == "POST graphql"}  # GraphQL: blob reads
        by_kind = ", ".join(f"{k.split(' ', 1)[1] or '/'}:{n}" for k, n in sorted(reads.items()))
        writes = sum(n for k, n in calls.items() if k not in reads)
        print(f"{row['docs']:>6} docs {layout:<20} {row['changed']:>2} changed  {name:<6} "
              f"{sum(calls.values()):>4} calls  {run['bytes'] / 1024:>8.1f} KiB  {run['seconds']:>6.2f} s  "
              f"{run['rss']:>6.0f} MiB  [{run['conclusion']}]  reads {by_kind}; writes {writes}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 5000, 20000])
    parser.add_argument("--changed", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--layouts", nargs="+", default=["plain", "kustomize"], choices=["plain", "kustomize"])
    args = parser.parse_args(argv)
    print("cold: new process, empty cache; warm: same process again; shared: new process, cache filled by cold")
    for documents in args.sizes:
        for layout in args.layouts:
            for changed in args.changed:
                _print(_scenario(documents, layout == "kustomize", changed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
