"""Hostile pull requests and deliveries through the real App: clear findings, no false blocks, nothing lost."""

from __future__ import annotations

import http.server
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.shop import SECRET, App, app_env, app_private_key, pull_request_payload
from tests.support.github_standin import (
    FixtureRepo,
    GitHubStandIn,
    PullSpec,
    all_request_problems,
    blob_sha,
    fake_sha,
    load_tree,
)
from tests.support.gunicorn import post_webhook, serve_gunicorn, wait_for

REPO = "acme/hostile"
BASE = fake_sha("hostile-base")
BAD_BASE = fake_sha("hostile-bad-config-base")
OPA_BASE = fake_sha("hostile-opa-base")  # the trusted config picks the OPA engine
WORKER_FILE = "apps/worker/deployment.yaml"


def big_configmap(name: str, size: int) -> bytes:
    """A well-formed ConfigMap of about ``size`` bytes: only its size is wrong."""
    head = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: shop\ndata:\n"
    line = "  k{:07d}: " + "x" * 60 + "\n"
    count = (size - len(head)) // len(line.format(0)) + 1
    return (head + "".join(line.format(i) for i in range(count))).encode()


def unique_deployment(label: str) -> bytes:
    """The compliant api Deployment with a label no other test uses, so its blob is read afresh."""
    data = load_tree("shop/pr-compliant")["apps/api/deployment.yaml"]
    labelled = data.replace(b"    app: api\nspec:", f"    app: api\n    case: {label}\nspec:".encode(), 1)
    assert labelled != data
    return labelled


BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256))
FLAKY_FILE = unique_deployment("flaky-blob")
DOWN_FILE = unique_deployment("github-down")


BASE_CONFIG = b"# hostile: the trusted configuration at the base branch.\nlimits:\n  maxFileBytes: 1048576\n"
# The classic Rego CPU bomb: nested numbers.range, billions of iterations.
CPU_BOMB = "count([x | some i in numbers.range(1, 100000); some j in numbers.range(1, 100000); x := i * j])"
PLANTED_TOKEN = "ghp_" + "Q" * 36  # what a PR policy test tries to publish
PLANTED_PASSWORD = "hunter2-planted-password"
LISTENER_BODY = "listener-response-body-6d1f"


def _policy_pr(tests: str, *, extra: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """A PR that asks for the OPA engine in its own config and adds a policy with the given tests."""
    return {
        ".gitops-bot.yaml": BASE_CONFIG + b"policies:\n  engine: opa\n  directories: [policy/]\n",
        "policy/evil.rego": b"package main\n\nimport rego.v1\n\ndeny contains msg if {\n  input.kind == \"Evil\"\n  msg := \"evil\"\n}\n",
        "policy/evil_test.rego": b"package main\n\nimport rego.v1\n\n" + tests.encode(),
        **(extra or {}),
    }


def _template(name: str, body: str) -> bytes:
    return f"""apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: {name}
spec:
  crd:
    spec:
      names:
        kind: {name.capitalize()}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package {name}
        import rego.v1
        violation contains {{"msg": msg}} if {{
          {body}
        }}
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: {name.capitalize()}
metadata:
  name: all
""".encode()


CONFIGMAP = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n  namespace: shop\ndata:\n  a: b\n"


def _trees(listener: str = "http://127.0.0.1:9/unused") -> dict[str, dict[str, bytes]]:
    base = ("hostile/base",)
    send = f'http.send({{"method": "get", "url": "{listener}"}})'
    return {
        "rego-network": load_tree(*base, extra=_policy_pr(
            f"test_fetch if {{\n  resp := {send}\n  resp.raw_body == \"x\"\n}}\n\n"
            f'test_lookup if {{\n  net.lookup_ip_addr("localhost")\n}}\n')),
        "rego-leak": load_tree(*base, extra=_policy_pr(
            f'test_leak := "{PLANTED_TOKEN} password={PLANTED_PASSWORD}"\n\n'
            f'test_print if {{\n  print("{PLANTED_TOKEN}\\n[INFO] forged log line")\n  false\n}}\n')),
        "template-network": load_tree(*base, extra={
            "gatekeeper/exfil.yaml": _template("k8sexfil", f"resp := {send}\n          msg := resp.raw_body"),
            "apps/plain/configmap.yaml": CONFIGMAP}),
        "cpu-bomb": load_tree(*base, extra=_policy_pr(
            f"test_bomb if {{\n  {CPU_BOMB} > 0\n}}\n",
            extra={"gatekeeper/bomb.yaml": _template("k8sbomb", f"{CPU_BOMB} > 0\n          msg := \"boom\""),
                   "apps/plain/configmap.yaml": CONFIGMAP})),
    } | {
        "malformed": load_tree(*base, "hostile/pr-malformed"),
        "bomb": load_tree(*base, "hostile/pr-bomb"),
        "too-large": load_tree(*base, extra={"apps/big/configmap.yaml": big_configmap("big", 3 * 1024 * 1024)}),
        "over-blob-limit": load_tree(*base, extra={"apps/huge/configmap.yaml": big_configmap("huge", 6 * 1024**2)}),
        "binary": load_tree(*base, extra={"apps/logo/logo.yaml": BINARY}),
        "bad-base-config": load_tree(*base, "hostile/bad-config-base", "shop/pr-compliant"),
        "bad-head-config": load_tree(
            *base, "hostile/pr-bad-config",
            extra={"apps/medium/configmap.yaml": big_configmap("medium", 1536 * 1024)}),
        "helm": load_tree(*base, "hostile/pr-helm"),
        "readme": load_tree(*base, "hostile/pr-readme"),
        "flaky-blobs": load_tree(*base, extra={"apps/api/deployment.yaml": FLAKY_FILE}),
        "github-down": load_tree(*base, extra={"apps/api/deployment.yaml": DOWN_FILE}),
    }


NUMBERS = {name: 100 + i for i, name in enumerate(_trees())}


def hostile_repo(listener: str) -> FixtureRepo:
    commits = {
        BASE: load_tree("hostile/base"),
        BAD_BASE: load_tree("hostile/base", "hostile/bad-config-base"),
        OPA_BASE: load_tree("hostile/base", extra={".gitops-bot.yaml": BASE_CONFIG + b"policies:\n  engine: opa\n"}),
    }
    pulls = {}
    for name, tree in _trees(listener).items():
        head = fake_sha(f"hostile-{name}")
        commits[head] = tree
        base = {"bad-base-config": BAD_BASE, "template-network": OPA_BASE}.get(name, BASE)
        pulls[NUMBERS[name]] = PullSpec(NUMBERS[name], base, head)
    return FixtureRepo(REPO, commits=commits, pulls=pulls, protection={"main": ["GitOps policy"]})


class Listener:
    """A loopback HTTP server standing for an internal service: every attack tries to reach it."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                listener.requests.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.end_headers()
                self.wfile.write(LISTENER_BODY.encode())

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/internal/secrets"

    def __enter__(self) -> Listener:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    with Listener() as server:
        yield server


@pytest.fixture(scope="module")
def standin(listener: Listener) -> Iterator[GitHubStandIn]:
    server = GitHubStandIn([hostile_repo(listener.url)])
    with server.serving():
        yield server
    assert all_request_problems(server.requests) == []


@pytest.fixture(scope="module")
def app(standin: GitHubStandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    data_dir = tmp_path_factory.mktemp("hostile-data")
    # Short sandbox limits so the CPU-bomb PR ends quickly (the defaults are a minute).
    env = app_env(standin, str(data_dir), GITOPS_BOT_SANDBOX_TIMEOUT="6", GITOPS_BOT_SANDBOX_CPU_SECONDS="5")
    with serve_gunicorn(env) as server:
        yield App(server.url, server, data_dir)
        log = server.output()
    assert "evaluation crashed" not in log


def payload_for(standin: GitHubStandIn, name: str) -> dict[str, Any]:
    pull = standin.repos[REPO].pulls[NUMBERS[name]]
    payload = pull_request_payload("opened", pull, standin)
    payload["repository"].update(full_name=REPO, name=REPO.split("/")[1])
    for side in ("head", "base"):
        payload["pull_request"][side]["repo"]["full_name"] = REPO
    return payload


def open_pull(app: App, standin: GitHubStandIn, name: str) -> str:
    delivery_id = str(uuid.uuid4())
    response = post_webhook(app.url, "pull_request", payload_for(standin, name), SECRET, delivery_id)
    assert response.status_code == 202, response.text
    return delivery_id


def head_of(name: str) -> str:
    return fake_sha(f"hostile-{name}")


def completed_run(standin: GitHubStandIn, name: str, index: int = 0, timeout: float = 60) -> dict[str, Any]:
    def done() -> list[dict[str, Any]] | None:
        runs = sorted((r for r in standin.runs_for(head_of(name)) if r["status"] == "completed"),
                      key=lambda r: r["id"])
        return runs if len(runs) > index else None

    return wait_for(done, timeout=timeout)[index]


def finished(standin: GitHubStandIn, name: str) -> None:
    """The App's last call of an evaluation: after the check run, the comment step lists the PR's comments."""
    path = f"/repos/{REPO}/issues/{NUMBERS[name]}/comments"
    wait_for(lambda: standin.requests_to("GET", path), timeout=60)


def quiet_request_count(standin: GitHubStandIn) -> int:
    """The stand-in's request count once the earlier tests' evaluations made no call for a second.

    `finished` sees the comment listing, but an evaluation may still make a call or two after it.
    """
    seen: list[int] = []

    def settled() -> bool:
        seen.append(len(standin.requests))
        return len(seen) >= 5 and len(set(seen[-5:])) == 1

    wait_for(settled, timeout=60, interval=0.25)
    return seen[-1]


def blocking(run: dict[str, Any]) -> list[tuple[str, int, str]]:
    return sorted((a["path"], a["start_line"], a["title"]) for a in run["annotations"]
                  if a["annotation_level"] == "failure")


def sticky_comments(standin: GitHubStandIn, name: str) -> list[dict[str, Any]]:
    return standin.comments_on(REPO, NUMBERS[name])


def assert_failed_with(standin: GitHubStandIn, name: str, expected: list[tuple[str, int, str]]) -> dict[str, Any]:
    run = completed_run(standin, name)
    wait_for(lambda: standin.requests_to("POST", f"/repos/{REPO}/issues/{NUMBERS[name]}/comments"), timeout=60)
    assert (run["name"], run["conclusion"]) == ("GitOps policy", "failure")
    assert blocking(run) == expected
    [comment] = sticky_comments(standin, name)
    assert comment["body"].startswith("<!-- gitops-policy-bot:summary -->")
    return run


def annotation(run: dict[str, Any], path: str, rule: str) -> dict[str, Any]:
    [found] = [a for a in run["annotations"] if a["path"] == path and a["title"] == rule]
    return found


def test_malformed_yaml_is_a_finding_on_its_line_and_other_files_are_still_judged(
    app: App, standin: GitHubStandIn
) -> None:
    open_pull(app, standin, "malformed")

    run = assert_failed_with(standin, "malformed", [
        ("apps/broken/configmap.yaml", 8, "parse/yaml-syntax"),
        (WORKER_FILE, 19, "image-tag"),  # run-as-non-root (line 20) warns under the default baseline profile
    ])
    assert "mapping values are not allowed" in annotation(run, "apps/broken/configmap.yaml", "parse/yaml-syntax")[
        "message"]


@pytest.mark.timeout(90)
def test_yaml_bomb_is_refused_in_bounded_time_and_the_worker_takes_the_next_delivery(
    app: App, standin: GitHubStandIn
) -> None:
    open_pull(app, standin, "bomb")
    open_pull(app, standin, "readme")  # queued behind the bomb

    run = assert_failed_with(standin, "bomb", [("apps/bomb/laughs.yaml", 7, "parse/alias-limit")])
    assert "100,000 values" in run["annotations"][0]["message"]
    assert completed_run(standin, "readme")["conclusion"] == "success"
    assert app.server.process.poll() is None


def test_file_over_the_size_cap_is_too_large_with_the_config_hint(app: App, standin: GitHubStandIn) -> None:
    open_pull(app, standin, "too-large")

    run = assert_failed_with(standin, "too-large", [("apps/big/configmap.yaml", 1, "parse/too-large")])
    message = run["annotations"][0]["message"]
    assert "over the 1,048,576-byte limit" in message  # the base config's limits.maxFileBytes
    assert "limits.maxFileBytes in .gitops-bot.yaml" in message


def test_file_too_big_to_download_still_blocks_as_too_large(app: App, standin: GitHubStandIn) -> None:
    open_pull(app, standin, "over-blob-limit")

    run = assert_failed_with(standin, "over-blob-limit", [("apps/huge/configmap.yaml", 1, "parse/too-large")])
    size = len(standin.repos[REPO].commits[head_of("over-blob-limit")]["apps/huge/configmap.yaml"])
    assert f"The file is {size:,} bytes" in run["annotations"][0]["message"]
    # Never downloaded: the tree listing gives the size.
    huge_sha = blob_sha(standin.repos[REPO].commits[head_of("over-blob-limit")]["apps/huge/configmap.yaml"])
    assert huge_sha not in standin.blobs_read(REPO)


def test_binary_file_is_reported_as_binary(app: App, standin: GitHubStandIn) -> None:
    open_pull(app, standin, "binary")

    run = assert_failed_with(standin, "binary", [("apps/logo/logo.yaml", 3, "parse/binary")])  # the first NUL
    assert run["annotations"][0]["message"].startswith("The file contains NUL bytes (first on line 3)")


def test_invalid_config_at_base_names_the_key_and_line(app: App, standin: GitHubStandIn) -> None:
    open_pull(app, standin, "bad-base-config")

    # The base's config is not part of the change: the finding is in the summary and details, not annotated.
    run = assert_failed_with(standin, "bad-base-config", [])
    assert run["output"]["title"] == "1 blocking finding in 1 file"
    assert "1 blocking finding concern files this change did not touch" in run["output"]["summary"]
    assert ".gitops-bot.yaml is invalid; nothing else was checked" in run["output"]["summary"]
    assert ('`config/invalid` (line 4): kubernetesVersoin: unknown key (did you mean "kubernetesVersion"?)'
            in run["output"]["text"])
    [comment] = sticky_comments(standin, "bad-base-config")
    assert "kubernetesVersoin" in comment["body"]


def test_config_broken_only_by_the_pull_request_is_reported_and_the_base_config_judges(
    app: App, standin: GitHubStandIn
) -> None:
    open_pull(app, standin, "bad-head-config")

    run = assert_failed_with(standin, "bad-head-config", [
        (".gitops-bot.yaml", 3, "config/invalid"),
        ("apps/medium/configmap.yaml", 1, "parse/too-large"),  # 1.5 MB: over the base's 1 MiB, under the default
    ])
    assert "limits.maxFileBytes" in annotation(run, ".gitops-bot.yaml", "config/invalid")["message"]


def test_helm_chart_and_kustomizations_are_not_parse_errors(app: App, standin: GitHubStandIn) -> None:
    open_pull(app, standin, "helm")

    run = completed_run(standin, "helm")
    finished(standin, "helm")
    assert run["conclusion"] == "success"
    assert blocking(run) == []
    # helmCharts needs --enable-helm, which the bot never passes: the root is not rendered, and the
    # check says so with a warning at the kustomization (its files are judged one by one instead).
    assert "helmCharts" in annotation(run, "overlays/prod/kustomization.yaml", "render/not-rendered")["message"]


def test_readme_only_change_passes_saying_no_manifests_changed(app: App, standin: GitHubStandIn) -> None:
    if not standin.runs_for(head_of("readme")):  # the bomb test already opened it
        open_pull(app, standin, "readme")

    run = completed_run(standin, "readme")
    finished(standin, "readme")
    assert (run["conclusion"], run["output"]["title"]) == ("success", "No Kubernetes manifests changed")
    assert sticky_comments(standin, "readme") == []


def test_bad_deliveries_are_answered_and_nothing_is_evaluated_then_a_good_one_works(
    app: App, standin: GitHubStandIn
) -> None:
    requests_before = quiet_request_count(standin)
    ping = {"zen": "Keep it logically awesome.", "hook_id": 1, "sender": {"login": "octocat", "type": "User"}}
    body = payload_for(standin, "readme")
    cases = [
        ("deployment_protection_rule", body, None, 200, "ignored"),
        ("ping", ping, None, 200, "ignored"),
        ("pull_request", b'{"action": "opened", "number": ', None, 400, "error"),
        ("pull_request", b"[1, 2, 3]", None, 400, "error"),
        ("pull_request", {**body, "pull_request": {"head": {"sha": None}}}, None, 400, "error"),  # shape
        ("pull_request", body, "", 401, "error"),
        ("pull_request", body, "sha256=" + "0" * 64, 401, "error"),
    ]
    answers, reasons = [], []
    for event, payload, signature, _, _ in cases:
        delivery_id = str(uuid.uuid4())
        response = post_webhook(app.url, event, payload, SECRET, delivery_id, signature=signature)
        answers.append((event, response.status_code, response.json()["status"], app.queue_status(delivery_id)))
        reasons.append(response.json().get("reason"))
    assert answers == [(event, code, status, None) for event, _, _, code, status in cases]
    assert reasons == ["no handler for deployment_protection_rule.opened", "no handler for ping",
                       "body is not a JSON object", "body is not a JSON object",
                       "payload lacks pull_request.head.sha, pull_request.base.sha",
                       "invalid signature", "invalid signature"]
    assert len(standin.requests) == requests_before  # nothing reached GitHub

    runs_before = len(standin.runs_for(head_of("helm")))
    open_pull(app, standin, "helm")  # a valid delivery right after them is evaluated as usual
    assert completed_run(standin, "helm", index=runs_before)["conclusion"] == "success"


@pytest.mark.timeout(120)
def test_github_failing_three_times_on_a_blob_is_retried_to_the_right_result(
    app: App, standin: GitHubStandIn
) -> None:
    flaky = blob_sha(FLAKY_FILE)
    standin.fail_next(3, status=500, path_contains=flaky)  # its REST read, or the GraphQL query that asks for it
    open_pull(app, standin, "flaky-blobs")

    run = completed_run(standin, "flaky-blobs")
    finished(standin, "flaky-blobs")
    assert (run["conclusion"], run["output"]["title"]) == ("success", "No policy violations in 1 manifest")
    assert standin.blobs_read(REPO).count(flaky) == 4
    assert len(standin.runs_for(head_of("flaky-blobs"))) == 1


@pytest.mark.timeout(180)
def test_github_down_completes_the_check_run_as_failed_and_the_queue_retries_later(
    app: App, standin: GitHubStandIn
) -> None:
    down = blob_sha(DOWN_FILE)
    standin.fail_next(5, status=500, path_contains=down)  # every attempt of one evaluation (REST or GraphQL)
    delivery_id = open_pull(app, standin, "github-down")

    first = completed_run(standin, "github-down", timeout=90)
    assert (first["conclusion"], first["output"]["title"]) == ("failure", "GitHub did not answer as expected")
    assert down[:7] in first["output"]["summary"]  # "read blob <sha>" or "read 2 blobs (<sha>, ...)"
    assert "500" in first["output"]["summary"]
    assert first["annotations"] == []

    # The queue runs the delivery again after its backoff; GitHub has recovered by then.
    second = completed_run(standin, "github-down", index=1, timeout=90)
    assert (second["conclusion"], second["output"]["title"]) == ("success", "No policy violations in 1 manifest")
    assert [r["status"] for r in standin.runs_for(head_of("github-down"))] == ["completed", "completed"]
    wait_for(lambda: (app.queue_status(delivery_id) or {}).get("status") == "done")
    assert app.queue_status(delivery_id)["attempts"] == 2


# -- untrusted evaluation: PR Rego, PR templates (issue 8) -------------------------------------------------


def recorded_text(standin: GitHubStandIn) -> str:
    """Everything the App sent GitHub: every request's path, body and credentials."""
    return "\n".join(f"{r.path} {json.dumps(r.json)} {r.authorization}" for r in standin.requests)


def planted_secrets() -> list[str]:
    key_lines = app_private_key().strip().splitlines()[2:-2]
    return [SECRET, PLANTED_TOKEN, PLANTED_PASSWORD, LISTENER_BODY, *key_lines]


def test_pr_rego_asking_for_opa_cannot_reach_the_network(app: App, standin: GitHubStandIn, listener: Listener) -> None:
    open_pull(app, standin, "rego-network")

    run = completed_run(standin, "rego-network", timeout=90)
    finished(standin, "rego-network")
    assert run["conclusion"] == "failure"
    assert listener.requests == []
    [compile_error] = [a for a in run["annotations"] if a["title"] == "policy-change/compile"]
    assert compile_error["path"] == "policy/evil_test.rego"
    assert "http.send is not available" in compile_error["message"]
    assert LISTENER_BODY not in recorded_text(standin)


def test_pr_constraint_template_cannot_reach_the_network_when_the_base_uses_opa(
    app: App, standin: GitHubStandIn, listener: Listener
) -> None:
    open_pull(app, standin, "template-network")

    run = completed_run(standin, "template-network", timeout=90)
    finished(standin, "template-network")
    assert listener.requests == []
    assert run["conclusion"] == "failure"
    [invalid] = [a for a in run["annotations"] if a["title"] == "gatekeeper/invalid-template"]
    assert (invalid["path"], "http.send is not available" in invalid["message"]) == ("gatekeeper/exfil.yaml", True)
    assert LISTENER_BODY not in recorded_text(standin)


@pytest.mark.timeout(150)
def test_cpu_bomb_in_pr_rego_ends_with_a_completed_failed_check_run(app: App, standin: GitHubStandIn) -> None:
    open_pull(app, standin, "cpu-bomb")

    run = completed_run(standin, "cpu-bomb", timeout=120)
    finished(standin, "cpu-bomb")
    assert run["conclusion"] == "failure"
    timeouts = sorted((a["path"], a["title"]) for a in run["annotations"] if a["annotation_level"] == "failure"
                      and a["title"] == "policy/timeout")
    assert timeouts == [("gatekeeper/bomb.yaml", "policy/timeout"), ("policy/evil_test.rego", "policy/timeout")]
    assert [r["status"] for r in standin.runs_for(head_of("cpu-bomb"))] == ["completed"]
    assert app.server.process.poll() is None


def test_pr_policy_test_values_and_prints_never_leave_the_sandbox(app: App, standin: GitHubStandIn) -> None:
    open_pull(app, standin, "rego-leak")

    run = completed_run(standin, "rego-leak", timeout=90)
    finished(standin, "rego-leak")
    assert run["conclusion"] == "failure"
    sent = recorded_text(standin)
    assert [s for s in planted_secrets() if s in sent] == []
    log = app.server.output()
    assert PLANTED_TOKEN not in log and "forged log line" not in log
    assert "test result is a string, expected true" in run["output"]["summary"]  # the policy-changes table
