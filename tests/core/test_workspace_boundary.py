"""A workspace reads only what it lists: no path outside the root, no symbolic link, ever."""

from __future__ import annotations

import os
from pathlib import Path

from bot.core.manifests import load_manifest
from bot.core.workspace import Workspace


def test_unlisted_paths_are_never_read() -> None:
    asked: list[str] = []

    def reader(path: str) -> bytes:
        asked.append(path)
        return b"x"

    ws = Workspace(["a.yaml"], reader, symlinks=["link.yaml"])
    assert [ws.read("link.yaml"), ws.read("../etc/passwd"), ws.read("a.yaml")] == [None, None, b"x"]
    assert asked == ["a.yaml"]
    assert ws.symlinks == ["link.yaml"]


def test_a_directory_lists_links_apart_and_refuses_a_file_swapped_for_a_link(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("SECRET")
    root = tmp_path / "repo"
    (root / "apps").mkdir(parents=True)
    (root / "apps" / "cm.yaml").write_text("kind: ConfigMap\n")
    (root / "apps" / "link.yaml").symlink_to(tmp_path / "secret.txt")
    (root / "outside").symlink_to(tmp_path, target_is_directory=True)
    ws = Workspace.from_directory(root)
    assert (ws.paths, ws.symlinks) == (["apps/cm.yaml"], ["apps/link.yaml", "outside"])
    assert ws.read("apps/link.yaml") is None and ws.read("outside/secret.txt") is None
    os.unlink(root / "apps" / "cm.yaml")  # listed as a file, now a link: still not followed
    (root / "apps" / "cm.yaml").symlink_to(tmp_path / "secret.txt")
    assert ws.read("apps/cm.yaml") is None


def test_a_duplicate_key_finding_never_quotes_a_huge_key() -> None:
    key = "k" * 100_000
    data = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  ? {key}\n  : '1'\n  ? {key}\n  : '2'\n"
    [finding] = load_manifest("cm.yaml", data.encode()).findings
    assert finding.rule == "parse/duplicate-key"
    assert finding.message.startswith("The key 'kkkk") and "…" in finding.message
    assert len(finding.message) < 300 and len(finding.path or "") <= 200


def test_prefetch_names_only_listed_files_not_read_yet() -> None:
    told: list[list[str]] = []
    ws = Workspace(["a.yaml", "b.yaml", "c.yaml"], lambda p: p.encode(), prefetcher=told.append)
    ws.read("a.yaml")
    ws.prefetch(["a.yaml", "/b.yaml", "missing.yaml", "c.yaml", "b.yaml"])
    ws.prefetch(["a.yaml"])  # nothing left to say
    assert told == [["b.yaml", "c.yaml"]]
    Workspace.from_dict({"x": b"1"}).prefetch(["x"])  # without a prefetcher: nothing to do
