"""API-server validation beyond the schema: the mistakes set under fixtures/mistakes is caught at the marked lines.

Each ``fixtures/mistakes/<case>.yaml`` marks every line the API server would reject with
``# expect: <rule>``; ``<case>.valid.yaml`` beside it is the corrected control and must
produce no error at all. The whole directory is evaluated once, as a repository.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from bot.core.evaluate import EvalOptions, evaluate
from bot.core.findings import Finding, Severity
from bot.core.report import Report
from bot.core.schemas import DEFAULT_KUBERNETES_VERSION
from bot.core.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
MISTAKES = ROOT / "fixtures" / "mistakes"
_MARKER = re.compile(r"#\s*expect:\s*(\S+)")


def expected_markers(path: Path) -> set[tuple[int, str]]:
    """(line, rule) for every ``# expect: rule`` comment of a fixture file."""
    found = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for rule in _MARKER.findall(line):
            found.add((number, rule))
    return found


@cache
def mistakes_report() -> Report:
    return evaluate(Workspace.from_directory(MISTAKES), options=EvalOptions(policies=False))


def errors_in(report: Report, relative: str) -> list[Finding]:
    return [f for f in report.findings if f.file == relative and f.severity is Severity.ERROR]


BAD_CASES = sorted(
    str(p.relative_to(MISTAKES))
    for p in MISTAKES.rglob("*.yaml")
    if not p.name.endswith(".valid.yaml") and expected_markers(p)
)
VALID_CASES = sorted(str(p.relative_to(MISTAKES)) for p in MISTAKES.rglob("*.valid.yaml"))


def test_every_mistake_has_a_valid_control_beside_it() -> None:
    assert len(BAD_CASES) >= 9
    for case in BAD_CASES:
        assert (MISTAKES / case.replace(".yaml", ".valid.yaml")).is_file(), case


@pytest.mark.parametrize("case", BAD_CASES)
def test_mistakes_are_blocking_errors_at_the_marked_lines(case: str) -> None:
    found = {(f.line, f.rule) for f in errors_in(mistakes_report(), case)}
    assert found == expected_markers(MISTAKES / case)


@pytest.mark.parametrize("case", VALID_CASES)
def test_valid_controls_have_no_errors(case: str) -> None:
    assert errors_in(mistakes_report(), case) == []


def test_the_mistakes_set_covers_every_api_server_rule() -> None:
    from bot.core.schemas import API_SERVER_RULES

    marked = {rule for case in BAD_CASES for _, rule in expected_markers(MISTAKES / case)}
    uncovered = set(API_SERVER_RULES) - marked
    assert not uncovered, f"no fixture under fixtures/mistakes exercises {sorted(uncovered)}"


def test_messages_name_the_field_and_the_fix() -> None:
    by_line = {f.line: f for f in errors_in(mistakes_report(), "quantity.yaml")}
    finding = by_line[18]
    assert finding.path == "spec.template.spec.containers[0].resources.requests.memory"
    assert '"500mi" is not a valid quantity' in finding.message
    assert "500Mi" in finding.message
    assert "resource.ParseQuantity" in finding.remediation
    mismatch = next(
        f for f in errors_in(mistakes_report(), "selectors.yaml") if f.rule == "schema/selector-mismatch"
    )
    assert mismatch.message.startswith(
        "spec.template.metadata.labels: `selector` does not match template `labels`"
    )


def test_api_version_error_names_the_served_versions() -> None:
    messages = sorted(f.message for f in errors_in(mistakes_report(), "api-version.yaml"))
    assert messages == [
        "example.com/v1alpha1 Backup is not served: CustomResourceDefinition backups.example.com serves example.com/v1; "
        "the API server rejects it",
        f"v1 does not serve kind Deployment in Kubernetes {DEFAULT_KUBERNETES_VERSION}: use apiVersion apps/v1; "
        "the API server rejects it",
    ]


def test_patches_are_checked_only_for_what_they_contain() -> None:
    report = mistakes_report()
    assert errors_in(report, "kustomize/patch.valid.yaml") == []
    rules = sorted(f.rule for f in errors_in(report, "kustomize/patch.yaml"))
    assert rules == ["schema/quantity", "schema/range"]


def test_a_patch_checked_alone_is_judged_as_a_whole_object() -> None:
    """Without the kustomization that lists it, a patch file is just an incomplete Deployment."""
    text = (MISTAKES / "kustomize" / "patch.valid.yaml").read_bytes()
    report = evaluate(Workspace.from_dict({"patch.yaml": text}), options=EvalOptions(policies=False))
    rules = {f.rule for f in report.findings if f.severity is Severity.ERROR}
    assert "schema/required" in rules  # selector and image are missing from a whole Deployment
    assert "schema/undefined-volume" in rules


def test_generate_name_is_a_prefix_and_may_end_with_a_dash() -> None:
    """ValidateObjectMeta checks generateName with maskTrailingDash (name[:len-2] + "a")."""
    docs = "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: {prefix}\n"
        for prefix in ("job-", "Job-")
    )
    report = evaluate(Workspace.from_dict({"gen.yaml": docs}), options=EvalOptions(policies=False))
    assert [(f.line, f.rule) for f in report.findings if f.severity is Severity.ERROR] == [
        (10, "schema/dns-name")
    ]
