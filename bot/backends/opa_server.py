"""Policies judged by an OPA server over its REST API: pushed once, then one POST per evaluation.

The server holds one policy bundle at a time under the ``gitops-bot/`` policy ids
(packages of two bundles would merge on one server). A generated wrapper package
maps every document of an evaluation through the rules with ``with input as``,
so an evaluation of any size is one request. Results become findings through the
same code as the in-process engines (`package_findings`), so both agree.

REST endpoints used: PUT/GET/DELETE /v1/policies/{id}, PUT/GET /v1/data/{path},
POST /v1/data/{path}.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from opa_client import OpaClient
from opa_client.errors import DeleteDataError, RegoParseError

from bot.backends.opa_bundle import PolicyBundle, build_bundle
from bot.core.config import RepoConfig
from bot.core.findings import Finding, Severity, Source
from bot.core.rego.engine import clean_engine_message
from bot.core.rego.inventory import build_inventory
from bot.core.rego.results import package_findings, policy_error_finding
from bot.core.rego.sources import directory_sources, workspace_sources
from bot.core.rego.targets import package_documents, single_query
from bot.core.rego.v0_upgrade import looks_like_v0, upgrade_v0_module
from bot.core.resource import Resource
from bot.core.workspace import Workspace
from bot.errors import PolicyError

UNAVAILABLE_RULE = "policy/opa-unavailable"
POLICY_ID_PREFIX = "gitops-bot/"
BUNDLE_DATA_PATH = "gitops_bot/bundle"  # {"digest", "dataKeys"}: what this bot last pushed
DEFAULT_TIMEOUT_SECONDS = 10.0
COMPILE_ERROR_CODE = "invalid_parameter"  # OPA's code for a module that does not parse or compile

_pushed: dict[str, str] = {}  # server url -> digest pushed by this process (a cache: re-checked on a miss)
_push_lock = threading.Lock()


class OpaUnavailable(Exception):
    """The server could not be reached or answered with something other than an evaluation."""


@dataclass(frozen=True)
class OpaServerSettings:
    url: str
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    push_policies: bool = True
    retries: int = 1

    def client(self) -> OpaClient:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OpaUnavailable(f"{self.url!r} is not an http(s) URL")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return OpaClient(
            host=parts.hostname,
            port=port,
            ssl=parts.scheme == "https",
            timeout=self.timeout_seconds,
            retries=self.retries,
        )


class OpaServerBackend:
    """`bot.core.backends.PolicyBackend` for one OPA server."""

    def __init__(self, settings: OpaServerSettings):
        self.settings = settings

    def load(
        self, trusted: Workspace, config: RepoConfig, extra_dirs: Sequence[str]
    ) -> list[OpaServerPolicies]:
        sources = workspace_sources(trusted, list(config.policy_dirs)) if config.policy_dirs else []
        sources += directory_sources(list(extra_dirs)) if extra_dirs else []
        bundle = build_bundle(sources, config.policy_namespaces, builtin=config.builtin_policies)
        policies = OpaServerPolicies(self.settings, bundle, source_file=config.source)
        policies.prepare()
        return [policies]


class OpaServerPolicies:
    """`bot.core.backends.PolicyEvaluator`: pushes the bundle when the server lacks it, then asks once."""

    def __init__(self, settings: OpaServerSettings, bundle: PolicyBundle, *, source_file: str = ""):
        self.settings = settings
        self.bundle = bundle
        self.source_file = source_file

    def prepare(self) -> None:
        """Push now, so a policy the server cannot compile is a PolicyError at load time, as in-process.

        An unreachable server is not an error here: `evaluate` reports it as a finding.
        """
        if not self.bundle.targets:
            return
        try:
            client = self.settings.client()
            try:
                self._ensure_pushed(client, force=False)
            finally:
                client.close_connection()
        except OpaUnavailable:
            pass

    def evaluate(self, resources: Sequence[Resource], *, peers: Sequence[Resource] | None = None) -> list[Finding]:
        documents = [r for r in resources if not r.is_patch]
        if not documents or not self.bundle.targets:
            return []
        inventory = build_inventory(documents if peers is None else [r for r in peers if not r.is_patch])
        try:
            client = self.settings.client()
            try:
                rows = self._results(client, documents, inventory)
                return [
                    f for r, values in zip(documents, rows, strict=True) for f in self._findings(r, values)
                ]
            finally:
                client.close_connection()
        except OpaUnavailable as e:
            return [self._unavailable(str(e))]

    # -- talking to the server ------------------------------------------------------------------

    def _results(self, client: OpaClient, documents: list[Resource], inventory: dict[str, Any]) -> list[list[Any]]:
        self._ensure_pushed(client, force=False)
        body = {"documents": [r.obj for r in documents], "inventory": inventory}
        response = self._post(client, "results", body)
        if "result" not in response and "error" not in response:  # the wrapper is gone (server restarted)
            self._ensure_pushed(client, force=True)
            response = self._post(client, "results", body)
        rows = response.get("result")
        if response.get("error"):
            return [self._one_document(client, r, inventory) for r in documents]
        if not isinstance(rows, list) or len(rows) != len(documents):
            raise OpaUnavailable("the server answered without the evaluation results")
        return rows

    def _one_document(self, client: OpaClient, resource: Resource, inventory: dict[str, Any]) -> list[Any]:
        """After an evaluation error: one request per document, then per rule for the documents that fail."""
        response = self._post(client, "results", {"documents": [resource.obj], "inventory": inventory})
        rows = response.get("result")
        if not response.get("error") and isinstance(rows, list) and len(rows) == 1:
            row: list[Any] = rows[0]
            return row
        return self._one_by_one(client, resource, inventory)

    def _one_by_one(self, client: OpaClient, resource: Resource, inventory: dict[str, Any]) -> list[Any]:
        """Each rule on its own, so only the failing rule becomes an error finding."""
        values: list[Any] = []
        for i, target in enumerate(self.bundle.targets):
            response = self._post(client, f"t{i}", {"document": resource.obj, "inventory": inventory})
            error = response.get("error")
            # Worded as the in-process OPA engine words it, so both give the same finding.
            message = f"evaluate {_short(single_query(target))}: {str(error).replace(POLICY_ID_PREFIX, '')}"
            values.append(PolicyError(message) if error else response.get("result", []))
        return values

    def _post(self, client: OpaClient, rule: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST /v1/data/<wrapper>/<rule>; an evaluation error comes back as ``{"error": message}``."""
        try:
            answer: dict[str, Any] = client.query_rule(body, self.bundle.wrapper_package, rule)
            return answer
        except requests.HTTPError as e:
            detail = _json(e.response)
            if e.response is not None and e.response.status_code == 500 and "code" in detail:
                return {"error": clean_engine_message(str(detail.get("message", detail["code"])))}
            raise OpaUnavailable(_http_reason(e)) from None
        except requests.RequestException as e:
            raise OpaUnavailable(_request_reason(e, self.settings.timeout_seconds)) from None

    def _ensure_pushed(self, client: OpaClient, *, force: bool) -> None:
        url, digest = self.settings.url, self.bundle.digest
        with _push_lock:
            if not force and _pushed.get(url) == digest:
                return
            try:
                pushed = _current_bundle(client)
                if force or pushed.get("digest") != digest:
                    self._push(client, pushed)
            except requests.RequestException as e:
                raise OpaUnavailable(_request_reason(e, self.settings.timeout_seconds)) from None
            _pushed[url] = digest

    def _push(self, client: OpaClient, previous: Mapping[str, Any]) -> None:
        modules: list[tuple[str, str]] = [
            (f"{POLICY_ID_PREFIX}{name}", text) for name, text in self.bundle.modules
        ]
        if not self.settings.push_policies:
            modules = []
        modules.append((f"{POLICY_ID_PREFIX}_batch/{self.bundle.digest}.rego", self.bundle.wrapper_module()))
        _put_modules(client, modules)
        wanted = {policy_id for policy_id, _ in modules}
        stale = [p for p in client.get_policies_list() if p.startswith(POLICY_ID_PREFIX) and p not in wanted]
        if not self.settings.push_policies:
            stale = [p for p in stale if p.startswith(f"{POLICY_ID_PREFIX}_batch/")]
        _delete_modules(client, stale)
        data_keys = sorted(self.bundle.data) if self.settings.push_policies else []
        for key in data_keys:
            _put_data(client, key, self.bundle.data[key])
        for key in previous.get("dataKeys", []):
            if key not in data_keys and isinstance(key, str):
                _delete_data(client, key)
        _put_data(client, BUNDLE_DATA_PATH, {"digest": self.bundle.digest, "dataKeys": data_keys})

    # -- answers -> findings --------------------------------------------------------------------

    def _findings(self, resource: Resource, values: list[Any]) -> list[Finding]:
        targets = list(self.bundle.targets)
        broken = {t.package: v for t, v in zip(targets, values, strict=True) if isinstance(v, PolicyError)}
        findings = [policy_error_finding(resource, package, error) for package, error in broken.items()]
        for package, document in package_documents(targets, values).items():
            findings.extend(
                package_findings(
                    package,
                    document,
                    resource,
                    metadata=self.bundle.metadata.get(package),
                    severity_overrides={},
                )
            )
        return findings

    def _unavailable(self, reason: str) -> Finding:
        return Finding(
            rule=UNAVAILABLE_RULE,
            severity=Severity.ERROR,
            message=f"the OPA server at {self.settings.url} is unavailable ({reason}); policies were not evaluated",
            file=self.source_file,
            source=Source.POLICY,
            remediation="Check that the OPA server is running and reachable, then re-run the check.",
        )


def _put_modules(client: OpaClient, modules: list[tuple[str, str]]) -> None:
    """PUT each module; a module that needs another one (a function it calls) is retried after the rest."""
    pending, errors = list(modules), {}
    while pending:
        failed = []
        for policy_id, text in pending:
            try:
                _put_module(client, policy_id, text)
            except RegoParseError as e:
                if e.expression != COMPILE_ERROR_CODE:  # a proxy or a failing server, not a policy problem
                    raise OpaUnavailable(
                        f"PUT /v1/policies/{policy_id}: {e.expression}: {e.message}"
                    ) from None
                failed.append((policy_id, text))
                errors[policy_id] = _parse_error_text(e)
        if len(failed) == len(pending):
            policy_id = failed[0][0]
            raise PolicyError(f"compile {policy_id.removeprefix(POLICY_ID_PREFIX)}: {errors[policy_id]}")
        pending = failed


def _put_module(client: OpaClient, policy_id: str, text: str) -> None:
    try:
        client.update_policy_from_string(text, policy_id, rego_compat=False)
    except RegoParseError as e:
        if not looks_like_v0(_parse_error_text(e)):
            raise
        # OPA 1.x parses Rego v1 only: upgrade as the in-process OPA engine does.
        client.update_policy_from_string(upgrade_v0_module(policy_id, text), policy_id, rego_compat=False)


def _delete_modules(client: OpaClient, policy_ids: list[str]) -> None:
    for policy_id in policy_ids:
        try:
            client.delete_policy(policy_id)
        except Exception:  # noqa: BLE001 - a leftover module is harmless; the next push retries
            continue


def _delete_data(client: OpaClient, path: str) -> None:
    try:
        client.delete_data(path)
    except DeleteDataError:
        pass  # already gone


def _put_data(client: OpaClient, path: str, value: Any) -> None:
    """PUT /v1/data/<path>; the client only accepts objects, so other JSON values go through ``requests``."""
    try:
        if isinstance(value, dict):
            client.update_or_create_data(value, path)
            return
        response = client._session.put(f"{client.root_url}/data/{path}", json=value, timeout=client.timeout)
        response.raise_for_status()
    except RegoParseError as e:
        raise OpaUnavailable(f"PUT /v1/data/{path}: {e.expression}: {e.message}") from None


def _current_bundle(client: OpaClient) -> dict[str, Any]:
    """What this bot last pushed to the server ({} when nothing, or when the server lost it)."""
    # Through the client's session: its get_data() hides the HTTP status that tells "down" from "empty".
    response = client._session.get(f"{client.root_url}/data/{BUNDLE_DATA_PATH}", timeout=client.timeout)
    response.raise_for_status()
    result = _json(response).get("result")
    return result if isinstance(result, dict) else {}


def _parse_error_text(error: RegoParseError) -> str:
    details = [e.get("message", "") for e in error.errors if isinstance(e, dict)]
    return "; ".join(d for d in details if d) or str(error.message)


def _json(response: requests.Response | None) -> dict[str, Any]:
    try:
        body = response.json() if response is not None else {}
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _http_reason(error: requests.HTTPError) -> str:
    status = error.response.status_code if error.response is not None else "?"
    message = _json(error.response).get("message", "")
    return f"HTTP {status}{': ' + message if message else ''}"


def _request_reason(error: requests.RequestException, timeout: float) -> str:
    if isinstance(error, requests.Timeout) or "timed out" in str(
        error
    ):  # retries wrap timeouts in ConnectionError
        return f"no answer within {timeout:g}s"
    if isinstance(error, requests.ConnectionError):
        return "connection refused or reset"
    if isinstance(error, requests.HTTPError):
        return _http_reason(error)
    return type(error).__name__


def _short(query: str) -> str:
    flat = " ".join(query.split())
    return flat if len(flat) <= 80 else flat[:77] + "..."
