"""Evaluation processes: a job runs in a child, and a death, an overrun or a raise comes back as a `JobError`."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from bot.app.queue.processes import JobError, JobProcessRunner
from bot.app.settings import AppSettings
from tests.support.recording_service import read_records

from .conftest import APP_ID, load_example


def settings(tmp_path: Path) -> AppSettings:
    return AppSettings(app_id=APP_ID, private_key="unused", webhook_secret="unused", data_dir=tmp_path,
                       service_factory="tests.support.recording_service:make")


@pytest.fixture
def runner(tmp_path: Path) -> Any:
    outcomes: list[str] = []
    made = JobProcessRunner(settings(tmp_path), timeout_seconds=60, on_outcome=outcomes.append)
    made.outcomes = outcomes  # type: ignore[attr-defined]
    yield made
    made.close()


def test_jobs_run_in_one_long_lived_child_that_reports_outcomes(runner: Any, tmp_path: Path) -> None:
    payload = load_example("pull_request.opened")
    runner("pull_request", payload, "p-1")
    runner("pull_request", payload, "p-2")
    records = read_records(tmp_path / "requests.jsonl")
    assert [r["delivery_id"] for r in records] == ["p-1", "p-2"]
    assert {r["ppid"] for r in records} == {os.getpid()}
    assert len({r["pid"] for r in records}) == 1 and records[0]["pid"] != os.getpid()
    assert runner.outcomes == ["success", "success"]


def test_a_child_killed_mid_job_is_a_retryable_error_and_is_replaced(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("GITOPS_TEST_SERVICE_SLEEP", "300")  # the child inherits it: every job hangs
    runner = JobProcessRunner(settings(tmp_path), timeout_seconds=120)
    try:
        import threading

        errors: list[JobError] = []

        def run() -> None:
            try:
                runner("pull_request", load_example("pull_request.opened"), "k-1")
            except JobError as e:
                errors.append(e)

        thread = threading.Thread(target=run)
        thread.start()
        from tests.support.gunicorn import wait_for

        wait_for(lambda: read_records(tmp_path / "requests.jsonl", phase="start"), timeout=60)
        [pid] = runner.pids()
        os.kill(pid, signal.SIGKILL)
        thread.join(60)
        [error] = errors
        assert str(error) == "the evaluation process died (signal 9) during the evaluation"
        assert (error.retryable, error.leaves_work_open) == (True, True)
        assert runner.pids() == []
    finally:
        runner.close()


def test_an_overrun_is_killed_and_not_retried(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("GITOPS_TEST_SERVICE_SLEEP", "300")
    runner = JobProcessRunner(settings(tmp_path), timeout_seconds=2)
    try:
        with pytest.raises(JobError) as raised:
            runner("pull_request", load_example("pull_request.opened"), "t-1")
        assert (raised.value.retryable, raised.value.leaves_work_open) == (False, True)
        assert "ran longer than 2 s" in str(raised.value)
        assert runner.pids() == []
    finally:
        runner.close()


def test_an_error_raised_by_the_job_comes_back_with_its_retry_verdict(runner: Any) -> None:
    payload = load_example("pull_request.opened")
    del payload["pull_request"]["head"]  # the handler indexes it: KeyError in the child
    with pytest.raises(JobError) as raised:
        runner("pull_request", payload, "e-1")
    assert str(raised.value) == "KeyError: 'head'"
    assert (raised.value.retryable, raised.value.leaves_work_open) == (True, False)
    assert len(runner.pids()) == 1  # the child survived its job's error


PARENT = """
import sys
from pathlib import Path
from bot.app.queue.processes import JobProcessRunner
from bot.app.settings import AppSettings
settings = AppSettings(app_id=1, private_key="unused", webhook_secret="unused", data_dir=Path(sys.argv[1]),
                       service_factory="tests.support.recording_service:make")
JobProcessRunner(settings, timeout_seconds=600)("check_suite", {"installation": {"id": 1},
    "repository": {"full_name": "a/b"}, "action": "requested",
    "check_suite": {"head_sha": "a" * 40, "pull_requests": []}}, "orphan-1")
"""


def test_an_evaluation_process_dies_with_its_parent(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.support.gunicorn import REPO_ROOT, subprocess_env, wait_for

    env = subprocess_env({"GITOPS_TEST_SERVICE_SLEEP": "300"})
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(tmp_path)], cwd=REPO_ROOT, env=env)
    try:
        [started] = wait_for(lambda: read_records(tmp_path / "requests.jsonl", phase="start"), timeout=60)
        assert started["ppid"] == parent.pid
    finally:
        parent.kill()  # SIGKILL: the parent cannot clean up
        parent.wait(10)

    def gone() -> bool:
        try:
            os.kill(started["pid"], 0)
        except ProcessLookupError:
            return True
        return _is_zombie(started["pid"])

    assert wait_for(gone, timeout=30)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except OSError:
        return True
