"""`gitops-bot plan`: the working tree or a head ref against a base ref, as markdown or JSON."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from tests.plan.fixtures_text import BASE_DEPLOYMENT, KUSTOMIZE_REPO
from tests.plan.repo_builder import GitRepo

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: tools\ndata:\n  level: {level}\n"


def test_plan_of_the_working_tree_as_markdown(repo: GitRepo, monkeypatch, capsys):
    repo.write({**KUSTOMIZE_REPO, "plain/settings.yaml": CONFIGMAP.format(name="settings", level="info")})
    repo.commit()
    repo.write({"plain/settings.yaml": CONFIGMAP.format(name="settings", level="debug")})
    repo.write({"plain/extra.yaml": CONFIGMAP.format(name="extra", level="info")})  # untracked: part of head
    monkeypatch.chdir(repo.root)

    assert main(["plan", "--base", "HEAD"]) == 0

    out = capsys.readouterr().out
    assert out.startswith("## Plan\n\n`")
    assert "→ `working tree`: 1 root affected, `+1 ~1 -0`" in out
    assert "- `plain` `+1 ~1 -0`\n" in out
    assert "-  level: info\n+  level: debug\n" in out


def test_plan_between_two_refs_as_json_limited_to_a_path(repo: GitRepo, monkeypatch, capsys):
    repo.write(KUSTOMIZE_REPO)
    base = repo.commit()
    repo.write({"base/deployment.yaml": BASE_DEPLOYMENT.format(replicas=2, image="nginx:1.27")})
    repo.commit()
    repo.write({"base/deployment.yaml": BASE_DEPLOYMENT.format(replicas=2, image="nginx:9.99")})  # not committed
    monkeypatch.chdir(repo.root)

    assert main(["plan", "--base", base, "--head", "HEAD", "overlays/prod", "--format", "json"]) == 0

    data = json.loads(capsys.readouterr().out)
    assert data["version"] == 1
    assert [(r["path"], r["status"], r["counts"]) for r in data["roots"]] == [
        ("overlays/prod", "rendered", {"create": 0, "update": 1, "delete": 0, "rename": 0})
    ]
    [obj] = data["roots"][0]["objects"]
    assert (obj["operation"], obj["key"]) == (
        "update",
        {"group": "apps", "kind": "Deployment", "namespace": "prod", "name": "web"},
    )
    assert "+        image: nginx:1.27" in obj["diff"]
    assert [r["message"] for r in data["risks"]] == ["Deployment prod/web container web: image nginx:1.25 → nginx:1.27"]
    assert data["roots"][0]["deployedBy"] == [
        {"kind": "Application", "namespace": "argocd", "name": "web-prod", "file": "clusters/argo/prod.yaml"}
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan", "--base", "no-such-ref"], "gitops-bot: git rev-parse --verify: fatal: Needed a single revision\n"),
        (["plan", "--base", "HEAD", "missing-dir"], "gitops-bot: missing-dir: no such file or directory\n"),
    ],
)
def test_bad_refs_and_paths_are_usage_errors(repo: GitRepo, monkeypatch, capsys, argv, message):
    repo.write({"plain/a.yaml": CONFIGMAP.format(name="a", level="x")})
    repo.commit()
    monkeypatch.chdir(repo.root)

    assert main(argv) == 2
    assert capsys.readouterr().err == message


def test_a_remote_base_is_refused_by_the_cli_without_running_the_kustomize_on_path(
    repo: GitRepo, tmp_path, monkeypatch, capsys
):
    from tests.plan.fakes import FakeKustomize

    fake = FakeKustomize(tmp_path / "fake", output="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    monkeypatch.setenv("PATH", f"{fake.bin}:/usr/local/bin:/usr/bin:/bin")
    repo.write({"plain/a.yaml": CONFIGMAP.format(name="a", level="x")})
    repo.commit()
    repo.write({"remote/kustomization.yaml": "resources:\n  - https://github.com/example/repo//deploy?ref=main\n"})
    monkeypatch.chdir(repo.root)

    assert main(["plan", "--base", "HEAD"]) == 0

    out = capsys.readouterr().out
    assert "- `remote` **refused**\n" in out
    assert "remote bases and resources are never fetched" in out
    assert fake.calls == []


def test_a_moved_file_is_planned_at_both_paths_and_changes_nothing(repo: GitRepo, monkeypatch, capsys):
    repo.write({"plain/a.yaml": CONFIGMAP.format(name="a", level="x")})
    base = repo.commit()
    repo.git("mv", "plain/a.yaml", "plain/b.yaml")
    repo.commit()
    monkeypatch.chdir(repo.root)

    assert main(["plan", "--base", base, "--head", "HEAD", "--format", "json"]) == 0

    data = json.loads(capsys.readouterr().out)
    assert [(r["path"], r["counts"], r["objects"]) for r in data["roots"]] == [
        ("plain", {"create": 0, "update": 0, "delete": 0, "rename": 0}, [])
    ]
