"""A service stand-in whose evaluations never finish by themselves, recording what the worker abandons.

Loaded in RQ worker subprocesses through GITOPS_BOT_SERVICE_FACTORY=tests.support.ending_service:make.
The delivery id picks how each attempt ends: ``raise-*`` raises, ``die-*`` kills its own process
(SIGKILL), ``slow-*`` sleeps past the job timeout, ``refuse-*`` raises an error no retry can change. Every line goes to GITOPS_TEST_RECORD_FILE.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any


class Refused(Exception):
    retryable = False


class EndingService:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _append(self, phase: str, request: Any, reason: str = "") -> None:
        line = json.dumps({"phase": phase, "delivery_id": request.delivery_id, "head_sha": request.head_sha,
                           "reason": reason, "pid": os.getpid()})
        with open(self.path, "a", encoding="utf-8") as out:  # O_APPEND: one whole line per write
            out.write(line + "\n")

    def evaluate(self, request: Any) -> None:
        """Opens its "check run" (the start line) and leaves it in progress."""
        self._append("start", request)
        delivery_id = request.delivery_id or ""
        if delivery_id.startswith("die-"):
            os.kill(os.getpid(), signal.SIGKILL)
        if delivery_id.startswith("slow-"):
            time.sleep(60)
        if delivery_id.startswith("refuse-"):
            raise Refused("GitHub refused: 422 No commit found for SHA")
        raise RuntimeError("evaluation failed")

    def abandon(self, request: Any, reason: str) -> None:
        self._append("abandon", request, reason)


def make(settings: Any) -> EndingService:
    return EndingService(Path(os.environ["GITOPS_TEST_RECORD_FILE"]))


def read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
