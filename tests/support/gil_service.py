"""A stand-in evaluation service that holds the GIL for hours: what a Rego CPU bomb in native code does.

Loaded in the App through GITOPS_BOT_SERVICE_FACTORY=tests.support.gil_service:make. It
writes ``<data dir>/evaluation-running`` (its pid) before burning and ``evaluation-done``
after, so a test can tell that the evaluation is still under way.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

# Catastrophic backtracking: `re` matches in C without releasing the GIL; 2**40 steps never end in a test.
_BOMB = re.compile(r"(a+)+$")
_VICTIM = "a" * 40 + "b"


class GilBurner:
    def __init__(self, data_dir: Path) -> None:
        self.running = data_dir / "evaluation-running"
        self.done = data_dir / "evaluation-done"

    def evaluate(self, request: Any) -> None:
        self.running.write_text(str(os.getpid()))
        _BOMB.match(_VICTIM)
        self.done.write_text(str(os.getpid()))

    def run_commands(self, event: Any) -> list[Any]:
        return []


def make(settings: Any) -> GilBurner:
    return GilBurner(Path(settings.data_dir))
