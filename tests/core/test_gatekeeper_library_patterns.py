"""Patterns from real gatekeeper-library templates where we used to diverge from Gatekeeper (fixtures written by us)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.evaluate import EvalOptions, evaluate
from bot.core.findings import Finding
from bot.core.gatekeeper import run_gatekeeper_suites
from bot.core.gatekeeper.compat import separate_parenthesized_statements
from bot.core.rego import ENGINES
from bot.core.rego.v0_upgrade import upgrade_v0_module
from bot.core.workspace import Workspace

PATTERNS = Path(__file__).resolve().parents[2] / "fixtures" / "gatekeeper" / "patterns"
NO_BUILTINS = "policies:\n  builtin: false\n"


@pytest.mark.parametrize("engine", ENGINES)
def test_pattern_suites_pass_on_both_engines(engine: str) -> None:
    results = run_gatekeeper_suites([PATTERNS], engine=engine)
    assert [(r.package, r.name, r.error) for r in results if not r.passed] == []
    assert sorted((Path(r.file).parent.name, r.package, r.name) for r in results) == [
        ("chained-bodies", "no-host-access", "example-allowed"),
        ("chained-bodies", "no-host-access", "example-disallowed"),
        ("else-value", "explained", "example-allowed"),
        ("else-value", "explained", "example-disallowed"),
        ("else-value", "terse", "example-disallowed"),
        ("negated-undefined-argument", "must-run-as", "example-allowed"),
        ("negated-undefined-argument", "must-run-as", "example-disallowed"),
        ("negated-undefined-argument", "run-as-any", "example-allowed"),
        ("paren-statement", "autoscaler-spread", "example-allowed"),
        ("paren-statement", "autoscaler-spread", "example-disallowed"),
        ("rego-version", "v0-with-rego-v1-import", "example-allowed"),
        ("rego-version", "v0-with-rego-v1-import", "example-disallowed"),
        ("sprintf-missing-args", "pinned-image-tags", "example-allowed"),
        ("sprintf-missing-args", "pinned-image-tags", "example-disallowed"),
        ("strict-parameters", "declared-parameters", "example-allowed"),
        ("strict-parameters", "declared-parameters", "example-disallowed"),
        ("strict-parameters", "legacy-schema-keeps-unknown-parameters", "example-disallowed"),
        ("strict-parameters", "misspelt-match-field", "<template and constraint>"),
        ("strict-parameters", "misspelt-parameter", "<template and constraint>"),
        ("strict-parameters", "misspelt-spec", "<template and constraint>"),
        ("strict-parameters", "name-not-dns-subdomain", "<template and constraint>"),
        ("strict-parameters", "unserved-constraint-version", "<template and constraint>"),
        ("string-violation", "no-latest-tag", "example-allowed"),
        ("string-violation", "no-latest-tag", "example-disallowed"),
    ]


def test_v0_else_without_body_does_not_steal_the_next_rules_brace() -> None:
    """k8sstorageclass: ``msg := ... { } else := value`` followed by ``violation[{"msg": msg}] {``."""
    source = 'package p\n\nm := "a" {\n  input.x\n} else := "b"\n\nviolation[{"msg": m}] {\n  true\n}\n'
    assert upgrade_v0_module("p.rego", source) == (
        'package p\n\nm := "a" if {\n  input.x\n} else := "b"\n\nviolation contains {"msg": m} if {\n  true\n}\n'
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # k8shorizontalpodautoscaler: regorus read `spread\n(...)` as a call of `spread`
        ("  s := input.parameters.spread\n  (a - b) >= s\n", "  s := input.parameters.spread;\n  (a - b) >= s\n"),
        ("  s := input.x  \n\n  (a) > 1\n", "  s := input.x;  \n\n  (a) > 1\n"),
        ("  f(x)\n  (a) > 1\n", "  f(x)\n  (a) > 1\n"),  # a call's `)` is never read as a callee
        ("  not\n  (a)\n", "  not\n  (a)\n"),  # keywords are left alone
        ('  msg := "x"\n  y := `z\n(`\n', '  msg := "x"\n  y := `z\n(`\n'),  # nor strings
        ("  # note\n  (a) > 1\n", "  # note\n  (a) > 1\n"),  # nor comments
    ],
)
def test_parenthesized_statements_are_separated_without_moving_lines(source: str, expected: str) -> None:
    assert separate_parenthesized_statements(source) == expected
    assert expected.count("\n") == source.count("\n")


def pattern_repository(pattern: str, constraint: str, examples: tuple[str, ...], template: str = "template.yaml") -> Workspace:
    """The pattern's template, one constraint and example objects as one repository, judged like `gitops-bot check`."""
    root = PATTERNS / pattern
    samples = next((root / "samples").iterdir())
    files = {
        ".gitops-bot.yaml": NO_BUILTINS,
        "policy/template.yaml": (root / template).read_text(),
        "policy/constraint.yaml": (samples / constraint).read_text(),
    }
    files.update({f"apps/{name}": (samples / name).read_text() for name in examples})
    return Workspace.from_dict(files)


def gatekeeper_findings(findings: list[Finding]) -> list[tuple[str, str, int, str]]:
    return [(f.rule, f.file, f.line, f.message) for f in sorted(findings, key=Finding.sort_key) if f.rule.startswith("gatekeeper/")]


EXAMPLES = ("example_allowed.yaml", "example_disallowed.yaml")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("pattern", "rule", "line", "message"),
    [
        (
            "else-value",
            "gatekeeper/K8sReplicaFloor/replica-floor",
            4,
            "<worker> runs 1 replica(s), the floor is 2",
        ),
        (
            "paren-statement",
            "gatekeeper/K8sAutoscalerSpread/autoscaler-spread",
            4,
            "<web-disallowed> scales between 3 and 4 replicas; the spread must be at least 2",
        ),
        (
            "sprintf-missing-args",
            "gatekeeper/K8sPinnedImageTags/pinned-image-tags",
            4,
            "container <app> uses image <registry.example.com/app> without a tag; pin one of %!v(MISSING)",
        ),
    ],
)
def test_repository_check_reports_only_the_disallowed_example(engine: str, pattern: str, rule: str, line: int, message: str) -> None:
    report = evaluate(pattern_repository(pattern, "constraint.yaml", EXAMPLES), options=EvalOptions(engine=engine))
    assert gatekeeper_findings(report.findings) == [(rule, "apps/example_disallowed.yaml", line, message)]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("constraint", "line", "message"),
    [
        (
            "constraint_typo.yaml",
            12,
            "constraint team-label-typo: unknown fields: spec.parameters.allowedTeam (the constraint's schema, built from the template, does not declare them)",
        ),
        (
            "constraint_spec_typo.yaml",
            10,
            "constraint team-label-spec-typo: unknown fields: spec.match.namespace (the constraint's schema, built from the template, does not declare them)",
        ),
        (
            "constraint_top_level_typo.yaml",
            5,
            "constraint team-label-top-level-typo: unknown fields: spce (the constraint's schema, built from the template, does not declare them)",
        ),
        (
            "constraint_bad_name.yaml",
            4,
            "constraint Team_Label: the name 'Team_Label' must be a DNS-1123 subdomain: lowercase letters, digits, "
            "'-' and '.', starting and ending with a letter or digit",
        ),
        (
            "constraint_v1.yaml",
            1,
            "constraint team-label-v1: constraint version 'v1' is not served; use v1alpha1 or v1beta1",
        ),
    ],
)
def test_constraints_the_generated_crd_refuses_are_findings(engine: str, constraint: str, line: int, message: str) -> None:
    ws = pattern_repository("strict-parameters", constraint, ("example_disallowed.yaml",))
    findings = gatekeeper_findings(evaluate(ws, options=EvalOptions(engine=engine)).findings)
    assert findings == [("gatekeeper/invalid-constraint", "policy/constraint.yaml", line, message)]


@pytest.mark.parametrize("engine", ENGINES)
def test_legacy_schema_template_accepts_unknown_parameters(engine: str) -> None:
    ws = pattern_repository("strict-parameters", "constraint_typo.yaml", EXAMPLES, template="template_legacy.yaml")
    assert gatekeeper_findings(evaluate(ws, options=EvalOptions(engine=engine)).findings) == []


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("template", "line", "message"),
    [
        (
            # kube-mgmt era templates read data.kubernetes; Gatekeeper's rewriter refuses them
            "template.yaml",
            16,
            "ConstraintTemplate k8suniquehostkubemgmt: the Rego refers to data.kubernetes; "
            "Gatekeeper only lets templates read data.inventory and data.lib",
        ),
        (
            "template_lib_package.yaml",
            25,
            "ConstraintTemplate k8suniquehostkubemgmt: libs[0]: package lib must be a sub-package "
            "such as lib.helpers (Gatekeeper refuses lib itself)",
        ),
    ],
)
def test_templates_gatekeeper_refuses_are_findings(engine: str, template: str, line: int, message: str) -> None:
    ws = pattern_repository("data-refs", "constraint.yaml", ("example_disallowed.yaml",), template=template)
    findings = gatekeeper_findings(evaluate(ws, options=EvalOptions(engine=engine)).findings)
    assert findings == [("gatekeeper/invalid-template", "policy/template.yaml", line, message)]


@pytest.mark.parametrize("engine", ENGINES)
def test_results_without_msg_are_dropped_like_gatekeeper_with_a_notice(engine: str) -> None:
    report = evaluate(pattern_repository("string-violation", "constraint.yaml", EXAMPLES), options=EvalOptions(engine=engine))
    found = sorted(report.findings, key=Finding.sort_key)
    assert [(f.severity.label, f.rule, f.file, f.line, f.message) for f in found if f.rule.startswith("gatekeeper/")] == [
        (
            "error",
            "gatekeeper/K8sNoLatestTag/no-latest-tag",
            "apps/example_disallowed.yaml",
            4,
            "container <sidecar> has no tag",
        ),
        (
            "notice",
            "gatekeeper/ignored-violation",
            "apps/example_disallowed.yaml",
            4,
            "constraint K8sNoLatestTag/no-latest-tag: the template returned 1 violation result(s) without a msg "
            '(e.g. "container <app> uses the latest tag"); Gatekeeper ignores them, so write violation[{"msg": msg}]',
        ),
    ]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("template", "line", "message"),
    [
        (
            "template_v0_modern_keywords.yaml",
            18,
            "ConstraintTemplate k8snohostipc: the Rego uses `contains`, `if`, which Rego v0 (a template's default) "
            "only knows after `import rego.v1`; add that import or declare `version: v1` in the code source",
        ),
        (
            "template_v1_in_v0_syntax.yaml",
            19,
            "ConstraintTemplate k8snohostipc: the Rego is declared `version: v1` but is written in Rego v0 "
            "(`if` keyword is required before rule body)",
        ),
    ],
)
def test_templates_in_the_wrong_rego_version_are_findings(engine: str, template: str, line: int, message: str) -> None:
    """Both engines would read either grammar; Gatekeeper parses strictly in the declared (or default v0) version."""
    ws = pattern_repository("rego-version", "constraint.yaml", EXAMPLES, template=template)
    findings = gatekeeper_findings(evaluate(ws, options=EvalOptions(engine=engine)).findings)
    assert findings == [("gatekeeper/invalid-template", "policy/template.yaml", line, message)]
