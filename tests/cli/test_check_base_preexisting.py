"""`gitops-bot check --base` on a real git repository with debt: only what the change adds blocks; --all judges everything."""

import shutil

from tests.cli.test_check_cli import SAMPLE, git, json_report, run


def test_base_ref_lists_old_findings_apart_and_all_judges_them(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    # An unrelated edit at the top of a file that already has a `latest` image and a privileged container.
    deployment = repo / "apps/payments/deployment.yaml"
    deployment.write_text("# owned by the payments team\n" + deployment.read_text())
    code, report = json_report("--base", "main", cwd=repo)
    assert code == 0, report
    assert [f for f in report["findings"] if f["severity"] == "error"] == []
    old = {(f["rule"], f["line"]) for f in report["preexisting"]}
    assert {("image-tag", 19), ("privileged-container", 21)} <= old
    assert report["summary"]["preexisting"] == len(report["preexisting"])

    text = run("check", "--base", "main", cwd=repo)
    assert text.returncode == 0
    assert "already on the base branch" in text.stdout

    code, report = json_report("--base", "main", "--all", cwd=repo)
    assert code == 1
    assert {("image-tag", 19), ("privileged-container", 21)} <= {
        (f["rule"], f["line"]) for f in report["findings"] if f["severity"] == "error"
    }
    assert report["preexisting"] == []

    # A new violation in the same file blocks while the old ones stay listed apart.
    deployment.write_text(deployment.read_text().replace("    spec:\n      containers:", "    spec:\n      hostNetwork: true\n      containers:"))
    code, report = json_report("--base", "main", cwd=repo)
    assert code == 1
    assert [(f["rule"], f["line"]) for f in report["findings"] if f["severity"] == "error"] == [("host-network", 17)]
    assert {"image-tag", "privileged-container"} <= {f["rule"] for f in report["preexisting"]}
