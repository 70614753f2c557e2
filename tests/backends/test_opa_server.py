"""The OPA server backend judges exactly as the in-process engines, in one POST per evaluation, and never fails open."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.backends import EdgeBackends, edge_backends
from bot.backends.opa_bundle import build_bundle
from bot.backends.opa_server import (
    UNAVAILABLE_RULE,
    OpaServerPolicies,
    OpaServerSettings,
    OpaUnavailable,
    _put_modules,
)
from bot.cli import main
from bot.core.config import load_repo_config
from bot.core.evaluate import EvalOptions, evaluate
from bot.core.findings import Finding, Severity
from bot.core.rego import PolicySet
from bot.core.rego.sources import directory_sources
from bot.core.resource import Resource
from bot.core.workspace import Workspace
from tests.core.test_rego_parity import as_resources, other_objects, workloads
from tests.support.opa_standin import OpaStandin

ROOT = Path(__file__).resolve().parents[2]
CONFTEST = ROOT / "fixtures" / "policies" / "conftest"
REPOS = [ROOT / "fixtures" / "sample-repo"]


@pytest.fixture(scope="module")
def opa():
    with OpaStandin() as server:
        yield server


@pytest.fixture
def fresh_opa():
    with OpaStandin() as server:
        yield server


def judged(findings: list[Finding]) -> list[tuple]:
    return sorted(f.sort_key() + (f.path, f.waived is not None, f.remediation) for f in findings)


def server_policies(
    url: str, sources, namespaces=("main",), *, builtin=True, **settings
) -> OpaServerPolicies:
    return OpaServerPolicies(
        OpaServerSettings(url, **settings), build_bundle(sources, namespaces, builtin=builtin)
    )


def test_builtin_library_findings_equal_both_in_process_engines(opa):
    resources = as_resources(workloads() + other_objects())
    remote = server_policies(opa.url, []).evaluate(resources)
    assert len(remote) > len(resources)  # the corpus trips many rules, so equality means something
    assert judged(remote) == judged(PolicySet.load([], engine="opa").evaluate(resources))
    assert judged(remote) == judged(PolicySet.load([], engine="regorus").evaluate(resources))


@pytest.mark.parametrize(
    ("directory", "namespaces"), [("v0", ("main",)), ("v1", ("main", "security", "labels"))]
)
def test_conftest_policies_equal_in_process_opa_including_rego_v0(opa, directory, namespaces):
    resources = as_resources(workloads() + other_objects())
    policy_dir = CONFTEST / directory / "policy"
    remote = server_policies(opa.url, directory_sources([policy_dir]), namespaces, builtin=False).evaluate(
        resources
    )
    local = PolicySet.from_directories([policy_dir], engine="opa", builtin=False, namespaces=namespaces)
    assert judged(remote) == judged(local.evaluate(resources))
    assert len(remote) > 0


def shop_pull_request() -> tuple[Workspace, Workspace]:
    """The shop repository with its violating change on top; its own policies judge from the base."""
    base_dir, change_dir = (
        ROOT / "fixtures" / "repos" / "shop" / "base",
        ROOT / "fixtures" / "repos" / "shop" / "pr-violating",
    )
    files = {p.relative_to(base_dir).as_posix(): p.read_bytes() for p in base_dir.rglob("*") if p.is_file()}
    files.update(
        {p.relative_to(change_dir).as_posix(): p.read_bytes() for p in change_dir.rglob("*") if p.is_file()}
    )
    return Workspace.from_dict(files), Workspace.from_directory(base_dir)


@pytest.mark.parametrize("repo", ["sample-repo", "shop"])
def test_whole_evaluation_equals_in_process_engines(opa, repo):
    head, trusted = shop_pull_request() if repo == "shop" else (Workspace.from_directory(REPOS[0]),) * 2
    remote = evaluate(
        head,
        trusted=trusted,
        options=EvalOptions(engine="opa-server", backends=EdgeBackends(opa_url=opa.url)),
    )
    for engine in ("opa", "regorus"):
        local = evaluate(head, trusted=trusted, options=EvalOptions(engine=engine))
        assert judged(remote.findings) == judged(local.findings), engine
    assert len([f for f in remote.findings if f.source == "policy"]) >= 4


def test_one_post_per_evaluation_and_policies_pushed_once(fresh_opa):
    ws = Workspace.from_directory(REPOS[0])
    options = EvalOptions(engine="opa-server", backends=EdgeBackends(opa_url=fresh_opa.url))
    report = evaluate(ws, options=options)
    assert report.resources_checked > 10
    assert fresh_opa.count("POST", "/v1/data/") == 1
    pushes = fresh_opa.count("PUT", "/v1/policies/")
    assert pushes >= 25  # the built-in library plus the generated wrapper
    evaluate(ws, options=options)
    assert fresh_opa.count("POST", "/v1/data/") == 2
    assert fresh_opa.count("PUT", "/v1/policies/") == pushes


def test_a_restarted_server_gets_the_policies_again(fresh_opa):
    ws = Workspace.from_directory(REPOS[0])
    options = EvalOptions(engine="opa-server", backends=EdgeBackends(opa_url=fresh_opa.url))
    first = evaluate(ws, options=options)
    fresh_opa.forget()
    second = evaluate(ws, options=options)
    assert judged(second.findings) == judged(first.findings)
    assert not [f for f in second.findings if f.rule == UNAVAILABLE_RULE]


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("503", "HTTP 503: server is shutting down"),
        ("refuse", "connection refused or reset"),
        ("slow", "no answer within 0.5s"),
    ],
)
def test_an_unavailable_server_is_a_blocking_error_never_a_pass(fresh_opa, mode, reason):
    fresh_opa.slow_seconds = 2.0
    fresh_opa.go_down(mode)
    config = (
        b"policies:\n  engine: opa-server\n  opa:\n    url: %s\n    timeoutSeconds: 0.5\n"
        % fresh_opa.url.encode()
    )
    ws = Workspace.from_dict(
        {
            ".gitops-bot.yaml": config,
            "app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: x\n",
        }
    )
    report = evaluate(ws, options=EvalOptions(backends=EdgeBackends()))
    unavailable = [f for f in report.findings if f.rule == UNAVAILABLE_RULE]
    assert len(unavailable) == 1
    assert unavailable[0].severity is Severity.ERROR and unavailable[0].file == ".gitops-bot.yaml"
    assert unavailable[0].message == (
        f"the OPA server at {fresh_opa.url} is unavailable ({reason}); policies were not evaluated"
    )
    assert not report.passed()


def test_opa_server_engine_without_any_url_is_reported():
    ws = Workspace.from_dict({"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"})
    report = evaluate(ws, options=EvalOptions(engine="opa-server", backends=EdgeBackends()))
    assert [(f.rule, f.severity) for f in report.findings if f.source == "policy"] == [
        (UNAVAILABLE_RULE, Severity.ERROR)
    ]


def test_a_policy_that_does_not_compile_on_the_server_is_a_config_finding(fresh_opa):
    ws = Workspace.from_dict(
        {
            ".gitops-bot.yaml": "policies:\n  directories: [policies]\n  builtin: false\n",
            "policies/broken.rego": "package main\n\ndeny contains msg if {\n  msg := \n}\n",
            "a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
        }
    )
    report = evaluate(
        ws, options=EvalOptions(engine="opa-server", backends=EdgeBackends(opa_url=fresh_opa.url))
    )
    [finding] = [f for f in report.findings if f.rule == "config/invalid"]
    assert finding.message.startswith(
        "the repository's policies do not compile: compile policies/broken.rego: "
    )
    assert fresh_opa.count("POST", "/v1/data/") == 0


RUNTIME_ERROR_POLICY = """package main

import rego.v1

# Two different values for one complete rule: OPA's eval_conflict_error on documents named "boom".
verdict := "a" if input.metadata.name == "boom"

verdict := "b" if input.metadata.name == "boom"

deny contains msg if {
  verdict == "never"
  msg := "unreachable"
}

deny contains msg if {
  not input.metadata.namespace
  msg := sprintf("%s has no namespace", [input.metadata.name])
}
"""


def test_a_rule_failing_on_one_document_is_isolated_as_in_process(fresh_opa):
    resources = as_resources(
        [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "boom"}},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "calm"}},
        ]
    )
    sources = [("policies/main.rego", RUNTIME_ERROR_POLICY)]
    remote = server_policies(fresh_opa.url, sources, builtin=False).evaluate(resources)
    local = PolicySet.load(sources, engine="opa", builtin=False).evaluate(resources)
    assert judged(remote) == judged(local)
    assert sorted((f.rule, f.resource.name) for f in remote) == [
        ("main.deny", "calm"),
        ("policy-error", "boom"),
    ]
    # the batch, then each document alone, then rule by rule only for the document that fails
    assert fresh_opa.count("POST", "/v1/data/") == 1 + 2 + 1


def test_stale_modules_of_an_earlier_bundle_are_removed(fresh_opa):
    resources = as_resources([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}])
    first = [
        ("p/a.rego", 'package main\n\ndeny contains "a" if true\n'),
        ("p/b.rego", 'package main\n\nwarn contains "b" if true\n'),
    ]
    assert len(server_policies(fresh_opa.url, first, builtin=False).evaluate(resources)) == 2
    second = first[:1]
    assert [f.message for f in server_policies(fresh_opa.url, second, builtin=False).evaluate(resources)] == [
        "a"
    ]
    user_modules = sorted(p for p in fresh_opa.policies if not p.startswith("gitops-bot/_batch/"))
    assert user_modules == ["gitops-bot/p/a.rego"]


def test_push_policies_false_uses_what_the_server_already_has(fresh_opa):
    fresh_opa.policies["bundle/main.rego"] = (
        'package main\n\ndeny contains "from the server bundle" if true\n'
    )
    resources = as_resources([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}])
    sources = [("policies/main.rego", 'package main\n\ndeny contains "from the repository" if true\n')]
    findings = server_policies(fresh_opa.url, sources, builtin=False, push_policies=False).evaluate(resources)
    assert [f.message for f in findings] == ["from the server bundle"]
    assert [p for m, p in fresh_opa.requests if m == "PUT" and p.startswith("/v1/policies/")] == [
        f"/v1/policies/gitops-bot/_batch/{build_bundle(sources, ('main',), builtin=False).digest}.rego"
    ]


def test_patches_and_empty_sets_make_no_request(fresh_opa):
    patch = Resource(
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "p"}},
        "k/patch.yaml",
        is_patch=True,
    )
    assert server_policies(fresh_opa.url, []).evaluate([patch]) == []
    assert fresh_opa.requests == []


@pytest.mark.parametrize(
    ("env_url", "config_url", "engine", "expected"),
    [
        ("http://env:8181", "", None, "http://env:8181"),  # OPA_URL alone selects the server
        ("http://env:8181", "", "regorus", None),  # an explicit in-process engine wins
        ("", "http://cfg:8181", "opa-server", "http://cfg:8181"),
        ("http://env:8181", "http://cfg:8181", "opa-server", "http://env:8181"),  # the operator's URL wins
        ("", "http://cfg:8181", None, None),  # a URL in the config alone does not switch engines
        ("", "", "opa-server", None),  # evaluate reports policy/opa-unavailable
    ],
)
def test_backend_selection(env_url, config_url, engine, expected):
    config = load_repo_config(
        f"policies:\n  opa:\n    url: {config_url}\n    timeoutSeconds: 3\n".encode() if config_url else b""
    )
    backend = EdgeBackends(opa_url=env_url).policy_backend(config, engine)
    assert (backend.settings.url if backend else None) == expected
    if backend and config_url:
        assert backend.settings.timeout_seconds == 3


def test_the_app_never_calls_a_url_named_by_a_repository():
    config = load_repo_config(b"policies:\n  engine: opa-server\n  opa:\n    url: http://169.254.169.254\n")
    backends = edge_backends({}, repository_opa_url=False)
    assert backends.policy_backend(config, "opa-server") is None  # evaluate reports policy/opa-unavailable
    operator = edge_backends({"OPA_URL": "http://opa:8181"}, repository_opa_url=False)
    assert operator.policy_backend(config, "opa-server").settings.url == "http://opa:8181"


def test_edge_backends_read_the_environment():
    backends = edge_backends({"OPA_URL": " http://opa:8181 ", "KUBECONFORM_PATH": "/opt/kc", "PATH": "/bin"})
    assert backends == EdgeBackends(opa_url="http://opa:8181", kubeconform_path="/opt/kc", search_path="/bin")


def test_config_rejects_unknown_opa_keys():
    with pytest.raises(Exception, match=r"policies\.opa\.token: unknown key"):
        load_repo_config(b"policies:\n  opa:\n    url: http://opa:8181\n    token: x\n")


def test_cli_engine_opa_server_reads_opa_url(opa, monkeypatch, capsys):
    monkeypatch.setenv("OPA_URL", opa.url)
    code = main(["check", str(REPOS[0]), "--engine", "opa-server", "--format", "json"])
    remote = capsys.readouterr().out
    monkeypatch.delenv("OPA_URL")
    assert main(["check", str(REPOS[0]), "--engine", "opa", "--format", "json"]) == code == 1
    assert remote == capsys.readouterr().out


def test_a_server_failing_after_the_push_is_reported_not_raised(fresh_opa):
    policies = server_policies(
        fresh_opa.url, [("p/a.rego", 'package main\n\ndeny contains "a" if true\n')], builtin=False
    )
    policies.prepare()
    resources = as_resources([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}])
    fresh_opa.go_down("503")
    assert [(f.rule, f.severity) for f in policies.evaluate(resources)] == [
        (UNAVAILABLE_RULE, Severity.ERROR)
    ]
    with pytest.raises(
        OpaUnavailable, match=r"PUT /v1/policies/gitops-bot/x\.rego: unavailable: server is shutting down"
    ):
        _put_modules(OpaServerSettings(fresh_opa.url).client(), [("gitops-bot/x.rego", "package x\n")])


def test_concurrent_evaluations_share_one_push_and_agree(fresh_opa):
    from concurrent.futures import ThreadPoolExecutor

    resources = as_resources(workloads()[:40])
    policies = server_policies(fresh_opa.url, [])
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: judged(policies.evaluate(resources)), range(4)))
    assert results[0] and all(r == results[0] for r in results)
    assert fresh_opa.count("GET", "/v1/data/gitops_bot/bundle") == 1  # pushed once, under the lock
    assert fresh_opa.count("POST", "/v1/data/") == 4
