"""Run gatekeeper-library style test suites (``kind: Suite``, as ``gator verify`` does) as policy tests."""

from __future__ import annotations

import posixpath
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.core.gatekeeper.compiled import CompiledTemplate, compile_template
from bot.core.gatekeeper.expansion import (
    ExpansionTemplate,
    expand,
    is_expansion_template,
    read_expansion_template,
)
from bot.core.gatekeeper.match import GENERATED, MatchError, matches
from bot.core.gatekeeper.objects import (
    Constraint,
    InvalidObject,
    is_constraint,
    is_template,
    read_constraint,
    read_template,
)
from bot.core.gatekeeper.review import (
    GATOR_OPERATION,
    build_inventory,
    make_review,
    namespaces_by_name,
    review_from_admission,
)
from bot.core.manifests import load_manifest
from bot.core.rego.engine import DEFAULT_ENGINE
from bot.core.rego.testing import PolicyTestResult
from bot.core.resource import Resource
from bot.core.workspace import Workspace
from bot.core.yaml_gateway import YamlError, load_values
from bot.errors import PolicyError

SUITE_API_VERSION = "test.gatekeeper.sh/v1alpha1"
SETUP_TEST_NAME = "<template and constraint>"
_SUITE_MARKER = b"test.gatekeeper.sh"


class SuiteError(Exception):
    """A suite that cannot run as written (missing file, wrong kind, bad assertion): the test fails with this message."""


def run_gatekeeper_suites(dirs: Sequence[str | Path], *, engine: str = DEFAULT_ENGINE) -> list[PolicyTestResult]:
    """Every case of every Suite file under ``dirs``; files that are not Suites are ignored, as gator does."""
    results: list[PolicyTestResult] = []
    for directory in dirs:
        root = Path(directory)
        if root.is_file():
            results.extend(run_suites(Workspace.from_directory(root.parent), engine=engine, only=[root.name], label=str(root.parent)))
        else:
            results.extend(run_suites(Workspace.from_directory(root), engine=engine, label=str(root)))
    return results


def run_suites(
    ws: Workspace, *, engine: str = DEFAULT_ENGINE, only: Sequence[str] | None = None, label: str = ""
) -> list[PolicyTestResult]:
    """Suites read through ``ws`` (paths relative to it); ``label`` prefixes the file names reported."""
    results: list[PolicyTestResult] = []
    for path in only if only is not None else ws.paths:
        if not path.endswith((".yaml", ".yml")):
            continue
        data = ws.read(path)
        if not data or _SUITE_MARKER not in data:
            continue
        for suite in _suite_documents(data):
            shown = posixpath.join(label, path) if label and label != "." else path
            results.extend(_run_suite(ws, path, shown, suite, engine))
    return results


def _suite_documents(data: bytes) -> list[dict[str, Any]]:
    try:
        docs = load_values(data)
    except YamlError:
        return []
    return [d for d in docs if isinstance(d, dict) and d.get("kind") == "Suite" and d.get("apiVersion") == SUITE_API_VERSION]


def _run_suite(ws: Workspace, path: str, shown: str, suite: dict[str, Any], engine: str) -> list[PolicyTestResult]:
    if suite.get("skip"):
        return []
    base = posixpath.dirname(path)
    results: list[PolicyTestResult] = []
    for i, test in enumerate(suite.get("tests") or []):
        if not isinstance(test, dict) or test.get("skip"):
            continue
        name = str(test.get("name") or f"tests[{i}]")
        started = time.perf_counter()
        try:
            setup = _setup(ws, base, test, engine)
            expansions = _expansions(ws, base, test)
        except SuiteError as e:
            results.append(_result(shown, name, SETUP_TEST_NAME, str(e), started))
            continue
        if test.get("invalid"):
            error = "" if setup is None else "the constraint is valid for its template, but the test expects it to be invalid"
            results.append(_result(shown, name, SETUP_TEST_NAME, error, started))
            continue
        if setup is None:
            results.append(_result(shown, name, SETUP_TEST_NAME, "the constraint is invalid for its template", started))
            continue
        template, constraint = setup
        for j, case in enumerate(test.get("cases") or []):
            if not isinstance(case, dict) or case.get("skip"):
                continue
            case_name = str(case.get("name") or f"cases[{j}]")
            started = time.perf_counter()
            try:
                _run_case(ws, base, template, constraint, expansions, case)
                error = ""
            except SuiteError as e:
                error = str(e)
            results.append(_result(shown, name, case_name, error, started))
    return results


def _setup(ws: Workspace, base: str, test: dict[str, Any], engine: str) -> tuple[CompiledTemplate, Constraint] | None:
    """The compiled template and the constraint; None when the constraint is invalid (what ``invalid: true`` tests)."""
    template_resource = _single(ws, base, test.get("template"), "template", is_template)
    constraint_resource = _single(ws, base, test.get("constraint"), "constraint", is_constraint)
    try:
        template = read_template(template_resource)
        compiled = compile_template(template, engine)
    except InvalidObject as e:
        raise SuiteError(f"template {template_resource.file}: {e}") from None
    if constraint_resource.kind != template.kind:
        raise SuiteError(f"constraint kind {constraint_resource.kind!r} is not the template's kind {template.kind!r}")
    try:
        return compiled, read_constraint(constraint_resource, template)
    except InvalidObject:
        return None


def _expansions(ws: Workspace, base: str, test: dict[str, Any]) -> list[ExpansionTemplate]:
    """The test's optional ExpansionTemplate: the objects each case reviews are expanded with it."""
    if not test.get("expansion"):
        return []
    resource = _single(ws, base, test.get("expansion"), "expansion", is_expansion_template)
    try:
        return [read_expansion_template(resource)]
    except InvalidObject as e:
        raise SuiteError(f"expansion {resource.file}: {e}") from None


def _single(ws: Workspace, base: str, relative: Any, what: str, wanted: Any) -> Resource:
    path = _resolve(base, relative, what)
    data = ws.read(path)
    if data is None:
        raise SuiteError(f"{what} file {path} not found")
    loaded = load_manifest(path, data)
    found = [r for r in loaded.resources if wanted(r.obj)]
    if not found:
        raise SuiteError(f"{path} holds no {what}")
    return found[0]


def _resolve(base: str, relative: Any, what: str) -> str:
    if not isinstance(relative, str) or not relative:
        raise SuiteError(f"missing {what}")
    if relative.startswith("/"):
        raise SuiteError(f"{what} path {relative} must be relative to the suite")
    path = posixpath.normpath(posixpath.join(base, relative))
    if path.startswith("../"):
        raise SuiteError(f"{what} path {relative} leaves the suite's directory tree")
    return path


def _objects(ws: Workspace, base: str, relative: Any, what: str) -> list[dict[str, Any]]:
    path = _resolve(base, relative, what)
    data = ws.read(path)
    if data is None:
        raise SuiteError(f"{what} file {path} not found")
    try:
        docs = [d for d in load_values(data) if d is not None]
    except YamlError as e:
        raise SuiteError(f"{path}: not valid YAML{f' (line {e.line})' if e.line else ''}: {e}") from None
    if not docs:
        raise SuiteError(f"{path} defines no objects")
    if not all(isinstance(d, dict) for d in docs):
        raise SuiteError(f"{path}: every document must be an object")
    return docs


def _run_case(
    ws: Workspace,
    base: str,
    template: CompiledTemplate,
    constraint: Constraint,
    expansions: list[ExpansionTemplate],
    case: dict[str, Any],
) -> None:
    assertions = case.get("assertions")
    if not assertions:
        raise SuiteError("assertions must be non-empty")
    objects = _objects(ws, base, case.get("object"), "object")
    if len(objects) != 1:
        raise SuiteError(f"{case.get('object')} defines {len(objects)} objects; a case reviews exactly one")
    inventory_objects = [o for rel in case.get("inventory") or [] for o in _objects(ws, base, rel, "inventory")]
    messages = _review(template, constraint, objects[0], inventory_objects)
    for resultant in expand(objects[0], expansions):
        generated = _review(template, constraint, resultant.obj, inventory_objects, source=GENERATED)
        messages += [resultant.message(m) for m in generated]
    for assertion in assertions:
        _check(assertion if isinstance(assertion, dict) else {}, messages)


def _review(
    template: CompiledTemplate,
    constraint: Constraint,
    obj: dict[str, Any],
    inventory: list[dict[str, Any]],
    *,
    source: str = "Original",
) -> list[str]:
    """Violation messages of one object, after the constraint's match (as gator's client does)."""
    if obj.get("kind") == "AdmissionReview" and str(obj.get("apiVersion", "")).startswith("admission.k8s.io/"):
        try:
            review = review_from_admission(obj)
        except ValueError as e:
            raise SuiteError(str(e)) from None
        candidates = [o for o in (review.get("object"), review.get("oldObject")) if isinstance(o, dict)]
    else:
        review, candidates = make_review(obj, operation=GATOR_OPERATION), [obj]
    namespaces = namespaces_by_name(inventory)
    namespace = namespaces.get(review.get("namespace") or "")
    try:
        if not any(matches(constraint.match, candidate, namespace, source=source) for candidate in candidates):
            return []
    except MatchError as e:
        raise SuiteError(f"failed to run match criteria: {e}") from None
    template.set_inventory(build_inventory(inventory))
    try:
        return [v["msg"] if isinstance(v.get("msg"), str) else str(v) for v in template.violations(review, constraint.parameters)]
    except PolicyError as e:
        raise SuiteError(str(e)) from None


def _check(assertion: dict[str, Any], messages: list[str]) -> None:
    """One assertion: ``violations`` (count, "yes" or "no"; default "yes") of the messages matching ``message``."""
    pattern = assertion.get("message")
    try:
        regex = re.compile(pattern) if isinstance(pattern, str) and pattern else None
    except re.error as e:
        raise SuiteError(f"invalid message regex {pattern!r}: {e}") from None
    matching = sum(1 for m in messages if regex is None or regex.search(m))
    want = _expected(assertion.get("violations", "yes"))
    containing = f" containing {pattern!r}" if regex else ""
    if isinstance(want, int) and matching != want:
        raise SuiteError(f"got {matching} violations{containing} but want exactly {want}: got messages {messages}")
    if want == "yes" and matching == 0:
        raise SuiteError(f"got 0 violations{containing} but want at least 1: got messages {messages}")
    if want == "no" and matching > 0:
        raise SuiteError(f"got {matching} violations{containing} but want none: got messages {messages}")


def _expected(value: Any) -> int | str:
    # YAML 1.1 reads the documented `violations: yes` / `no` as booleans.
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value in ("yes", "no"):
        return value
    raise SuiteError(f'assertion.violations, if set, must be a nonnegative integer, "yes", or "no" (got {value!r})')


def _result(file: str, test: str, case: str, error: str, started: float) -> PolicyTestResult:
    duration_ms = (time.perf_counter() - started) * 1000
    return PolicyTestResult(file, test, case, passed=not error, error=error, duration_ms=duration_ms)
