"""kubeconform's JSON output maps onto the rule, file and line our embedded validator gives; it never fails open.

The binary is a stand-in (tests/support/kubeconform_standin/kubeconform) replaying
outputs recorded by hand, in kubeconform's documented format, for fixtures/kubeconform/repo.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.backends import EdgeBackends, edge_backends
from bot.backends.kubeconform import (
    FAILED_RULE,
    MISSING_RULE,
    KubeconformFailed,
    KubeconformResult,
    KubeconformSettings,
    legacy_errors,
    match_results,
    parse_output,
    pointer_path,
    result_findings,
)
from bot.cli import main
from bot.core.config import load_repo_config
from bot.core.evaluate import EvalOptions, evaluate
from bot.core.findings import Severity
from bot.core.resource import Resource
from bot.core.schemas import DEFAULT_KUBERNETES_VERSION
from bot.core.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
REPO = ROOT / "fixtures" / "kubeconform" / "repo"
STANDIN_DIR = ROOT / "tests" / "support" / "kubeconform_standin"
STANDIN = STANDIN_DIR / "kubeconform"
VERSIONS = ("v0.6.7", "v0.7.0", "v0.5.0")


@pytest.fixture
def standin_env(monkeypatch, tmp_path):
    """A wrapper around the stand-in first on PATH; returns a setter for its version, failure mode and
    recording files (kubeconform gets a minimal environment, so the settings live in the wrapper)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")

    def configure(version: str = "v0.6.7", mode: str = "", **record: Path) -> Path:
        settings = {"VERSION": version, "MODE": mode, **{k.upper(): str(v) for k, v in record.items()}}
        exports = "".join(f"export KUBECONFORM_STANDIN_{k}='{v}'\n" for k, v in settings.items())
        wrapper = bin_dir / "kubeconform"
        wrapper.write_text(f'#!/bin/sh\n{exports}exec "{STANDIN}" "$@"\n')
        wrapper.chmod(0o755)
        return wrapper

    return configure


def schema_findings(report) -> list[tuple]:
    return sorted(
        (f.rule, f.file, f.line, f.path, f.severity) for f in report.findings if f.source == "schema"
    )


def run(*, strict: bool, backends: EdgeBackends | None, config: bytes | None = None):
    options = EvalOptions(strict=strict, policies=False, backends=backends, config_bytes=config)
    return evaluate(Workspace.from_directory(REPO), options=options)


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
@pytest.mark.parametrize("version", VERSIONS)
def test_recorded_outputs_map_to_the_embedded_validators_rules_and_lines(standin_env, version, strict):
    standin_env(version)
    embedded = run(strict=strict, backends=None)
    kubeconform = run(strict=strict, backends=EdgeBackends(search_path=os.environ["PATH"]))
    assert schema_findings(kubeconform) == schema_findings(embedded)
    expected = [
        ("schema/enum", "apps/api.yaml", 15, "spec.type"),
        ("schema/type", "apps/api.yaml", 33, "spec.containers[0].ports[0].containerPort"),
        (
            "schema/range",
            "apps/gadget.yaml",
            7,
            "spec.size",
        ),  # no schema in kubeconform: the repo's CRD decides
        ("schema/enum", "apps/job.yaml", 10, "spec.template.spec.restartPolicy"),
        # beyond the schema (bot/core/schemas/apiserver.py), whichever backend ran
        ("schema/range", "apps/job.yaml", 7, "spec.backoffLimit"),
        ("schema/type", "apps/web.yaml", 7, "spec.replicas"),
        ("schema/required", "apps/web.yaml", 17, "spec.template.spec.containers[0]"),
    ]
    if strict:
        expected.append(("schema/unknown-field", "apps/api.yaml", 21, "spec.ports[0].protocoll"))
    assert sorted(t[:4] for t in schema_findings(kubeconform)) == sorted(expected)


def test_messages_say_what_kubeconform_said(standin_env):
    standin_env("v0.6.7")
    report = run(strict=False, backends=EdgeBackends(search_path=os.environ["PATH"]))
    messages = {(f.file, f.line): f.message for f in report.findings}
    assert messages[("apps/web.yaml", 7)] == "spec.replicas: expected integer or null, but got string"
    assert (
        messages[("apps/web.yaml", 17)] == 'spec.template.spec.containers[0]: missing required field "name"'
    )


def test_command_line_and_only_files_with_whole_objects(standin_env, tmp_path):
    argv_file = tmp_path / "argv.json"
    standin_env("v0.6.7", argv=argv_file)
    config = (
        b"kubeconform:\n  enabled: true\n  schemaLocations: [default, 'schemas/{{.ResourceKind}}.json']\n"
    )
    run(strict=True, backends=EdgeBackends(search_path=os.environ["PATH"]), config=config)
    assert json.loads(argv_file.read_text()) == [
        "-output", "json", "-summary", "-kubernetes-version", f"{DEFAULT_KUBERNETES_VERSION}.0", "-strict",
        "-schema-location", "default", "-schema-location", "schemas/{{.ResourceKind}}.json",
        "--", "apps/api.yaml", "apps/gadget.yaml", "apps/job.yaml", "apps/web.yaml", "crds/gadget-crd.yaml",
    ]  # fmt: skip


def test_kustomize_patches_stay_with_the_embedded_validator(standin_env, tmp_path):
    argv_file = tmp_path / "argv.json"
    wrapper = standin_env("v0.6.7", argv=argv_file)
    ws = Workspace.from_dict(
        {
            "base/kustomization.yaml": "resources: [deploy.yaml]\npatches:\n  - path: patch.yaml\n",
            "base/deploy.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
            "base/patch.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: two\n",
        }
    )
    report = evaluate(
        ws, options=EvalOptions(policies=False, backends=EdgeBackends(kubeconform_path=str(wrapper)))
    )
    assert json.loads(argv_file.read_text())[-2:] == ["--", "base/deploy.yaml"]
    assert [(f.rule, f.file, f.line) for f in report.findings] == [("schema/type", "base/patch.yaml", 6)]


def test_a_missing_binary_falls_back_with_a_notice(tmp_path):
    embedded = run(strict=False, backends=None)
    report = run(strict=False, backends=EdgeBackends(search_path=str(tmp_path)))
    [notice] = [f for f in report.findings if f.rule == MISSING_RULE]
    assert notice.severity is Severity.NOTICE and notice.file == ".gitops-bot.yaml"
    assert notice.message == (
        "kubeconform is not installed (set KUBECONFORM_PATH or PATH); the embedded schema validator was used instead"
    )
    assert schema_findings(report) == sorted(
        [*schema_findings(embedded), (MISSING_RULE, ".gitops-bot.yaml", 0, "", Severity.NOTICE)]
    )


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("crash", "exit status 2: panic: runtime error: invalid memory address"),
        ("garbage", "its output is not JSON (is it kubeconform v0.4 or later?)"),
        ("slow", "no answer within 0.5s"),
    ],
)
def test_a_failing_binary_falls_back_with_a_notice(standin_env, mode, reason):
    standin_env("v0.6.7", mode)
    # Only the slow binary is meant to outlast the timeout; the others get room to start on a loaded machine.
    timeout = "0.5" if mode == "slow" else "30"
    config = f"kubeconform:\n  enabled: true\n  timeoutSeconds: {timeout}\n".encode()
    report = run(strict=False, backends=EdgeBackends(search_path=os.environ["PATH"]), config=config)
    [notice] = [f for f in report.findings if f.rule == FAILED_RULE]
    assert notice.message == f"kubeconform failed: {reason}; the embedded schema validator was used instead"
    embedded = run(strict=False, backends=None, config=config)
    assert [t for t in schema_findings(report) if t[0] != FAILED_RULE] == schema_findings(embedded)


def test_kubeconform_sees_none_of_the_apps_secrets(standin_env, tmp_path, monkeypatch):
    env_file = tmp_path / "env.json"
    standin_env("v0.6.7", env=env_file)
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY", "-----BEGIN RSA PRIVATE KEY-----planted")
    monkeypatch.setenv("GITOPS_BOT_PLANTED", "planted-secret")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_plantedplantedplantedplanted0000")
    run(strict=False, backends=edge_backends(os.environ, repository_opa_url=False), config=b"kubeconform:\n  enabled: true\n")
    assert not env_file.exists()  # the App: a repository alone cannot switch kubeconform on
    run(strict=False, backends=edge_backends({**os.environ, "KUBECONFORM_PATH": str(tmp_path / "bin" / "kubeconform")}))
    seen = json.loads(env_file.read_text())
    assert not {k for k in seen if k.startswith(("GITHUB", "GITOPS_BOT"))} - {k for k in seen if k.startswith("KUBECONFORM_STANDIN")}
    assert "planted" not in json.dumps(seen)


def test_a_repository_picks_schema_locations_only_among_the_operators(standin_env, tmp_path):
    argv_file = tmp_path / "argv.json"
    standin_env("v0.6.7", argv=argv_file)
    allowed = {"PATH": os.environ["PATH"], "KUBECONFORM_SCHEMA_LOCATIONS": "default  /srv/schemas/{{.ResourceKind}}.json"}
    app = edge_backends(allowed, repository_opa_url=False)
    config = b"kubeconform:\n  enabled: true\n  schemaLocations: ['http://127.0.0.1:9/{{.ResourceKind}}.json', default]\n"
    run(strict=False, backends=app, config=config)
    argv = json.loads(argv_file.read_text())
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "-schema-location"] == ["default"]
    only_unknown = b"kubeconform:\n  enabled: true\n  schemaLocations: ['http://127.0.0.1:9/x.json']\n"
    run(strict=False, backends=app, config=only_unknown)
    argv = json.loads(argv_file.read_text())
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "-schema-location"] == ["default", "/srv/schemas/{{.ResourceKind}}.json"]


def test_kubeconform_is_off_unless_asked_for():
    plain = load_repo_config(b"version: 1\n")
    enabled = load_repo_config(b"kubeconform:\n  enabled: true\n")
    assert EdgeBackends(search_path=str(STANDIN_DIR)).schema_backend(plain, "1.31", False) is None
    assert EdgeBackends(kubeconform_path=str(STANDIN)).schema_backend(
        plain, "1.31", False
    ).settings.binary == str(STANDIN)
    found = EdgeBackends(search_path=str(STANDIN_DIR)).schema_backend(enabled, "1.31", True)
    assert (found.settings.binary, found.settings.strict) == (str(STANDIN), True)


@pytest.mark.parametrize(
    ("pointer", "path"),
    [
        ("", ()),
        ("/spec/replicas", ("spec", "replicas")),
        (
            "/spec/template/spec/containers/0/ports/1",
            ("spec", "template", "spec", "containers", 0, "ports", 1),
        ),
        ("/metadata/annotations/example.com~1team", ("metadata", "annotations", "example.com/team")),
        ("/metadata/labels/a~0b", ("metadata", "labels", "a~b")),
        ("/data/0", ("data", "0")),  # a mapping key made of digits stays a key
    ],
)
def test_json_pointers_become_field_paths(pointer, path):
    obj = {
        "metadata": {"annotations": {"example.com/team": "x"}, "labels": {"a~b": "y"}},
        "data": {"0": "zero"},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"ports": [{}, {}]}]}}},
    }
    assert pointer_path(obj, pointer) == path


def test_legacy_messages_are_split_into_fields():
    msg = (
        "For field spec.replicas: Invalid type. Expected: [integer,null], given: string - "
        "For field (root): Additional property templates is not allowed"
    )
    assert legacy_errors(msg) == [
        (("spec", "replicas"), "Invalid type. Expected: [integer,null], given: string"),
        ((), "Additional property templates is not allowed"),
    ]


def test_output_without_resources_is_a_failure():
    with pytest.raises(KubeconformFailed, match='no "resources" list'):
        parse_output(b'{"summary": {}}')
    assert parse_output(b'{"resources": [], "summary": {"valid": 3}}') == []


def test_version_is_given_as_major_minor_patch():
    assert KubeconformSettings("kc", "1.29").command(["a.yaml"])[5] == "1.29.0"
    assert KubeconformSettings("kc", "1.29.3").command(["a.yaml"])[5] == "1.29.3"


def test_cli_uses_kubeconform_path(standin_env, monkeypatch, capsys):
    standin_env("v0.6.7")
    monkeypatch.setenv("KUBECONFORM_PATH", str(STANDIN))
    monkeypatch.chdir(REPO)
    assert main(["check", ".", "--no-policies", "--format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["rule"], f["file"], f["line"]) for f in findings if f["file"] == "apps/web.yaml"] == [
        ("schema/type", "apps/web.yaml", 7),
        ("schema/required", "apps/web.yaml", 17),
    ]
    assert findings[0]["message"] != "" and not any(f["rule"] == MISSING_RULE for f in findings)


def test_results_match_resources_by_file_kind_name_in_document_order():
    first = Resource({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}, "a.yaml", 0, 1)
    second = Resource({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}, "a.yaml", 1, 6)
    other = Resource({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}, "b.yaml", 0, 1)
    results = [
        KubeconformResult("a.yaml", "ConfigMap", "c", "v1", "statusInvalid", "one", ()),
        KubeconformResult("a.yaml", "ConfigMap", "c", "v1", "statusInvalid", "two", ()),
        KubeconformResult("a.yaml", "ConfigMap", "c", "v1", "statusInvalid", "three: no such document", ()),
        KubeconformResult("b.yaml", "Secret", "c", "v1", "statusError", "error unmarshalling resource", ()),
    ]
    pairs = match_results([first, second, other], results)
    assert [(r.line, result.msg) for r, result in pairs] == [(1, "one"), (6, "two")]


@pytest.mark.parametrize(
    ("message", "rule"),
    [
        ("expected integer or null, but got string", "schema/type"),  # v0.6 (jsonschema v5)
        ("got string, want integer", "schema/type"),  # v0.7 (jsonschema v6)
        ("Invalid type. Expected: [integer,null], given: string", "schema/type"),  # v0.5 (gojsonschema)
        ("must be >= 0 but found -1", "schema/range"),
        ("minimum: got -1, want 0", "schema/range"),
        ("maxLength: got 70, want 63", "schema/range"),
        ("length must be <= 63, but got 70", "schema/range"),
        ("minimum 1 items required, but found 0 items", "schema/range"),
        ("Must be greater than or equal to 0", "schema/range"),
        ('value must be one of "Always", "Never"', "schema/enum"),
        ("'Abc' does not match pattern '^[a-z]+$'", "schema/pattern"),
        ("'yesterday' is not valid 'date-time'", "schema/format"),
        ("Does not match format 'date-time'", "schema/format"),
        ("oneOf failed", "schema/invalid"),
    ],
)
def test_messages_of_each_kubeconform_generation_get_our_rule(message, rule):
    resource = Resource({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}, "p.yaml")
    result = KubeconformResult(
        "p.yaml", "Pod", "p", "v1", "statusInvalid", message, (("/metadata/name", message),)
    )
    assert [f.rule for f in result_findings(resource, result, strict=False)] == [rule]
