"""SARIF output must validate against the official 2.1.0 schema and carry what code scanning needs."""

from __future__ import annotations

import json

import jsonschema
import pytest

import bot
from bot.core.findings import Finding, ResourceRef, Severity, Waiver
from bot.core.report import Report
from bot.reporters import get
from bot.reporters.sarif import FINGERPRINT_KEY, fingerprint

from .sample import clean_report, sample_report, sarif_schema


def sarif(report: Report, base_dir: str = "") -> dict:
    return json.loads(get("sarif", base_dir=base_dir).render(report))


@pytest.mark.parametrize("report", [sample_report(), clean_report()], ids=["findings", "clean"])
def test_validates_against_official_sarif_schema(report: Report) -> None:
    schema = sarif_schema()
    jsonschema.Draft4Validator(schema).validate(sarif(report))


def test_log_header_and_driver() -> None:
    log = sarif(sample_report())
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "gitops-policy-bot"
    assert driver["version"] == bot.__version__
    assert [r["id"] for r in driver["rules"]] == [
        "image-tag",
        "missing-namespace",
        "parse/yaml-syntax",
        "run-as-non-root",
        "schema/type",
        "secret-in-env",
    ]
    image_tag = driver["rules"][0]
    assert image_tag["help"] == {"text": "Use an immutable tag such as nginx:1.27.1 or a sha256 digest."}
    assert image_tag["defaultConfiguration"] == {"level": "error"}
    assert driver["rules"][1]["defaultConfiguration"] == {"level": "note"}


def test_result_location_level_and_rule_index() -> None:
    run = sarif(sample_report(), base_dir="deploy")["runs"][0]
    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("parse/yaml-syntax", "error"),
        ("missing-namespace", "note"),
        ("secret-in-env", "error"),
        ("schema/type", "error"),
        ("image-tag", "error"),
        ("run-as-non-root", "warning"),
    ]
    image_tag = results[4]
    assert run["tool"]["driver"]["rules"][image_tag["ruleIndex"]]["id"] == "image-tag"
    assert image_tag["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "deploy/apps/web.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 12, "startColumn": 7},
    }
    assert image_tag["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "Deployment/prod/web"
    assert (
        image_tag["message"]["text"]
        == 'container "web" uses image "nginx:latest"; pin a version tag or digest'
    )
    # missing-namespace has no column: only startLine
    assert results[1]["locations"][0]["physicalLocation"]["region"] == {"startLine": 10}


def test_line_zero_becomes_line_one_and_uri_is_percent_encoded() -> None:
    finding = Finding("r", Severity.WARNING, "m", file="my apps/a#1.yaml")
    result = sarif(Report(findings=[finding]))["runs"][0]["results"][0]
    location = result["locations"][0]["physicalLocation"]
    assert location["region"] == {"startLine": 1}
    assert location["artifactLocation"]["uri"] == "my%20apps/a%231.yaml"


def test_waived_findings_are_suppressed_with_justification() -> None:
    results = sarif(sample_report())["runs"][0]["results"]
    waived = [r for r in results if "suppressions" in r]
    assert len(waived) == 1
    assert waived[0]["suppressions"] == [
        {"kind": "inSource", "status": "accepted", "justification": "legacy app, tracked in OPS-12"}
    ]
    exception = Finding(
        "r", Severity.ERROR, "m", file="a.yaml", line=1, waived=Waiver("exception", "until Q3")
    )
    result = sarif(Report(findings=[exception]))["runs"][0]["results"][0]
    assert result["suppressions"][0]["kind"] == "external"


def test_fingerprint_is_stable_across_line_moves_and_differs_by_resource() -> None:
    a = Finding(
        "image-tag",
        Severity.ERROR,
        "m",
        file="a.yaml",
        line=3,
        resource=ResourceRef("apps/v1", "Deployment", "p", "web"),
    )
    moved = a.with_(line=40, column=2)
    other = a.with_(resource=ResourceRef("apps/v1", "Deployment", "p", "api"))
    assert fingerprint(a) == fingerprint(moved)
    assert fingerprint(a) != fingerprint(other)
    assert len(fingerprint(a)) == 32
    result = sarif(Report(findings=[a]))["runs"][0]["results"][0]
    assert result["partialFingerprints"] == {FINGERPRINT_KEY: fingerprint(a)}


def test_notices_become_tool_notifications() -> None:
    invocation = sarif(sample_report())["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True
    assert len(invocation["toolExecutionNotifications"]) == 4


def test_secrets_are_masked() -> None:
    text = get("sarif").render(sample_report())
    assert "hunter2" not in text


def test_schema_check_bites_on_an_invalid_level() -> None:
    schema = sarif_schema()
    log = sarif(sample_report())
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(log)


def test_run_level_finding_without_file_has_no_physical_location() -> None:
    finding = Finding("config/invalid", Severity.ERROR, "bad config")
    log = sarif(Report(findings=[finding]))
    schema = sarif_schema()
    jsonschema.Draft4Validator(schema).validate(log)
    assert "locations" not in log["runs"][0]["results"][0]
