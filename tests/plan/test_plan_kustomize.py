"""Plans of kustomize repos, rendered with the real kustomize between two real git commits."""

from __future__ import annotations

import json

from bot.core.changes import ObjectKey
from bot.plan import Plan, plan_change, render_plan_markdown
from bot.plan.kustomize_runner import KustomizeRunner
from bot.plan.local import RefsPullContext
from bot.plan.model import CREATE, DELETE, RENAME, RENDERED, UPDATE
from tests.plan.fixtures_text import BASE_DEPLOYMENT, KUSTOMIZE_REPO
from tests.plan.repo_builder import GitRepo


def _plan(repo: GitRepo, change: dict[str, str], runner: KustomizeRunner, delete: tuple[str, ...] = ()) -> Plan:
    base = repo.commit("base")
    repo.write(change)
    repo.delete(*delete)
    head = repo.commit("head")
    return plan_change(RefsPullContext(repo.root, base, head), runner=runner)


def _ops(plan: Plan) -> dict[str, list[tuple[str, ObjectKey]]]:
    return {root.path: [(o.operation, o.key) for o in root.objects] for root in plan.roots}


def test_a_base_image_change_shows_in_every_overlay_that_uses_it(repo: GitRepo, runner: KustomizeRunner):
    repo.write(KUSTOMIZE_REPO)
    plan = _plan(repo, {"base/deployment.yaml": BASE_DEPLOYMENT.format(replicas=2, image="nginx:1.26")}, runner)

    assert _ops(plan) == {
        "overlays/prod": [(UPDATE, ("apps", "Deployment", "prod", "web"))],
        "overlays/staging": [(UPDATE, ("apps", "Deployment", "staging", "web"))],
    }
    assert [r.status for r in plan.roots] == [RENDERED, RENDERED]
    assert [[d.display() for d in r.deployed_by] for r in plan.roots] == [
        ["Argo CD Application argocd/web-prod"],
        ["Flux Kustomization flux-system/web-staging"],
    ]
    prod_diff = plan.roots[0].objects[0].diff
    assert "-      - name: web\n-        image: nginx:1.25" not in prod_diff
    assert "-        image: nginx:1.25\n+        image: nginx:1.26" in prod_diff
    assert [(r.kind, r.message) for r in plan.risks] == [
        ("image", "Deployment prod/web container web: image nginx:1.25 → nginx:1.26"),
        ("image", "Deployment staging/web container web: image nginx:1.25 → nginx:1.26"),
    ]
    markdown = render_plan_markdown(plan)
    assert "- `overlays/prod` `+0 ~1 -0` — deployed by Argo CD Application argocd/web-prod" in markdown
    assert "- `overlays/staging` `+0 ~1 -0` — deployed by Flux Kustomization flux-system/web-staging" in markdown


def test_an_overlay_only_change_plans_only_that_overlay_and_flags_fewer_replicas(
    repo: GitRepo, runner: KustomizeRunner
):
    repo.write(KUSTOMIZE_REPO)
    patch = KUSTOMIZE_REPO["overlays/prod/replicas.yaml"].replace("replicas: 5", "replicas: 3")
    plan = _plan(repo, {"overlays/prod/replicas.yaml": patch}, runner)

    assert _ops(plan) == {"overlays/prod": [(UPDATE, ("apps", "Deployment", "prod", "web"))]}
    assert [(r.kind, r.message) for r in plan.risks] == [("replicas", "Deployment prod/web replicas 5 → 3")]


def test_deleting_a_pvc_is_a_risky_change_called_out_first(repo: GitRepo, runner: KustomizeRunner):
    repo.write(KUSTOMIZE_REPO)
    kustomization = "\n".join(
        line for line in KUSTOMIZE_REPO["overlays/prod/kustomization.yaml"].splitlines() if "pvc.yaml" not in line
    )
    plan = _plan(repo, {"overlays/prod/kustomization.yaml": kustomization}, runner, delete=("overlays/prod/pvc.yaml",))

    assert _ops(plan) == {"overlays/prod": [(DELETE, ("", "PersistentVolumeClaim", "prod", "data"))]}
    assert [(r.kind, r.root, r.message) for r in plan.risks] == [
        (
            "deletion",
            "overlays/prod",
            "PersistentVolumeClaim prod/data deleted; the volume and its data may be deleted",
        )
    ]
    markdown = render_plan_markdown(plan)
    warning = markdown.index("> [!WARNING]")
    assert warning < markdown.index("<details>")
    assert "> - `overlays/prod`: PersistentVolumeClaim prod/data deleted; the volume and its data may be deleted" in markdown
    assert "-kind: PersistentVolumeClaim" in plan.roots[0].objects[0].diff


def test_a_secret_change_never_reveals_its_values(repo: GitRepo, runner: KustomizeRunner):
    old_password, new_password = "hunter2-old-pass", "correct-horse-battery-staple"
    repo.write(
        {
            "apps/db/kustomization.yaml": f"""
                namespace: db
                secretGenerator:
                  - name: db-credentials
                    literals:
                      - password={old_password}
                      - user=admin
                resources:
                  - secret.yaml
            """,
            "apps/db/secret.yaml": f"""
                apiVersion: v1
                kind: Secret
                metadata:
                  name: api-token
                stringData:
                  token: {old_password}
            """,
        }
    )
    plan = _plan(
        repo,
        {
            "apps/db/kustomization.yaml": f"""
                namespace: db
                secretGenerator:
                  - name: db-credentials
                    literals:
                      - password={new_password}
                      - host=db.internal
                resources:
                  - secret.yaml
            """,
            "apps/db/secret.yaml": f"""
                apiVersion: v1
                kind: Secret
                metadata:
                  name: api-token
                stringData:
                  token: {new_password}
            """,
        },
        runner,
    )

    [root] = plan.roots
    by_name = {o.key[3].split("-")[0] + "-" + o.key[3].split("-")[1]: o for o in root.objects}
    generated, plain = by_name["db-credentials"], by_name["api-token"]
    assert generated.operation == RENAME  # the content hash suffix changed with the value
    assert generated.previous_key is not None and generated.previous_key[3].startswith("db-credentials-")
    assert [c.to_json() for c in generated.secret_keys] == [
        {"key": "host", "change": "added", "beforeBytes": None, "afterBytes": 11},
        {"key": "password", "change": "changed", "beforeBytes": 16, "afterBytes": 28},
        {"key": "user", "change": "removed", "beforeBytes": 5, "afterBytes": None},
    ]
    assert plain.operation == UPDATE
    assert [c.display() for c in plain.secret_keys] == ["`token` changed (16 → 28 bytes)"]
    assert "+  token: <redacted, 28 bytes, changed>" in plain.diff
    outputs = render_plan_markdown(plan) + json.dumps(plan.to_json())
    for secret in (old_password, new_password, "YWRtaW4=", "admin", "db.internal"):
        assert secret not in outputs


def test_a_configmap_generator_change_is_a_rename_and_the_workload_follows(repo: GitRepo, runner: KustomizeRunner):
    repo.write(
        {
            "app/kustomization.yaml": """
                resources: [deployment.yaml]
                configMapGenerator:
                  - name: settings
                    files: [config/app.properties]
            """,
            "app/config/app.properties": "mode=blue\n",
            "app/deployment.yaml": BASE_DEPLOYMENT.format(replicas=1, image="nginx:1.25").replace(
                "          image: nginx:1.25\n",
                "          image: nginx:1.25\n          envFrom: [{configMapRef: {name: settings}}]\n",
            ),
        }
    )
    plan = _plan(repo, {"app/config/app.properties": "mode=green\n"}, runner)

    [root] = plan.roots
    assert root.path == "app"
    assert [(o.operation, o.key[1]) for o in root.objects] == [(RENAME, "ConfigMap"), (UPDATE, "Deployment")]
    rename = root.objects[0]
    assert rename.previous_key is not None and rename.previous_key[3] != rename.key[3]
    assert "   app.properties: |\n-    mode=blue\n+    mode=green" in rename.diff
    assert root.counts_display() == "+0 ~2 -0 (1 renamed)"


def test_a_changed_file_in_a_component_affects_the_overlays_that_use_it(repo: GitRepo, runner: KustomizeRunner):
    repo.write(KUSTOMIZE_REPO)
    repo.write(
        {
            "components/labels/kustomization.yaml": """
                apiVersion: kustomize.config.k8s.io/v1alpha1
                kind: Component
                patches:
                  - path: team.yaml
                    target: {kind: Deployment}
            """,
            "components/labels/team.yaml": """
                - op: add
                  path: /metadata/labels
                  value: {team: blue}
            """,
            "overlays/staging/kustomization.yaml": """
                namespace: staging
                resources: [../../base]
                components: [../../components/labels]
            """,
        }
    )
    plan = _plan(repo, {"components/labels/team.yaml": "- op: add\n  path: /metadata/labels\n  value: {team: red}\n"}, runner)

    assert _ops(plan) == {"overlays/staging": [(UPDATE, ("apps", "Deployment", "staging", "web"))]}
    assert "-    team: blue\n+    team: red" in plan.roots[0].objects[0].diff


def test_a_new_overlay_is_all_creates_and_a_removed_one_all_deletes(repo: GitRepo, runner: KustomizeRunner):
    repo.write(KUSTOMIZE_REPO)
    plan = _plan(
        repo,
        {"overlays/dev/kustomization.yaml": "namespace: dev\nresources: [../../base]\n"},
        runner,
        delete=("overlays/staging/kustomization.yaml",),
    )

    assert _ops(plan) == {
        "overlays/dev": [(CREATE, ("", "Service", "dev", "web")), (CREATE, ("apps", "Deployment", "dev", "web"))],
        "overlays/staging": [
            (DELETE, ("", "Service", "staging", "web")),
            (DELETE, ("apps", "Deployment", "staging", "web")),
        ],
    }
    assert plan.roots[1].deployed_by[0].name == "web-staging"  # the Flux Kustomization still points there


def test_files_outside_the_kustomization_root_stay_refused_by_kustomize_itself(repo: GitRepo, runner: KustomizeRunner):
    repo.write({"shared/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\n"})
    plan = _plan(repo, {"app/kustomization.yaml": "resources: [../shared/cm.yaml]\n"}, runner)

    [root] = plan.roots
    assert (root.path, root.status, root.objects) == ("app", "failed", [])
    assert root.reason.startswith("head: ")
    assert "security; file 'shared/cm.yaml' is not in or below 'app'" in root.reason  # LoadRestrictionsRootOnly
    assert "gitops-bot-plan-" not in root.reason  # the sandbox path is not shown


def test_a_missing_file_fails_the_root_with_kustomizes_message(repo: GitRepo, runner: KustomizeRunner):
    plan = _plan(repo, {"k/kustomization.yaml": "resources: [missing.yaml]\n"}, runner)

    [root] = plan.roots
    assert root.status == "failed"
    assert root.reason.startswith(("head: accumulating resources", "head: Error: accumulating resources"))
    assert "k/missing.yaml: no such file or directory" in root.reason
