"""Secret values, tokens and the App's own credentials never leave: not to GitHub, not in logs, not from the CLI."""

from __future__ import annotations

import base64
import json
import re
import secrets
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.shop import INSTALLATION, SECRET, app_env, pull_request_payload
from tests.support.github_standin import (
    FixtureRepo,
    GitHubStandIn,
    PullSpec,
    all_request_problems,
    app_private_key,
    fake_sha,
    load_tree,
)
from tests.support.gunicorn import post_webhook, serve_gunicorn, subprocess_env, wait_for

REPO = "acme/vault"
NUMBER = 7
BASE = fake_sha("vault-base")
HEAD = fake_sha("vault-head")
GITOPS_BOT = str(Path(sys.executable).with_name("gitops-bot"))


def _unique(label: str) -> str:
    """A value that cannot occur anywhere by chance."""
    return f"{label}{secrets.token_hex(12)}"


@dataclass(frozen=True)
class Planted:
    """The secret values a pull request plants, and every form in which one could leak."""

    password: str = _unique("pw")  # Secret stringData.password
    token: str = _unique("tk")  # Secret data.token (base64 in the manifest)
    github_token: str = "ghp_" + secrets.token_hex(18)  # ConfigMap GITHUB_TOKEN: ghp_ + 36 characters
    env_password: str = _unique("envpw")  # Deployment env value "password=<...>"
    nested: str = _unique("nest")  # a Secret-ish value in a place the schema rejects (messages quote values)
    not_base64: str = _unique("nb64")  # Secret data value that is not base64 (format checks quote values)

    def forms(self) -> dict[str, str]:
        values = {
            "password": self.password, "token": self.token, "github_token": self.github_token,
            "env_password": self.env_password, "nested": self.nested, "not_base64": self.not_base64,
        }
        forms = dict(values)
        for name, value in values.items():
            forms[f"{name} (base64)"] = base64.b64encode(value.encode()).decode()
        forms["github_token (without prefix)"] = self.github_token.removeprefix("ghp_")
        return forms

    def files(self) -> dict[str, bytes]:
        token_b64 = base64.b64encode(self.token.encode()).decode()
        return {
            "apps/db/secret.yaml": f"""apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: shop
type: Opaque
stringData:
  password: {self.password}
data:
  token: {token_b64}
  apikey: not-base64-{self.not_base64}!
""".encode(),
            "apps/db/configmap.yaml": f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: ci
  namespace: shop
data:
  GITHUB_TOKEN: {self.github_token}
""".encode(),
            "apps/db/deployment.yaml": f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: db-client
  namespace: shop
spec:
  replicas: 1
  selector:
    matchLabels:
      app: db-client
  template:
    metadata:
      labels:
        app: db-client
    spec:
      containers:
        - name: client
          image: ghcr.io/acme/db-client:latest
          args: ["--dsn", "postgres://app:{self.password}@db:5432/app"]
          env:
            - name: DB_URL
              value: "password={self.env_password}"
            - name: DB_EXTRA
              value:
                password: {self.nested}
""".encode(),
        }


PLANTED = Planted()


def leaks(text: str, where: str) -> list[str]:
    """Every planted value (or encoded form) found in ``text``."""
    return [f"{where}: {name}" for name, value in PLANTED.forms().items() if value in text]


def vault_repo() -> FixtureRepo:
    base = ("hostile/base", "hostile/vault-base")
    commits = {BASE: load_tree(*base), HEAD: load_tree(*base, extra=PLANTED.files())}
    return FixtureRepo(REPO, commits=commits, pulls={NUMBER: PullSpec(NUMBER, BASE, HEAD)},
                       protection={"main": ["GitOps policy"]})


@dataclass
class Evaluated:
    standin: GitHubStandIn
    log: str


def evaluate_vault(data_dir: str, **env: str) -> Evaluated:
    """One pull request planting secrets, evaluated by the real App; the stand-in and the App's log kept."""
    standin = GitHubStandIn([vault_repo()])
    with standin.serving():
        env = app_env(
            standin,
            data_dir,
            GITOPS_BOT_WORKER_THREADS="2",
            GITOPS_BOT_LOG_LEVEL="DEBUG",  # the most the App ever logs
            **env,
        )
        with serve_gunicorn(env) as server:
            payload = pull_request_payload("opened", standin.repos[REPO].pulls[NUMBER], standin)
            payload["repository"].update(full_name=REPO, name="vault")
            for side in ("head", "base"):
                payload["pull_request"][side]["repo"]["full_name"] = REPO
            response = post_webhook(server.url, "pull_request", payload, SECRET, str(uuid.uuid4()))
            assert response.status_code == 202, response.text
            wait_for(lambda: standin.requests_to("POST", rf"/repos/{REPO}/pulls/{NUMBER}/reviews"), timeout=60)
            # An attacker-chosen event name is logged when the signature is refused: the log masks it.
            refused = post_webhook(server.url, PLANTED.github_token, payload, SECRET, str(uuid.uuid4()),
                                   signature="sha256=" + "0" * 64)
            assert refused.status_code == 401
            wait_for(lambda: "rejected: missing or invalid X-Hub-Signature-256" in server.output())
            wait_for(lambda: "GitHub calls" in server.output())  # the job's line, written after its last call
            log = server.output()
    assert all_request_problems(standin.requests) == []
    return Evaluated(standin, log)


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> Evaluated:
    return evaluate_vault(str(tmp_path_factory.mktemp("vault-data")))


@pytest.fixture(scope="module")
def evaluated_json(tmp_path_factory: pytest.TempPathFactory) -> Evaluated:
    """The same in JSON log mode, with the missed-delivery recovery on (it signs App JWTs of its own)."""
    return evaluate_vault(str(tmp_path_factory.mktemp("vault-json")), GITOPS_BOT_LOG_FORMAT="json",
                          GITOPS_BOT_REDELIVERY_INTERVAL_SECONDS="300")


def test_the_pull_request_is_judged_and_fails(evaluated: Evaluated) -> None:
    [run] = evaluated.standin.runs_for(HEAD)
    assert run["conclusion"] == "failure"
    rules = {(a["path"], a["title"]) for a in run["annotations"] if a["annotation_level"] == "failure"}
    assert ("apps/db/deployment.yaml", "image-tag") in rules
    # The team's careless policy did run: its messages are there, with the values cut out.
    careless = sorted(a["message"] for a in run["annotations"] if a["title"] == "main.deny")
    assert careless == [
        "Secret/shop/db: data.apikey: *** is committed in plain base64",
        "Secret/shop/db: data.token decodes to ***, which is not a strong secret",
        "Secret/shop/db: data.token: *** is committed in plain base64",
        "Secret/shop/db: stringData.password: *** is shorter than 64 characters",
    ]
    assert len(evaluated.standin.comments_on(REPO, NUMBER)) == 1


def test_no_secret_value_reaches_github(evaluated: Evaluated) -> None:
    sent = [(f"{r.method} {r.path}", repr(r.json)) for r in evaluated.standin.requests if r.json is not None]
    assert len(sent) >= 3  # check run create + update, comment, review
    assert [leak for where, body in sent for leak in leaks(body, where)] == []


def credential_leaks(evaluated: Evaluated) -> list[str]:
    """The App's credentials found in its log: private key, webhook secret, installation tokens, JWTs."""
    log = evaluated.log
    key_lines = app_private_key().strip().splitlines()[2:-2]  # past the standard PKCS#8 header bytes
    found = [f"private key line {line[:8]}" for line in key_lines if line in log]
    found += ["webhook secret"] if SECRET in log else []
    minted = {r.authorization.removeprefix("token ").removeprefix("Bearer ") for r in evaluated.standin.requests}
    tokens = sorted(t for t in minted if t.startswith("ghs_"))
    assert tokens  # the App did use an installation token
    found += [f"token {t[:10]}" for t in tokens if t in log]
    jwts = sorted(t for t in minted if t.startswith("eyJ"))
    assert jwts  # and JWTs
    return found + [f"jwt {t[:10]}" for t in jwts if t.split(".")[1] in log or t.split(".")[2] in log]


def test_no_secret_value_and_no_app_credential_in_the_log(evaluated: Evaluated) -> None:
    log = evaluated.log
    assert "check run" in log  # the evaluation did log
    assert "event=ghp_*** rejected" in log  # and masked what an attacker put in a header
    assert leaks(log, "gunicorn log") == []
    assert credential_leaks(evaluated) == []


def test_json_logs_are_one_object_per_line_with_the_jobs_context_and_no_credential(
        evaluated_json: Evaluated) -> None:
    lines = [json.loads(line) for line in evaluated_json.log.splitlines() if line.strip()]
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    [job] = [line for line in lines if line["logger"] == "bot.app.jobs"]
    assert job["outcome"] == "handled" and job["github_calls"] > 0 and job["duration_ms"] >= 0
    assert (job["event"], job["installation"], job["repo"], job["pr"], job["sha"]) == (
        "pull_request.opened", INSTALLATION, REPO, NUMBER, HEAD)
    assert any(line.get("delivery_id") == job["delivery_id"] and line["logger"] != "bot.app.jobs" for line in lines)
    assert any(line["message"].startswith("missed-delivery recovery: 0 deliveries listed") for line in lines)
    assert any(line["level"] == "DEBUG" for line in lines)
    assert "event=ghp_*** rejected" in evaluated_json.log
    assert leaks(evaluated_json.log, "JSON log") == []
    assert evaluated_json.standin.requests_to("GET", "/app/hook/deliveries")  # its JWT is among those checked
    assert credential_leaks(evaluated_json) == []


@pytest.fixture(scope="module")
def git_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same change as a local git repository: base committed on main, the planted files on top."""
    root = tmp_path_factory.mktemp("vault-git")

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=root,
                       check=True, capture_output=True)

    def write(files: dict[str, bytes]) -> None:
        for path, data in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(data)

    git("init", "-q", "-b", "main")
    write(load_tree("hostile/base", "hostile/vault-base"))
    git("add", "-A")
    git("commit", "-q", "-m", "base")
    write(PLANTED.files())
    git("add", "-A")
    git("commit", "-q", "-m", "plant secrets")
    return root


def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GITOPS_BOT, *args], cwd=cwd, env=subprocess_env({}), capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "github", "markdown"])
def test_no_secret_value_in_any_cli_format(git_repo: Path, fmt: str) -> None:
    result = run_cli(git_repo, "check", "--base", "main~1", "--format", fmt, "--verbose")
    assert result.returncode == 1, result.stderr
    assert "image-tag" in result.stdout
    assert leaks(result.stdout, f"{fmt} stdout") + leaks(result.stderr, f"{fmt} stderr") == []


@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_no_secret_value_in_the_plan(git_repo: Path, fmt: str) -> None:
    result = run_cli(git_repo, "plan", "--base", "main~1", "--head", "main", "--format", fmt)
    assert result.returncode == 0, result.stderr
    assert re.search(r"\bdb-client\b", result.stdout)
    assert leaks(result.stdout, f"plan {fmt} stdout") + leaks(result.stderr, f"plan {fmt} stderr") == []
