"""The fast paths (one engine call per batch of same-kind documents, rules scoped by METADATA kinds)
must give exactly the findings of the plain path: one call per document with every rule."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.manifests import load_workspace
from bot.core.rego import ENGINES, PolicySet
from bot.core.rego import policyset as policyset_module
from bot.core.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate_corpus.py"), "--out", str(out), "--documents", "600", "--files", "60", "--seed", "7"],
        check=True,
        capture_output=True,
    )
    resources = load_workspace(Workspace.from_directory(out)).resources
    resources += load_workspace(Workspace.from_directory(ROOT / "fixtures" / "sample-repo")).resources
    assert len(resources) > 550
    return resources


def key(findings):
    return sorted((f.file, f.line, f.rule, f.message, f.severity) for f in findings)


@pytest.mark.parametrize("engine", ENGINES)
def test_batched_and_kind_scoped_evaluation_matches_the_plain_path(engine, corpus, monkeypatch):
    fast = PolicySet.load([], engine=engine)
    fast_findings = fast.evaluate(corpus)
    assert len(fast_findings) > 100

    plain = PolicySet.load([], engine=engine)
    plain.metadata = {p: dataclasses.replace(m, kinds=()) for p, m in plain.metadata.items()}
    monkeypatch.setattr(policyset_module, "BATCH_SIZE", 1)
    assert key(plain.evaluate(corpus)) == key(fast_findings)


def test_kind_scoping_skips_rules_that_cannot_fire():
    policies = PolicySet.load([], engine="regorus")
    configmap_rules = {t.package for t in policies.targets_for("ConfigMap")[0]}
    deployment_rules = {t.package for t in policies.targets_for("Deployment")[0]}
    assert "gitops.builtin.image_tag" in deployment_rules and "gitops.builtin.image_tag" not in configmap_rules
    assert "gitops.builtin.duplicate_object" in configmap_rules
