"""Which roots a change affects: the kustomization graph, plain directories and who deploys them."""

from __future__ import annotations

from bot.core.workspace import Workspace
from bot.plan.deployers import find_targets
from bot.plan.graph import KustomizationGraph
from bot.plan.render import Side
from bot.plan.roots import AffectedRoot, find_affected_roots

KUSTOMIZATION = """
resources:
  - deployment.yaml
  - ../shared
patchesStrategicMerge:
  - smp.yaml
patchesJson6902:
  - path: ops.yaml
    target: {kind: Deployment, name: web}
configMapGenerator:
  - name: app
    files: [conf/app.ini, extra=conf/extra.ini]
    envs: [conf/app.env]
secretGenerator:
  - name: creds
    env: conf/creds.env
crds: [crds/widget.yaml]
replacements:
  - path: replacements.yaml
configurations: [conf/names.yaml]
openapi:
  path: schema.json
"""


def _side(files: dict[str, str]) -> Side:
    return Side(Workspace.from_dict(files))


def _roots(files: dict[str, str], changed: list[str]) -> list[AffectedRoot]:
    side = _side(files)
    return find_affected_roots([_side({}), side], changed, find_targets(side.ws))


def test_every_kind_of_reference_is_part_of_the_build():
    graph = KustomizationGraph(
        Workspace.from_dict({"app/kustomization.yaml": KUSTOMIZATION, "shared/kustomization.yaml": "resources: [cm.yaml]\n"})
    )

    assert graph.nodes["app"].includes == {"shared"}
    assert graph.files_of("app") == {
        "app/kustomization.yaml",
        "app/deployment.yaml",
        "app/smp.yaml",
        "app/ops.yaml",
        "app/conf/app.ini",
        "app/conf/extra.ini",
        "app/conf/app.env",
        "app/conf/creds.env",
        "app/crds/widget.yaml",
        "app/replacements.yaml",
        "app/conf/names.yaml",
        "app/schema.json",
        "shared/kustomization.yaml",
        "shared/cm.yaml",
    }
    assert graph.top_level() == ["app"]
    assert graph.problems_of("app") == []


def test_a_changed_generator_file_affects_the_root_and_a_base_is_not_a_root_by_itself():
    files = {"app/kustomization.yaml": KUSTOMIZATION, "shared/kustomization.yaml": "resources: [cm.yaml]\n"}

    assert _roots(files, ["app/conf/creds.env"]) == [AffectedRoot("app", "kustomize")]
    assert _roots(files, ["shared/cm.yaml"]) == [AffectedRoot("app", "kustomize")]
    assert _roots(files, ["app/unreferenced.yaml"]) == []  # kustomize never reads it
    assert _roots(files, ["README.md"]) == []


def test_a_base_an_application_points_at_is_a_root_too():
    files = {
        "base/kustomization.yaml": "resources: [cm.yaml]\n",
        "overlay/kustomization.yaml": "resources: [../base]\n",
        "argo/base-app.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: raw}\n"
        "spec:\n  sources:\n    - repoURL: https://example.invalid/charts\n      chart: redis\n"
        "    - path: ./base/\n",
    }

    assert _roots(files, ["base/cm.yaml"]) == [AffectedRoot("base", "kustomize"), AffectedRoot("overlay", "kustomize")]


def test_plain_directories_are_roots_and_recursive_deployers_take_their_subdirectories():
    files = {
        "plain/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        "tenants/team-a/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n",
        "clusters/tenants.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        "metadata: {name: tenants, namespace: flux-system}\nspec: {path: ./tenants}\n",
        ".github/workflows/ci.yaml": "on: push\n",
    }

    assert _roots(files, ["plain/a.yaml", "tenants/team-a/ns.yaml", ".github/workflows/ci.yaml"]) == [
        AffectedRoot("plain", "directory"),
        AffectedRoot("tenants", "directory", recurse=True),
    ]
    [target] = [t for t in find_targets(Workspace.from_dict(files)) if t.directory == "tenants"]
    assert target.deployer.display() == "Flux Kustomization flux-system/tenants"


def test_a_file_deleted_at_head_affects_the_roots_that_read_it_at_base():
    base = _side({"app/kustomization.yaml": "resources: [cm.yaml]\n", "app/cm.yaml": "kind: ConfigMap\n"})
    head = _side({"app/kustomization.yaml": "resources: []\n"})

    assert find_affected_roots([base, head], ["app/cm.yaml", "app/kustomization.yaml"], []) == [
        AffectedRoot("app", "kustomize")
    ]


def test_a_flux_kustomization_pointed_at_a_kustomization_does_not_take_unreferenced_subdirectories():
    files = {
        "prod/kustomization.yaml": "resources: [cm.yaml]\n",
        "prod/notes/extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n",
        "flux.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        "metadata: {name: prod}\nspec: {path: ./prod}\n",
    }

    assert _roots(files, ["prod/notes/extra.yaml"]) == [AffectedRoot("prod/notes", "directory")]


def test_yaml_that_holds_no_kubernetes_objects_makes_no_root():
    files = {"schemas/config.json": '{"type": "object"}', "docs/mkdocs-nav.yaml": "nav: [index.md]\n"}

    assert _roots(files, list(files)) == []
