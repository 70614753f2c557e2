"""The sticky PR comment the App would post, for the CLI (`--format markdown`): preview it before pushing."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.report import Report
from bot.reporters.github_check import DEFAULT_CHECK_NAME
from bot.reporters.github_comment import CommentContext, render


@dataclass(frozen=True)
class MarkdownReporter:
    check_name: str = DEFAULT_CHECK_NAME

    def render(self, report: Report) -> str:
        # No repository URL locally: links are relative to the current directory.
        body = render(report, CommentContext(html_url="", head_sha="working-tree", check_name=self.check_name))
        return body if body.endswith("\n") else body + "\n"
