"""A stand-in for `bot.app.service.GitHubService` that appends each request to a JSON-lines file.

Loaded inside gunicorn / RQ worker subprocesses through
GITOPS_BOT_SERVICE_FACTORY=tests.support.recording_service:make. Env knobs:
GITOPS_TEST_RECORD_FILE (default <data dir>/requests.jsonl), GITOPS_TEST_SERVICE_SLEEP
(seconds to sleep inside evaluate, to kill a worker mid-job).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RecordedOutcome:
    conclusion: str = "success"


class RecordingService:
    def __init__(self, path: Path, sleep_seconds: float = 0.0) -> None:
        self.path = path
        self.sleep_seconds = sleep_seconds

    def _append(self, phase: str, request: Any) -> None:
        line = json.dumps({"phase": phase, "pid": os.getpid(), "ppid": os.getppid(), **dataclasses.asdict(request)})
        with open(self.path, "a", encoding="utf-8") as out:  # O_APPEND: one whole line per write
            out.write(line + "\n")

    def evaluate(self, request: Any) -> RecordedOutcome:
        self._append("start", request)
        if self.sleep_seconds:
            time.sleep(self.sleep_seconds)
        self._append("finish", request)
        return RecordedOutcome()


def make(settings: Any) -> RecordingService:
    path = Path(os.environ.get("GITOPS_TEST_RECORD_FILE") or Path(settings.data_dir) / "requests.jsonl")
    return RecordingService(path, float(os.environ.get("GITOPS_TEST_SERVICE_SLEEP", "0")))


def read_records(path: Path, phase: str | None = "finish") -> list[dict[str, Any]]:
    """Recorded requests (only those of ``phase`` unless None), in order."""
    if not path.exists():
        return []
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in records if phase is None or r["phase"] == phase]
