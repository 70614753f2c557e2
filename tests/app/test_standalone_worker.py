"""`python -m bot.app.worker` with the SQLite queue: web processes only accept, a separate process evaluates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.gunicorn import REPO_ROOT, post_webhook, run_gunicorn, subprocess_env, wait_for
from tests.support.recording_service import read_records

from .conftest import SECRET, base_env, load_example


def test_web_without_threads_and_a_standalone_sqlite_worker(private_key_pem: str, tmp_path: Path) -> None:
    env = base_env(private_key_pem, tmp_path, GITOPS_BOT_WORKER_THREADS="0")
    with run_gunicorn(env, workers=1) as url:
        response = post_webhook(url, "check_suite", load_example("check_suite.requested"), SECRET, "s-1")
        assert response.status_code == 202
        worker = subprocess.Popen(
            [sys.executable, "-m", "bot.app.worker"],
            cwd=REPO_ROOT,
            env=subprocess_env(env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            records = wait_for(lambda: read_records(tmp_path / "requests.jsonl"))
        finally:
            worker.terminate()
            _, stderr = worker.communicate(timeout=20)
    # Evaluated in the worker's evaluation process (its child), never in the web process.
    assert [(r["delivery_id"], r["trigger"], r["base_sha"], r["ppid"]) for r in records] == [
        ("s-1", "check_suite.requested", None, worker.pid)
    ]
    assert worker.returncode == 0, stderr.decode()


def test_worker_exits_2_naming_the_missing_variable(tmp_path: Path) -> None:
    env = {
        "GITHUB_APP_ID": "1",
        "GITHUB_APP_PRIVATE_KEY": "",
        "GITHUB_APP_PRIVATE_KEY_PATH": "",
        "GITHUB_WEBHOOK_SECRET": "x",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.app.worker"],
        cwd=REPO_ROOT,
        env=subprocess_env(env),
        capture_output=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert (
        "gitops-bot-worker: GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_PATH is required"
        in done.stderr.decode()
    )
