"""Schema validation by the kubeconform binary, its JSON output mapped onto our findings and lines.

kubeconform is run once per evaluation on a temporary copy of the files that hold
resources (``-output json -summary``), from that directory so the ``filename`` of
each result is the workspace path. Results are matched back to our resources by
file + kind + name (in document order for repeats); each ``validationErrors``
JSON pointer becomes the line of that field. What kubeconform cannot judge
(kustomize patches, kinds it has no schema for: CRDs of the repository) goes to
the embedded validator, and so does everything when the binary is missing or fails.

Output formats understood: v0.6.1+ (``validationErrors`` with instance JSON
pointers and jsonschema v5/v6 messages) and v0.4-v0.5 (``msg`` only, as
``For field a.b: ...`` clauses).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from bot.core.findings import Finding, Severity, Source
from bot.core.resource import FieldPath, Resource, finding_at, format_path, parse_path
from bot.core.schemas import messages
from bot.core.workspace import Workspace

MISSING_RULE = "schema/kubeconform-missing"
FAILED_RULE = "schema/kubeconform-failed"
DEFAULT_TIMEOUT_SECONDS = 120.0
_MAX_STDERR = 300


@dataclass(frozen=True)
class KubeconformSettings:
    binary: str  # "" when none was found
    kubernetes_version: str  # "1.31"
    strict: bool = False
    schema_locations: tuple[str, ...] = ()
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    def command(self, files: Sequence[str]) -> list[str]:
        version = (
            self.kubernetes_version
            if self.kubernetes_version.count(".") >= 2
            else f"{self.kubernetes_version}.0"
        )
        cmd = [self.binary, "-output", "json", "-summary", "-kubernetes-version", version]
        if self.strict:
            cmd.append("-strict")
        for location in self.schema_locations:
            cmd += ["-schema-location", location]
        return [*cmd, "--", *files]


@dataclass(frozen=True)
class KubeconformResult:
    filename: str
    kind: str
    name: str
    version: str
    status: str  # statusValid | statusInvalid | statusError | statusSkipped
    msg: str
    errors: tuple[tuple[str, str], ...]  # (JSON pointer, message)


# What kubeconform may see of the App's environment: where programs are, how to reach the operator's
# schema hosts (proxy, CA bundle). Never the App's key, webhook secret or tokens.
_PASSED_VARIABLES = ("PATH", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy",
                     "SSL_CERT_FILE", "SSL_CERT_DIR")


def minimal_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The whole environment kubeconform runs with (a fresh HOME so it reads no user config)."""
    env = {name: environ[name] for name in _PASSED_VARIABLES if environ.get(name)}
    return {**env, "HOME": tempfile.gettempdir(), "NO_COLOR": "1", "LANG": "C.UTF-8"}


class KubeconformFailed(Exception):
    """The binary ran but gave no usable answer (crash, timeout, output that is not its JSON)."""


class KubeconformBackend:
    """`bot.core.backends.SchemaBackend` running the kubeconform binary."""

    def __init__(self, settings: KubeconformSettings, *, config_file: str = ""):
        self.settings = settings
        self.config_file = config_file

    def validate(self, head: Workspace, resources: Sequence[Resource], embedded: Any) -> list[Finding]:
        checked = [r for r in resources if _for_kubeconform(r)]
        findings = [f for r in resources if not _for_kubeconform(r) for f in embedded.validate(r)]
        if not checked:
            return findings
        if not self.settings.binary or not Path(self.settings.binary).is_file():
            findings.append(
                self._notice(MISSING_RULE, "kubeconform is not installed (set KUBECONFORM_PATH or PATH)")
            )
            return findings + [f for r in checked for f in embedded.validate(r)]
        try:
            results = self._run(head, sorted({r.file for r in checked}))
        except KubeconformFailed as e:
            findings.append(self._notice(FAILED_RULE, f"kubeconform failed: {e}"))
            return findings + [f for r in checked for f in embedded.validate(r)]
        for resource, result in match_results(checked, results):
            if result.status == "statusError" and "could not find schema" in result.msg:
                findings.extend(embedded.validate(resource))  # e.g. a kind whose CRD is in the repository
            else:
                findings.extend(result_findings(resource, result, strict=self.settings.strict))
        return findings

    def _run(self, head: Workspace, files: list[str]) -> list[KubeconformResult]:
        if not files:
            return []
        with tempfile.TemporaryDirectory(prefix="gitops-bot-kubeconform-") as tmp:
            for file in files:
                target = Path(tmp, file)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(head.read(file) or b"")
            try:
                done = subprocess.run(
                    self.settings.command(files),
                    cwd=tmp,
                    stdin=subprocess.DEVNULL,  # with no FILE argument kubeconform would read standard input
                    capture_output=True,
                    timeout=self.settings.timeout_seconds,
                    env=minimal_environment(os.environ),
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise KubeconformFailed(f"no answer within {self.settings.timeout_seconds:g}s") from None
            except OSError as e:
                raise KubeconformFailed(e.strerror or str(e)) from None
        if done.returncode not in (0, 1):
            stderr = done.stderr.decode("utf-8", "replace").strip()[:_MAX_STDERR]
            raise KubeconformFailed(f"exit status {done.returncode}: {stderr or 'no message'}")
        return parse_output(done.stdout)

    def _notice(self, rule: str, text: str) -> Finding:
        return Finding(
            rule=rule,
            severity=Severity.NOTICE,
            message=f"{text}; the embedded schema validator was used instead",
            file=self.config_file,
            source=Source.SCHEMA,
        )


def _for_kubeconform(resource: Resource) -> bool:
    """Whole objects in files that stay inside the temporary copy (tree paths never climb, but check)."""
    parts = Path(resource.file).parts
    safe = bool(parts) and not Path(resource.file).is_absolute() and ".." not in parts
    return safe and not resource.is_patch and isinstance(resource.obj, dict) and bool(resource.kind)


def parse_output(stdout: bytes) -> list[KubeconformResult]:
    """kubeconform's ``-output json`` document; raises KubeconformFailed when it is not one."""
    try:
        document = json.loads(stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise KubeconformFailed("its output is not JSON (is it kubeconform v0.4 or later?)") from None
    rows = document.get("resources") if isinstance(document, dict) else None
    if not isinstance(rows, list):
        raise KubeconformFailed('its JSON output has no "resources" list')
    results = []
    for row in rows:
        if not isinstance(row, dict):
            continue
        errors = tuple(
            (str(e.get("path", e.get("Path", ""))), str(e.get("msg", e.get("Message", ""))))
            for e in row.get("validationErrors") or ()
            if isinstance(e, dict)
        )
        results.append(
            KubeconformResult(
                filename=str(row.get("filename", "")).removeprefix("./"),
                kind=str(row.get("kind", "")),
                name=str(row.get("name", "")),
                version=str(row.get("version", "")),
                status=str(row.get("status", "")),
                msg=str(row.get("msg", "")),
                errors=errors,
            )
        )
    return results


def match_results(
    resources: Sequence[Resource], results: Sequence[KubeconformResult]
) -> list[tuple[Resource, KubeconformResult]]:
    """Each result with the resource it describes (file + kind + name, repeats in document order).

    Results that match no resource (documents our loader already reported as unparsable) are dropped.
    """
    by_identity: dict[tuple[str, str, str], list[Resource]] = {}
    for resource in resources:
        by_identity.setdefault((resource.file, resource.kind, resource.name), []).append(resource)
    pairs: list[tuple[Resource, KubeconformResult]] = []
    for result in results:
        candidates = by_identity.get((result.filename, result.kind, result.name), [])
        if not candidates:
            continue
        index = next((i for i, r in enumerate(candidates) if r.api_version == result.version), 0)
        pairs.append((candidates.pop(index), result))
    return pairs


def result_findings(resource: Resource, result: KubeconformResult, *, strict: bool) -> list[Finding]:
    """Findings for one non-valid result, with the rule ids and lines the embedded validator would give."""
    if result.status == "statusInvalid":
        errors = [
            (pointer_path(resource.obj, p), m) for p, m in readable_errors(result.errors, result.msg)
        ] or legacy_errors(result.msg)
        out = [f for path, msg in errors for f in _error_findings(resource, path, msg, strict)]
        return sorted(out, key=lambda f: (f.line, f.column)) or [
            _finding(resource, messages.RULE_INVALID, (), result.msg)
        ]
    if result.status == "statusError":
        return [
            _finding(resource, messages.RULE_INVALID, (), f"kubeconform could not check it: {result.msg}")
        ]
    return []


# v0.6 (jsonschema v5): the result's msg is the error's Error(), which names its first leaf:
# "jsonschema: '/spec/replicas' does not validate with file:///…#/properties/spec/$ref/…/type: expected …"
_LEAF_RE = re.compile(r"jsonschema: '((?:[^'\\]|\\.)*)' does not validate with \S+?: (.*)$", re.DOTALL)
# ... while validationErrors lists only the top-level causes: behind a $ref that is the parent field
# ("/spec") with "doesn't validate with '…_definitions.json#/definitions/io.k8s.api.apps.v1.DeploymentSpec'",
# or "" for an error that only wraps several others.
_REF_FAILED_RE = re.compile(r"^doesn't validate with '?([^']*?)'?$")


def readable_errors(errors: Sequence[tuple[str, str]], msg: str) -> list[tuple[str, str]]:
    """``validationErrors`` with each parent-only entry replaced by the field error the message names.

    kubeconform v0.6 reports, for an object checked through ``$ref`` schemas, one error per
    top-level field (the parent) and names a single leaf in ``msg``: the first parent that
    contains that leaf takes its place (field path and plain message). A parent the leaf is not
    under stays on the parent line, worded as the definition it fails (kubeconform gives no more).
    """
    leaf = _LEAF_RE.search(msg)
    leaf_error = (leaf.group(1).replace("\\'", "'"), leaf.group(2).strip()) if leaf else None
    out: list[tuple[str, str]] = []
    for pointer, text in errors:
        ref_failed = _REF_FAILED_RE.match(text)
        if text and not ref_failed:
            out.append((pointer, text))
            continue
        if leaf_error and (leaf_error[0] == pointer or leaf_error[0].startswith(pointer.rstrip("/") + "/")):
            out.append(leaf_error)
            leaf_error = None  # kubeconform names one leaf only
            continue
        definition = ref_failed.group(1).rpartition("/")[2] if ref_failed else ""
        what = f"the schema of {definition.rpartition('.')[2]}" if definition else "its schema"
        out.append((pointer, f"does not match {what} (kubeconform names no field below this one)"))
    return list(dict.fromkeys(out))


def pointer_path(obj: Any, pointer: str) -> FieldPath:
    """``/spec/containers/0/name`` -> ("spec", "containers", 0, "name"); indexes only where ``obj`` has a list."""
    path: list[str | int] = []
    node = obj
    # jsonschema v5 escapes each token as a JSON pointer and then as a URL path segment.
    for token in [unquote(t).replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]:
        if isinstance(node, list) and token.isdigit():
            path.append(int(token))
            node = node[int(token)] if int(token) < len(node) else None
        else:
            path.append(token)
            node = node.get(token) if isinstance(node, dict) else None
    return tuple(path)


_LEGACY_CLAUSE_RE = re.compile(r"For field ([^:]+): (.*?)(?= - For field |$)")


def legacy_errors(msg: str) -> list[tuple[FieldPath, str]]:
    """v0.4-v0.5 (gojsonschema): ``For field spec.replicas: Invalid type. ... - For field (root): ...``."""
    return [
        (() if field == "(root)" else parse_path(field), text.strip())
        for field, text in _LEGACY_CLAUSE_RE.findall(msg)
    ]


_QUOTED_RE = re.compile(r"'([^']*)'")
_LEGACY_REQUIRED_RE = re.compile(r"^(\S+) is required$")
_LEGACY_ADDITIONAL_RE = re.compile(r"^Additional property (\S+) is not allowed$")


def _error_findings(resource: Resource, path: FieldPath, msg: str, strict: bool) -> list[Finding]:
    """One validation error; required and additional-property errors name fields, one finding each."""
    lower = msg.lower()
    legacy_required = _LEGACY_REQUIRED_RE.match(msg)
    if "missing propert" in lower or legacy_required:
        names = [legacy_required.group(1)] if legacy_required else _QUOTED_RE.findall(msg)
        return [
            _finding(resource, messages.RULE_REQUIRED, path, _at(path, f'missing required field "{n}"'))
            for n in names
        ]
    legacy_additional = _LEGACY_ADDITIONAL_RE.match(msg)
    if "additionalpropert" in lower or "additional propert" in lower:
        names = [legacy_additional.group(1)] if legacy_additional else _QUOTED_RE.findall(msg)
        severity = Severity.ERROR if strict else Severity.WARNING
        return [
            _finding(
                resource, messages.RULE_UNKNOWN_FIELD, (*path, n), _at((*path, n), "unknown field"), severity
            )
            for n in names
        ]
    return [_finding(resource, _rule_for(lower), path, _at(path, msg))]


# Messages of jsonschema v5 (kubeconform v0.6), v6 (v0.7) and gojsonschema (v0.4-v0.5), by rule.
_RANGE_RE = re.compile(
    r"^(exclusive)?(min|max)\w*:|must be [<>]=?|must be (greater|less) than|length must be|items required"
)
_TYPE_RE = re.compile(r"expected .* but got |^got \w+, want |invalid type")


def _rule_for(lower: str) -> str:
    if _RANGE_RE.search(lower):  # before type: v6 words ranges as "minimum: got -1, want 0"
        return messages.RULE_RANGE
    if _TYPE_RE.search(lower):
        return messages.RULE_TYPE
    if "must be one of" in lower:
        return messages.RULE_ENUM
    if "pattern" in lower:
        return messages.RULE_PATTERN
    if "is not valid" in lower or "format" in lower:
        return messages.RULE_FORMAT
    return messages.RULE_INVALID


def _at(path: FieldPath, text: str) -> str:
    return f"{format_path(path)}: {text}" if path else text


def _finding(
    resource: Resource, rule: str, path: FieldPath, text: str, severity: Severity = Severity.ERROR
) -> Finding:
    return finding_at(resource, path, rule=rule, severity=severity, message=text, source=Source.SCHEMA)
