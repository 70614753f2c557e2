"""deploy/ renders with kustomize and passes the bot's own check; the Dockerfile's build stage has what it needs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml

from .conftest import ROOT, clean_env

DEPLOY = ROOT / "deploy"


def kustomize(path: Path) -> str:
    """``kubectl kustomize`` (the machine's kubectl), else a standalone ``kustomize build``."""
    command = ["kubectl", "kustomize"] if shutil.which("kubectl") else ["kustomize", "build"]
    proc = subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def bot_check(*args: str, stdin: str | None = None) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check", "-f", "json", *args], cwd=ROOT, input=stdin,
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def loud(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] in ("error", "warning") and f["waived"] is None]


def test_deploy_sources_and_rendered_base_pass_the_bots_own_check():
    report = bot_check("deploy")
    assert loud(report) == [] and report["summary"]["resources"] >= 9
    rendered = kustomize(DEPLOY)
    assert loud(bot_check("-", stdin=rendered)) == []
    kinds = sorted(d["kind"] for d in yaml.safe_load_all(rendered) if d)
    assert kinds == ["Deployment", "Deployment", "Namespace", "NetworkPolicy", "NetworkPolicy", "NetworkPolicy", "Service", "ServiceAccount"]


def test_rendered_base_is_hardened_and_references_secrets_only():
    docs = [d for d in yaml.safe_load_all(kustomize(DEPLOY)) if d]
    assert not any(d["kind"] == "Secret" for d in docs)
    for deployment in (d for d in docs if d["kind"] == "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] and pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            sc = container["securityContext"]
            assert sc["readOnlyRootFilesystem"] and sc["allowPrivilegeEscalation"] is False
            assert container["resources"]["limits"]["memory"] and container["resources"]["requests"]["cpu"]
            assert "livenessProbe" in container and "readinessProbe" in container
            assert all("value" not in e for e in container["env"] if e["name"].startswith("GITHUB_") and
                       not e["name"].endswith("_PATH"))
    web = next(d for d in docs if d["metadata"]["name"] == "gitops-bot-web" and d["kind"] == "Deployment")
    (container,) = web["spec"]["template"]["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_overlay_with_the_redis_component_renders_and_passes(tmp_path: Path):
    shutil.copytree(DEPLOY, tmp_path / "deploy")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources: [../deploy]\ncomponents: [../deploy/components/redis]\n"
    )
    rendered = kustomize(overlay)
    names = {(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(rendered) if d}
    assert {("Deployment", "gitops-bot-redis"), ("Service", "gitops-bot-redis"), ("NetworkPolicy", "gitops-bot-redis")} <= names
    assert loud(bot_check("-", stdin=rendered)) == []


def test_dockerfile_build_stage_copies_enough_to_build_the_wheel_and_runs_unprivileged(tmp_path: Path):
    dockerfile = (ROOT / "Dockerfile").read_text()
    build_stage, final_stage = dockerfile.split("\nFROM ${PYTHON_IMAGE}\n")
    copied = [src for line in re.findall(r"^COPY (?!--from)(.+)$", build_stage, flags=re.MULTILINE)
              for src in line.split()[:-1]]
    context = tmp_path / "context"
    context.mkdir()
    for src in copied:
        (shutil.copytree if (ROOT / src).is_dir() else shutil.copy2)(ROOT / src, context / src)
    assert {"pyproject.toml", "setup.py", "bot", "policies"} <= set(copied)
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(tmp_path / "dist"), str(context)],
        capture_output=True, text=True, timeout=600, env=clean_env(),
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    assert "bot/builtin_policies/lib/kubernetes.rego" in zipfile.ZipFile(wheel).namelist()
    assert re.search(r"^USER 10001:10001$", final_stage, flags=re.MULTILINE)
    assert "pip uninstall -y pip setuptools wheel" in final_stage  # no installer left behind
    assert not re.search(r"apt-get|gcc|build-essential|pip install[^\n]*\bbuild\b", final_stage)
