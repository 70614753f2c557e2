"""`reporters.get`: every listed format exists; an unknown one is a usage error naming the valid ones."""

from __future__ import annotations

import pytest

from bot.errors import ConfigError
from bot.reporters import FORMATS, get
from bot.reporters.paths import located

from .sample import sample_report


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_renders_text_ending_in_newline(name: str) -> None:
    out = get(name).render(sample_report())
    assert out.endswith("\n")
    assert "hunter2" not in out


def test_unknown_format_lists_valid_ones() -> None:
    with pytest.raises(ConfigError) as err:
        get("xml")
    assert str(err.value) == "unknown format 'xml': expected one of text, json, sarif, junit, github, markdown"
    assert err.value.exit_code == 2


def test_format_names_are_case_insensitive() -> None:
    assert type(get("SARIF")).__name__ == "SarifReporter"


@pytest.mark.parametrize(
    ("base_dir", "file", "expected"),
    [
        ("", "apps/a.yaml", "apps/a.yaml"),
        (".", "apps/a.yaml", "apps/a.yaml"),
        ("deploy/", "apps/a.yaml", "deploy/apps/a.yaml"),
        ("deploy/prod/..", "a.yaml", "deploy/a.yaml"),
        ("deploy", "", ""),
    ],
)
def test_located_joins_base_dir(base_dir: str, file: str, expected: str) -> None:
    assert located(base_dir, file) == expected
