"""SchemaValidator: one Kubernetes object in, one finding per schema violation out, each on its own line."""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from bot.core.findings import Finding, Severity, Source
from bot.core.resource import FieldPath, Resource, finding_at, format_path
from bot.core.schemas import messages
from bot.core.schemas.apicheck import RULE_API_VERSION
from bot.core.schemas.apiserver import api_server_findings
from bot.core.schemas.builtin import builtin_groups, builtin_validator, served_kinds
from bot.core.schemas.catalog import SchemaCatalog
from bot.core.schemas.crd import CrdVersion, is_crd, read_crd, to_json_schema
from bot.core.schemas.deprecations import DEPRECATION_GUIDE, lifecycle
from bot.core.schemas.derive import partial_copy
from bot.core.schemas.engine import (
    ENGINES,
    NO_DOCUMENTS,
    CompiledSchema,
    Violation,
    compile_schema,
    default_engine,
)
from bot.core.schemas.registry import SCHEMA_SOURCE, load_kind_schema, normalize_version, split_api_version
from bot.errors import ConfigError

# The newest minor that the bundled schemas cover (kubernetes-validate >= 1.37, pinned in pyproject.toml)
# and that upstream still supports (the newest three minors: 1.35-1.37 in December 2026, when this was set).
# Raise it together with that pin when a new kubernetes-validate ships the next minor.
DEFAULT_KUBERNETES_VERSION = "1.37"

UNKNOWN_KIND_MODES = {"notice": Severity.NOTICE, "error": Severity.ERROR}

_PRUNED_NOTE = "would be pruned by the API server"
_SECRET_VALUE_FIELDS = ("data", "stringData")
# Read by kustomize on the client, never sent to a cluster: no API server schema applies.
CLIENT_SIDE_GROUPS = ("kustomize.config.k8s.io",)


@lru_cache(maxsize=512)
def _compile_crd_schema(schema_json: str, patch: bool, engine: str) -> CompiledSchema:
    """Keyed by the CRD schema's text, so identical CRDs across evaluations compile once per process."""
    schema = to_json_schema(json.loads(schema_json))
    return compile_schema(partial_copy(schema, allow_null=True) if patch else schema, NO_DOCUMENTS, engine)


def _jsonable(value: Any) -> Any:
    """What the API server would receive after YAML -> JSON: timestamps and binary become strings."""
    if isinstance(value, dict):
        return {
            k if isinstance(k, str) else json.dumps(_jsonable(k)).strip('"'): _jsonable(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return str(value)


class SchemaValidator:
    """Validates resources against the Kubernetes schemas of one version plus the CRDs it was given.

    Compiled schemas are shared by every instance in the process; the CRDs are this instance's.
    """

    def __init__(
        self,
        kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
        *,
        strict: bool = False,
        unknown_kinds: str = "notice",
        engine: str | None = None,
        catalog: SchemaCatalog | None = None,
    ) -> None:
        self.kubernetes_version = normalize_version(kubernetes_version)
        if unknown_kinds not in UNKNOWN_KIND_MODES:
            raise ConfigError(
                f"unknown_kinds must be one of {', '.join(UNKNOWN_KIND_MODES)}, not {unknown_kinds!r}"
            )
        self.strict = strict
        self.unknown_kind_severity = UNKNOWN_KIND_MODES[unknown_kinds]
        self.engine = engine or default_engine()
        self.catalog = catalog  # schema locations for kinds neither built in nor defined by a CRD here
        if self.engine not in ENGINES:
            raise ConfigError(f"unknown schema engine {self.engine!r}: expected one of {', '.join(ENGINES)}")
        self._crd_versions: dict[tuple[str, str, str], CrdVersion] = {}
        # The schema's canonical JSON, computed once per CRD: the key of the process-wide compile cache.
        self._crd_schema_keys: dict[tuple[str, str, str], str] = {}

    def add_crds(self, resources: Iterable[Resource]) -> list[Finding]:
        """Learn the custom resources these CRDs define; other resources are ignored.

        Returns findings for CRDs that cannot be used (missing names, schemas that do not compile).
        """
        findings: list[Finding] = []
        for resource in resources:
            if not isinstance(resource.obj, dict) or not is_crd(resource):
                continue
            versions, problems = read_crd(resource)
            findings.extend(problems)
            for index, crd_version in enumerate(versions):
                schema_key = json.dumps(crd_version.openapi_schema, sort_keys=True)
                problem = self._compile_problem(schema_key)
                if problem:
                    where: FieldPath = ("spec", "versions", index, "schema", "openAPIV3Schema")
                    findings.append(self._crd_schema_finding(resource, where, crd_version, problem))
                    continue
                gvk = (crd_version.group, crd_version.version, crd_version.kind)
                self._crd_versions[gvk] = crd_version
                self._crd_schema_keys[gvk] = schema_key
        return sorted(findings, key=lambda f: (f.file, f.line, f.column))

    def validate(self, resource: Resource) -> list[Finding]:
        """Every schema violation of ``resource``; patches are checked as partial objects."""
        obj = resource.obj
        if not isinstance(obj, dict):
            return [
                self._finding(
                    resource,
                    messages.RULE_TYPE,
                    Severity.ERROR,
                    (),
                    f"expected a mapping, got {messages.noun_of(obj)}",
                )
            ]
        identity = self._identity_findings(resource)
        if identity:
            return identity
        if split_api_version(resource.api_version)[0] in CLIENT_SIDE_GROUPS:
            return []
        findings: list[Finding] = []
        stage = lifecycle(resource.api_version, resource.kind, self.kubernetes_version)
        if stage and stage[0] == "removed":
            return [
                self._api_finding(
                    resource, messages.RULE_REMOVED_API, Severity.ERROR, stage[1].removed_message()
                )
            ]
        if stage:
            findings.append(
                self._api_finding(
                    resource,
                    messages.RULE_DEPRECATED_API,
                    Severity.WARNING,
                    stage[1].deprecated_message(self.kubernetes_version),
                )
            )
        compiled, from_crd = self._schema_for(resource)
        if compiled is None and self.catalog is not None:
            found = self.catalog.lookup(
                resource.api_version, resource.kind, patch=resource.is_patch,
                kubernetes_version=self.kubernetes_version, strict=self.strict, engine=self.engine,
            )  # fmt: skip
            if found.unavailable:
                return [*findings, self.catalog.unavailable_finding(resource, found)]
            compiled, from_crd = found.schema, True
        if compiled is None:
            return [*findings, self._unknown_kind_finding(resource)]
        try:
            violations = compiled.violations(_jsonable(obj))
        except (ValueError, TypeError, OverflowError, RecursionError) as err:
            return [
                *findings,
                self._finding(
                    resource,
                    messages.RULE_INVALID,
                    Severity.ERROR,
                    (),
                    f"could not be checked against its schema: {err}",
                ),
            ]
        findings.extend(self._violation_findings(resource, violations, from_crd))
        return findings

    def api_server_checks(self, resource: Resource) -> list[Finding]:
        """What the API server rejects beyond the schema (bot/core/schemas/apiserver.py), for any backend.

        Built-in kinds get every check; custom resources whose CRD serves their version get
        the metadata checks; anything else (unknown kinds, client-side configs) none.
        """
        obj = resource.obj
        if not isinstance(obj, dict) or self._identity_findings(resource):
            return []
        group, version = split_api_version(resource.api_version)
        if group in CLIENT_SIDE_GROUPS:
            return []
        stage = lifecycle(resource.api_version, resource.kind, self.kubernetes_version)
        if stage and stage[0] == "removed":
            return []
        crd_version = self._crd_versions.get((group, version, resource.kind))
        if crd_version is not None and crd_version.served:
            return api_server_findings(resource, self.kubernetes_version, builtin=False)
        if load_kind_schema(self.kubernetes_version, False, resource.api_version, resource.kind) is None:
            return []  # not a built-in kind (no compile here: the schema stage compiled what it needed)
        return api_server_findings(resource, self.kubernetes_version, builtin=True)

    # -- schema lookup ------------------------------------------------------------------------

    def _schema_for(self, resource: Resource) -> tuple[CompiledSchema | None, bool]:
        group, version = split_api_version(resource.api_version)
        gvk = (group, version, resource.kind)
        crd_version = self._crd_versions.get(gvk)
        if crd_version is not None and crd_version.served:
            return _compile_crd_schema(self._crd_schema_keys[gvk], resource.is_patch, self.engine), True
        compiled = builtin_validator(
            self.kubernetes_version,
            self.strict,
            resource.is_patch,
            resource.api_version,
            resource.kind,
            self.engine,
        )
        return compiled, False

    def _compile_problem(self, schema_key: str) -> str:
        try:
            _compile_crd_schema(schema_key, False, self.engine)
        except ValueError as err:
            return str(err)
        return ""

    # -- findings -----------------------------------------------------------------------------

    def _violation_findings(
        self, resource: Resource, violations: list[Violation], from_crd: bool
    ) -> list[Finding]:
        redact_secret = resource.kind == "Secret" and not from_crd
        findings: list[Finding] = []
        seen: set[tuple[str, FieldPath, str]] = set()
        for violation in violations:
            rule = messages.rule_for(violation)
            redact = redact_secret and bool(violation.path) and violation.path[0] in _SECRET_VALUE_FIELDS
            note = _PRUNED_NOTE if from_crd and not self.strict else ""
            text = messages.describe(violation, redact=redact, unknown_field_note=note)
            key = (rule, violation.path, text if rule != messages.RULE_TYPE else "")
            if key in seen:
                continue
            seen.add(key)
            severity = Severity.ERROR
            if rule == messages.RULE_UNKNOWN_FIELD and not self.strict:
                severity = Severity.WARNING
            findings.append(self._finding(resource, rule, severity, violation.path, text))
        return sorted(findings, key=lambda f: (f.line, f.column))

    def _identity_findings(self, resource: Resource) -> list[Finding]:
        findings = []
        for field in ("apiVersion", "kind"):
            value = resource.obj.get(field)
            if value is None or value == "":
                findings.append(
                    self._finding(
                        resource,
                        messages.RULE_REQUIRED,
                        Severity.ERROR,
                        (),
                        f'missing required field "{field}"',
                    )
                )
            elif not isinstance(value, str):
                findings.append(
                    self._finding(
                        resource,
                        messages.RULE_TYPE,
                        Severity.ERROR,
                        (field,),
                        f"{field}: expected a string, got {messages.noun_of(value)}",
                    )
                )
        return findings

    def _api_finding(self, resource: Resource, rule: str, severity: Severity, text: str) -> Finding:
        finding = self._finding(resource, rule, severity, ("apiVersion",), text)
        return finding.with_(
            remediation=f"Move to the replacement API; fields that changed are listed in {DEPRECATION_GUIDE}."
        )

    def _unknown_kind_finding(self, resource: Resource) -> Finding:
        group, version = split_api_version(resource.api_version)
        defined = [v for v in self._crd_versions.values() if v.group == group and v.kind == resource.kind]
        served = sorted(v.version for v in defined if v.served)
        if defined:
            text = (
                f"{resource.api_version} {resource.kind} is not served: CustomResourceDefinition "
                f"{defined[0].crd_name} serves {', '.join(f'{group}/{v}' for v in served) or 'no version'}"
                f"; the API server rejects it"
            )
            return self._api_version_finding(resource, text, [f"{group}/{v}" for v in served])
        wrong_version = self._builtin_version_problem(resource, group)
        if wrong_version is not None:
            return wrong_version
        why = (
            f"it is not a built-in kind of Kubernetes {self.kubernetes_version} ({SCHEMA_SOURCE} schemas) "
            f"and no CustomResourceDefinition for it was found"
        )
        hint = (
            "add its CustomResourceDefinition to the repository or list it under `crds:` in .gitops-bot.yaml"
        )
        text = f"no schema for {resource.api_version} {resource.kind}: {why}; {hint}"
        finding = self._finding(
            resource, messages.RULE_UNKNOWN_KIND, self.unknown_kind_severity, ("kind",), text
        )
        return finding.with_(remediation=f"To check this resource, {hint}.")

    def _builtin_version_problem(self, resource: Resource, group: str) -> Finding | None:
        """A kind under a built-in group that does not serve it (``apiVersion: v1`` + ``kind: Deployment``).

        Only groups whose every kind is built in count: elsewhere a CRD may define the kind.
        In the core group an unknown kind stays a notice (kubeconfig-like files use ``v1``).
        """
        if group not in builtin_groups(self.kubernetes_version):
            return None
        serving = served_kinds(self.kubernetes_version).get(resource.kind)
        if serving:
            text = (
                f"{resource.api_version} does not serve kind {resource.kind} in Kubernetes "
                f"{self.kubernetes_version}: use apiVersion {' or '.join(serving)}; the API server rejects it"
            )
            return self._api_version_finding(resource, text, list(serving))
        if not group:
            return None
        kinds = tuple(k for k, versions in served_kinds(self.kubernetes_version).items() if resource.api_version in versions)
        hint = messages.did_you_mean(resource.kind, kinds)
        text = f"{resource.api_version} has no kind {resource.kind}{hint}; the API server rejects it"
        finding = self._finding(resource, RULE_API_VERSION, Severity.ERROR, ("kind",), text)
        return finding.with_(remediation=f"Use a kind that {resource.api_version} serves.")

    def _api_version_finding(self, resource: Resource, text: str, served: list[str]) -> Finding:
        finding = self._finding(resource, RULE_API_VERSION, Severity.ERROR, ("apiVersion",), text)
        choice = " or ".join(served) if served else "a version the cluster serves"
        return finding.with_(remediation=f"Set apiVersion to {choice}.")

    def _crd_schema_finding(
        self, resource: Resource, where: FieldPath, crd_version: CrdVersion, problem: str
    ) -> Finding:
        line, column = resource.position(where)
        return Finding(
            rule=messages.RULE_INVALID_CRD,
            severity=Severity.ERROR,
            message=(
                f"CustomResourceDefinition {resource.name or '(unnamed)'}: the schema of version "
                f"{crd_version.version} is not a valid schema: {problem}"
            ),
            file=resource.file,
            line=line,
            column=column,
            source=Source.SCHEMA,
            resource=resource.ref,
            path=format_path(where),
        )

    def _finding(
        self, resource: Resource, rule: str, severity: Severity, path: FieldPath, text: str
    ) -> Finding:
        return finding_at(resource, path, rule=rule, severity=severity, message=text, source=Source.SCHEMA)
