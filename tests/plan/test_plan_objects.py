"""Object diffs and risks of plain directories (no kustomize needed): noise, renames, Secrets, risky kinds."""

from __future__ import annotations

import json

from bot.core.workspace import Workspace
from bot.plan import Plan, build_plan
from bot.plan.model import CREATE, DELETE, HELM_NOT_RENDERED, RENAME, UPDATE


def _plan(before: dict[str, str], after: dict[str, str]) -> Plan:
    changed = sorted(set(before) | set(after))
    return build_plan(Workspace.from_dict(before, label="base"), Workspace.from_dict(after, label="head"), changed)


def _obj(kind: str, name: str, body: str = "", api: str = "v1", namespace: str = "apps") -> str:
    return f"apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: {namespace}\n{body}"


def test_annotations_added_by_tools_are_not_changes():
    before = _obj("ConfigMap", "c", "data:\n  a: '1'\n")
    after = before.replace(
        "  namespace: apps\n",
        "  namespace: apps\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{}'\n"
        "    config.kubernetes.io/origin: 'path: x.yaml'\n",
    )

    plan = _plan({"apps/c.yaml": before}, {"apps/c.yaml": after})

    assert [(r.path, r.objects) for r in plan.roots] == [("apps", [])]


def test_moving_an_object_to_another_file_is_no_change_and_a_rename_keeps_its_diff():
    cm = _obj("ConfigMap", "settings", "data:\n  a: '1'\n")
    plan = _plan(
        {"apps/one.yaml": cm + "---\n" + _obj("ConfigMap", "old-name", "data:\n  b: '2'\n")},
        {"apps/two.yaml": cm + "---\n" + _obj("ConfigMap", "new-name", "data:\n  b: '2'\n")},
    )

    [root] = plan.roots
    assert [(o.operation, o.key[3], o.previous_key) for o in root.objects] == [
        (RENAME, "new-name", ("", "ConfigMap", "apps", "old-name"))
    ]
    assert "-  name: old-name\n+  name: new-name" in root.objects[0].diff


def test_secret_data_values_are_replaced_by_sizes_and_masked():
    before = _obj("Secret", "db", "type: Opaque\ndata:\n  password: c2VjcmV0LXZhbHVlLTE=\n")  # secret-value-1
    after = _obj("Secret", "db", "type: Opaque\ndata:\n  password: c2VjcmV0LXZhbHVlLTI=\n")  # secret-value-2
    after = after.replace("  namespace: apps\n", "  namespace: apps\n  annotations:\n    note: 'password=hunter2'\n")

    plan = _plan({"apps/db.yaml": before}, {"apps/db.yaml": after})

    [obj] = plan.roots[0].objects
    assert obj.operation == UPDATE
    assert [c.display() for c in obj.secret_keys] == ["`password` changed (14 → 14 bytes)"]
    assert "-  password: <redacted, 14 bytes>\n+  password: <redacted, 14 bytes, changed>" in obj.diff
    text = json.dumps(plan.to_json())
    for leaked in ("c2VjcmV0LXZhbHVlLTE=", "c2VjcmV0LXZhbHVlLTI=", "secret-value", "hunter2"):
        assert leaked not in text
    assert "password=***" in obj.diff  # mask_secrets caught the annotation


def test_deleting_namespaces_and_crds_and_renaming_a_pvc_are_risky():
    crd = _obj("CustomResourceDefinition", "widgets.example.com", "spec: {}\n", api="apiextensions.k8s.io/v1", namespace="")
    plan = _plan(
        {
            "infra/ns.yaml": _obj("Namespace", "team-a", namespace=""),
            "infra/crd.yaml": crd,
            "infra/pvc.yaml": _obj("PersistentVolumeClaim", "data-old", "spec: {}\n"),
        },
        {"infra/pvc.yaml": _obj("PersistentVolumeClaim", "data-new", "spec: {}\n")},
    )

    assert [(r.kind, r.message) for r in plan.risks] == [
        ("deletion", "Namespace team-a deleted; deletes everything in the namespace"),
        (
            "deletion",
            "PersistentVolumeClaim apps/data-old renamed to data-new: the old object is deleted; "
            "the volume and its data may be deleted",
        ),
        (
            "deletion",
            "CustomResourceDefinition widgets.example.com deleted; every custom resource of this type is deleted",
        ),
    ]


def test_rbac_changes_and_new_containers_are_risky_but_a_replica_increase_is_not():
    role = _obj("Role", "reader", "rules:\n- verbs: [get]\n  resources: [pods]\n  apiGroups: ['']\n", api="rbac.authorization.k8s.io/v1")
    deployment = _obj(
        "Deployment",
        "web",
        "spec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: web\n        image: web:1\n",
        api="apps/v1",
    )
    grown = deployment.replace("replicas: 2", "replicas: 4") + "      - name: proxy\n        image: envoy:1.30\n"

    plan = _plan(
        {"apps/role.yaml": role, "apps/web.yaml": deployment},
        {"apps/role.yaml": role.replace("[get]", "[get, list, delete]"), "apps/web.yaml": grown},
    )

    assert [(o.operation, o.key[1]) for o in plan.roots[0].objects] == [(UPDATE, "Deployment"), (UPDATE, "Role")]
    assert [(r.kind, r.message) for r in plan.risks] == [
        ("image", "Deployment apps/web new container proxy: envoy:1.30"),
        ("rbac", "RBAC Role apps/reader changed"),
    ]


def test_a_parse_error_in_a_plain_directory_is_a_note_and_the_rest_still_plans():
    plan = _plan({}, {"apps/good.yaml": _obj("ConfigMap", "good"), "apps/bad.yaml": "kind: [\n"})

    [root] = plan.roots
    assert [(o.operation, o.key[3]) for o in root.objects] == [(CREATE, "good")]
    assert len(root.notes) == 1 and root.notes[0].startswith("head: apps/bad.yaml:")


def test_a_deleted_directory_is_all_deletes():
    plan = _plan({"old/cm.yaml": _obj("ConfigMap", "gone")}, {"new/readme.md": "hi"})

    assert [(r.path, [(o.operation, o.key[3]) for o in r.objects]) for r in plan.roots] == [
        ("old", [(DELETE, "gone")])
    ]


def test_roots_past_the_limit_are_listed_but_not_rendered():
    files = {f"d{i}/cm.yaml": _obj("ConfigMap", f"c{i}") for i in range(3)}

    plan = build_plan(Workspace.from_dict({}), Workspace.from_dict(files), list(files), max_roots=2)

    assert [(r.path, r.status, len(r.objects)) for r in plan.roots] == [
        ("d0", "rendered", 1),
        ("d1", "rendered", 1),
        ("d2", "not-rendered", 0),
    ]
    assert plan.roots[2].reason == "the change affects 3 roots; only the first 2 are rendered"


def test_a_helm_chart_an_application_deploys_is_listed_as_not_rendered():
    app = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: mon, namespace: argocd}\n"
        "spec:\n  source: {path: charts/mon}\n"
    )
    files = {"argo/mon.yaml": app, "charts/mon/Chart.yaml": "name: mon\nversion: 1.0.0\n"}
    before = {**files, "charts/mon/values.yaml": "replicas: 1\n"}
    after = {**files, "charts/mon/values.yaml": "replicas: 2\n"}

    plan = build_plan(Workspace.from_dict(before), Workspace.from_dict(after), ["charts/mon/values.yaml"])

    assert [(r.path, r.kind, r.status, r.reason, [d.name for d in r.deployed_by]) for r in plan.roots] == [
        ("charts/mon", "helm", "not-rendered", HELM_NOT_RENDERED, ["mon"])
    ]
