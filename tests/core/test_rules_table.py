"""The rules table in policies/README.md says exactly what the METADATA of every built-in rule says."""

import re
from pathlib import Path

from bot.core.profiles import builtin_pss_levels
from bot.core.rego import PolicySet

README = Path(__file__).resolve().parents[2] / "policies" / "README.md"
ROW = re.compile(r"^\| ([a-z0-9-]+) \| (baseline|restricted|none) \| (error|warning|notice) \|", re.MULTILINE)


def test_every_builtin_rule_is_in_the_table_with_its_level_and_severity():
    table = {m.group(1): (m.group(2), m.group(3)) for m in ROW.finditer(README.read_text())}
    rules = PolicySet.load([], engine="regorus").rules
    metadata = {r.id: (r.pss, r.severity.label if r.severity else "") for r in rules}
    assert table == metadata
    levels = builtin_pss_levels()  # change-aware rules too: all bot opinions
    assert {k: v for k, v in levels.items() if k in metadata} == {rule_id: level for rule_id, (level, _) in metadata.items()}
    assert {v for k, v in levels.items() if k.startswith("change-")} == {"none"}


def test_restricted_controls_warn_and_baseline_controls_block_by_default():
    rules = PolicySet.load([], engine="regorus").rules
    assert {r.id for r in rules if r.pss == "restricted"} == {"privilege-escalation", "run-as-non-root", "pod-security-restricted"}
    assert {r.severity.label for r in rules if r.pss == "restricted"} == {"warning"}
    assert {r.severity.label for r in rules if r.pss == "baseline"} == {"error"}
    assert all(r.pss in ("baseline", "restricted", "none") for r in rules)


def test_the_main_readme_table_matches_too():
    readme = (README.parents[1] / "README.md").read_text()
    main = {m.group(1): (m.group(2), m.group(3)) for m in ROW.finditer(readme)}
    policies = {m.group(1): (m.group(2), m.group(3)) for m in ROW.finditer(README.read_text())}
    assert main == policies
