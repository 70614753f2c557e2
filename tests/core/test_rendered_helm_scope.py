"""Which changes can alter a Helm release: decided from the changed files, so a manifest change never reads the tree."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.charts import ChartRelease
from bot.core.rendered import RenderedRoots
from bot.core.rendered_charts import render_charts
from bot.core.renderer import RENDERED, RenderOutcome
from bot.core.workspace import Workspace
from bot.core.yamlpos import DEFAULT_LIMITS

CONFIGMAP = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %d}\n"
APPLICATION = (b"apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: web, namespace: argocd}\n"
               b"spec: {source: {path: charts/web, helm: {valueFiles: [../../envs/prod/web.yaml]}}}\n")
TREE = {
    "charts/web/Chart.yaml": b"apiVersion: v2\nname: web\nversion: 1.0.0\n",
    "charts/web/values.yaml": b"replicas: 1\n",
    "charts/web/templates/cm.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n",
    "envs/prod/web.yaml": b"replicas: 3\n",  # a value file whose name does not say so
    "argo/web.yaml": APPLICATION,
    **{f"plain/a{i}/cm.yaml": CONFIGMAP % i for i in range(40)},
}


class RecordingTree:
    """A workspace over ``files`` that records every read and every prefetch (what the App pays requests for)."""

    def __init__(self, files: Mapping[str, bytes]):
        self.reads: list[str] = []
        self.prefetched: list[list[str]] = []
        self.ws = Workspace(files.keys(), lambda p: (self.reads.append(p), files.get(p))[1],
                            sizes={p: len(v) for p, v in files.items()}, prefetcher=self.prefetched.append)


class ChartRenderer:
    """Renders every release to one ConfigMap and records which releases it was asked for."""

    helm_enabled = True

    def __init__(self) -> None:
        self.releases: list[str] = []

    def render(self, root: str, files: Mapping[str, bytes]) -> RenderOutcome:
        return RenderOutcome(RENDERED, output=b"")

    def render_chart(self, release: ChartRelease, files: Mapping[str, bytes]) -> RenderOutcome:
        self.releases.append(release.release)
        return RenderOutcome(RENDERED, output=b"---\n# Source: web/templates/cm.yaml\n"
                             b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n")


def run(changed: set[str], head: Mapping[str, bytes] = TREE, base: Mapping[str, bytes] | None = None
        ) -> tuple[RecordingTree, ChartRenderer, RenderedRoots]:
    tree, renderer, out = RecordingTree(head), ChartRenderer(), RenderedRoots()
    base_ws = None if base is None else Workspace.from_dict(dict(base))
    render_charts(tree.ws, renderer, changed, DEFAULT_LIMITS, out, 50, base_ws)
    return tree, renderer, out


def test_an_ordinary_manifest_change_reads_only_itself_beside_a_chart() -> None:
    tree, renderer, out = run({"plain/a3/cm.yaml"})
    assert tree.reads == ["plain/a3/cm.yaml"] and tree.prefetched == []
    assert renderer.releases == [] and out.objects == {}


def test_a_value_file_named_by_a_deployer_renders_its_release_after_one_batched_read() -> None:
    tree, renderer, out = run({"envs/prod/web.yaml"})
    assert renderer.releases == ["web"] and len(out.objects) == 1
    manifests = tree.prefetched[0]
    assert "argo/web.yaml" in manifests and "plain/a39/cm.yaml" in manifests  # asked for before read one by one
    assert tree.reads.index("envs/prod/web.yaml") < tree.reads.index("argo/web.yaml")


def test_a_changed_deployer_renders_its_release() -> None:
    _, renderer, _ = run({"argo/web.yaml"})
    assert renderer.releases == ["web"]


def test_a_manifest_that_was_a_deployer_at_base_is_looked_at() -> None:
    head = {**TREE, "argo/other.yaml": CONFIGMAP % 99}
    base = {**TREE, "argo/other.yaml": APPLICATION.replace(b"name: web,", b"name: other,")}
    tree, _, _ = run({"argo/other.yaml"}, head, base)
    assert "argo/web.yaml" in tree.reads  # the scan ran: the change may have moved a release


def test_a_deleted_file_is_judged_by_what_it_was_at_base_and_unknown_means_look() -> None:
    head = {p: v for p, v in TREE.items() if p != "plain/a3/cm.yaml"}
    tree, _, _ = run({"plain/a3/cm.yaml"}, head, TREE)
    assert tree.reads == []  # a ConfigMap at base: it installed nothing
    tree, renderer, _ = run({"plain/a3/cm.yaml"}, head, None)
    assert "argo/web.yaml" in tree.reads and renderer.releases == []  # unknown: scanned, and it touches no release
