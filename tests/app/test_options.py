"""The App's sections of `.gitops-bot.yaml` (`github:`, `commands:`): validated by the core, read by the App."""

import pytest

from bot.app.options import AppOptions
from bot.commands.permissions import Approvers
from bot.commands.run import CommandSettings
from bot.commands.spec import DEFAULT_COMMAND_PREFIX
from bot.core.config import InvalidConfigError, load_repo_config

CONFIG = b"""\
github: {neutralOnWarnings: true, failOnWarnings: true, reviewComments: false, stickyComment: false}
commands: {prefix: /ops, autoPlan: true, approvers: {users: [alice], teams: [org/platform]}, allowAuthorApproval: true}
"""


def test_the_app_reads_its_sections_from_the_validated_file() -> None:
    raw = load_repo_config(CONFIG).raw
    assert AppOptions.of(raw) == AppOptions(neutral_on_warnings=True, fail_on_warnings=True, sticky_comment=False,
                                            review_comments=False, auto_plan=True)
    assert CommandSettings.of(raw, "bot[bot]") == CommandSettings(
        "/ops", Approvers(("alice",), ("org/platform",), True), "bot[bot]")


def test_a_repository_without_the_sections_gets_the_defaults() -> None:
    raw = load_repo_config(b"strict: true\n").raw
    assert AppOptions.of(raw) == AppOptions() == AppOptions.of(None)
    assert CommandSettings.of(raw, "") == CommandSettings(DEFAULT_COMMAND_PREFIX, Approvers(), "")


def test_a_mistyped_app_key_is_refused_by_the_core_with_its_line() -> None:
    with pytest.raises(InvalidConfigError) as refused:
        load_repo_config(b"commands:\n  prefix: /ops\n  autoplan: true\n")
    assert [(p.line, p.key) for p in refused.value.problems] == [(3, "commands.autoplan")]
