"""The CLI's rough edges, as a user meets them: flags, pipes, noise control, completion, error messages."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import bot

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "fixtures" / "sample-repo"
PAYMENTS = (SAMPLE / "apps/payments/deployment.yaml").read_text()


def run(*args: str, cwd: Path = ROOT, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120,
        env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)},
    )


def test_version_comes_from_the_package():
    proc = run("--version")
    assert (proc.returncode, proc.stdout.strip()) == (0, f"gitops-bot {bot.__version__}")


def test_output_is_a_file_and_format_is_f(tmp_path):
    out = tmp_path / "report.sarif"
    proc = run("check", "-f", "sarif", "-o", str(out), "fixtures/sample-repo")
    assert proc.returncode == 1 and proc.stdout == ""
    assert json.loads(out.read_text())["version"] == "2.1.0"


@pytest.mark.parametrize("command", [["check", "fixtures/sample-repo"], ["plan", "--base", "HEAD"]])
def test_a_format_name_as_the_output_file_is_refused(tmp_path, command):
    proc = run(*command, "-o", "json", cwd=ROOT)
    assert proc.returncode == 2
    assert "-o/--output is the file to write; for the format use -f/--format json" in proc.stderr
    assert not (ROOT / "json").exists()


def test_stdin_stream_findings_name_stdin(tmp_path):
    stream = "---\n" + PAYMENTS + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: n}\ndata: {a: b}\n"
    proc = run("check", "-", "-f", "json", cwd=tmp_path, stdin=stream)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["summary"]["resources"] == 2
    assert {f["file"] for f in report["findings"]} == {"<stdin>"}
    image = next(f for f in report["findings"] if f["rule"] == "image-tag")
    image_line = next(i for i, ln in enumerate(PAYMENTS.splitlines(), 1) if "image: registry.example.com" in ln)
    assert image["line"] == image_line + 1  # after the stream's leading "---"
    text = run("check", "-", cwd=tmp_path, stdin=stream).stdout
    assert f"<stdin>:{image['line']}:{image['column']}  error    image-tag" in text


def test_stdin_uses_the_current_directorys_config(tmp_path):
    (tmp_path / ".gitops-bot.yaml").write_text("version: 1\nrules:\n  image-tag: off\n")
    report = json.loads(run("check", "-", "-f", "json", cwd=tmp_path, stdin=PAYMENTS).stdout)
    assert "image-tag" not in {f["rule"] for f in report["findings"]}
    assert "run-as-non-root" in {f["rule"] for f in report["findings"]}


def test_stdin_cannot_be_mixed_with_paths():
    proc = run("check", "-", "fixtures/sample-repo", stdin="")
    assert proc.returncode == 2 and "standard input is checked on its own" in proc.stderr


def test_min_severity_hides_lower_findings_but_not_from_the_exit_code():
    full = json.loads(run("check", "-f", "json", "fixtures/sample-repo").stdout)
    proc = run("check", "-f", "json", "--min-severity", "error", "--fail-on-warn", "fixtures/sample-repo")
    shown = json.loads(proc.stdout)
    assert {f["severity"] for f in shown["findings"]} == {"error"}
    assert len(shown["findings"]) == sum(1 for f in full["findings"] if f["severity"] == "error")
    hidden = len(full["findings"]) - len(shown["findings"])
    assert f"{hidden} finding(s) below error not shown (--min-severity error)" in shown["notices"]
    warn_only = SAMPLE / "apps/podinfo/base/deployment.yaml"
    assert run("check", "--min-severity", "error", "--fail-on-warn", str(warn_only)).returncode == (
        run("check", "--fail-on-warn", str(warn_only)).returncode
    )


def test_text_lists_errors_then_warnings_then_notices_and_ends_with_a_rule_summary():
    out = run("check", "fixtures/sample-repo").stdout
    severities = [line.split()[1] for line in out.splitlines() if line.startswith("fixtures/") and "  " in line]
    order = {"error": 0, "warning": 1, "notice": 2}
    report = json.loads(run("check", "-f", "json", "fixtures/sample-repo").stdout)
    active = severities[: sum(1 for f in report["findings"] if f["waived"] is None)]  # waived ones come last
    assert active == sorted(active, key=order.get) and {"error", "warning", "notice"} <= set(active)
    summary = out[out.index("by rule:"):].splitlines()
    assert summary[1].split()[0] == "error"
    verdict = next(i for i, line in enumerate(summary) if line.startswith("✗ 7 blocking findings"))
    assert summary[verdict - 1] == "" and all(line.startswith("  ") for line in summary[1 : verdict - 1])


def test_quiet_prints_only_the_verdict(tmp_path):
    proc = run("check", "-q", "fixtures/sample-repo")
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [next(ln for ln in run("check", "fixtures/sample-repo").stdout.splitlines() if ln.startswith("✗"))]


def test_kubernetes_version_errors_name_the_flag():
    proc = run("check", "--kubernetes-version", "1.99", "fixtures/sample-repo")
    assert proc.returncode == 2
    assert proc.stderr.startswith("gitops-bot: --kubernetes-version: Kubernetes version '1.99' is not supported")
    assert ".gitops-bot.yaml" not in proc.stderr


def test_config_errors_name_the_file_as_given(tmp_path):
    (tmp_path / "my-config.yaml").write_text('version: 1\nkubernetesVersion: "1.99"\n')
    proc = run("check", "--config", "my-config.yaml", str(SAMPLE), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("gitops-bot: my-config.yaml: Kubernetes version '1.99'"), proc.stderr


def test_default_kubernetes_version_is_the_newest_bundled_supported_minor(tmp_path):
    from bot.core.schemas import DEFAULT_KUBERNETES_VERSION, supported_kubernetes_versions

    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: n}\n")
    report = json.loads(run("check", "-f", "json", str(tmp_path)).stdout)
    assert report["kubernetesVersion"] == DEFAULT_KUBERNETES_VERSION == "1.37"
    assert DEFAULT_KUBERNETES_VERSION in supported_kubernetes_versions()


@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete"), ("zsh", "#compdef"), ("fish", "complete -c")])
def test_completion_scripts_know_the_flags(shell, marker):
    proc = run("completion", shell)
    assert proc.returncode == 0 and marker in proc.stdout
    assert "--min-severity" in proc.stdout and "test-policies" in proc.stdout
