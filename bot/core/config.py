"""`.gitops-bot.yaml`: the repository's own settings, validated before anything trusts them."""

from __future__ import annotations

import datetime as dt
import difflib
import fnmatch
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

import jsonschema

from bot.core.findings import Finding, ResourceRef, Severity, Source, Waiver
from bot.core.yaml_gateway import YamlError, load_documents
from bot.core.yamlpos import ENCODING, LoadLimits
from bot.errors import ConfigError

CONFIG_FILE = ".gitops-bot.yaml"
CONFIG_FILES = (".gitops-bot.yaml", ".gitops-bot.yml")
MAX_CONFIG_BYTES = 256 * 1024
# The config needs no anchors: refusing aliases removes the YAML-bomb risk; the rest bounds the cost.
CONFIG_LIMITS = LoadLimits(max_bytes=MAX_CONFIG_BYTES, max_documents=2, max_depth=30, max_nodes=20_000, allow_aliases=False)
Positions = dict[tuple[str | int, ...], tuple[int, int]]  # field path -> (line, column) of its key, from the loader
DEFAULT_INCLUDE = ("**/*.yaml", "**/*.yml", "**/*.json", "*.yaml", "*.yml", "*.json")


@dataclass(frozen=True)
class ConfigProblem:
    key: str  # dotted path of the offending key, "" for the whole file
    line: int
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        key = f"{self.key}: " if self.key else ""
        return f"{where}{key}{self.message}"


class InvalidConfigError(ConfigError):
    """The file exists but breaks the schema; ``problems`` name each key and line."""

    def __init__(self, path: str, problems: list[ConfigProblem]):
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  {path}:{p}" for p in problems)
        super().__init__(f"invalid {path}:\n{lines}")

    def findings(self) -> list[Finding]:
        return [
            Finding(
                rule="config/invalid",
                severity=Severity.ERROR,
                message=f"{p.key + ': ' if p.key else ''}{p.message}",
                file=self.path,
                line=p.line,
                source=Source.CONFIG,
                remediation="Fix .gitops-bot.yaml; the keys it accepts are listed in the README (Configuration).",
            )
            for p in self.problems
        ]


@dataclass(frozen=True)
class ExceptionRule:
    """A config-level waiver: a rule (or *) for resources matching a selector, with a reason and optional expiry."""

    rule: str
    reason: str
    expires: dt.date | None = None
    kind: str = ""
    namespace: str = ""
    name: str = ""
    file: str = ""
    line: int = 0  # where it is declared in the config file, for "expired" notices

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires

    def matches(self, finding: Finding) -> bool:
        if self.rule not in ("*", finding.rule):
            return False
        res = finding.resource or ResourceRef()
        pairs = ((self.kind, res.kind), (self.namespace, res.namespace), (self.name, res.name), (self.file, finding.file))
        return all(not pattern or fnmatch.fnmatchcase(value, pattern) for pattern, value in pairs)

    def waiver(self) -> Waiver:
        return Waiver(kind="exception", reason=self.reason, expires=self.expires.isoformat() if self.expires else "")


@dataclass(frozen=True)
class RepoConfig:
    """Validated settings of the evaluation; defaults are what a repository without the file gets.

    The App's own sections (`github:`, `commands:`) are validated here with the rest of the file
    but read by the App from ``raw`` (`bot.app.options`, `bot.commands.run.command_settings`).
    """

    kubernetes_version: str | None = None
    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = ()
    strict: bool = False
    profile: str = "baseline"  # Pod Security level that blocks (bot.core.profiles)
    report_mode: str = "new"  # for a change: "new" blocks only what it introduces, "all" judges the whole state
    unknown_kinds: str = "notice"
    crds: tuple[str, ...] = ()
    schema_locations: tuple[str, ...] | None = None  # None: key absent (bot.core.schemas.catalog)
    schema_location_lines: tuple[int, ...] = ()
    policy_engine: str | None = None
    opa_url: str = ""  # policies.opa: the OPA server backend (bot.backends.opa_server)
    opa_timeout_seconds: float | None = None
    opa_push_policies: bool = True
    kubeconform_enabled: bool = False  # kubeconform: the schema backend (bot.backends.kubeconform)
    kubeconform_schema_locations: tuple[str, ...] = ()
    kubeconform_timeout_seconds: float | None = None
    policy_dirs: tuple[str, ...] = ()
    policy_namespaces: tuple[str, ...] = ("main",)
    change_namespaces: tuple[str, ...] = ("gitops.change",)  # change-aware rules (bot.core.change_policies)
    builtin_policies: bool = True
    rule_overrides: dict[str, Severity | None] = field(default_factory=dict)  # None: disabled
    exceptions: tuple[ExceptionRule, ...] = ()
    max_file_bytes: int | None = None
    max_documents: int | None = None
    source: str = ""  # the file it came from, "" for defaults
    raw: dict[str, Any] = field(default_factory=dict)

    def selects(self, path: str) -> bool:
        """True when ``path`` is in scope (matches include, not exclude)."""
        if any(_glob_match(path, g) for g in self.exclude):
            return False
        return any(_glob_match(path, g) for g in self.include)


def _glob_match(path: str, pattern: str) -> bool:
    pattern = pattern.strip().lstrip("./") if pattern.startswith("./") else pattern.strip()
    if pattern.endswith("/"):
        pattern += "**"
    if fnmatch.fnmatchcase(path, pattern):
        return True
    # "**/" also matches zero directories, as in gitignore-style globs.
    return "**/" in pattern and fnmatch.fnmatchcase(path, pattern.replace("**/", ""))


@cache
def config_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(resources.files("bot").joinpath("schemas/gitops-bot-config.json").read_text())
    return schema


def find_config(read: Callable[[str], bytes | None]) -> tuple[str, bytes] | None:
    """First config file that exists, read through ``read(path) -> bytes | None``."""
    for name in CONFIG_FILES:
        data = read(name)
        if data is not None:
            return name, data
    return None


def load_repo_config(data: bytes | None, path: str = CONFIG_FILE, *, today: dt.date | None = None) -> RepoConfig:
    """Parse and validate the config; raises `InvalidConfigError` naming every bad key and its line."""
    if data is None:
        return RepoConfig()
    if len(data) > MAX_CONFIG_BYTES:
        raise InvalidConfigError(path, [ConfigProblem("", 1, f"file is larger than {MAX_CONFIG_BYTES} bytes")])
    try:
        docs = load_documents(data, CONFIG_LIMITS)
    except YamlError as e:
        line = e.line or 1
        message = "file is not UTF-8 text" if e.rule == ENCODING else f"YAML syntax error: {e}"
        raise InvalidConfigError(path, [ConfigProblem("", line, message)]) from None
    if len(docs) > 1:
        raise InvalidConfigError(path, [ConfigProblem("", docs[1].line, "YAML syntax error: expected one document, found several")])
    root = docs[0].positions if docs else None
    raw = docs[0].value if docs else {}
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InvalidConfigError(path, [ConfigProblem("", 1, "the top level must be a mapping of keys")])
    problems = sorted(
        (_problem(err, root) for err in jsonschema.Draft202012Validator(config_schema()).iter_errors(raw)),
        key=lambda p: (p.line, p.key),
    )
    if problems:
        raise InvalidConfigError(path, problems)
    return _build(raw, path, root, today or dt.date.today())


def _line_of(positions: Positions | None, path: list[Any]) -> int:
    """Line of the deepest existing field on ``path`` (the document's first line when none)."""
    if not positions:
        return 1
    line = positions.get((), (1, 1))[0]
    for i in range(1, len(path) + 1):
        found = positions.get(tuple(path[:i]))
        if found is None:
            break
        line = found[0]
    return line


def _problem(err: jsonschema.ValidationError, root: Positions | None) -> ConfigProblem:
    path = list(err.absolute_path)
    key = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path).replace(".[", "[")
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}) if isinstance(err.schema, Mapping) else {})
        extra = sorted(set(err.instance) - set(allowed)) if isinstance(err.instance, dict) else []
        name = extra[0] if extra else "?"
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else f" (allowed: {', '.join(allowed)})"
        full = f"{key}.{name}" if key else name
        return ConfigProblem(full, _line_of(root, [*path, name]), f"unknown key{hint}")
    if err.validator == "required":
        return ConfigProblem(key, _line_of(root, path), err.message.replace("'", '"'))
    if err.validator == "enum":
        options = ", ".join(json.dumps(o) for o in err.validator_value) if isinstance(err.validator_value, list) else ""
        return ConfigProblem(key, _line_of(root, path), f"{json.dumps(err.instance)} is not one of {options}")
    if err.validator == "oneOf" and key.startswith("rules"):
        return ConfigProblem(
            key, _line_of(root, path), 'expected "off", "error", "warning", "notice", true/false or {enabled, severity}'
        )
    if err.validator == "pattern" and path and path[-1] == "kubernetesVersion":
        return ConfigProblem(key, _line_of(root, path), f'{json.dumps(err.instance)} is not a version like "1.31"')
    if err.validator == "pattern" and path and path[-1] == "expires":
        return ConfigProblem(key, _line_of(root, path), f"{json.dumps(err.instance)} is not a date like 2027-01-31")
    if err.validator == "type":
        return ConfigProblem(key, _line_of(root, path), f"expected {err.validator_value}, got {json.dumps(err.instance, default=str)[:60]}")
    return ConfigProblem(key, _line_of(root, path), err.message)


def _rule_override(value: Any) -> Severity | None | Literal[True]:
    """True: keep default; None: disabled; Severity: re-levelled."""
    if value is False or value == "off":
        return None
    if value is True:
        return True
    if isinstance(value, str):
        return Severity.parse(value)
    if value.get("enabled") is False:
        return None
    return Severity.parse(value["severity"]) if "severity" in value else True


def _build(raw: dict[str, Any], path: str, root: Positions | None, today: dt.date) -> RepoConfig:
    policies = raw.get("policies", {})
    limits = raw.get("limits", {})
    overrides: dict[str, Severity | None] = {}
    for rule_id, value in raw.get("rules", {}).items():
        level = _rule_override(value)
        if level is not True:
            overrides[rule_id] = level
    exceptions = []
    for i, item in enumerate(raw.get("exceptions", [])):
        expires = None
        if "expires" in item:
            try:
                expires = dt.date.fromisoformat(item["expires"])
            except ValueError:
                raise InvalidConfigError(
                    path, [ConfigProblem(f"exceptions[{i}].expires", _line_of(root, ["exceptions", i, "expires"]), "not a valid date")]
                ) from None
        sel = item.get("resources", {})
        exceptions.append(
            ExceptionRule(
                rule=item["rule"],
                reason=item["reason"],
                expires=expires,
                kind=sel.get("kind", ""),
                namespace=sel.get("namespace", ""),
                name=sel.get("name", ""),
                file=sel.get("file", ""),
                line=_line_of(root, ["exceptions", i]),
            )
        )
    return RepoConfig(
        kubernetes_version=raw.get("kubernetesVersion"),
        include=tuple(raw.get("include", DEFAULT_INCLUDE)),
        exclude=tuple(raw.get("exclude", ())),
        strict=bool(raw.get("strict", False)),
        profile=raw.get("profile", "baseline"),
        report_mode=raw.get("reportMode", "new"),
        unknown_kinds=raw.get("unknownKinds", "notice"),
        crds=tuple(raw.get("crds", ())),
        schema_locations=tuple(raw["schemaLocations"]) if "schemaLocations" in raw else None,
        schema_location_lines=tuple(_line_of(root, ["schemaLocations", i]) for i in range(len(raw.get("schemaLocations", ())))),
        policy_engine=policies.get("engine"),
        opa_url=policies.get("opa", {}).get("url", ""),
        opa_timeout_seconds=policies.get("opa", {}).get("timeoutSeconds"),
        opa_push_policies=bool(policies.get("opa", {}).get("pushPolicies", True)),
        kubeconform_enabled=bool(raw.get("kubeconform", {}).get("enabled", False)),
        kubeconform_schema_locations=tuple(raw.get("kubeconform", {}).get("schemaLocations", ())),
        kubeconform_timeout_seconds=raw.get("kubeconform", {}).get("timeoutSeconds"),
        policy_dirs=tuple(policies.get("directories", ())),
        policy_namespaces=tuple(policies.get("namespaces", ("main",))),
        change_namespaces=tuple(policies.get("changeNamespaces", ("gitops.change",))),
        builtin_policies=bool(policies.get("builtin", True)),
        rule_overrides=overrides,
        exceptions=tuple(exceptions),
        max_file_bytes=limits.get("maxFileBytes"),
        max_documents=limits.get("maxDocuments"),
        source=path,
        raw=raw,
    )
