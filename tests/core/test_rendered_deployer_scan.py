"""A tree too large to look for deployers is said in the report, never taken for a tree without them."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from bot.core import deploy_targets
from bot.core.rendered import render_roots
from bot.core.renderer import RENDERED, RenderOutcome
from bot.core.workspace import Workspace
from bot.core.yamlpos import DEFAULT_LIMITS

TREE = {
    "base/web/kustomization.yaml": b"resources: [deployment.yaml]\n",
    "base/web/deployment.yaml": b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
    "overlays/prod/kustomization.yaml": b"resources: [../../base/web]\n",
    "argo/dev.yaml": b"apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: dev}\n"
                     b"spec: {source: {path: base/web}}\n",
    **{f"plain/a{i}/cm.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x%d}\n" % i for i in range(5)},
}


class OneObject:
    """Builds every root into one ConfigMap."""

    helm_enabled = False

    def render(self, root: str, files: Mapping[str, bytes]) -> RenderOutcome:
        return RenderOutcome(RENDERED, output=b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: r}\n")

    def render_chart(self, release: object, files: Mapping[str, bytes]) -> RenderOutcome:
        raise AssertionError("no chart here")


def recording(files: Mapping[str, bytes]) -> tuple[Workspace, list[str], list[list[str]]]:
    reads: list[str] = []
    batches: list[list[str]] = []
    ws = Workspace(files.keys(), lambda p: (reads.append(p), files.get(p))[1],
                   sizes={p: len(v) for p, v in files.items()}, prefetcher=batches.append)
    return ws, reads, batches


@pytest.mark.parametrize("changed", [["base/web/deployment.yaml"], None], ids=["change", "whole-tree"])
def test_a_directly_deployed_base_is_its_own_root_after_one_batched_scan(changed: list[str] | None) -> None:
    ws, reads, batches = recording(TREE)
    out = render_roots(ws, OneObject(), changed, DEFAULT_LIMITS)
    assert sorted(out.closures) == ["base/web", "overlays/prod"]
    manifests = {p for p in TREE if not p.endswith("kustomization.yaml")}
    assert any(manifests <= set(b) for b in batches)  # every manifest asked for in one batch before the reads
    assert not any("too many" in n for n in out.notices)


@pytest.mark.parametrize("changed", [["base/web/deployment.yaml"], None], ids=["change", "whole-tree"])
def test_past_the_scan_cap_the_base_a_deployer_may_apply_is_named_in_a_notice(
    changed: list[str] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deploy_targets, "MAX_SCANNED_FILES", 3)
    ws, reads, _ = recording(TREE)
    out = render_roots(ws, OneObject(), changed, DEFAULT_LIMITS)
    assert list(out.closures) == ["overlays/prod"]
    [notice] = [n for n in out.notices if "too many to look for Argo CD Applications" in n]
    assert "base/web" in notice and "not as roots a deployer may apply directly" in notice
    assert "argo/dev.yaml" not in reads and "plain/a0/cm.yaml" not in reads  # gave up before reading the tree


def test_the_scan_says_when_it_gave_up_and_the_old_reader_still_shows_none() -> None:
    ws = Workspace.from_dict(dict(TREE))
    assert deploy_targets.scan_deployer_paths(ws, max_files=3) is None
    assert deploy_targets.find_deployer_paths(ws, max_files=3) == []
    assert [dp.directory for dp in deploy_targets.scan_deployer_paths(ws) or []] == ["base/web"]
