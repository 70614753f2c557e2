"""JUnit XML must parse, count failures per resource, and survive hostile text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bot.core.findings import Finding, ResourceRef, Severity
from bot.core.report import Report
from bot.reporters import get

from .sample import clean_report, sample_report


def parse(report: Report, base_dir: str = "") -> ET.Element:
    return ET.fromstring(get("junit", base_dir=base_dir).render(report))


def test_suites_per_file_cases_per_resource_and_failure_counts() -> None:
    root = parse(sample_report())
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "2", "0")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["apps/broken.yaml", "apps/db.yaml", "apps/web.yaml"]
    broken = [c.get("name") for c in suites["apps/broken.yaml"].findall("testcase")]
    assert broken == ["(file)", "ConfigMap/settings"]
    assert suites["apps/broken.yaml"].get("failures") == "1"
    assert suites["apps/db.yaml"].get("failures") == "0"  # waived: shown, not failing


def test_failure_lists_every_error_of_the_resource() -> None:
    root = parse(sample_report())
    web = root.find("testsuite[@name='apps/web.yaml']/testcase[@name='Deployment/prod/web']")
    assert web is not None
    failure = web.find("failure")
    assert failure is not None
    assert failure.get("message") == "2 errors"
    assert failure.get("type") == "schema/type"
    assert failure.text == (
        'line 8: error schema/type: spec.replicas: expected integer, got string "three"\n'
        'line 12: error image-tag: container "web" uses image "nginx:latest"; pin a version tag or digest\n'
        "  fix: Use an immutable tag such as nginx:1.27.1 or a sha256 digest."
    )
    assert web.findtext("system-out") == 'line 20: warning run-as-non-root: container "web" may run as root'


def test_waived_and_warnings_go_to_system_out() -> None:
    root = parse(sample_report())
    db = root.find("testsuite[@name='apps/db.yaml']/testcase")
    assert db is not None and db.find("failure") is None
    assert db.findtext("system-out") == (
        "line 4: error (waived) secret-in-env: env DB_PASSWORD=*** is a literal value\n"
        "  waived: legacy app, tracked in OPS-12"
    )


def test_clean_run_has_one_passing_case() -> None:
    root = parse(clean_report())
    assert (root.get("tests"), root.get("failures")) == ("1", "0")
    case = root.find("testsuite/testcase")
    assert case is not None and case.get("name") == "checked 5 resources in 3 files"


def test_hostile_text_is_escaped_and_stays_well_formed() -> None:
    finding = Finding(
        "r<&>",
        Severity.ERROR,
        'a <b> & "c" ]]> \x1b[31m \x00 done',
        file="x&y.yaml",
        line=1,
        resource=ResourceRef("v1", "Pod", "ns", "<p>"),
    )
    text = get("junit").render(Report(findings=[finding]))
    root = ET.fromstring(text)  # raises on malformed XML
    case = root.find("testsuite/testcase")
    assert case is not None
    assert case.get("name") == "Pod/ns/<p>"
    assert case.get("classname") == "x&y.yaml"
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == 'a <b> & "c" ]]> \ufffd[31m \ufffd done'
    assert failure.get("type") == "r<&>"


def test_base_dir_prefixes_suite_names() -> None:
    root = parse(sample_report(), base_dir="clusters/prod")
    assert root.find("testsuite").get("name") == "clusters/prod/apps/broken.yaml"
