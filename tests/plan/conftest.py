"""Shared fixtures for plan tests: a git repo builder and the kustomize runner found on this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.plan.kustomize_runner import KustomizeRunner
from tests.plan.repo_builder import GitRepo


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


@pytest.fixture(scope="session")
def runner() -> KustomizeRunner:
    """The real kustomize (or kubectl kustomize): CI installs one, so its absence is a failure, not a skip."""
    found = KustomizeRunner()
    assert found.command() is not None, "kustomize or kubectl must be on PATH (scripts/test.sh installs it)"
    return found
