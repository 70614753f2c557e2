"""Golden tests for the terminal format."""

from __future__ import annotations

import pytest

from bot.core.findings import Finding, ResourceRef, Severity, Source
from bot.core.report import Report
from bot.reporters import get
from bot.reporters.text import TextReporter, location, notice_lines, verdict_line

from .sample import clean_report, sample_report

EXPECTED = """\
apps/broken.yaml:3:5  error    parse/yaml-syntax  mapping values are not allowed here

apps/web.yaml:8:13  error    schema/type  spec.replicas: expected integer, got string "three"  (Deployment/prod/web)
apps/web.yaml:12:7  error    image-tag  container "web" uses image "nginx:latest"; pin a version tag or digest  (Deployment/prod/web)
  fix: Use an immutable tag such as nginx:1.27.1 or a sha256 digest.

apps/web.yaml:20:9  warning  run-as-non-root  container "web" may run as root  (Deployment/prod/web)

apps/broken.yaml:10  notice   missing-namespace  ConfigMap "settings" has no namespace  (ConfigMap/settings)

apps/db.yaml:4:3  error    secret-in-env  env DB_PASSWORD=*** is a literal value  (Secret/prod/db)
  waived: legacy app, tracked in OPS-12

by rule:
  error    image-tag          1
  error    parse/yaml-syntax  1
  error    schema/type        1
  warning  run-as-non-root    1
  notice   missing-namespace  1
  waived   secret-in-env      1

✗ 3 blocking findings (1 parse, 1 policy, 1 schema) in 2 files · 1 warning · 1 notice · 1 waived — checked 12 resources in 7 files
note: policy engine regorus unavailable; fell back to opa
note: skipped 3 files: 2 × Helm chart template, 1 × kustomization
"""


def test_golden_output_errors_then_warnings_then_notices_then_waived_with_a_rule_summary() -> None:
    assert get("text").render(sample_report()) == EXPECTED


def test_clean_report_is_a_single_pass_line() -> None:
    assert get("text").render(clean_report()) == "✓ No blocking findings — checked 5 resources in 3 files\n"


def test_no_colour_codes_unless_asked() -> None:
    plain = get("text", color=False).render(sample_report())
    coloured = get("text", color=True).render(sample_report())
    assert "\033[" not in plain
    assert "\033[31merror   \033[0m" in coloured
    assert "\033[2m  waived: legacy app, tracked in OPS-12\033[0m" in coloured


def test_verbose_lists_each_skipped_file_under_base_dir() -> None:
    out = TextReporter(verbose=True, base_dir="deploy").render(sample_report())
    assert out.splitlines()[-3:] == [
        "  deploy/charts/web/templates/deployment.yaml: Helm chart template (Go template, not YAML): rendered by Helm",
        "  deploy/charts/web/templates/service.yaml: Helm chart template (Go template, not YAML): rendered by Helm",
        "  deploy/base/kustomization.yaml: kustomization: rendered, not validated as a manifest",
    ]
    assert (
        out.splitlines()[0]
        == "deploy/apps/broken.yaml:3:5  error    parse/yaml-syntax  mapping values are not allowed here"
    )


def test_waived_findings_are_shown_not_dropped() -> None:
    out = get("text").render(sample_report())
    assert out.count("secret-in-env  env DB_PASSWORD") == 1  # once as a finding (and once in the rule summary)
    assert "  waived: legacy app, tracked in OPS-12\n" in out


def test_passing_verdict_still_counts_warnings_and_waivers() -> None:
    report = Report(
        findings=[
            Finding("a", Severity.WARNING, "w1", file="x.yaml", line=1),
            Finding("b", Severity.WARNING, "w2", file="x.yaml", line=2),
        ],
        files_checked=1,
        resources_checked=1,
    )
    assert verdict_line(report) == "✓ No blocking findings · 2 warnings — checked 1 resource in 1 file"


def test_verdict_breaks_blocking_findings_down_by_source_most_first() -> None:
    findings = [
        Finding("p1", Severity.ERROR, "m", file="a.yaml", line=1, source=Source.POLICY),
        Finding("p2", Severity.ERROR, "m", file="a.yaml", line=2, source=Source.POLICY),
        Finding("s1", Severity.ERROR, "m", file="b.yaml", line=1, source=Source.SCHEMA),
    ]
    report = Report(findings=findings, files_checked=7, resources_checked=12)
    assert (
        verdict_line(report)
        == "✗ 3 blocking findings (2 policy, 1 schema) in 2 files — checked 12 resources in 7 files"
    )


@pytest.mark.parametrize(
    ("finding", "expected"),
    [
        (Finding("r", Severity.ERROR, "m", file="a.yaml", line=12, column=7), "a.yaml:12:7"),
        (Finding("r", Severity.ERROR, "m", file="a.yaml", line=12), "a.yaml:12"),
        (Finding("r", Severity.ERROR, "m", file="a.yaml"), "a.yaml"),
        (Finding("r", Severity.ERROR, "m"), "(no file)"),
    ],
)
def test_location_shows_only_known_parts(finding: Finding, expected: str) -> None:
    assert location(finding) == expected


def test_untrusted_control_characters_cannot_reach_the_terminal() -> None:
    hostile = Finding(
        "image-tag",
        Severity.ERROR,
        "bad\x1b[32m fake pass\nsecond line",
        file="evil\x1b[2J.yaml",
        line=1,
        resource=ResourceRef("v1", "Pod", "", "p\x07"),
    )
    out = get("text").render(Report(findings=[hostile], files_checked=1, resources_checked=1))
    assert "\x1b" not in out and "\x07" not in out
    assert out.splitlines()[:2] == [
        "evil\\x1b[2J.yaml:1  error    image-tag  bad\\x1b[32m fake pass",
        "    second line  (Pod/p\\x07)",
    ]


def test_notices_other_than_skips_are_listed_verbatim() -> None:
    assert notice_lines(["fell back to opa"], verbose=False) == ["note: fell back to opa"]
    assert notice_lines([], verbose=True) == []


def test_secrets_in_messages_and_remediation_are_masked() -> None:
    finding = Finding(
        "token",
        Severity.ERROR,
        "found ghp_0123456789abcdefghijABCDEFGHIJ012345",
        file="a.yaml",
        line=1,
        remediation="rotate password: hunter2",
    )
    out = get("text").render(Report(findings=[finding]))
    assert "a.yaml:1  error    token  found ghp_***\n  fix: rotate password: ***\n" in out
    assert "hunter2" not in out and "0123456789abcdef" not in out
