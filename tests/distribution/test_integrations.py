"""The surfaces platform teams plug the bot into: the GitHub Action and the pre-commit hook, run for real."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT, Installed, clean_env, copy_checkout

pytestmark = pytest.mark.timeout(1200)
GOOD_DEPLOYMENT = (ROOT / "fixtures/sample-repo/apps/podinfo/base/deployment.yaml").read_text()
BAD_DEPLOYMENT = GOOD_DEPLOYMENT.replace("replicas: 2", 'replicas: "two"')


def action_steps() -> dict[str, dict]:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    return {step.get("id", step.get("name")): step for step in action["runs"]["steps"]}


def substitute(value: str, inputs: dict[str, str], action_path: Path) -> str:
    """What the runner does with ``${{ inputs.x }}`` / ``${{ github.action_path }}`` in a step's env."""
    def one(match: re.Match) -> str:
        expr = match.group(1).strip()
        if expr == "github.action_path":
            return str(action_path)
        assert expr.startswith("inputs."), expr
        return inputs[expr.removeprefix("inputs.")]

    return re.sub(r"\$\{\{(.*?)\}\}", one, value)


def run_step(step: dict, inputs: dict[str, str], installed: Installed, cwd: Path, tmp: Path):
    defaults = {k: str(v.get("default", "")) for k, v in yaml.safe_load((ROOT / "action.yml").read_text())["inputs"].items()}
    values = {**defaults, **inputs}
    assert "${{" not in step["run"], "inputs must reach the script through env, not be spliced into it"
    env = {k: substitute(str(v), values, installed.source) for k, v in step.get("env", {}).items()}
    output_file = tmp / "github_output"
    output_file.write_text("")
    env = {**clean_env(), **env, "NO_COLOR": "1", "GITHUB_OUTPUT": str(output_file),
           "PATH": f"{installed.bin}{os.pathsep}{clean_env()['PATH']}"}
    proc = subprocess.run(["bash", "-c", step["run"]], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    return proc, output_file.read_text()


def test_action_installs_itself_and_checks_with_annotations_and_sarif(installed: Installed, tmp_path: Path):
    steps = action_steps()
    assert steps["Set up Python"]["uses"].startswith("actions/setup-python@")
    install, _ = run_step(steps["install"], {}, installed, installed.workdir, tmp_path)
    assert install.returncode == 0, install.stderr
    sarif = tmp_path / "results.sarif"
    inputs = {"paths": "fixtures/sample-repo/apps\nfixtures/sample-repo/infrastructure", "sarif-file": str(sarif)}
    proc, outputs = run_step(steps["check"], inputs, installed, ROOT, tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert outputs.strip() == "exit-code=1"
    annotations = [line for line in proc.stdout.splitlines() if line.startswith("::")]
    assert annotations[0].startswith("::error file=fixtures/sample-repo/apps/")
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    expected = json.loads(installed.run(
        "gitops-bot", "check", "-f", "json", "fixtures/sample-repo/apps", "fixtures/sample-repo/infrastructure", cwd=ROOT
    ).stdout)
    blocking = sum(1 for r in results if r["level"] == "error" and "suppressions" not in r)
    assert blocking == expected["summary"]["error"] == sum(1 for a in annotations if a.startswith("::error")) >= 5
    assert len(results) == len(expected["findings"])
    assert all(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("fixtures/sample-repo/")
        for r in results if r.get("locations")
    )


def test_action_passes_a_clean_tree_and_honours_min_severity(installed: Installed, tmp_path: Path):
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "web.yaml").write_text(GOOD_DEPLOYMENT)
    proc, outputs = run_step(action_steps()["check"], {"min-severity": "warning"}, installed, tmp_path / "repo", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outputs.strip() == "exit-code=0"
    assert "::notice" not in proc.stdout and proc.stdout.strip().endswith("checked 1 resource in 1 file")


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd, check=True,
                   capture_output=True)


def test_pre_commit_hook_blocks_a_violation_and_passes_a_clean_file(tmp_path: Path):
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["gitops-bot-check"] and hooks[0]["types"] == ["yaml"]
    repo = tmp_path / "gitops"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "good.yaml").write_text(GOOD_DEPLOYMENT)
    (repo / "notes.txt").write_text("not yaml\n")
    git(repo, "add", ".")
    # try-repo clones a git repository: a committed copy of this checkout, whatever the state of its work tree.
    hook_repo = copy_checkout(tmp_path / "hook-repo")
    git(hook_repo, "init", "-q")
    git(hook_repo, "add", "-A")
    git(hook_repo, "commit", "-q", "-m", "hook under test")
    env = {**clean_env(), "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "NO_COLOR": "1"}
    pre_commit = [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "gitops-bot-check", "--all-files"]
    clean = subprocess.run(pre_commit, cwd=repo, env=env, capture_output=True, text=True, timeout=900)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert re.search(r"gitops-bot check\.+Passed", clean.stdout)

    (repo / "apps").mkdir()
    (repo / "apps" / "bad.yaml").write_text(BAD_DEPLOYMENT)
    git(repo, "add", ".")
    bad = subprocess.run(pre_commit, cwd=repo, env=env, capture_output=True, text=True, timeout=900)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert re.search(r"gitops-bot check\.+Failed", bad.stdout)
    assert "✗ 1 blocking finding (1 schema) in 1 file" in bad.stdout
