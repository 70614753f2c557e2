"""A delivery that failed at GitHub while the App was down is redelivered, once, and its check run completes."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import requests

from tests.e2e.shop import PULLS, REPO, SECRET, app_env, pull_request_payload, shop_repo
from tests.support.github_standin import GitHubStandIn, all_request_problems
from tests.support.gunicorn import REPO_ROOT, free_port, serve_gunicorn, subprocess_env, wait_for
from tests.support.hook_deliveries import FAILED_TO_CONNECT

ATTEMPTS = r"/app/hook/deliveries/\d+/attempts"

# Two processes run one recovery each at the same moment, ignoring the run lease: the guid ledger alone
# must keep the delivery from being redelivered twice.
RUN_NOW = """
import sys
from bot.app.queue import make_queue
from bot.app.redelivery import RecoveryLoop
from bot.app.settings import AppSettings
settings = AppSettings.from_env()
sys.stdin.readline()  # both start together
report = RecoveryLoop(settings, make_queue(settings).received).run()
print(len(report.redelivered), report.already_redelivered)
"""


def completed_run(standin: GitHubStandIn, sha: str) -> dict[str, object] | None:
    runs = [r for r in standin.runs_for(sha) if r["status"] == "completed"]
    return runs[0] if runs else None


def test_a_delivery_missed_while_the_app_was_down_is_recovered_once(tmp_path: Path) -> None:
    standin = GitHubStandIn([shop_repo()])
    repo = shop_repo()
    compliant, violating, policy_edit = (repo.pulls[PULLS[n]] for n in ("compliant", "violating", "policy-edit"))
    port = free_port()
    data_dir = str(tmp_path / "data")
    with standin.serving():
        standin.hook.hook_to(f"http://127.0.0.1:{port}", SECRET)
        # 1. The App answers, but too late for GitHub: recorded as failed, processed here all the same.
        with serve_gunicorn(app_env(standin, data_dir), port):
            slow = standin.hook.send("pull_request", pull_request_payload("opened", compliant, standin),
                                     record_as=("timed out", 0))
            wait_for(lambda: completed_run(standin, compliant.head_sha), timeout=60)
        # 2. The App is down: GitHub cannot deliver.
        missed = standin.hook.send("pull_request", pull_request_payload("opened", violating, standin))
        assert standin.hook.attempts(missed)[0]["status"] == FAILED_TO_CONNECT[0]
        # 3. The App comes back with two gunicorn workers, each with a recovery thread.
        env = app_env(standin, data_dir, GITOPS_BOT_REDELIVERY_INTERVAL_SECONDS="300")
        with serve_gunicorn(env, port, workers=2) as server:
            run = wait_for(lambda: completed_run(standin, violating.head_sha), timeout=90)
            assert run["conclusion"] == "failure"
            standin.hook.wait_idle()
            assert [a["status"] for a in standin.hook.attempts(missed)] == [FAILED_TO_CONNECT[0], "OK"]
            assert [a["status"] for a in standin.hook.attempts(slow)] == ["timed out"]  # not redelivered
            [asked] = standin.requests_to("POST", ATTEMPTS)
            assert asked.path == f"/app/hook/deliveries/{standin.hook.attempts(missed)[0]['id']}/attempts"
            assert len(standin.requests_to("GET", "/app/hook/deliveries")) == 1  # one run for both workers
            assert "1 missed, 1 redelivered" in server.output()
            assert "gitops_bot_redeliveries_total 1.0" in requests.get(server.url + "/metrics", timeout=10).text

            # 4. Two processes recover at once (no lease): one redelivery between them.
            lost = standin.hook.plant("pull_request", pull_request_payload("opened", policy_edit, standin),
                                      status=FAILED_TO_CONNECT, delivered_at=datetime.now(UTC))
            runners = [subprocess.Popen([sys.executable, "-c", RUN_NOW], cwd=REPO_ROOT, env=subprocess_env(env),
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                       for _ in range(2)]
            for runner in runners:
                assert runner.stdin is not None
                runner.stdin.write("go\n")
                runner.stdin.flush()
            redelivered = sorted(int(runner.communicate(timeout=60)[0].split()[0]) for runner in runners)
            assert redelivered == [0, 1]
            lost_asked = f"/app/hook/deliveries/{lost['id']}/attempts"
            assert [r.path for r in standin.requests_to("POST", ATTEMPTS)] == [asked.path, lost_asked]
            wait_for(lambda: completed_run(standin, policy_edit.head_sha), timeout=90)
            standin.hook.wait_idle()
            assert [a["redelivery"] for a in standin.hook.attempts(lost["guid"])] == [False, True]
    assert len(standin.runs_for(violating.head_sha)) == 1
    assert len(standin.comments_on(REPO, violating.number)) == 1
    assert all_request_problems(standin.requests) == []


def test_recovery_can_be_turned_off(tmp_path: Path) -> None:
    standin = GitHubStandIn([shop_repo()])
    port = free_port()
    with standin.serving():
        standin.hook.hook_to(f"http://127.0.0.1:{port}", SECRET)
        missed = standin.hook.send("pull_request", pull_request_payload(
            "opened", shop_repo().pulls[PULLS["compliant"]], standin))
        env = app_env(standin, str(tmp_path), GITOPS_BOT_REDELIVERY_INTERVAL_SECONDS="0")
        with serve_gunicorn(env, port) as server:  # healthy: past post_worker_init, where recovery starts
            assert "worker threads started" in server.output()
            assert "missed-delivery recovery" not in server.output()
        assert standin.requests_to("GET", "/app/hook/deliveries") == []
        assert len(standin.hook.attempts(missed)) == 1
