"""Workflow commands: exact syntax and the @actions/core escaping rules."""

from __future__ import annotations

import pytest

from bot.core.findings import Finding, ResourceRef, Severity
from bot.core.report import Report
from bot.reporters import get
from bot.reporters.github_actions import escape_data, escape_property

from .sample import clean_report, sample_report


def test_commands_for_sample_report() -> None:
    lines = get("github", base_dir="deploy").render(sample_report()).splitlines()
    assert lines == [
        "::error file=deploy/apps/broken.yaml,line=3,col=5,title=parse/yaml-syntax::mapping values are not allowed here",
        "::error file=deploy/apps/web.yaml,line=8,col=13,title=schema/type::"
        'Deployment/prod/web: spec.replicas: expected integer, got string "three"',
        "::error file=deploy/apps/web.yaml,line=12,col=7,title=image-tag::"
        'Deployment/prod/web: container "web" uses image "nginx:latest"; pin a version tag or digest'
        "%0Afix: Use an immutable tag such as nginx:1.27.1 or a sha256 digest.",
        "::warning file=deploy/apps/web.yaml,line=20,col=9,title=run-as-non-root::"
        'Deployment/prod/web: container "web" may run as root',
        "::notice file=deploy/apps/broken.yaml,line=10,title=missing-namespace::"
        'ConfigMap/settings: ConfigMap "settings" has no namespace',
        "✗ 3 blocking findings (1 parse, 1 policy, 1 schema) in 2 files · 1 warning · 1 notice · 1 waived"
        " — checked 12 resources in 7 files",
    ]


def test_waived_findings_are_not_annotations() -> None:
    out = get("github").render(sample_report())
    assert "secret-in-env" not in out


@pytest.mark.parametrize(
    ("raw", "data", "prop"),
    [
        ("100%", "100%25", "100%25"),
        ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
        ("k: v, w", "k: v, w", "k%3A v%2C w"),
        ("%0A", "%250A", "%250A"),
    ],
)
def test_escaping_matches_actions_toolkit(raw: str, data: str, prop: str) -> None:
    assert escape_data(raw) == data
    assert escape_property(raw) == prop


def test_properties_are_escaped_and_a_newline_cannot_inject_a_command() -> None:
    finding = Finding(
        "rule,x:y",
        Severity.WARNING,
        "line one\n::error::injected",
        file="a,b:c.yaml",
        line=2,
        resource=ResourceRef("v1", "ConfigMap", "", "cm"),
    )
    out = get("github").render(Report(findings=[finding], files_checked=1, resources_checked=1))
    assert out.splitlines()[0] == (
        "::warning file=a%2Cb%3Ac.yaml,line=2,title=rule%2Cx%3Ay::ConfigMap/cm: line one%0A::error::injected"
    )
    assert len(out.splitlines()) == 2


def test_finding_without_file_has_only_a_title() -> None:
    out = get("github").render(Report(findings=[Finding("config/invalid", Severity.ERROR, "bad")]))
    assert out.splitlines()[0] == "::error title=config/invalid::bad"


def test_clean_report_prints_only_the_verdict() -> None:
    assert get("github").render(clean_report()) == "✓ No blocking findings — checked 5 resources in 3 files\n"


def test_tokens_are_masked() -> None:
    finding = Finding("r", Severity.ERROR, "Authorization: Bearer abcdef0123456789", file="a.yaml", line=1)
    assert get("github").render(Report(findings=[finding])).splitlines()[0] == (
        "::error file=a.yaml,line=1,title=r::Authorization: Bearer ***"
    )


def test_annotation_caps_keep_errors_and_say_how_many_were_not_annotated() -> None:
    """GitHub keeps 10 annotations per level and step; the rest become plain log lines and a closing count."""
    findings = [Finding("n", Severity.NOTICE, f"notice {i}", file="a.yaml", line=i) for i in range(1, 13)]
    findings += [Finding("e", Severity.ERROR, f"error {i}", file="z.yaml", line=i) for i in range(1, 15)]
    findings += [Finding("w", Severity.WARNING, f"warning {i}", file="m.yaml", line=i) for i in range(1, 4)]
    lines = get("github").render(Report(findings=findings, files_checked=3, resources_checked=3)).splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert [c.split(" ", 1)[0] for c in commands] == ["::error"] * 10 + ["::warning"] * 3 + ["::notice"] * 10
    assert commands[0].endswith("::error 1") and commands[9].endswith("::error 10")
    plain = [line for line in lines if not line.startswith("::")]
    assert plain[:4] == [f"z.yaml:{i}  error  e  error {i}" for i in range(11, 15)]
    assert plain[4:6] == ["a.yaml:11  notice  n  notice 11", "a.yaml:12  notice  n  notice 12"]
    assert plain[6] == (
        "6 more finding(s) not shown as annotations (GitHub shows at most 10 per level and step); they are listed above"
    )
    assert plain[7].startswith("✗ 14 blocking findings")


def test_no_closing_count_within_the_caps() -> None:
    findings = [Finding("e", Severity.ERROR, f"error {i}", file="z.yaml", line=i) for i in range(1, 11)]
    out = get("github").render(Report(findings=findings))
    assert len([line for line in out.splitlines() if line.startswith("::error ")]) == 10
    assert "not shown" not in out
