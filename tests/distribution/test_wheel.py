"""A wheel installed outside the checkout judges like the checkout: same library, same findings, same tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import bot

from .conftest import ROOT, Installed, sdist_names, wheel_names

SAMPLE = ROOT / "fixtures" / "sample-repo"
pytestmark = pytest.mark.timeout(1200)  # the first test pays for building and installing the wheel


def library_files() -> set[str]:
    return {p.relative_to(ROOT / "policies").as_posix() for p in (ROOT / "policies").rglob("*") if p.is_file()}


def checkout_run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)},
    )


def findings_of(stdout: str) -> list[tuple]:
    report = json.loads(stdout)
    return [(f["rule"], f["severity"], f["file"], f["line"], f["column"], f["message"]) for f in report["findings"]]


def test_wheel_and_sdist_ship_the_policy_library_and_schemas(installed: Installed):
    names = wheel_names(installed.wheel)
    assert {f"bot/builtin_policies/{f}" for f in library_files()} <= names
    assert {"bot/schemas/gitops-bot-config.json", "bot/schemas/report-v1.json"} <= names
    sdist = sdist_names(installed.sdist)
    assert {f"policies/{f}" for f in library_files()} <= sdist
    assert "setup.py" in sdist and "bot/schemas/report-v1.json" in sdist
    assert not any(n.startswith(("tests/", "fixtures/")) for n in names)


def test_installed_check_gives_the_checkouts_findings_from_another_directory(installed: Installed):
    proc = installed.run("gitops-bot", "check", str(SAMPLE), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    expected = checkout_run("check", str(SAMPLE), "--format", "json", cwd=installed.workdir)
    assert expected.returncode == 1, expected.stderr
    assert findings_of(proc.stdout) == findings_of(expected.stdout)
    summary = json.loads(proc.stdout)["summary"]
    assert summary["error"] == 7  # what README promises for the sample repository
    assert summary == json.loads(expected.stdout)["summary"]


def test_installed_test_policies_runs_the_builtin_library_tests(installed: Installed):
    proc = installed.run("gitops-bot", "test-policies")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    expected = checkout_run("test-policies", cwd=installed.workdir)
    assert proc.stdout.splitlines()[-1] == expected.stdout.splitlines()[-1]
    assert proc.stdout.splitlines()[-1].endswith(" passed, 0 failed")


def test_installed_version_and_app_modules_import(installed: Installed):
    proc = installed.run("gitops-bot", "--version")
    assert (proc.returncode, proc.stdout.strip()) == (0, f"gitops-bot {bot.__version__}")
    # Every runtime import of the App and its edges is a declared dependency (requests was not).
    code = "import bot.app.web, bot.app.worker, bot.app.service, bot.github.client, bot.backends.opa_server; print(bot.app.web.create_app)"
    proc = installed.run("python", "-c", code)
    assert proc.returncode == 0, proc.stderr


def test_engine_opa_without_its_extra_is_a_usage_error_naming_the_extra(installed: Installed):
    proc = installed.run("python", "-c", "import opa_bindings")
    assert proc.returncode != 0  # the fresh venv has only the declared dependencies
    proc = installed.run("gitops-bot", "check", str(SAMPLE), "--engine", "opa")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "gitops-policy-bot[opa]" in proc.stderr and "Traceback" not in proc.stderr


def test_a_missing_library_fails_loudly_never_passes(installed: Installed, tmp_path: Path):
    (site,) = installed.venv.glob("lib/python*/site-packages")
    library = site / "bot" / "builtin_policies"
    parked = tmp_path / "parked"
    shutil.move(library, parked)
    try:
        check = installed.run("gitops-bot", "check", str(SAMPLE))
        tests = installed.run("gitops-bot", "test-policies")
    finally:
        shutil.move(parked, library)
    assert check.returncode == 2, check.stdout + check.stderr
    assert "built-in policy library is missing" in check.stderr
    assert tests.returncode == 2 and "built-in policy library is missing" in tests.stderr
