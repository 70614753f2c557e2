"""Deploy targets on real layouts: duplicates are judged inside one target, never across clusters."""

import datetime as dt
from pathlib import Path

from bot.core.deploy_targets import Deployer, DeployerPath, KustomizeTree, find_deploy_targets
from bot.core.evaluate import EvalOptions, evaluate
from bot.core.workspace import Workspace

REPOS = Path(__file__).resolve().parents[2] / "fixtures" / "repos"
FLUX = REPOS / "flux-multicluster"
ARGO = REPOS / "argocd-apps"


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def run(files: dict[str, bytes]):
    return evaluate(Workspace.from_dict(files), options=EvalOptions(today=dt.date(2026, 12, 1)))


def duplicates(report) -> list[tuple[str, int]]:
    return sorted((f.file, f.line) for f in report.findings if f.rule == "duplicate-object")


def test_flux_targets_are_cluster_paths_and_kustomize_roots():
    targets = {t.directory: t for t in find_deploy_targets(Workspace.from_directory(FLUX))}
    assert {d: t.kind for d, t in targets.items()} == {
        "apps/production": "kustomize",
        "apps/staging": "kustomize",
        "clusters/production": "flux",
        "clusters/production/flux-system": "kustomize",
        "clusters/staging": "flux",
        "clusters/staging/flux-system": "kustomize",
        "infrastructure/controllers": "kustomize",
    }
    # Flux takes the whole path; the flux-system kustomization inside it is built, not globbed.
    assert targets["clusters/production"].files == {
        "clusters/production/apps.yaml",
        "clusters/production/infrastructure.yaml",
        "clusters/production/flux-system/gotk-components.yaml",
        "clusters/production/flux-system/gotk-sync.yaml",
    }
    assert targets["apps/staging"].files == {
        "apps/base/podinfo/namespace.yaml",
        "apps/base/podinfo/repository.yaml",
        "apps/base/podinfo/release.yaml",
    }


def test_flux_multi_cluster_layout_has_no_false_block():
    report = run(files_of(FLUX))
    assert duplicates(report) == []
    assert report.blocking == []


def test_argocd_app_of_apps_with_overlays_has_no_false_block():
    report = run(files_of(ARGO))
    assert duplicates(report) == []
    assert not [f for f in report.findings if "labels.yaml" in f.file]  # transformer configs are not objects
    assert any("overlays/staging/labels.yaml: kustomize generator/transformer config" in n for n in report.notices)
    assert report.blocking == []


def test_argocd_targets_separate_the_plain_directory_from_the_overlays():
    targets = {t.directory: t.kind for t in find_deploy_targets(Workspace.from_directory(ARGO))}
    assert targets == {
        "apps": "argocd",
        "guestbook": "argocd",
        "kustomize-guestbook/overlays/production": "kustomize",
        "kustomize-guestbook/overlays/staging": "kustomize",
    }
    tree = KustomizeTree(Workspace.from_directory(ARGO))
    # The component's objects belong to both overlays.
    assert "kustomize-guestbook/components/monitoring/dashboard.yaml" in tree.files_of("kustomize-guestbook/overlays/staging")


def test_duplicate_inside_one_kustomize_target_still_blocks():
    files = files_of(ARGO)
    files["kustomize-guestbook/overlays/staging/extra-svc.yaml"] = files["kustomize-guestbook/base/guestbook-ui-svc.yaml"]
    kustomization = "kustomize-guestbook/overlays/staging/kustomization.yaml"
    files[kustomization] = files[kustomization].replace(b"  - ../../base\n", b"  - ../../base\n  - extra-svc.yaml\n")
    report = run(files)
    found = [f for f in report.findings if f.rule == "duplicate-object"]
    assert sorted((f.file, f.line) for f in found) == [
        ("kustomize-guestbook/base/guestbook-ui-svc.yaml", 4),
        ("kustomize-guestbook/overlays/staging/extra-svc.yaml", 4),
    ]
    # The plain guestbook/ copy is another Application's target: not named.
    assert all("guestbook/guestbook-ui-svc.yaml" not in f.message.replace("kustomize-guestbook/", "") for f in found)
    assert all(f.severity.label == "error" for f in found)


def test_plain_directories_are_targets_of_their_own():
    cm = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: default\ndata:\n  a: b\n"
    same_dir = run({"team/a.yaml": cm, "team/b.yaml": cm})
    assert duplicates(same_dir) == [("team/a.yaml", 4), ("team/b.yaml", 4)]
    other_dirs = run({"team-a/cm.yaml": cm, "team-b/cm.yaml": cm})
    assert duplicates(other_dirs) == []
    same_file = run({"team/a.yaml": cm + b"---\n" + cm})
    assert duplicates(same_file) == [("team/a.yaml", 4), ("team/a.yaml", 12)]


def test_a_plain_directory_two_deployers_point_at_keeps_the_widest_view_in_either_order():
    # An Argo CD Application without directory.recurse and a Flux Kustomization (always recursive) on one
    # directory: the target is the subtree, whichever deployer is read first (the later one used to replace it).
    ws = Workspace.from_dict({"apps/web/a.yaml": b"kind: ConfigMap\n", "apps/web/sub/b.yaml": b"kind: ConfigMap\n"})
    argo = DeployerPath("apps/web", Deployer("Application", "argocd", "web", "argo.yaml"))
    flux = DeployerPath("apps/web", Deployer("Kustomization", "flux-system", "web", "flux.yaml"), recurse=True)
    for order in ([argo, flux], [flux, argo]):
        (target,) = find_deploy_targets(ws, deployer_paths=order)
        assert (target.directory, target.files) == ("apps/web", {"apps/web/a.yaml", "apps/web/sub/b.yaml"})
