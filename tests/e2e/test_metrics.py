"""GitHub's answers, counted in the evaluation processes, add up on /metrics of a two-worker server."""

from __future__ import annotations

import re
from pathlib import Path

import requests

from tests.e2e.shop import INSTALLATION, PULLS, REPO, SHAS, app_env, pull_request_payload, send
from tests.support.github_standin import GitHubStandIn
from tests.support.gunicorn import run_gunicorn, wait_for


def github_metrics(url: str) -> dict[str, float]:
    text = requests.get(url + "/metrics", timeout=10).text
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"^(gitops_bot_(?:github|evaluations)\w*\{[^}]*\}) (\S+)$", text, re.MULTILINE)}


def token_calls(standin: GitHubStandIn) -> list[str]:
    """Requests made with an installation token (the App's JWT requests only mint tokens)."""
    return [r.path for r in standin.requests if r.authorization.startswith("token ")]


def test_every_github_answer_is_counted_by_status_with_the_rate_limit_left(
    standin: GitHubStandIn, tmp_path: Path
) -> None:
    env = app_env(standin, str(tmp_path), GITOPS_BOT_WORKER_THREADS="2")
    with run_gunicorn(env, workers=2) as url:
        standin.fail_next(2, status=502, path_contains="/pulls/")  # retried: two answers more, both counted
        for name in ("compliant", "violating"):
            send(url, "pull_request", pull_request_payload("opened", standin.repos[REPO].pulls[PULLS[name]], standin))
        wait_for(lambda: all(any(r["status"] == "completed" for r in standin.runs_for(SHAS[name]))
                             for name in ("compliant", "violating")), timeout=90)

        def settled() -> tuple[dict[str, float], list[str]] | None:  # the last calls follow the check run
            calls = token_calls(standin)
            metrics = github_metrics(url)
            counted = sum(v for k, v in metrics.items() if k.startswith("gitops_bot_github_api_calls_total"))
            finished = sum(v for k, v in metrics.items() if k.startswith("gitops_bot_evaluations_total"))
            return (metrics, calls) if finished == 2 and counted == len(calls) else None

        metrics, calls = wait_for(settled, timeout=60)
    assert metrics['gitops_bot_github_api_calls_total{status="502"}'] == 2
    assert sum(metrics.get(f'gitops_bot_github_api_calls_total{{status="{status}"}}', 0)
               for status in (200, 201, 304)) == len(calls) - 2
    assert metrics.get('gitops_bot_github_api_calls_total{status="304"}', 0) == standin.not_modified
    rest = [path for path in calls if path != "/graphql"]  # GraphQL has a window of its own
    remaining = metrics[f'gitops_bot_github_rate_limit_remaining{{installation="{INSTALLATION}",resource="core"}}']
    assert 5000 - len(rest) <= remaining < 5000
    assert metrics['gitops_bot_evaluations_total{outcome="success"}'] == 1
    assert metrics['gitops_bot_evaluations_total{outcome="failure"}'] == 1
