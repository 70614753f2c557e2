"""Markdown pieces every text the bot writes shares: table cells, code spans and the findings-count table.

Escaping for the reader's safety (HTML, mentions) stays with each text, which knows what it shows;
these only keep the Markdown structure intact.
"""

from __future__ import annotations

from collections.abc import Mapping


def table_cell(text: str, limit: int | None = None) -> str:
    """``text`` as one table cell (at most ``limit`` characters): a ``|`` would open a column, a newline end the row."""
    return text.replace("|", "\\|").replace("\n", " ")[:limit]


def code_span(text: str) -> str:
    """Text for inside `backticks`: a backtick would end the span early."""
    return text.replace("`", "'")


def counts_table(counts: Mapping[str, int]) -> list[str]:
    """The lines of the Blocking / Warnings / Notices / Waived table, from `Report.counts()`."""
    return [
        "| Blocking | Warnings | Notices | Waived |",
        "| ---: | ---: | ---: | ---: |",
        f"| {counts['error']} | {counts['warning']} | {counts['notice']} | {counts['waived']} |",
    ]
