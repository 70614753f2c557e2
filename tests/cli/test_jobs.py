"""`check --jobs N`: the same report, byte for byte, for any number of processes; cross-object rules see the whole tree."""

import datetime as dt
import gc
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot import reporters
from bot.core.config import RepoConfig
from bot.core.evaluate import EvalOptions, evaluate
from bot.core.manifests import LoadLimits, load_workspace
from bot.core.parallel import _Runner, evaluate_tree
from bot.core.resource import Resource
from bot.core.tree_chunks import TreeJob, chunk_paths
from bot.core.tree_facts import other_inventory_readers
from bot.core.workspace import Workspace
from bot.errors import GitOpsBotError
from tests.support.gitops_corpus import gitops_repo

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "fixtures" / "sample-repo"
SMALL_CHUNKS = 4096  # a few files per chunk: many chunks, so every pass really is split
SECRET_VALUE = "sw0rdfish-quoted-elsewhere"

# Facts that live in one chunk and matter in another: a CRD at the end of the tree for a custom
# resource at the start, an object defined at both ends, a Secret whose value another file quotes.
CROSS_CHUNK_FILES = {
    "aaa/gadget.yaml": "apiVersion: example.org/v1\nkind: Gadget\nmetadata: {name: g, namespace: ns}\nspec: {size: big}\n",
    "aaa/duplicate.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared, namespace: ns}\ndata: {a: b}\n",
    "aaa/quotes.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: q, namespace: ns}\n"
        f"spec:\n  replicas: {SECRET_VALUE}\n"
    ),
    "zzz/duplicate.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared, namespace: ns}\ndata: {c: d}\n",
    # One deploy target holds both definitions above; the pair below sits in two targets (plain directories).
    "kustomization.yaml": "resources: [aaa/duplicate.yaml, zzz/duplicate.yaml]\n",
    "bbb/elsewhere.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: per-target, namespace: ns}\n",
    "yyy/elsewhere.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: per-target, namespace: ns}\n",
    "zzz/secret.yaml": f"apiVersion: v1\nkind: Secret\nmetadata: {{name: s, namespace: ns}}\nstringData: {{v: {SECRET_VALUE}}}\n",
    "zzz/crd.yaml": """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.org}
spec:
  group: example.org
  names: {kind: Gadget, plural: gadgets, singular: gadget}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer}
""",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The sample repository plus a generated one (kustomizations and patches) plus cross-chunk facts."""
    root = tmp_path_factory.mktemp("corpus")
    shutil.copytree(SAMPLE, root, dirs_exist_ok=True)
    files = {**gitops_repo(300, kustomize=True), **CROSS_CHUNK_FILES}
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data if isinstance(data, bytes) else data.encode())
    return root


def tree_report(root: Path, jobs: int):  # type: ignore[no-untyped-def]
    return evaluate_tree(Workspace.from_directory(root), jobs=jobs, root=root, chunk_bytes=SMALL_CHUNKS)


@pytest.fixture(scope="module")
def reports(corpus):  # type: ignore[no-untyped-def]
    return {jobs: tree_report(corpus, jobs) for jobs in (1, 2, 3)}


@pytest.mark.parametrize("fmt", ["json", "text", "sarif"])
def test_report_is_the_same_byte_for_byte_for_any_number_of_jobs(reports, fmt):
    rendered = {jobs: reporters.get(fmt).render(report) for jobs, report in reports.items()}
    assert rendered[1] == rendered[2] == rendered[3]
    assert len(rendered[1]) > 1000  # a real report, not an empty one


def test_split_tree_finds_what_one_piece_finds(corpus, reports):
    whole = json.loads(reporters.get("json").render(evaluate(Workspace.from_directory(corpus))))
    split = json.loads(reporters.get("json").render(reports[2]))

    def findings(report: dict) -> Counter:
        return Counter(json.dumps(f, sort_keys=True) for f in report["findings"])

    assert findings(split) == findings(whole)
    assert split["summary"] == whole["summary"]
    assert split["notices"] == whole["notices"]
    assert split["summary"]["resources"] > 300


def test_cross_object_facts_cross_chunk_boundaries(reports):
    findings = [f.to_json() for f in reports[2].findings]
    (duplicate,) = [f for f in findings if f["rule"] == "duplicate-object" and f["file"] == "aaa/duplicate.yaml"]
    assert "aaa/duplicate.yaml:1, zzz/duplicate.yaml:1" in duplicate["message"]
    assert not [f for f in findings if f["rule"] == "duplicate-object" and "elsewhere" in f["file"]]  # two targets
    gadget = [f for f in findings if f["file"] == "aaa/gadget.yaml"]
    assert [f["rule"] for f in gadget if f["source"] == "schema"] == ["schema/type"]  # checked against the CRD at the end
    quoted = [f for f in findings if f["file"] == "aaa/quotes.yaml" and f["source"] == "schema"]
    assert quoted and all(SECRET_VALUE not in json.dumps(f) for f in findings)


def test_duplicates_in_two_deploy_targets_are_no_findings_in_chunks_either(tmp_path):
    """flux-multicluster defines the same objects for production and staging: normal, not a conflict."""
    repo = ROOT / "fixtures" / "repos" / "flux-multicluster"
    shutil.copytree(repo, tmp_path, dirs_exist_ok=True)
    one, two = (evaluate_tree(Workspace.from_directory(tmp_path), jobs=jobs, root=tmp_path, chunk_bytes=1024) for jobs in (1, 2))
    whole = evaluate(Workspace.from_directory(tmp_path))
    rendered = {reporters.get("json").render(r) for r in (one, two, whole)}
    assert len(rendered) == 1
    keys = Counter(r.ref.key() for r in load_workspace(Workspace.from_directory(tmp_path), sorted(Workspace.from_directory(tmp_path).paths)).resources if not r.is_patch)
    assert any(n > 1 for n in keys.values())  # the same identity really is defined twice
    assert two.resources_checked > 10
    assert not [f for f in two.findings if f.rule == "duplicate-object"]


def test_a_chunk_is_forgotten_before_the_next_is_read(corpus):
    """Parsed objects never outlive their chunk: at every read, only the current chunk's objects are alive."""
    inner = Workspace.from_directory(corpus)
    alive: list[int] = []

    def read(path: str) -> bytes | None:
        alive.append(sum(1 for o in gc.get_objects() if type(o) is Resource))
        return inner.read(path)

    ws = Workspace(inner.paths, read, sizes={p: inner.size(p) or 0 for p in inner.paths})
    report = evaluate_tree(ws, chunk_bytes=SMALL_CHUNKS)
    chunks = chunk_paths(inner, [p for p in inner.paths if p.endswith(".yaml")], SMALL_CHUNKS)
    largest_chunk = max(len(load_workspace(inner, chunk).resources) for chunk in chunks)
    crds = 2  # kept for the schema stage of every chunk: sample-repo's Widget and the Gadget above
    assert report.resources_checked > 5 * largest_chunk
    assert 0 < max(alive) <= largest_chunk + crds, (max(alive), largest_chunk)


def test_gatekeeper_templates_in_the_tree_are_judged_in_one_piece(tmp_path):
    shutil.copytree(SAMPLE, tmp_path, dirs_exist_ok=True)
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy/template.yaml").write_text(
        """apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8sdenyall}
spec:
  crd: {spec: {names: {kind: K8sDenyAll}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sdenyall
        violation[{"msg": "denied"}] { true }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sDenyAll
metadata: {name: deny-all}
spec: {match: {kinds: [{apiGroups: [""], kinds: ["Service"]}]}}
"""
    )
    one, two = (tree_report(tmp_path, jobs) for jobs in (1, 2))
    whole = evaluate(Workspace.from_directory(tmp_path))
    rendered = {reporters.get("json").render(r) for r in (one, two, whole)}
    assert len(rendered) == 1
    assert any(f.rule.startswith("gatekeeper") or "denied" in f.message for f in one.findings)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "check", *args],
        cwd=SAMPLE,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)},
    )


@pytest.mark.parametrize("fmt", ["json", "text", "sarif"])
def test_cli_jobs_flag(fmt):
    one, two = run_cli("--jobs", "1", "-f", fmt), run_cli("--jobs", "2", "-f", fmt)
    assert one.returncode == two.returncode == 1, one.stderr + two.stderr
    assert one.stdout == two.stdout and one.stdout


def test_cli_splits_a_larger_tree_across_worker_processes(tmp_path):
    """Several 256 KiB chunks: the console entry point really starts workers, and they answer like one process.

    No kustomization: the CLI gives a renderer, and a tree with kustomize roots is judged in one piece.
    """
    corpus = tmp_path / "tree"
    plain = {p: d for p, d in CROSS_CHUNK_FILES.items() if p != "kustomization.yaml"}
    plain["zzz/duplicate-again.yaml"] = plain["zzz/duplicate.yaml"]  # one directory, one deploy target
    for path, data in {**gitops_repo(3000, kustomize=False), **plain}.items():
        (corpus / path).parent.mkdir(parents=True, exist_ok=True)
        (corpus / path).write_bytes(data if isinstance(data, bytes) else data.encode())
    assert sum(p.stat().st_size for p in corpus.rglob("*.yaml")) > 2 * 256 * 1024
    one, two = run_cli("--jobs", "1", "-f", "json", str(corpus)), run_cli("--jobs", "2", "-f", "json", str(corpus))
    assert one.returncode == two.returncode == 1, one.stderr + two.stderr
    assert one.stdout == two.stdout
    report = json.loads(two.stdout)
    assert report["summary"]["resources"] > 3000
    assert any(f["rule"] == "duplicate-object" for f in report["findings"])


def test_cli_rejects_zero_jobs():
    proc = run_cli("--jobs", "0")
    assert proc.returncode == 2
    assert "--jobs" in proc.stderr and "1 or more" in proc.stderr


INVENTORY_POLICY = """package main

import rego.v1

# A Service needs a Deployment of the same name somewhere in the tree: any object's entry matters.
deny contains msg if {
	input.kind == "Service"
	key := sprintf("apps/Deployment/%s/%s", [object.get(input.metadata, "namespace", ""), input.metadata.name])
	not data.gitops.inventory[key]
	msg := sprintf("Service %s has no Deployment", [input.metadata.name])
}
"""


@pytest.fixture(scope="module")
def unique_corpus(corpus, tmp_path_factory) -> Path:
    """The corpus without a repeated identity: chunks can then share one tree-wide inventory."""
    root = tmp_path_factory.mktemp("unique")
    shutil.copytree(corpus, root, dirs_exist_ok=True)
    for path in ("aaa/duplicate.yaml", "zzz/duplicate.yaml", "kustomization.yaml", "yyy/elsewhere.yaml"):
        (root / path).unlink()
    return root


@pytest.mark.parametrize("tree", ["unique_corpus", "corpus"])  # the second repeats identities: judged in one piece
def test_a_policy_reading_the_inventory_sees_the_whole_tree(tree, request, tmp_path):
    corpus = request.getfixturevalue(tree)
    (tmp_path / "policy.rego").write_text(INVENTORY_POLICY)
    options = EvalOptions(extra_policy_dirs=(str(tmp_path),))
    split = [
        evaluate_tree(Workspace.from_directory(corpus), options, jobs=jobs, root=corpus, chunk_bytes=SMALL_CHUNKS)
        for jobs in (1, 2)
    ]
    whole = evaluate(Workspace.from_directory(corpus), options=options)
    rendered = [reporters.get("json").render(r) for r in split]
    assert rendered[0] == rendered[1]
    assert Counter(json.dumps(f.to_json()) for f in split[0].findings) == Counter(json.dumps(f.to_json()) for f in whole.findings)
    lonely = [f for f in split[0].findings if "has no Deployment" in f.message]
    assert lonely and len(lonely) < split[0].resources_checked / 10  # generated apps do have their Deployments


def test_a_crd_the_byte_scan_misses_is_still_used(tmp_path):
    """An escaped kind hides a CRD from the scan; the chunks report it and the tree is judged again with it."""
    for path, text in CROSS_CHUNK_FILES.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text.replace("kind: CustomResourceDefinition", 'kind: "CustomResource\\x44efinition"'))
    for path, data in gitops_repo(60, kustomize=False).items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    assert b"CustomResourceDefinition" not in (tmp_path / "zzz/crd.yaml").read_bytes()
    split = tree_report(tmp_path, 2)
    whole = evaluate(Workspace.from_directory(tmp_path))
    assert reporters.get("json").render(split) == reporters.get("json").render(whole)
    assert [f.rule for f in split.findings if f.file == "aaa/gadget.yaml" and f.source == "schema"] == ["schema/type"]


@pytest.mark.parametrize(
    ("module", "reads"),
    [
        ("package main\n# data.gitops.inventory in a comment\ndeny contains 1 if input.x\n", False),
        ('package main\ndeny contains m if { m := "data.gitops.inventory" }\n', False),
        ("package main\nimport data.gitops.lib.kubernetes as k8s\ndeny contains 1 if data.main.x\n", False),
        ("package main\ndeny contains 1 if data.gitops.inventory[k]\n", True),
        ('package main\ndeny contains 1 if data.gitops["inventory"]\n', True),
        ("package main\ndeny contains 1 if walk(data, x)\n", True),
        ("package main\nimport data.gitops\n", True),
        ("package main\ndeny contains 1 if data.gitops.builtin.duplicate_object.deny[_]\n", True),
        ("package gitops.builtin.duplicate_object\ndeny contains 1 if data.gitops.inventory[k]\n", False),
    ],
)
def test_which_policies_may_read_the_inventory(module, reads):
    assert other_inventory_readers([("p.rego", module)]) is reads


def _die(_: object) -> None:
    os._exit(3)  # what the kernel's out-of-memory killer leaves behind, give or take the signal


def test_a_worker_that_dies_breaks_the_run_with_an_error_instead_of_hanging_it():
    ws = Workspace.from_directory(SAMPLE)
    job = TreeJob(str(SAMPLE), RepoConfig(), EvalOptions(), LoadLimits(), frozenset(), "1.31", False, dt.date(2026, 1, 1))
    with pytest.raises(GitOpsBotError, match="ended abruptly"), _Runner(job, ws, 2) as run:
        run._map(_die, [1, 2, 3])


def test_every_stage_of_evaluate_runs_in_chunks_too(corpus, tmp_path):
    """The restricted profile, a schemaLocations finding, a kustomize plugin config and a symlink: as one piece."""
    shutil.copytree(corpus, tmp_path, dirs_exist_ok=True)
    (tmp_path / ".gitops-bot.yaml").write_text("profile: restricted\nschemaLocations: ['https://example.org/{{.Kind}}.json']\n")
    (tmp_path / "bbb/labels.yaml").write_text(
        "apiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: labels}\nlabels: {team: a}\nfieldSpecs: []\n"
    )
    (tmp_path / "bbb/link.yaml").symlink_to(tmp_path / "bbb/elsewhere.yaml")
    split = {jobs: tree_report(tmp_path, jobs) for jobs in (1, 2)}
    whole = evaluate(Workspace.from_directory(tmp_path))
    rendered = {reporters.get("json").render(r) for r in (*split.values(), whole)}
    assert len(rendered) == 1
    notices = "\n".join(whole.notices)
    assert "skipped bbb/labels.yaml" in notices and "skipped bbb/link.yaml" in notices
    assert any(f.file == ".gitops-bot.yaml" and "schemaLocations" in f.message for f in split[2].findings)
    restricted = [f for f in whole.findings if f.rule in ("run-as-non-root", "seccomp-profile")]
    assert restricted and all(f.severity.name == "ERROR" for f in restricted)
