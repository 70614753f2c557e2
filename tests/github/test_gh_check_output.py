"""Check run output: verdict, title, annotations in batches of 50, output cut to GitHub's limits."""

from __future__ import annotations

import pytest
from gh_helpers import HEAD, REPO, finding

from bot.app.publish import check_run
from bot.core.findings import Waiver
from bot.core.report import Report
from bot.github.client import GitHubClientFactory
from bot.reporters import github_check
from bot.reporters.github_check import CheckContext
from tests.support.github_standin import GitHubStandIn

CHANGED = CheckContext(changed_paths=["apps/a.yaml", "apps/b.yaml"])


def many_findings(n: int) -> Report:
    return Report(findings=[finding(line=i + 1, message=f"problem {i}") for i in range(n)], files_checked=1)


def test_120_findings_make_three_batches_of_50_50_20() -> None:
    outputs = github_check.build_outputs(many_findings(120), CHANGED)

    assert [len(o.annotations) for o in outputs] == [50, 50, 20]
    assert outputs[0].text and not outputs[1].text  # details once
    assert {o.title for o in outputs} == {"120 blocking findings in 1 file"}
    assert [a["start_line"] for o in outputs for a in o.annotations] == list(range(1, 121))


def test_batches_are_appended_by_further_updates(standin: GitHubStandIn, factory: GitHubClientFactory) -> None:
    api = factory.repo(1, REPO)
    run_id = api.create_check_run("GitOps policy", HEAD)

    result = check_run.publish(api, run_id, many_findings(120), CHANGED)

    patches = standin.requests_to("PATCH", rf"/repos/acme/gitops/check-runs/{run_id}")
    assert [len(p.json["output"]["annotations"]) for p in patches] == [50, 50, 20]
    assert patches[0].json["conclusion"] == "failure" and patches[0].json["status"] == "completed"
    assert "conclusion" not in patches[1].json and "conclusion" not in patches[2].json
    assert len(standin.check_runs[run_id]["annotations"]) == 120
    assert (result.conclusion, result.annotations, result.requests) == ("failure", 120, 3)


def test_annotation_fields() -> None:
    report = Report(findings=[
        finding("image-tag", 12, severity="error", remediation="Pin the image."),
        finding("liveness-probe", 20, severity="warning"),
        finding("unknown-kind", 0, severity="notice"),
        finding("image-tag", 5, file="apps/untouched.yaml"),
        finding("run-as-non-root", 7, waived=Waiver("annotation", "legacy image")),
    ], files_checked=1)

    got = github_check.check_annotations(report, ["apps/a.yaml"])

    assert [(a["start_line"], a["end_line"], a["annotation_level"], a["title"]) for a in got] == [
        (1, 1, "notice", "unknown-kind"),
        (12, 12, "failure", "image-tag"),
        (20, 20, "warning", "liveness-probe"),
    ]
    assert got[1]["raw_details"] == "Pin the image."
    assert got[1]["message"] == "Deployment/shop/web: image-tag problem at apps/a.yaml:12"


@pytest.mark.parametrize(
    ("findings", "files", "neutral", "fail_on_warn", "conclusion", "title"),
    [
        ([], 0, False, False, "success", "No Kubernetes manifests changed"),
        ([], 3, False, False, "success", "No policy violations in 3 manifests"),
        ([], 1, False, False, "success", "No policy violations in 1 manifest"),
        ([finding(severity="warning")], 1, False, False, "success", "No blocking findings; 1 warning in 1 file"),
        ([finding(severity="warning")], 1, True, False, "neutral", "No blocking findings; 1 warning in 1 file"),
        ([finding(severity="warning")], 1, False, True, "failure", "1 warning in 1 file (warnings block: failOnWarnings)"),
        ([finding(line=1), finding(line=2, file="apps/b.yaml")], 2, True, False, "failure",
         "2 blocking findings in 2 files"),
        ([finding(waived=Waiver("annotation", "ok"))], 1, False, False, "success",
         "No policy violations in 1 manifest"),
    ],
)
def test_conclusion_and_title(findings: list, files: int, neutral: bool, fail_on_warn: bool,
                              conclusion: str, title: str) -> None:
    report = Report(findings=findings, files_checked=files)
    ctx = CheckContext(neutral_on_warnings=neutral, fail_on_warnings=fail_on_warn)
    assert github_check.conclusion(report, ctx) == conclusion
    assert github_check.title(report, ctx) == title


def test_annotations_stop_at_500_and_the_summary_says_so() -> None:
    outputs = github_check.build_outputs(many_findings(730), CHANGED)

    assert [len(o.annotations) for o in outputs] == [50] * 10
    assert outputs[0].summary.endswith("Only the first 500 of 730 findings in changed files are annotated; "
                                       "the details below list them all.")


def test_output_is_cut_at_65535_characters_with_a_note() -> None:
    report = Report(findings=[finding(line=i + 1, message="x" * 300) for i in range(400)], files_checked=1)

    first = github_check.build_outputs(report, CHANGED)[0]

    assert len(first.text) <= 65_535
    assert first.text.endswith("The annotations and the PR comment list every finding._")
    assert "output truncated:" in first.text
    assert len(first.summary) <= 65_535


def test_truncate_keeps_short_text_and_cuts_at_a_line() -> None:
    assert github_check.truncate("short") == "short"
    text = "\n".join(f"line {i}" for i in range(20_000))
    cut = github_check.truncate(text)
    assert len(cut) <= 65_535
    body, _, note = cut.partition("\n\n_… output truncated: ")
    assert body.endswith(body.splitlines()[-1]) and body.splitlines()[-1].startswith("line ")
    assert note.startswith(f"{len(body):,} of {len(text):,} characters shown")


def test_summary_has_counts_protection_warning_and_policy_changes() -> None:
    report = Report(findings=[finding(), finding(severity="warning", line=4)], files_checked=2,
                    resources_checked=3, kubernetes_version="1.30")
    report.policy_changes = [{"file": "policies/x.rego", "name": "x", "passed": False, "error": "rego_parse_error"}]

    summary = github_check.summary_markdown(report, CheckContext(
        changed_paths=["apps/a.yaml"], protection_warning="> ⚠️ not protected"))

    assert "| 1 | 1 | 0 | 0 |" in summary
    assert "Checked 2 files with 3 resources against Kubernetes 1.30." in summary
    assert "> ⚠️ not protected" in summary
    assert "| `policies/x.rego` | x | ❌ rego_parse_error |" in summary


def test_secrets_in_messages_are_masked() -> None:
    token = "ghp_" + "A" * 36
    report = Report(findings=[finding(message=f"found token {token}")], files_checked=1)
    outputs = github_check.build_outputs(report, CHANGED)
    assert token not in outputs[0].text and token not in outputs[0].annotations[0]["message"]
    assert "ghp_***" in outputs[0].annotations[0]["message"]
