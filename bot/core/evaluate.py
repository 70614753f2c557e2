"""The evaluation core: files before + files after + config + policies -> `Report`.

Every front door (the App's worker, `gitops-bot check`, benchmarks) calls
`evaluate`. It never prints, posts or touches GitHub; what it reads comes
through `Workspace` objects.

For a pull request or `check --base`, call `bot.pull.evaluate.evaluate_change(ctx)`
with a `PullContext`: it scopes the evaluation to the changed files and uses
the base side as the trusted tree.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core import policy_changes
from bot.core.backends import OPA_SERVER_ENGINE, Backends, PolicyEvaluator
from bot.core.config import CONFIG_FILES, InvalidConfigError, RepoConfig, find_config, load_repo_config
from bot.core.findings import Finding, Severity, Source
from bot.core.gatekeeper.hook import check_gatekeeper
from bot.core.inventory_groups import inventory_groups
from bot.core.manifests import LoadResult
from bot.core.masking import mask_policy_changes, redact_findings, secret_values
from bot.core.new_findings import NEW, split_preexisting
from bot.core.policy_loader import load_policies
from bot.core.profiles import apply_profile
from bot.core.rego.engine import DEFAULT_ENGINE
from bot.core.rego.trusted import judge_changes_limited
from bot.core.rendered import DEFAULT_MAX_RENDERED_ROOTS
from bot.core.rendered_stage import RenderStage, render_stage
from bot.core.renderer import Renderer
from bot.core.report import Report
from bot.core.resource import Resource
from bot.core.schemas import DEFAULT_KUBERNETES_VERSION, SchemaValidator
from bot.core.schemas.catalog import CatalogAccess, SchemaCatalog, select_locations
from bot.core.scope import Scope, configured_crds, deleted_objects, load_base, load_head
from bot.core.waivers import settle
from bot.core.workspace import Workspace
from bot.errors import ConfigError, PolicyError


@dataclass
class EvalOptions:
    """What the caller decides; anything left None comes from `.gitops-bot.yaml`, then the defaults."""

    kubernetes_version: str | None = None
    strict: bool | None = None
    engine: str | None = None
    changed_paths: Collection[str] | None = None  # judge only these files (None: every manifest)
    deleted_paths: Collection[str] = ()
    extra_policy_dirs: Sequence[str] = ()  # local directories (CLI --policy)
    policies: bool = True  # False: schema validation only (benchmarks, --no-policies)
    config_bytes: bytes | None = None  # CLI --config: overrides the trusted tree's file
    config_path: str = ""
    today: dt.date | None = None
    backends: Backends | None = None  # kubeconform / OPA server plugged in by the front door (bot.backends)
    pull_request: dict[str, Any] | None = None  # {"author", "labels", "base_ref"} for change-aware rules (the App fills it)
    report_mode: str | None = None  # "new" | "all" (CLI --all); None: the config's reportMode
    schema_catalog: CatalogAccess | None = None  # schema locations + the fetcher (bot.backends.schema_catalog)
    renderer: Renderer | None = field(default=None, repr=False)  # kustomize roots built by the front door (bot.plan)
    max_rendered_roots: int = DEFAULT_MAX_RENDERED_ROOTS  # roots rendered per evaluation (GITOPS_BOT_MAX_RENDERED_ROOTS)


def symlink_notices(head: Workspace, trusted: Workspace, changed: Collection[str] | None) -> list[str]:
    """Links are never followed (they could point anywhere); say which were left out, so none is silently lost."""
    scoped = head.symlinks if changed is None else [p for p in head.symlinks if p in set(changed)]
    config_links = [p for p in trusted.symlinks if p in CONFIG_FILES] if trusted is not head else []
    return [f"skipped {p}: a symbolic link; links are not followed, so it was not checked (commit the file itself)"
            for p in [*scoped, *config_links]]


def evaluate(
    head: Workspace,
    *,
    base: Workspace | None = None,
    trusted: Workspace | None = None,
    options: EvalOptions | None = None,
) -> Report:
    """Judge ``head`` (only ``options.changed_paths`` when given) with config and policies from ``trusted``.

    ``trusted`` defaults to ``base``, then ``head``: a pull request never judges itself
    with the policies it edits. Stages: config → load → render → schema → policy → settle → preexisting → policy changes → redaction.
    """
    options = options or EvalOptions()
    trusted = trusted or base or head
    today = options.today or dt.date.today()
    report = Report()
    clock = _Clock(report)

    with clock("config"):
        try:
            config = _load_config(trusted, options, today)
        except InvalidConfigError as e:
            report.findings.extend(e.findings())
            report.notices.append(f"{e.path} is invalid; nothing else was checked")
            return report
        report.config = config

    report.notices.extend(symlink_notices(head, trusted, options.changed_paths))
    with clock("load"):
        scope = load_head(head, config, options.changed_paths)
        report.findings.extend(scope.findings)
        report.notices.extend(f"skipped {file}: {reason}" for file, reason in scope.loaded.skipped)
        report.files_checked = len(scope.paths) - len(scope.loaded.skipped)
        report.resources_checked = len(scope.loaded.resources)
        before = None
        if base is not None and options.changed_paths is not None:
            before = load_base(base, config, options.changed_paths, options.deleted_paths, scope)

    with clock("render"):  # kustomize roots in scope, built by the front door's renderer (README: Rendered verdict)
        rendered = render_stage(head, options.renderer, options.changed_paths, options.deleted_paths, scope, report,
                                options.max_rendered_roots, base)

    with clock("schema"):
        try:
            report.findings.extend(_schema_stage(head, config, options, scope, report, rendered))
        except ConfigError as e:  # an unsupported Kubernetes version: nothing can be validated
            report.findings.append(_config_finding(str(e), config.source))
            return report

    with clock("policy"):
        if options.policies:
            report.findings = _policy_stage(head, trusted, config, options, scope, before, report, rendered)
        report.findings = rendered.remap(report.findings)

    with clock("settle"):
        report.findings = settle_stage(report.findings, scope.loaded.resources, config, today)
        if before is not None:
            report.deleted = deleted_objects(before, scope.loaded)

    if base is not None and before is not None and (options.report_mode or config.report_mode) == NEW:
        with clock("preexisting"):
            base_report = _base_report(base, trusted, options)
            report.findings, report.preexisting = split_preexisting(report.findings, base_report.findings)

    if options.changed_paths is not None and trusted is not head:
        with clock("policy_changes"):
            changes = policy_changes.check(head, trusted, config, options.changed_paths, engine=options.engine)
            report.findings.extend(changes.findings)
            report.policy_changes = changes.results
    redact_report(report, secret_values(scope.loaded.resources + rendered.resources + (before.resources if before else [])))
    return report


def _base_report(base: Workspace, trusted: Workspace, options: EvalOptions) -> Report:
    """The same files (renamed ones under their old name) judged at base with the same config and policies."""
    paths = {*(options.changed_paths or ()), *options.deleted_paths}
    scoped = dataclasses.replace(
        options, changed_paths=sorted(p for p in paths if base.exists(p)), deleted_paths=(), pull_request=None
    )
    return evaluate(base, trusted=trusted, options=scoped)


def _schema_stage(
    head: Workspace, config: RepoConfig, options: EvalOptions, scope: Scope, report: Report, rendered: RenderStage
) -> list[Finding]:
    report.kubernetes_version = requested_kubernetes_version(config, options)
    setup = schema_setup(config, options)
    validator = setup.validator
    report.kubernetes_version = validator.kubernetes_version
    findings = list(setup.findings)
    resources = scope.loaded.resources
    in_scope = set(scope.paths)
    crds = [r for r in resources if r.kind == "CustomResourceDefinition"]
    crds += configured_crds(head, config, scope.limits, exclude=in_scope)
    findings += [f for f in validator.add_crds(crds) if f.file in in_scope]
    external = options.backends.schema_backend(config, validator.kubernetes_version, setup.strict) if options.backends else None
    findings += schema_findings(validator, resources, external=external, head=head)
    findings += schema_findings(validator, rendered.resources)  # rendered objects exist in no file a backend could read
    return findings


# The per-resource stages below are shared with `bot.core.tree_chunks` (check --jobs), which judges a
# tree in pieces: a stage added here reaches both paths.


@dataclass
class SchemaSetup:
    """The validator of one evaluation (no CRDs yet) and config findings about its schema locations."""

    validator: SchemaValidator
    strict: bool
    findings: list[Finding]
    catalog: bool  # schemas come from a catalog (schema locations) as well


def requested_kubernetes_version(config: RepoConfig, options: EvalOptions) -> str:
    return options.kubernetes_version or config.kubernetes_version or DEFAULT_KUBERNETES_VERSION


def schema_setup(config: RepoConfig, options: EvalOptions) -> SchemaSetup:
    """Raises `ConfigError` for an unsupported Kubernetes version (nothing can be validated then)."""
    strict = config.strict if options.strict is None else options.strict
    locations, findings = select_locations(
        options.schema_catalog, config.schema_locations, config.source, config.schema_location_lines
    )
    catalog = SchemaCatalog(locations, options.schema_catalog.source) if locations and options.schema_catalog else None
    validator = SchemaValidator(
        requested_kubernetes_version(config, options), strict=strict, unknown_kinds=config.unknown_kinds, catalog=catalog
    )
    return SchemaSetup(validator, strict, findings, catalog is not None)


def schema_findings(
    validator: SchemaValidator, resources: Sequence[Resource], *, external: Any = None, head: Workspace | None = None
) -> list[Finding]:
    """Schema findings (``external``: a schema backend such as kubeconform), then the API server's own checks."""
    findings: list[Finding] = []
    if external is not None:
        findings += external.validate(head, resources, validator)
    else:
        for resource in resources:
            findings += validator.validate(resource)
    for resource in resources:  # beyond the schema, whichever backend checked it
        findings += validator.api_server_checks(resource)
    return findings


def load_policy_sets(trusted: Workspace, config: RepoConfig, options: EvalOptions) -> tuple[Sequence[PolicyEvaluator], list[Finding], list[str]]:
    """The policy sets, config findings (they do not compile, no OPA server) and notices (engine parity) of one run."""
    findings: list[Finding] = []
    try:
        policy_sets = _policy_sets(trusted, config, options, findings)
    except PolicyError as e:
        findings.append(_config_finding(f"the repository's policies do not compile: {e}", config.source))
        policy_sets = ()
    requested = options.engine or config.policy_engine or DEFAULT_ENGINE
    notices = []
    if any(getattr(ps, "engine", requested) not in (requested, OPA_SERVER_ENGINE) for ps in policy_sets):
        notices.append(
            "policies: judged by the OPA engine, not regorus: a policy negates a call whose argument may be "
            "undefined, which regorus would read differently (README: Engine parity)"
        )
    return policy_sets, findings, notices


def policy_findings(
    policy_sets: Sequence[Any],
    pieces: Sequence[tuple[Sequence[Resource], Sequence[Resource] | None]],
    *,
    inventory: dict[str, list[dict[str, object]]] | None = None,
) -> list[Finding]:
    """Every policy set on every (judged, peers) piece; ``inventory`` instead of peers when judging a tree in chunks."""
    extra = {} if inventory is None else {"inventory": inventory}
    return [f for ps in policy_sets for judged, peers in pieces for f in ps.evaluate(judged, peers=peers, **extra)]


def settle_stage(
    findings: list[Finding], resources: Sequence[Resource], config: RepoConfig, today: dt.date, *, expiry_notices: bool = True
) -> list[Finding]:
    """The last per-resource stage: the Pod Security profile's severities, then waivers, re-levels and exceptions."""
    return settle(apply_profile(findings, config.profile), resources, config, today, expiry_notices=expiry_notices)


def redact_report(report: Report, values: frozenset[str]) -> None:
    """Secrets never leave: a policy message may quote a Secret's value, which no pattern can recognise."""
    report.findings = redact_findings(report.findings, values)
    report.preexisting = redact_findings(report.preexisting, values)
    report.policy_changes = mask_policy_changes(report.policy_changes, values)


def _policy_stage(
    head: Workspace, trusted: Workspace, config: RepoConfig, options: EvalOptions, scope: Scope, before: LoadResult | None,
    report: Report, rendered: RenderStage,
) -> list[Finding]:
    """Rego (in-process or a backend), then Gatekeeper templates, then change-aware rules."""
    resources = rendered.judged(scope.loaded.resources)  # rendered objects instead of the files that feed them
    policy_sets, problems, notices = load_policy_sets(trusted, config, options)
    findings = list(report.findings) + problems
    report.notices.extend(notices)
    # Cross-object facts (duplicates) look inside one deploy target.
    findings += policy_findings(policy_sets, inventory_groups(resources, head) if policy_sets else [])
    findings = check_gatekeeper(findings, resources, trusted=trusted, config=config, limits=scope.limits, engine=options.engine)
    if before is not None and policy_sets:  # no policy set: they did not compile, already reported
        findings += judge_changes_limited(
            trusted, config, before.resources, scope.loaded.resources, extra_dirs=tuple(options.extra_policy_dirs),
            engine=options.engine, pull_request=options.pull_request, head_files=scope.paths,
        )
    return findings


class _Clock:
    def __init__(self, report: Report):
        self.report = report

    def __call__(self, stage: str) -> _Clock:
        self.stage = stage
        return self

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.report.timings[self.stage] = round(time.perf_counter() - self.start, 4)


def _load_config(trusted: Workspace, options: EvalOptions, today: dt.date) -> RepoConfig:
    if options.config_bytes is not None:
        return load_repo_config(options.config_bytes, options.config_path or ".gitops-bot.yaml", today=today)
    found = find_config(trusted.read)
    if found is None:
        return RepoConfig()
    name, data = found
    return load_repo_config(data, name, today=today)


def _policy_sets(trusted: Workspace, config: RepoConfig, options: EvalOptions, findings: list[Finding]) -> Sequence[PolicyEvaluator]:
    """In-process policy sets, or the evaluators of a backend the front door plugged in (an OPA server)."""
    engine = options.engine or config.policy_engine
    backend = options.backends.policy_backend(config, engine) if options.backends else None
    if backend is not None:
        return backend.load(trusted, config, options.extra_policy_dirs)
    if engine == OPA_SERVER_ENGINE:
        findings.append(
            _config_finding("policies.engine is opa-server but no OPA server is configured here", config.source).with_(
                rule="policy/opa-unavailable", source=Source.POLICY
            )
        )
        return []
    return load_policies(trusted, config, options.extra_policy_dirs, engine=engine)


def _config_finding(message: str, config_file: str) -> Finding:
    return Finding(
        rule="config/invalid",
        severity=Severity.ERROR,
        message=message,
        file=config_file,
        source=Source.CONFIG,
        remediation="Fix the setting named in the message (README: Configuration).",
    )
