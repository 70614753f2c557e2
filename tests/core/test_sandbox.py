"""The boundary for untrusted evaluation: PR policies, their tests and PR templates run in a limited child process."""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Iterator

import pytest

from bot.core import policy_changes
from bot.core.config import RepoConfig, load_repo_config
from bot.core.evaluate import EvalOptions, evaluate
from bot.core.manifests import load_workspace
from bot.core.masking import mask_report
from bot.core.rego import ENGINES, make_engine
from bot.core.rego.testing import run_policy_tests
from bot.core.sandbox import (
    RULE_RESOURCE_LIMIT,
    RULE_TIMEOUT,
    SandboxLimitError,
    SandboxLimits,
    SandboxWorker,
    run_sandboxed,
)
from bot.core.workspace import Workspace
from bot.errors import ConfigError, PolicyError

# Nested numbers.range: billions of iterations, the classic Rego CPU bomb.
CPU_BOMB = "count([x | some i in numbers.range(1, 100000); some j in numbers.range(1, 100000); x := i * j])"
# One huge comprehension: memory, not CPU.
MEMORY_BOMB = "count([x | some x in numbers.range(1, 300000000)])"


class Listener:
    """A loopback HTTP server every attack tries to reach; it must never be called."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                listener.requests.append(self.path)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b'{"internal": "ghp_' + b"A" * 36 + b'"}')

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/internal"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.server.shutdown()


def pr_with_policy_test(test_body: str, *, config: str = "policies:\n  directories: [policy/]\n") -> tuple[Workspace, Workspace]:
    trusted = Workspace.from_dict({".gitops-bot.yaml": "policies:\n  directories: [policy/]\n", "policy/ok.rego": "package main\n"})
    head = Workspace.from_dict(
        {
            ".gitops-bot.yaml": config,
            "policy/ok.rego": "package main\n",
            "policy/evil_test.rego": f"package main\n\nimport rego.v1\n\ntest_evil if {{\n  {test_body}\n}}\n",
        }
    )
    return trusted, head


def check_pr(trusted: Workspace, head: Workspace, config: RepoConfig, engine: str | None = None):
    return policy_changes.check(head, trusted, config, ["policy/evil_test.rego", ".gitops-bot.yaml"], engine=engine)


# -- the child process ------------------------------------------------------------------------------------


def test_the_child_sees_a_scrubbed_environment_no_inherited_descriptors_and_its_limits(monkeypatch):
    monkeypatch.setenv("GITOPS_BOT_PLANTED", "x")
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY", "-----BEGIN RSA PRIVATE KEY-----")
    inherited = os.open(os.devnull, os.O_RDONLY)  # not marked inheritable by Python, and close_fds anyway
    os.set_inheritable(inherited, True)
    try:
        facts = run_sandboxed("bot.core.sandbox:child_facts", None, limits=SandboxLimits(cpu_seconds=7, memory_bytes=900 << 20))
    finally:
        os.close(inherited)
    assert facts["environment"] == ["GOMAXPROCS", "LANG", "LC_ALL", "MALLOC_ARENA_MAX", "PATH", "PYTHONHASHSEED"]
    assert facts["open_fds"] in ([0, 1, 2, 3], [0, 1, 2, 3, 4])  # stdio, the frame channel, listdir's own fd
    assert facts["data_limit"] == 900 << 20
    assert 0 < facts["cpu_limit"] <= 7 + 2 + 1  # CPU used so far + the job's seconds


def test_a_job_over_the_wall_clock_limit_is_killed_and_the_worker_restarts():
    worker = SandboxWorker(SandboxLimits(wall_seconds=1.5))
    _trusted, head = pr_with_policy_test(CPU_BOMB)
    payload = {"files": {"policy/evil_test.rego": head.read("policy/evil_test.rego").decode()}, "dirs": ["policy/"],
               "namespaces": ["main"], "engine": "regorus"}
    with pytest.raises(SandboxLimitError) as err:
        worker.call("bot.core.policy_changes:compile_and_test", payload, label="policy/evil_test.rego")
    assert err.value.rule == RULE_TIMEOUT
    assert str(err.value) == "policy/evil_test.rego: did not finish within the time limit"
    # The next job gets a fresh child.
    assert worker.call("bot.core.sandbox:child_facts", None)["environment"]
    worker.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_the_cpu_limit_stops_a_job_that_the_wall_clock_would_allow(engine):
    _trusted, head = pr_with_policy_test(CPU_BOMB)
    payload = {"files": {"policy/evil_test.rego": head.read("policy/evil_test.rego").decode()}, "dirs": ["policy/"],
               "namespaces": ["main"], "engine": engine}
    with pytest.raises(SandboxLimitError) as err:
        run_sandboxed("bot.core.policy_changes:compile_and_test", payload, limits=SandboxLimits(wall_seconds=60, cpu_seconds=1))
    assert err.value.rule == RULE_TIMEOUT
    assert "1-second CPU limit" in str(err.value)


@pytest.mark.parametrize("engine", ENGINES)
def test_memory_over_the_limit_is_a_resource_limit(engine):
    _trusted, head = pr_with_policy_test(MEMORY_BOMB)
    payload = {"files": {"policy/evil_test.rego": head.read("policy/evil_test.rego").decode()}, "dirs": ["policy/"],
               "namespaces": ["main"], "engine": engine}
    with pytest.raises(SandboxLimitError) as err:
        run_sandboxed("bot.core.policy_changes:compile_and_test", payload,
                      limits=SandboxLimits(wall_seconds=60, cpu_seconds=60, memory_bytes=400 << 20))
    assert err.value.rule == RULE_RESOURCE_LIMIT
    assert "400 MB memory limit" in str(err.value)


def test_limits_come_from_the_operators_environment():
    limits = SandboxLimits.from_env({"GITOPS_BOT_SANDBOX_TIMEOUT": "5", "GITOPS_BOT_SANDBOX_MEMORY_MB": "512",
                                     "GITOPS_BOT_TRUSTED_POLICY_TIMEOUT": "30", "GITOPS_BOT_SANDBOX_CPU_SECONDS": "4"})
    assert (limits.wall_seconds, limits.memory_bytes, limits.trusted_wall_seconds, limits.cpu_seconds) == (5, 512 << 20, 30, 4)
    assert SandboxLimits.from_env({}) == SandboxLimits()
    with pytest.raises(ConfigError, match="GITOPS_BOT_SANDBOX_TIMEOUT must be a number"):
        SandboxLimits.from_env({"GITOPS_BOT_SANDBOX_TIMEOUT": "soon"})


def test_only_the_bots_own_functions_run_in_the_child():
    with pytest.raises(PolicyError, match="refusing to run 'os:system'"):
        run_sandboxed("os:system", "true")


# -- PR policy tests --------------------------------------------------------------------------------------


def test_a_cpu_bomb_in_a_pr_policy_test_is_a_blocking_timeout_finding(monkeypatch):
    monkeypatch.setenv("GITOPS_BOT_SANDBOX_TIMEOUT", "3")
    trusted, head = pr_with_policy_test(CPU_BOMB)
    result = check_pr(trusted, head, load_repo_config(trusted.read(".gitops-bot.yaml")))
    [finding] = [f for f in result.findings if f.rule.startswith("policy/")]
    assert (finding.rule, finding.file, finding.blocking) == (RULE_TIMEOUT, "policy/evil_test.rego", True)
    assert "did not finish within the time limit" in finding.message


@pytest.mark.parametrize("engine", ENGINES)
def test_network_and_runtime_builtins_are_refused_under_both_engines(engine, listener):
    for call in (f'http.send({{"method": "get", "url": "{listener.url}"}})', f'http["send"]({{"method": "get", "url": "{listener.url}"}})',
                 'net.lookup_ip_addr("localhost")', "opa.runtime()", 'rego.parse_module("x.rego", "package x")'):
        rego = make_engine(engine)
        with pytest.raises(PolicyError, match="is not available: policies run without network or runtime builtins"):
            rego.add_module("evil.rego", f"package evil\n\nx := {call}\n")
    # A comment may mention them; a string is code in a template string, so it is refused too.
    make_engine(engine).add_module("fine.rego", "package fine\n\n# never call http.send here\nx := 1\n")
    assert listener.requests == []


@pytest.mark.parametrize("base_engine", ENGINES)
def test_a_pr_test_calling_http_send_never_reaches_the_network(base_engine, listener):
    trusted, head = pr_with_policy_test(
        f'resp := http.send({{"method": "get", "url": "{listener.url}"}})\n  resp.status_code == 200',
        config="policies:\n  engine: opa\n  directories: [policy/]\n",
    )
    config = load_repo_config(f"policies:\n  engine: {base_engine}\n  directories: [policy/]\n".encode())
    result = check_pr(trusted, head, config)
    assert listener.requests == []
    [compile_error] = [f for f in result.findings if f.rule == "policy-change/compile"]
    assert "http.send is not available" in compile_error.message
    assert (compile_error.file, compile_error.line, compile_error.blocking) == ("policy/evil_test.rego", 6, True)
    assert "/tmp" not in compile_error.message


def test_the_engine_for_pr_policy_tests_comes_from_the_base_config():
    # crypto.x509.parse_certificates exists in OPA, not in regorus: the PR asks for OPA, the base has none.
    trusted, head = pr_with_policy_test('crypto.x509.parse_certificates("") == []', config="policies:\n  engine: opa\n  directories: [policy/]\n")
    result = check_pr(trusted, head, load_repo_config(trusted.read(".gitops-bot.yaml")))
    [failed] = [f for f in result.findings if f.rule == "policy-change/test-failed"]
    assert "could not find function crypto.x509.parse_certificates" in failed.message  # regorus judged it


@pytest.mark.parametrize("engine", ENGINES)
def test_a_test_value_is_never_echoed_and_policy_changes_are_masked(engine, tmp_path):
    token = "ghp_" + "B" * 36
    (tmp_path / "leak_test.rego").write_text(f'package leak\n\nimport rego.v1\n\ntest_leak := "{token} password=hunter2hunter2"\n')
    [result] = run_policy_tests([tmp_path], engine=engine)
    assert result.error == "test result is a string, expected true"

    trusted, head = pr_with_policy_test(f'print("{token}")\n  false')
    changes = check_pr(trusted, head, load_repo_config(trusted.read(".gitops-bot.yaml")))
    report = evaluate(Workspace.from_dict({}), options=EvalOptions(policies=False))
    report.policy_changes = [*changes.results, {"file": "p.rego", "name": "t", "passed": False, "error": f"{token} password=hunter2x"}]
    masked = mask_report(report).to_json()["policyChanges"]
    assert token not in str(masked) and "hunter2x" not in str(masked)
    assert masked[-1]["error"] == "ghp_*** password=***"


def test_a_cpu_bomb_in_a_pr_constraint_template_is_a_timeout_finding_on_the_template(monkeypatch):
    monkeypatch.setenv("GITOPS_BOT_SANDBOX_TIMEOUT", "3")
    template = f"""apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8sbomb
spec:
  crd:
    spec:
      names:
        kind: K8sBomb
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sbomb
        import rego.v1
        violation contains {{"msg": msg}} if {{
          n := {CPU_BOMB}
          n > 0
          msg := "boom"
        }}
"""
    constraint = "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sBomb\nmetadata:\n  name: bomb\n"
    head = Workspace.from_dict({"gk/template.yaml": template, "gk/constraint.yaml": constraint,
                                "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"})
    report = evaluate(head, trusted=Workspace.from_dict({}), options=EvalOptions(changed_paths=list(head.paths)))
    [finding] = [f for f in report.findings if f.rule == RULE_TIMEOUT]
    assert (finding.file, finding.blocking) == ("gk/template.yaml", True)
    assert "Gatekeeper templates (gk/template.yaml): did not finish within the time limit" in finding.message


def test_a_pr_constraint_template_calling_http_send_never_reaches_the_network(listener):
    template = f"""apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8sexfil
spec:
  crd:
    spec:
      names:
        kind: K8sExfil
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sexfil
        violation[{{"msg": msg}}] {{
          resp := http.send({{"method": "get", "url": "{listener.url}"}})
          msg := resp.raw_body
        }}
"""
    constraint = "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sExfil\nmetadata:\n  name: exfil\n"
    head = Workspace.from_dict({"gk/template.yaml": template, "gk/constraint.yaml": constraint,
                                "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"})
    trusted = Workspace.from_dict({".gitops-bot.yaml": "policies:\n  engine: opa\n"})
    report = evaluate(head, trusted=trusted, options=EvalOptions(changed_paths=list(head.paths)))
    assert listener.requests == []
    [invalid] = [f for f in report.findings if f.rule == "gatekeeper/invalid-template"]
    assert "http.send is not available" in invalid.message
    assert "internal" not in " ".join(f.message for f in report.findings)


@pytest.mark.parametrize("package", ["main", "gitops.change"])
def test_a_misbehaving_base_policy_is_stopped_by_the_trusted_time_limit(monkeypatch, package):
    monkeypatch.setenv("GITOPS_BOT_TRUSTED_POLICY_TIMEOUT", "3")
    trusted = Workspace.from_dict({
        ".gitops-bot.yaml": "policies:\n  builtin: false\n  directories: [policy/]\n",
        "policy/slow.rego": f"package {package}\n\nimport rego.v1\n\ndeny contains msg if {{\n  {CPU_BOMB} > 0\n  msg := \"slow\"\n}}\n",
    })
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: a\ndata:\n  k: {v}\n"
    base = Workspace.from_dict({"cm.yaml": cm.format(v="1")})
    head = Workspace.from_dict({"cm.yaml": cm.format(v="2")})
    report = evaluate(head, base=base, trusted=trusted, options=EvalOptions(changed_paths=["cm.yaml"]))
    [finding] = [f for f in report.findings if f.rule == RULE_TIMEOUT]
    assert (finding.file, finding.blocking) == (".gitops-bot.yaml", True)
    assert "did not finish within the time limit" in finding.message
    # The worker was replaced: the next evaluation works.
    assert run_sandboxed("bot.core.sandbox:child_facts", None)["environment"]


def test_base_policies_in_the_worker_give_exactly_the_in_process_findings():
    from pathlib import Path

    from bot.core.manifests import load_workspace
    from bot.core.rego.policyset import PolicySet
    from bot.core.rego.trusted import TrustedPolicySet

    root = Path(__file__).resolve().parents[2] / "fixtures" / "repos"
    ws = Workspace.from_directory(root)
    resources = load_workspace(ws, [p for p in ws.paths if p.endswith((".yaml", ".yml"))]).resources
    in_process = PolicySet.load([]).evaluate(resources)
    in_worker = TrustedPolicySet((), ("main",), "regorus", True).evaluate(resources)
    assert len(in_process) > 10 and any(f.path for f in in_process)
    assert sorted(in_worker, key=lambda f: f.sort_key()) == sorted(in_process, key=lambda f: f.sort_key())


def test_an_inventory_crosses_to_the_worker_once_and_again_after_a_restart():
    """Chunks of a tree pass the tree's inventory; the worker keeps it by digest, a fresh worker is sent it again."""
    from bot.core.rego import trusted
    from bot.core.rego.policyset import PolicySet
    from bot.core.rego.trusted import TrustedPolicySet

    ws = Workspace.from_dict({"a.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: n}\n"})
    resources = load_workspace(ws, ["a.yaml"]).resources
    inventory = {"/ConfigMap/n/x": [{"file": "a.yaml", "line": 1}, {"file": "b.yaml", "line": 7}]}
    in_process = PolicySet.load([]).evaluate(resources, inventory=inventory)
    assert [f.rule for f in in_process if "b.yaml:7" in f.message] == ["duplicate-object"]
    policy_set = TrustedPolicySet((), ("main",), "regorus", True)
    sent: list[bool] = []
    call = TrustedPolicySet._call

    def counting(self, payload):  # type: ignore[no-untyped-def]
        sent.append("inventory" in payload)
        return call(self, payload)

    TrustedPolicySet._call = counting  # type: ignore[method-assign]
    try:
        first = policy_set.evaluate(resources, inventory=inventory)
        again = policy_set.evaluate(resources, inventory=inventory)
        assert sent[-1] is False  # the second call sent the digest only
        trusted.trusted_worker().close()
        restarted = policy_set.evaluate(resources, inventory=inventory)
    finally:
        TrustedPolicySet._call = call  # type: ignore[method-assign]
    assert sent[-2:] == [False, True]  # the fresh worker asked for it
    for findings in (first, again, restarted):
        assert sorted(findings, key=lambda f: f.sort_key()) == sorted(in_process, key=lambda f: f.sort_key())
