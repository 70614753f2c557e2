"""docs/rules.md has an anchor for every rule the bot can report, and SARIF links to it."""

from __future__ import annotations

import re
from pathlib import Path

from bot.core.evaluate import evaluate
from bot.core.rego import PolicySet
from bot.core.sandbox import RULE_RESOURCE_LIMIT, RULE_TIMEOUT
from bot.core.schemas import API_SERVER_RULES, SCHEMA_RULES
from bot.core.schemas.catalog import RULE_CATALOG_UNAVAILABLE
from bot.core.workspace import Workspace
from bot.reporters.rule_docs import (
    DOCUMENTED_RULES,
    GATEKEEPER_CONSTRAINTS_ANCHOR,
    RULES_PAGE,
    SECURITY_SEVERITY,
    anchor,
    help_uri,
)
from bot.reporters.sarif import SarifReporter

ROOT = Path(__file__).resolve().parents[2]
RULES_MD = ROOT / "docs" / "rules.md"


def headings() -> list[str]:
    return re.findall(r"^### (.+)$", RULES_MD.read_text(), flags=re.MULTILINE)


def builtin_rule_ids() -> set[str]:
    ids = set()
    for path in (ROOT / "policies").rglob("*.rego"):
        ids.update(re.findall(r"^#\s+id:\s*(\S+)", path.read_text(), flags=re.MULTILINE))
    return ids


def test_every_documented_rule_has_exactly_one_heading_and_nothing_else_does():
    found = headings()
    assert len(found) == len(set(found))
    assert set(found) == DOCUMENTED_RULES | {GATEKEEPER_CONSTRAINTS_ANCHOR}


def test_every_builtin_and_schema_rule_is_documented():
    assert len(builtin_rule_ids()) >= 32  # the library is there (a glob that finds nothing proves nothing)
    assert builtin_rule_ids() <= DOCUMENTED_RULES
    assert set(SCHEMA_RULES) | set(API_SERVER_RULES) <= DOCUMENTED_RULES
    assert {RULE_TIMEOUT, RULE_RESOURCE_LIMIT, RULE_CATALOG_UNAVAILABLE} <= DOCUMENTED_RULES
    assert set(SECURITY_SEVERITY) <= builtin_rule_ids()


def test_builtin_entries_say_what_their_metadata_says():
    """Title and default severity of each built-in rule's entry come from its METADATA: they cannot drift."""
    text = RULES_MD.read_text()
    for rule in PolicySet.load([], engine="regorus").rules:
        entry = text.split(f"### {rule.id}\n", 1)[1].split("\n### ", 1)[0]
        assert entry.strip().startswith(f"**{rule.severity.label}** · {rule.title} · "), rule.id


def test_anchors_follow_githubs_heading_slugs():
    assert anchor("image-tag") == "image-tag"
    assert anchor("schema/unknown-field") == "schemaunknown-field"
    assert help_uri("schema/type") == f"{RULES_PAGE}#schematype"
    assert help_uri("gatekeeper/K8sRequiredLabels/must-have-team") == f"{RULES_PAGE}#gatekeeper-constraints"
    assert help_uri("main.deny") is None


def test_sarif_rules_of_the_sample_repo_link_the_reference_and_rank_security_rules():
    report = evaluate(Workspace.from_directory(ROOT / "fixtures" / "sample-repo"))
    rules = {r["id"]: r for r in SarifReporter().sarif_log(report)["runs"][0]["tool"]["driver"]["rules"]}
    assert {"image-tag", "run-as-non-root", "schema/type"} <= set(rules)
    anchors = {anchor(h) for h in headings()}
    for rule_id, descriptor in rules.items():
        uri = descriptor.get("helpUri")
        if rule_id in DOCUMENTED_RULES:
            assert uri and uri.split("#", 1)[1] in anchors, rule_id
        score = descriptor["properties"].get("security-severity")
        assert (score is not None) == (rule_id in SECURITY_SEVERITY), rule_id
        if score is not None:
            assert 0.0 < float(score) <= 10.0 and "security" in descriptor["properties"]["tags"]
    assert rules["image-tag"]["properties"]["security-severity"] == "4.0"
    assert "security-severity" not in rules["schema/type"]["properties"]
