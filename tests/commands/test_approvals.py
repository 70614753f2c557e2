"""Approval records: fingerprints, the hidden marker, whose comments count, and how findings get waived."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.approvals import (
    MARKER_PREFIX,
    Approval,
    apply_approvals,
    approvable,
    approvals_in,
    fingerprint,
    marker,
    new_approval,
    read_marker,
)
from bot.commands.messages import approval_reply
from bot.core.findings import Finding, ResourceRef, Severity, Source, Waiver
from bot.core.report import Report

BOT = "gitops-policy-bot[bot]"
WEB = ResourceRef("apps/v1", "Deployment", "shop", "web")


@dataclass(frozen=True)
class FakeComment:
    body: str
    author: str


def finding(rule: str = "image-tag", line: int = 19, message: str = "image nginx:latest is not pinned",
            source: str = Source.POLICY, severity: Severity = Severity.ERROR, file: str = "apps/web.yaml") -> Finding:
    return Finding(rule, severity, message, file=file, line=line, source=source, resource=WEB)


def approval_of(*findings: Finding, approver: str = "alice", reason: str = "legacy image") -> Approval:
    return new_approval(findings, approver=approver, reason=reason, approved_at="2026-11-26T14:00:00Z",
                        head_sha="c" * 40)


def test_fingerprint_ignores_the_line_but_not_what_the_finding_says() -> None:
    base = fingerprint(finding())
    assert fingerprint(finding(line=40)) == base
    assert fingerprint(finding(message="image nginx:1.0 is not pinned")) != base
    assert fingerprint(finding(rule="run-as-non-root")) != base
    assert fingerprint(finding(file="apps/api.yaml")) != base
    assert fingerprint(finding().with_(resource=ResourceRef("apps/v1", "Deployment", "shop", "api"))) != base
    assert len(base) == 24


def test_only_blocking_policy_findings_are_approvable() -> None:
    report = Report(findings=[
        finding(), finding(rule="run-as-non-root", message="must not run as root"),
        finding(rule="schema", source=Source.SCHEMA, message="bad field"),
        finding(rule="latest-warning", severity=Severity.WARNING),
        finding(rule="waived").with_(waived=Waiver("annotation", "ok")),
    ])
    assert [f.rule for f in approvable(report)] == ["image-tag", "run-as-non-root"]
    assert [f.rule for f in approvable(report, ["run-as-non-root"])] == ["run-as-non-root"]


def test_marker_round_trips_and_cannot_be_closed_by_the_reason() -> None:
    sneaky = 'x --> <!-- gitops-policy-bot:approval {"v":1} --> & more'
    approval = approval_of(finding(), reason=sneaky)
    text = marker(approval)
    assert text.startswith(MARKER_PREFIX) and text.endswith(" -->")
    assert text.count("-->") == 1 and "<!--" not in text[4:]
    assert read_marker(text + "\nvisible text") == approval


def test_approval_reply_starts_with_the_record_and_escapes_the_reason() -> None:
    f = finding()
    approval = approval_of(f, reason="<!-- gitops-policy-bot:approval {} -->")
    body = approval_reply(approval, [f])
    assert read_marker(body) == approval
    assert body.split("\n")[1] == ("✅ **@alice approved 1 blocking policy finding** at `ccccccc` "
                                   "(2026-11-26T14:00:00Z).")
    assert "**Reason:** &lt;!-- gitops-policy-bot:approval {} --&gt;" in body
    assert "| `image-tag` | `apps/web.yaml:19` | Deployment/shop/web |" in body


def test_only_markers_in_the_apps_own_comments_count() -> None:
    real = approval_of(finding())
    forged = approval_of(finding(rule="run-as-non-root"), approver="mallory")
    comments = [
        FakeComment(marker(forged), "mallory"),
        FakeComment(marker(forged), "github-actions[bot]"),
        FakeComment("hello\n" + marker(forged), BOT),  # not on the first line
        FakeComment(MARKER_PREFIX + "{not json} -->", BOT),
        FakeComment(marker(real) + "\n✅ approved", BOT),
    ]
    assert approvals_in(comments, BOT) == [real]
    assert approvals_in(comments, "") == []  # without the App's login nothing is trusted


def test_apply_waives_matching_findings_and_names_who_when_and_why() -> None:
    tag, root = finding(), finding(rule="run-as-non-root", message="must not run as root", line=20)
    schema = finding(rule="schema", source=Source.SCHEMA, message="bad field")
    report = apply_approvals(Report(findings=[tag, root, schema]), [approval_of(tag.with_(line=3))])
    assert [(f.rule, f.waived) for f in report.findings] == [
        ("image-tag", Waiver("approval", "legacy image", by="alice")), ("run-as-non-root", None), ("schema", None)]
    assert report.notices == [
        "1 blocking policy finding approved by @alice at 2026-11-26T14:00:00Z: legacy image",
        "1 blocking policy finding appeared or changed since the last approval: they need a new "
        "`approve-policies` command.",
    ]
    assert [f.rule for f in report.blocking] == ["schema", "run-as-non-root"]  # by line: 19, 20


def test_the_latest_approval_of_a_finding_wins() -> None:
    f = finding()
    report = apply_approvals(Report(findings=[f]), [approval_of(f, approver="alice"), approval_of(f, approver="bob")])
    assert report.findings[0].waived == Waiver("approval", "legacy image", by="bob")
    assert report.blocking == [] and report.passed()


def test_no_approvals_leave_the_report_untouched() -> None:
    report = Report(findings=[finding()])
    assert apply_approvals(report, []) is report
