"""Every test gets its own content cache: stand-in repositories reuse shas across tests, GitHub never does."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_content_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITOPS_BOT_CACHE_DIR", str(tmp_path / "content-cache"))
