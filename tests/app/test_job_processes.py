"""Evaluation processes: a job runs in a child, and a death, an overrun or a raise comes back as a `JobError`."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from bot.queue.processes import JobError, JobProcessRunner
from bot.settings import AppSettings
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
