"""`gitops-bot check` as a user runs it: a real subprocess, real files, real git."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "fixtures" / "sample-repo"
GOOD_DEPLOYMENT = (SAMPLE / "apps/podinfo/base/deployment.yaml").read_text()


def run(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT), **(env or {})},
    )


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd, check=True, capture_output=True
    )


def json_report(*args: str, cwd: Path = ROOT) -> tuple[int, dict]:
    proc = run("check", "--format", "json", *args, cwd=cwd)
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_clean_directory_exits_zero(tmp_path):
    (tmp_path / "deployment.yaml").write_text(GOOD_DEPLOYMENT)
    code, report = json_report(str(tmp_path))
    assert code == 0, report
    assert report["version"] == 1
    assert report["summary"]["error"] == 0 and report["summary"]["resources"] == 1


def test_blocking_findings_exit_one_with_paths_relative_to_cwd(tmp_path):
    bad = GOOD_DEPLOYMENT.replace("replicas: 2", 'replicas: "two"')
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "web.yaml").write_text(bad)
    code, report = json_report("apps", cwd=tmp_path)
    assert code == 1
    (finding,) = [f for f in report["findings"] if f["severity"] == "error"]
    assert (finding["rule"], finding["file"], finding["line"], finding["source"]) == (
        "schema/type",
        "apps/web.yaml",
        9,
        "schema",
    )
    assert finding["resource"] == {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "podinfo", "name": "podinfo"}


def test_usage_and_input_errors_exit_two(tmp_path):
    assert run("check", str(tmp_path / "missing")).returncode == 2
    assert run("check", "--format", "yaml", str(tmp_path)).returncode == 2
    (tmp_path / "bad.yaml").write_text("strikt: true\n")
    proc = run("check", "--config", str(tmp_path / "bad.yaml"), str(tmp_path))
    assert proc.returncode == 2
    assert 'bad.yaml:1: strikt: unknown key (did you mean "strict"?)' in proc.stderr


def test_base_ref_judges_only_the_change(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    # The change: one new violating file, one deleted object; the rest of the (already broken) repo is untouched.
    (repo / "apps/podinfo/base/deployment.yaml").write_text(GOOD_DEPLOYMENT.replace("6.7.1", "latest"))
    (repo / "apps/podinfo/base/configmap.yaml").unlink()
    # ...and out of the kustomization that lists it: the overlays are rendered, and a dangling entry fails the build.
    kustomization = repo / "apps/podinfo/base/kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("  - configmap.yaml\n", ""))
    code, report = json_report("--base", "main", cwd=repo)
    assert code == 1
    files = {f["file"] for f in report["findings"]}
    assert files == {"apps/podinfo/base/deployment.yaml"}
    assert [f["rule"] for f in report["findings"] if f["severity"] == "error"] == ["image-tag"]
    assert report["deleted"] == [{"apiVersion": "v1", "kind": "ConfigMap", "namespace": "podinfo", "name": "podinfo-config"}]


def test_base_ref_uses_base_policies_and_tests_edited_ones(tmp_path):
    repo = tmp_path / "repo"
    (repo / "policy").mkdir(parents=True)
    (repo / ".gitops-bot.yaml").write_text("policies: {directories: [policy/]}\n")
    (repo / "policy" / "labels.rego").write_text(
        'package main\nimport rego.v1\ndeny contains msg if { not input.metadata.labels.team; msg := "every object needs a team label" }\n'
    )
    (repo / "app.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x, labels: {team: a}}\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    # The PR weakens the policy to nothing and adds an object without the label: the base policy still judges it.
    (repo / "policy" / "labels.rego").write_text("package main\nimport rego.v1\ndeny contains msg if { false; msg := \"\" }\n")
    (repo / "new.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: x}\n")
    code, report = json_report("--base", "main", "--no-policies", cwd=repo)
    assert code == 0
    code, report = json_report("--base", "main", cwd=repo)
    assert code == 1
    rules = [(f["rule"], f["file"]) for f in report["findings"] if f["severity"] == "error"]
    assert ("main.deny", "new.yaml") in rules
    assert report["policyChanges"] and report["policyChanges"][0]["name"] == "compile"


def test_edited_policy_that_does_not_compile_is_reported(tmp_path):
    repo = tmp_path / "repo"
    (repo / "policy").mkdir(parents=True)
    (repo / ".gitops-bot.yaml").write_text("policies: {directories: [policy/]}\n")
    (repo / "policy" / "ok.rego").write_text("package main\nimport rego.v1\ndeny contains msg if { false; msg := \"\" }\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    (repo / "policy" / "ok.rego").write_text("package main\ndeny contains msg if {{{\n")
    code, report = json_report("--base", "main", cwd=repo)
    assert code == 1
    (f,) = [f for f in report["findings"] if f["rule"] == "policy-change/compile"]
    assert f["file"] == "policy/ok.rego"


@pytest.mark.parametrize("fmt", ["text", "sarif", "junit", "github", "markdown"])
def test_every_format_renders_the_sample_repo(fmt):
    proc = run("check", "--format", fmt, "fixtures/sample-repo")
    assert proc.returncode == 1, proc.stderr
    assert "image-tag" in proc.stdout
    assert "hunter2" not in proc.stdout and "hunter2" not in proc.stderr


def test_test_policies_runs_the_builtin_library():
    proc = run("test-policies")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    passed = int(last.split()[0])
    assert passed >= 40 and last.endswith(" 0 failed")


def test_symlinks_are_reported_never_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "config.yaml").write_text('kubernetesVersion: "SECRET-XYZ-123"\n')
    (outside / "cm.yaml").write_text('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: "LEAKED-DIR"}\n')
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "deployment.yaml").write_text(GOOD_DEPLOYMENT)
    (repo / ".gitops-bot.yaml").symlink_to(outside / "config.yaml")
    (repo / "linked").symlink_to(outside, target_is_directory=True)
    (repo / "up.yaml").symlink_to("../outside/cm.yaml")
    code, report = json_report(".", cwd=repo)
    text = json.dumps(report)
    assert code == 0, report
    assert "SECRET-XYZ" not in text and "LEAKED-DIR" not in text
    assert report["summary"]["resources"] == 1
    skipped = sorted(n.split(":")[0] for n in report["notices"] if "symbolic link" in n)
    assert skipped == ["skipped .gitops-bot.yaml", "skipped linked", "skipped up.yaml"]
