"""Renders of a pull request's kustomizations run behind the sandbox's limits: output, CPU, memory, time."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from bot.plan.kustomize_runner import KustomizeRunner, RenderFailed


def _fake_kustomize(tmp_path: Path, body: str) -> KustomizeRunner:
    """A `kustomize` on an otherwise empty PATH that runs ``body`` (a shell script) as the build."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "kustomize"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return KustomizeRunner(search_path=f"{bin_dir}:/usr/bin:/bin", timeout=20, max_output_bytes=64 * 1024)


def _build(runner: KustomizeRunner, tmp_path: Path) -> bytes:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return runner.build(tmp_path, home)


def test_the_build_sees_cpu_memory_and_file_size_limits(tmp_path, monkeypatch):
    monkeypatch.setenv("GITOPS_BOT_SANDBOX_CPU_SECONDS", "7")
    monkeypatch.setenv("GITOPS_BOT_SANDBOX_MEMORY_MB", "300")
    runner = _fake_kustomize(tmp_path, "cat /proc/self/limits\n")
    limits = {line[:26].strip(): line[26:].split() for line in _build(runner, tmp_path).decode().splitlines()[1:]}
    assert limits["Max cpu time"][:2] == ["7", "7"]
    assert limits["Max data size"][:2] == [str(300 << 20)] * 2
    assert limits["Max file size"][0] == str(64 * 1024 + 1)
    assert limits["Max core file size"][:2] == ["0", "0"]


def test_output_beyond_the_cap_stops_the_build(tmp_path):
    runner = _fake_kustomize(tmp_path, "head -c 1000000 /dev/zero | tr '\\0' a\n")
    with pytest.raises(RenderFailed, match="produced more than 65536 bytes"):
        _build(runner, tmp_path)


def test_a_build_that_burns_cpu_is_stopped_by_its_cpu_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("GITOPS_BOT_SANDBOX_CPU_SECONDS", "1")
    runner = _fake_kustomize(tmp_path, "while :; do :; done\n")
    with pytest.raises(RenderFailed, match="CPU time"):
        _build(runner, tmp_path)


def test_a_build_that_hoards_memory_dies_inside_its_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("GITOPS_BOT_SANDBOX_MEMORY_MB", "64")
    # A Python child stands in for a kustomize whose object count explodes: it grows until the limit stops it.
    runner = _fake_kustomize(tmp_path, f"exec {sys.executable} -c 'x = bytearray(512 << 20)'\n")
    with pytest.raises(RenderFailed):
        _build(runner, tmp_path)
