"""Schema catalogs over real sockets: the fixture catalog served on 127.0.0.1, a refused port, oversized
and slow answers, the on-disk cache and its expiry, the CLI flag, and the App's operator allow-list.

fixtures/catalog/schemas holds hand-made subsets of the Flux Kustomization, Argo CD Application and
cert-manager Certificate CRD schemas, laid out like datreeio/CRDs-catalog.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.app.evaluation_service import EvaluationRequest
from bot.app.service import GitHubService
from bot.app.settings import AppSettings
from bot.backends.schema_catalog import SchemaFetcher, default_cache_dir
from bot.cli import main
from bot.core.evaluate import EvalOptions, evaluate
from bot.core.schemas.catalog import RULE_CATALOG_UNAVAILABLE, CatalogAccess, SchemaFetchError
from bot.core.workspace import Workspace
from bot.errors import ConfigError
from bot.github.retry import RetryPolicy
from tests.support.github_standin import FixtureRepo, GitHubStandIn, PullSpec, app_private_key, fake_sha

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "fixtures" / "catalog" / "schemas"
REPO = ROOT / "fixtures" / "catalog" / "repo"
LAYOUT = "{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"
CERTIFICATE = "cert-manager.io/certificate_v1.json"


class CatalogServer:
    """A threaded http.server on loopback serving ``files`` (path -> bytes) plus a few misbehaving routes."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = dict(files)
        self.requests: list[str] = []
        self.big_bytes = 0  # > 0: /big and /big-stream answer this many bytes
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                path = self.path.lstrip("/")
                outer.requests.append(path)
                if path == "big":
                    return self._answer(200, b"x" * outer.big_bytes)
                if path == "big-stream":  # no Content-Length: the body ends when the connection closes
                    self.send_response(200)
                    self.end_headers()
                    for _ in range(outer.big_bytes // 1024 + 1):
                        self.wfile.write(b" " * 1024)
                    return None
                if path == "slow":
                    time.sleep(2)
                    return self._answer(200, b"{}")
                if path == "boom":
                    return self._answer(500, b"internal error")
                if path == "to-file":
                    self.send_response(302)
                    self.send_header("Location", "file:///etc/passwd")
                    self.end_headers()
                    return None
                if path in outer.files:
                    return self._answer(200, outer.files[path])
                return self._answer(404, b"404: Not Found")

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> CatalogServer:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def catalog_files() -> dict[str, bytes]:
    return {p.relative_to(CATALOG).as_posix(): p.read_bytes() for p in CATALOG.rglob("*.json")}


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[CatalogServer]:
    with CatalogServer(catalog_files()) as running:
        yield running


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg"


def refused_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there any more: connection refused


def cli_findings(capsys: pytest.CaptureFixture[str], *locations: str) -> tuple[int, list[tuple]]:
    args = ["check", str(REPO), "--no-policies", "--format", "json"]
    for location in locations:
        args += ["--schema-location", location]
    code = main(args)
    report = json.loads(capsys.readouterr().out)
    return code, sorted(
        (Path(f["file"]).name, f["line"], f["rule"], f["severity"], f["message"]) for f in report["findings"]
    )


# -- the CLI, local and remote ------------------------------------------------------------------------


def test_the_same_catalog_from_a_directory_and_over_http_gives_the_same_findings(
    server: CatalogServer, cache_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local_code, local = cli_findings(capsys, f"{CATALOG}/{LAYOUT}")
    remote_code, remote = cli_findings(capsys, f"{server.url}/{LAYOUT}")

    assert local_code == remote_code == 1
    assert remote == local
    assert [(f[0], f[1], f[2]) for f in remote] == [
        ("argocd.yaml", 6, "schema/required"),
        ("argocd.yaml", 16, "schema/unknown-field"),
        ("certificate.yaml", 14, "schema/range"),
        ("certificate.yaml", 17, "schema/unknown-kind"),
    ]
    assert sorted(server.requests) == [
        "argoproj.io/application_v1alpha1.json", CERTIFICATE, "cert-manager.io/issuer_v1.json",
        "kustomize.toolkit.fluxcd.io/kustomization_v1.json",
    ]
    # a second run reads the on-disk cache (the 404 for Issuer too): no request reaches the server
    assert cli_findings(capsys, f"{server.url}/{LAYOUT}") == (remote_code, remote)
    assert len(server.requests) == 4
    assert len(list((cache_home / "gitops-bot" / "schemas").iterdir())) == 4


def test_a_refused_connection_is_a_finding_per_custom_resource_not_a_pass(
    cache_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    down = refused_url()
    code, findings = cli_findings(capsys, f"{down}/{LAYOUT}")

    assert code == 1
    assert [(f[0], f[1], f[2], f[3]) for f in findings] == [
        ("argocd.yaml", 2, RULE_CATALOG_UNAVAILABLE, "error"),
        ("certificate.yaml", 2, RULE_CATALOG_UNAVAILABLE, "error"),
        ("certificate.yaml", 17, RULE_CATALOG_UNAVAILABLE, "error"),
        ("flux.yaml", 2, RULE_CATALOG_UNAVAILABLE, "error"),
    ]
    message = findings[1][4]
    assert message.startswith(f"no schema for cert-manager.io/v1 Certificate: the schema location {down}/{CERTIFICATE} "
                              "could not be read: unreachable (")
    assert "refused" in message.lower() and message.endswith("this Certificate was not checked")
    assert not (cache_home / "gitops-bot" / "schemas").exists() or not any(
        (cache_home / "gitops-bot" / "schemas").iterdir())  # failures are never cached


def test_a_broken_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(REPO), "--schema-location", "x/{{.Kind}}.json"]) == 2
    assert "--schema-location: schema location 'x/{{.Kind}}.json': unknown field .Kind" in capsys.readouterr().err


def test_the_cli_cache_lives_under_xdg_cache_home() -> None:
    assert default_cache_dir({"XDG_CACHE_HOME": "/c"}) == Path("/c/gitops-bot/schemas")
    assert default_cache_dir({}) == Path.home() / ".cache" / "gitops-bot" / "schemas"


# -- the fetcher's limits -----------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["big", "big-stream"])
def test_oversized_answers_are_refused(server: CatalogServer, tmp_path: Path, route: str) -> None:
    server.big_bytes = 50_000
    fetcher = SchemaFetcher(tmp_path, max_bytes=10_000)
    with pytest.raises(SchemaFetchError, match="larger than 10000 bytes"):
        fetcher.fetch(f"{server.url}/{route}")
    assert not any(tmp_path.iterdir())


def test_an_oversized_schema_is_a_finding_naming_the_kind(server: CatalogServer, tmp_path: Path) -> None:
    server.files[CERTIFICATE] = b" " * 20_000 + server.files[CERTIFICATE]
    access = CatalogAccess(SchemaFetcher(tmp_path, max_bytes=10_000), (f"{server.url}/{LAYOUT}",))
    files = {"certificate.yaml": (REPO / "certificate.yaml").read_bytes()}
    report = evaluate(Workspace.from_dict(files), options=EvalOptions(policies=False, schema_catalog=access))

    [finding] = [f for f in report.findings if f.rule == RULE_CATALOG_UNAVAILABLE]
    assert (finding.line, finding.resource.kind) == (2, "Certificate")
    assert "could not be read: the response is larger than 10000 bytes" in finding.message


def test_a_slow_server_times_out(server: CatalogServer, tmp_path: Path) -> None:
    with pytest.raises(SchemaFetchError, match=r"timed out after 0\.2s"):
        SchemaFetcher(tmp_path, timeout_seconds=0.2).fetch(f"{server.url}/slow")


def test_server_errors_and_redirects_off_http_are_failures_not_misses(server: CatalogServer, tmp_path: Path) -> None:
    fetcher = SchemaFetcher(tmp_path)
    with pytest.raises(SchemaFetchError, match="HTTP 500"):
        fetcher.fetch(f"{server.url}/boom")
    with pytest.raises(SchemaFetchError, match="HTTP 302"):  # a redirect to file:// is not followed
        fetcher.fetch(f"{server.url}/to-file")
    with pytest.raises(SchemaFetchError, match="HTTP 500"):
        fetcher.fetch(f"{server.url}/boom")
    assert server.requests.count("boom") == 2  # never cached
    with pytest.raises(SchemaFetchError, match="unsupported scheme ftp://"):
        fetcher.fetch("ftp://example.com/schema.json")


def test_local_catalog_files(tmp_path: Path) -> None:
    fetcher = SchemaFetcher(None, max_bytes=10_000)
    assert fetcher.fetch(str(CATALOG / CERTIFICATE)) == (CATALOG / CERTIFICATE).read_bytes()
    assert fetcher.fetch(str(CATALOG / "cert-manager.io" / "issuer_v1.json")) is None
    assert fetcher.fetch(str(CATALOG / CERTIFICATE / "below-a-file.json")) is None
    with pytest.raises(SchemaFetchError):
        fetcher.fetch(str(CATALOG))  # a directory
    (tmp_path / "huge.json").write_bytes(b" " * 10_001)
    with pytest.raises(SchemaFetchError, match="larger than 10000 bytes"):
        fetcher.fetch(str(tmp_path / "huge.json"))


# -- the on-disk cache --------------------------------------------------------------------------------


def age(cache: Path, seconds: float) -> None:
    then = time.time() - seconds
    for entry in cache.iterdir():
        os.utime(entry, (then, then))


def test_cached_schemas_and_misses_expire(server: CatalogServer, tmp_path: Path) -> None:
    url, missing = f"{server.url}/{CERTIFICATE}", f"{server.url}/cert-manager.io/issuer_v1.json"
    original = server.files[CERTIFICATE]
    fetcher = SchemaFetcher(tmp_path, ttl_seconds=3600)
    assert fetcher.fetch(url) == original and fetcher.fetch(missing) is None

    server.files[CERTIFICATE] = b'{"type": "object"}'
    server.files["cert-manager.io/issuer_v1.json"] = b'{"type": "object"}'
    again = SchemaFetcher(tmp_path, ttl_seconds=3600)  # another process, the same cache directory
    assert again.fetch(url) == original and again.fetch(missing) is None
    assert len(server.requests) == 2

    age(tmp_path, 3601)
    assert again.fetch(url) == b'{"type": "object"}' and again.fetch(missing) == b'{"type": "object"}'
    assert len(server.requests) == 4
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".json", ".json"]  # the stale miss was replaced


def test_without_a_cache_directory_every_fetch_asks(server: CatalogServer) -> None:
    fetcher = SchemaFetcher(None)
    url = f"{server.url}/{CERTIFICATE}"
    assert fetcher.fetch(url) == fetcher.fetch(url)
    assert server.requests == [CERTIFICATE, CERTIFICATE]


# -- the App: the operator's list, the repository's choice, the PR's none -----------------------------


def test_app_settings_read_the_operators_locations() -> None:
    env = {"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY": app_private_key(), "GITHUB_WEBHOOK_SECRET": "s"}
    assert AppSettings.from_env(env).schema_locations == ()
    listed = "https://a.example/{{.Group}}/{{.ResourceKind}}.json, default\\n/srv/catalog/{{.ResourceKind}}.json\n"
    assert AppSettings.from_env({**env, "GITOPS_BOT_SCHEMA_LOCATIONS": listed}).schema_locations == (
        "https://a.example/{{.Group}}/{{.ResourceKind}}.json", "default", "/srv/catalog/{{.ResourceKind}}.json")
    with pytest.raises(ConfigError, match=r"GITOPS_BOT_SCHEMA_LOCATIONS: .*unsupported template action"):
        AppSettings.from_env({**env, "GITOPS_BOT_SCHEMA_LOCATIONS": "https://a.example/{{ .Group | lower }}.json"})


BASE, HEAD = fake_sha("catalog-base"), fake_sha("catalog-head")


def test_the_app_reads_only_locations_its_operator_allows(server: CatalogServer, tmp_path: Path) -> None:
    with CatalogServer(catalog_files()) as evil, CatalogServer(catalog_files()) as pr_chosen:
        allowed = f"{server.url}/{LAYOUT}"
        base_config = f"schemaLocations:\n  - '{allowed}'\n  - '{evil.url}/{LAYOUT}'\n".encode()
        pr_config = f"schemaLocations:\n  - '{pr_chosen.url}/{LAYOUT}'\n".encode()
        repo = FixtureRepo("acme/platform", commits={
            BASE: {".gitops-bot.yaml": base_config, "README.md": b"platform\n"},
            HEAD: {".gitops-bot.yaml": pr_config, "README.md": b"platform\n",
                   "certificate.yaml": (REPO / "certificate.yaml").read_bytes()},
        }, pulls={7: PullSpec(7, BASE, HEAD)})
        standin = GitHubStandIn([repo])
        with standin.serving():
            settings = AppSettings(app_id=42, private_key=app_private_key(), webhook_secret="s",
                                   api_url=standin.base_url, app_slug="gitops-policy-bot", data_dir=tmp_path,
                                   schema_locations=(allowed,))
            service = GitHubService(settings, retry_policy=RetryPolicy(sleep=lambda _s: None))
            outcome = service.evaluate(EvaluationRequest(1, "acme/platform", HEAD, BASE, 7, "pull_request.opened", "d-1"))

        assert evil.requests == [] and pr_chosen.requests == []
    assert sorted(server.requests) == [CERTIFICATE, "cert-manager.io/issuer_v1.json"]
    [run] = standin.runs_for(HEAD)
    assert outcome.conclusion == run["conclusion"] == "failure"
    findings = {(f.file, f.line, f.rule) for f in outcome.report.findings}
    assert ("certificate.yaml", 14, "schema/range") in findings  # judged with the allowed catalog
    assert (".gitops-bot.yaml", 3, "config/invalid") in findings  # the location the operator does not allow
    [refused] = [f for f in outcome.report.findings if f.rule == "config/invalid"]
    assert f"'{evil.url}/{LAYOUT}' is not one of the schema locations this App's operator allows" in refused.message
    assert list((tmp_path / "schema-cache").iterdir())  # cached under the App's data directory
