"""Output formats for a `Report`: one module per format, chosen by name through `get`."""

from __future__ import annotations

from typing import Protocol

from bot.core.report import Report
from bot.errors import ConfigError
from bot.reporters.github_actions import GitHubActionsReporter
from bot.reporters.json_report import JsonReporter
from bot.reporters.junit import JUnitReporter
from bot.reporters.markdown import MarkdownReporter
from bot.reporters.sarif import SarifReporter
from bot.reporters.text import TextReporter

FORMATS: tuple[str, ...] = ("text", "json", "sarif", "junit", "github", "markdown")


class Reporter(Protocol):
    """Turns a finished report into the text of one output format.

    Implementations mask credentials themselves (`bot.core.masking`), never
    evaluate anything and never write: the caller decides where the text goes.
    """

    def render(self, report: Report) -> str: ...


def get(name: str, *, color: bool = False, base_dir: str = "", verbose: bool = False) -> Reporter:
    """The reporter for format ``name``; an unknown name is a usage error listing the valid ones.

    ``base_dir`` is where the evaluated tree sits relative to the repository root
    (or the current directory); it prefixes every file path so annotations and
    SARIF locations resolve. ``color`` and ``verbose`` only affect ``text``.
    """
    key = name.strip().lower()
    if key == "text":
        return TextReporter(color=color, base_dir=base_dir, verbose=verbose)
    if key == "json":
        return JsonReporter()
    if key == "sarif":
        return SarifReporter(base_dir=base_dir)
    if key == "junit":
        return JUnitReporter(base_dir=base_dir)
    if key == "github":
        return GitHubActionsReporter(base_dir=base_dir)
    if key == "markdown":
        return MarkdownReporter()
    raise ConfigError(f"unknown format {name!r}: expected one of {', '.join(FORMATS)}")
