"""Kustomize patch discovery: strategic-merge patches load as partial objects, JSON 6902 ones are skipped."""

from __future__ import annotations

from pathlib import Path

from bot.core.findings import Severity, Source
from bot.core.kustomize import find_patch_files, kustomization_files, scan_patches
from bot.core.manifests import load_workspace
from bot.core.workspace import Workspace

REPO = Path(__file__).parents[2] / "fixtures" / "manifests" / "repo"


def test_kustomization_files_lists_every_kustomization_and_component():
    assert kustomization_files(Workspace.from_directory(REPO)) == [
        "apps/base/kustomization.yaml",
        "apps/overlays/prod/kustomization.yaml",
        "components/monitoring/kustomization.yaml",
    ]


def test_strategic_merge_patches_come_from_every_field_and_from_components():
    patch_files, findings = find_patch_files(Workspace.from_directory(REPO))

    assert findings == []
    assert patch_files == {
        "apps/overlays/prod/replicas-patch.yaml",  # patchesStrategicMerge
        "apps/overlays/prod/memory-patch.yaml",  # patches[].path holding an object
        "components/monitoring/sidecar-patch.yaml",  # a Component's patches
    }


def test_json6902_patches_are_told_apart_by_field_and_by_content():
    patches = scan_patches(Workspace.from_directory(REPO))

    assert patches.json6902 == {
        "apps/overlays/prod/image-ops.yaml",  # patches[].path holding a list of operations
        "apps/overlays/prod/json6902-ops.json",  # patchesJson6902
    }


def test_loading_with_patch_files_marks_patches_and_skips_json6902_files():
    ws = Workspace.from_directory(REPO)
    patch_files, _ = find_patch_files(ws)

    result = load_workspace(ws, patch_files=patch_files)

    assert sorted((r.file, r.is_patch) for r in result.resources if r.kind == "Deployment") == [
        ("apps/base/deployment.yaml", False),
        ("apps/overlays/prod/memory-patch.yaml", True),
        ("apps/overlays/prod/replicas-patch.yaml", True),
        ("components/monitoring/sidecar-patch.yaml", True),
    ]
    skipped = dict(result.skipped)
    assert skipped["apps/overlays/prod/image-ops.yaml"] == "JSON 6902 patch"
    assert skipped["apps/overlays/prod/json6902-ops.json"] == "JSON 6902 patch"


def test_paths_escaping_the_root_remote_urls_inline_and_missing_patches_are_ignored():
    ws = Workspace.from_dict(
        {
            "k/kustomization.yaml": (
                "patchesStrategicMerge:\n"
                "  - ../../outside.yaml\n"
                "  - /etc/passwd\n"
                "  - https://example.com/p.yaml\n"
                "  - github.com/org/repo/p.yaml\n"
                "  - missing.yaml\n"
                "  - ./sub/../local.yaml\n"
                "  - |-\n    apiVersion: v1\n    kind: ConfigMap\n"
                "patches:\n  - patch: |-\n      apiVersion: v1\n      kind: ConfigMap\n  - path: 42\n"
            ),
            "k/local.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p}\n",
            "outside.yaml": "apiVersion: v1\nkind: ConfigMap\n",
        }
    )

    assert find_patch_files(ws) == ({"k/local.yaml"}, [])


def test_a_kustomization_at_the_root_resolves_relative_to_the_root():
    ws = Workspace.from_dict({"kustomization.yaml": "patches:\n- path: p.yaml\n", "p.yaml": "kind: X\n"})

    assert find_patch_files(ws) == ({"p.yaml"}, [])


def test_a_broken_kustomization_gives_a_syntax_finding_and_the_others_still_count():
    ws = Workspace.from_dict(
        {
            "bad/kustomization.yaml": "resources:\n  - a.yaml\n patches: [\n",
            "good/kustomization.yml": "patchesStrategicMerge: [p.yaml]\n",
            "good/p.yaml": "apiVersion: v1\nkind: ConfigMap\n",
        }
    )

    patch_files, findings = find_patch_files(ws)

    assert patch_files == {"good/p.yaml"}
    assert [(f.rule, f.file, f.line) for f in findings] == [("parse/yaml-syntax", "bad/kustomization.yaml", 3)]
    assert findings[0].severity is Severity.ERROR and findings[0].source == Source.PARSE


def test_a_hostile_kustomization_is_a_finding_not_a_crash():
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(6)
    )
    ws = Workspace.from_dict({"kustomization.yaml": laughs + "patchesStrategicMerge: [p.yaml]\n"})

    assert [f.rule for f in find_patch_files(ws)[1]] == ["parse/alias-limit"]


def test_near_reads_only_the_kustomizations_at_or_above_the_paths_and_finds_their_patches():
    files = {
        f"apps/app{i}/kustomization.yaml": "resources: [deploy.yaml]\npatches:\n  - path: patch.yaml\n" for i in range(20)
    }
    files |= {f"apps/app{i}/patch.yaml": "apiVersion: apps/v1\nkind: Deployment\n" for i in range(20)}
    files["kustomization.yaml"] = "resources: [apps/app3]\n"
    reads: list[str] = []
    ws = Workspace(files, lambda p: reads.append(p) or files[p].encode())

    patches = scan_patches(ws, near=["apps/app3/patch.yaml"])

    assert patches.strategic_merge == {"apps/app3/patch.yaml"}
    assert patches.read == ["kustomization.yaml", "apps/app3/kustomization.yaml"]
    assert sorted(reads) == ["apps/app3/kustomization.yaml", "apps/app3/patch.yaml", "kustomization.yaml"]


def test_a_whole_tree_scan_and_a_near_scan_agree_for_patches_inside_their_kustomization():
    ws = Workspace.from_directory(REPO)
    everything = scan_patches(ws)
    for path in sorted(everything.strategic_merge | everything.json6902):
        near = scan_patches(ws, near=[path])
        assert (path in near.strategic_merge, path in near.json6902) == (
            path in everything.strategic_merge,
            path in everything.json6902,
        )
