"""Which head-side lines a pull request's diff shows: GitHub accepts review comments only there."""

from __future__ import annotations

import re

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,(?P<count>\d+))? @@")


def right_side_lines(patch: str) -> set[int]:
    """Line numbers (in the new file) of added and context lines inside the hunks of ``patch``."""
    lines: set[int] = set()
    current = 0
    in_hunk = False
    for raw in patch.splitlines():
        hunk = _HUNK.match(raw)
        if hunk:
            current = int(hunk["start"])
            in_hunk = True
            continue
        if not in_hunk or raw.startswith("\\"):  # "\ No newline at end of file"
            continue
        if raw.startswith("-"):
            continue  # only on the left side
        lines.add(current)  # "+" added or " " context (an empty context line may lose its space)
        current += 1
    return lines
