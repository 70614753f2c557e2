"""JUnit XML for CI systems that show test results: a suite per file, a test case per resource."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from itertools import groupby

from bot.core.findings import Finding
from bot.core.masking import mask_report
from bot.core.report import Report
from bot.reporters.paths import located
from bot.reporters.text import plural

SUITES_NAME = "gitops-policy-bot"
FILE_CASE = "(file)"  # findings not tied to one resource: YAML syntax errors, file-level parse problems

# Characters XML 1.0 cannot carry at all, even escaped; ElementTree would write them and produce
# a document no parser accepts. https://www.w3.org/TR/xml/#charsets
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


@dataclass(frozen=True)
class JUnitReporter:
    base_dir: str = ""

    def render(self, report: Report) -> str:
        report = mask_report(report)
        root = ET.Element("testsuites", name=SUITES_NAME)
        by_file = groupby(report.sorted_findings(), key=lambda f: f.file)
        suites = [self._suite(file, list(group)) for file, group in by_file]
        if not suites:
            suites = [_passing_suite(report)]
        root.extend(suites)
        for attr in ("tests", "failures", "errors", "skipped"):
            root.set(attr, str(sum(int(s.get(attr, "0")) for s in suites)))
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

    def _suite(self, file: str, findings: list[Finding]) -> ET.Element:
        name = xml_safe(located(self.base_dir, file) or "(no file)")
        suite = ET.Element("testsuite", name=name)
        cases: dict[str, list[Finding]] = {}
        for f in findings:
            key = f.resource.display() if f.resource and f.resource.display() else FILE_CASE
            cases.setdefault(key, []).append(f)
        failures = 0
        for case_name, case_findings in cases.items():
            case = _case(name, case_name, case_findings)
            failures += case.find("failure") is not None
            suite.append(case)
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        return suite


def _case(classname: str, name: str, findings: list[Finding]) -> ET.Element:
    """Blocking findings fail the case; warnings, notices and waived ones go to system-out."""
    case = ET.Element("testcase", name=xml_safe(name), classname=classname)
    blocking = [f for f in findings if f.blocking]
    rest = [f for f in findings if not f.blocking]
    if blocking:
        first = blocking[0]
        failure = ET.SubElement(
            case,
            "failure",
            message=xml_safe(first.message if len(blocking) == 1 else plural(len(blocking), "error")),
            type=xml_safe(first.rule),
        )
        failure.text = xml_safe("\n".join(_describe(f) for f in blocking))
    if rest:
        ET.SubElement(case, "system-out").text = xml_safe("\n".join(_describe(f) for f in rest))
    return case


def _describe(finding: Finding) -> str:
    where = f"line {finding.line}" if finding.line > 0 else "file"
    label = finding.severity.label if finding.waived is None else f"{finding.severity.label} (waived)"
    text = f"{where}: {label} {finding.rule}: {finding.message}"
    if finding.remediation:
        text += f"\n  fix: {finding.remediation}"
    if finding.waived is not None:
        text += f"\n  waived: {finding.waived.reason}"
    return text


def _passing_suite(report: Report) -> ET.Element:
    """A clean run still shows one passing test, so CI dashboards say what was checked."""
    suite = ET.Element("testsuite", name=SUITES_NAME, tests="1", failures="0", errors="0", skipped="0")
    checked = f"{plural(report.resources_checked, 'resource')} in {plural(report.files_checked, 'file')}"
    ET.SubElement(suite, "testcase", name=f"checked {checked}", classname=SUITES_NAME)
    return suite
