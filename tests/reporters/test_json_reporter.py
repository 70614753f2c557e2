"""The JSON format is the versioned contract other tools read: it must match its published schema."""

from __future__ import annotations

import json

import jsonschema
import pytest

from bot.core.masking import mask_report
from bot.core.report import Report
from bot.reporters import get

from .sample import clean_report, report_schema, sample_report


@pytest.mark.parametrize(
    "report", [sample_report(), clean_report(), Report()], ids=["findings", "clean", "empty"]
)
def test_output_validates_against_report_v1_schema(report: Report) -> None:
    data = json.loads(get("json").render(report))
    jsonschema.Draft202012Validator.check_schema(report_schema())
    jsonschema.Draft202012Validator(report_schema()).validate(data)


def test_output_is_exactly_the_masked_report_json() -> None:
    report = sample_report()
    assert json.loads(get("json").render(report)) == mask_report(report).to_json()


def test_key_order_is_stable_and_version_first() -> None:
    text = get("json").render(sample_report())
    data = json.loads(text)
    assert list(data)[:4] == ["version", "kubernetesVersion", "summary", "findings"]
    assert data["version"] == 1
    assert data["summary"] == {
        "passed": False,
        "files": 7,
        "resources": 12,
        "error": 3,
        "warning": 1,
        "notice": 1,
        "waived": 1,
        "deleted": 0,
        "preexisting": 0,  # added in v1 (new keys only): findings already on the base branch
    }
    assert text.startswith('{\n  "version": 1,\n')
    assert text == get("json").render(sample_report())


def test_schema_rejects_an_unknown_severity() -> None:
    data = json.loads(get("json").render(sample_report()))
    data["findings"][0]["severity"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, report_schema(), cls=jsonschema.Draft202012Validator)


def test_secret_values_never_reach_json() -> None:
    text = get("json").render(sample_report())
    assert "hunter2" not in text
    assert "env DB_PASSWORD=*** is a literal value" in text
