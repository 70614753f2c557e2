"""The evaluation core: files before + files after + config + policies -> `Report`.

Every front door (the App's worker, `gitops-bot check`, benchmarks) calls
`evaluate`. It never prints, posts or touches GitHub; what it reads comes
through `Workspace` objects.

For a pull request or `check --base`, call `bot.pull.evaluate.evaluate_change(ctx)`
with a `PullContext`: it scopes the evaluation to the changed files and uses
the base side as the trusted tree.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from bot.core import policy_changes
from bot.core.backends import OPA_SERVER_ENGINE, Backends
from bot.core.change_policies import judge_changes
from bot.core.config import InvalidConfigError, RepoConfig, find_config, load_repo_config
from bot.core.findings import Finding, Report, ResourceRef, Severity, Source
from bot.core.gatekeeper.hook import check_gatekeeper
from bot.core.kustomize import find_patch_files
from bot.core.manifests import LoadLimits, LoadResult, load_workspace
from bot.core.policy_loader import load_policies
from bot.core.resource import Resource
from bot.core.schemas import DEFAULT_KUBERNETES_VERSION, SchemaValidator
from bot.core.waivers import (
    annotation_waivers,
    expired_exception_notices,
    waive_by_annotations,
    waive_by_exceptions,
)
from bot.core.workspace import Workspace
from bot.errors import ConfigError, PolicyError

Progress = Callable[[int, int], None]


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
    progress: Progress | None = field(default=None, repr=False)
    backends: Backends | None = None  # kubeconform / OPA server plugged in by the front door (bot.backends)
    pull_request: dict | None = None  # {"author", "labels", "base_ref"} for change-aware rules (the App fills it)


def evaluate(
    head: Workspace,
    *,
    base: Workspace | None = None,
    trusted: Workspace | None = None,
    options: EvalOptions | None = None,
) -> Report:
    """Judge ``head`` (only ``options.changed_paths`` when given) with config and policies from ``trusted``.

    ``trusted`` defaults to ``base``, then ``head``: a pull request never judges itself
    with the policies it edits.
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
    version = options.kubernetes_version or config.kubernetes_version or DEFAULT_KUBERNETES_VERSION
    report.kubernetes_version = version
    strict = config.strict if options.strict is None else options.strict

    with clock("load"):
        paths = _paths_to_check(head, config, options.changed_paths)
        patch_files, kustomize_findings = find_patch_files(head)
        limits = _limits(config)
        loaded = load_workspace(head, paths, limits, patch_files=patch_files)
        report.findings.extend(f for f in kustomize_findings if f.file in set(paths))
        report.findings.extend(loaded.findings)
        report.notices.extend(f"skipped {file}: {reason}" for file, reason in loaded.skipped)
        report.files_checked = len(paths) - len(loaded.skipped)
        report.resources_checked = len(loaded.resources)

    before: LoadResult | None = None
    if base is not None and options.changed_paths is not None:
        with clock("load_base"):
            before = _load_before(base, config, options, limits, patch_files)

    with clock("schema"):
        try:
            validator = SchemaValidator(version, strict=strict, unknown_kinds=config.unknown_kinds)
        except ConfigError as e:
            report.findings.append(_config_finding(str(e), config.source))
            return report
        report.kubernetes_version = validator.kubernetes_version
        crds = [r for r in loaded.resources if r.kind == "CustomResourceDefinition"]
        crds += _crds_from_config(head, config, limits, exclude=set(paths))
        report.findings.extend(f for f in validator.add_crds(crds) if f.file in set(paths))
        external = options.backends.schema_backend(config, validator.kubernetes_version, strict) if options.backends else None
        if external is not None:
            report.findings.extend(external.validate(head, loaded.resources, validator))
        else:
            for resource in loaded.resources:
                report.findings.extend(validator.validate(resource))
        _progress(options, len(loaded.resources))

    with clock("policy"):
        if options.policies:
            try:
                policy_sets = _policy_sets(trusted, config, options, report)
            except PolicyError as e:
                report.findings.append(_config_finding(f"the repository's policies do not compile: {e}", config.source))
                policy_sets = []
            for policy_set in policy_sets:
                report.findings.extend(policy_set.evaluate(loaded.resources))
            report.findings = check_gatekeeper(
                report.findings, loaded.resources, trusted=trusted, config=config, limits=limits, engine=options.engine
            )
            if before is not None and policy_sets:  # no policy set: they did not compile, already reported
                report.findings.extend(
                    judge_changes(
                        trusted, config, before.resources, loaded.resources, extra_dirs=options.extra_policy_dirs,
                        engine=options.engine, pull_request=options.pull_request, head_files=paths,
                    )
                )

    with clock("waivers"):
        by_resource: dict[tuple[str, ResourceRef], dict] = {}
        for resource in loaded.resources:
            waivers, problems = annotation_waivers(resource)
            report.findings.extend(problems)
            if waivers:
                by_resource.setdefault((resource.file, resource.ref), {}).update(waivers)
        report.findings = _waive_by_annotations(report.findings, by_resource)
        report.findings = _apply_overrides(report.findings, config.rule_overrides)
        report.findings = waive_by_exceptions(report.findings, config.exceptions, today)
        report.findings.extend(expired_exception_notices(config.exceptions, config.source, today))

    if before is not None:
        with clock("deleted"):
            report.deleted = _deleted_objects(before, loaded)

    if options.changed_paths is not None and trusted is not head:
        with clock("policy_changes"):
            changes = policy_changes.check(head, trusted, config, options.changed_paths, engine=options.engine)
            report.findings.extend(changes.findings)
            report.policy_changes = changes.results
    return report


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


def _progress(options: EvalOptions, done: int) -> None:
    if options.progress:
        options.progress(done, done)


def _load_config(trusted: Workspace, options: EvalOptions, today: dt.date) -> RepoConfig:
    if options.config_bytes is not None:
        return load_repo_config(options.config_bytes, options.config_path or ".gitops-bot.yaml", today=today)
    found = find_config(trusted.read)
    if found is None:
        return RepoConfig()
    name, data = found
    return load_repo_config(data, name, today=today)


def _policy_sets(trusted: Workspace, config: RepoConfig, options: EvalOptions, report: Report) -> list:
    """In-process policy sets, or the evaluators of a backend the front door plugged in (an OPA server)."""
    engine = options.engine or config.policy_engine
    backend = options.backends.policy_backend(config, engine) if options.backends else None
    if backend is not None:
        return backend.load(trusted, config, options.extra_policy_dirs)
    if engine == OPA_SERVER_ENGINE:
        report.findings.append(
            _config_finding("policies.engine is opa-server but no OPA server is configured here", config.source).with_(
                rule="policy/opa-unavailable", source=Source.POLICY
            )
        )
        return []
    return load_policies(trusted, config, options.extra_policy_dirs, engine=engine)


def _limits(config: RepoConfig) -> LoadLimits:
    defaults = LoadLimits()
    return LoadLimits(
        max_bytes=config.max_file_bytes or defaults.max_bytes,
        max_documents=config.max_documents or defaults.max_documents,
        max_depth=defaults.max_depth,
        max_nodes=defaults.max_nodes,
    )


def _paths_to_check(head: Workspace, config: RepoConfig, changed: Collection[str] | None) -> list[str]:
    candidates = head.paths if changed is None else [p for p in sorted(set(changed)) if head.exists(p)]
    return [p for p in candidates if config.selects(p)]


def _crds_from_config(head: Workspace, config: RepoConfig, limits: LoadLimits, exclude: set[str]) -> list[Resource]:
    """CRDs from the configured locations, loaded even when the change does not touch them."""
    if not config.crds:
        return []
    wanted = [
        p
        for p in head.paths
        if p not in exclude
        and p.endswith((".yaml", ".yml", ".json"))
        and any(_under(p, loc) for loc in config.crds)
    ]
    loaded = load_workspace(head, wanted, limits)
    return [r for r in loaded.resources if r.kind == "CustomResourceDefinition"]


def _under(path: str, location: str) -> bool:
    import fnmatch

    loc = location.strip().removeprefix("./")
    if any(ch in loc for ch in "*?["):
        return fnmatch.fnmatchcase(path, loc)
    return path == loc or path.startswith(loc.rstrip("/") + "/")


def _config_finding(message: str, config_file: str) -> Finding:
    return Finding(
        rule="config/invalid",
        severity=Severity.ERROR,
        message=message,
        file=config_file,
        source=Source.CONFIG,
        remediation="Fix the setting named in the message (README: Configuration).",
    )


def _waive_by_annotations(findings: list[Finding], by_resource: dict) -> list[Finding]:
    if not by_resource:
        return findings
    out: list[Finding] = []
    for f in findings:
        waivers = by_resource.get((f.file, f.resource)) if f.resource else None
        out.extend(waive_by_annotations([f], waivers) if waivers else [f])
    return out


def _apply_overrides(findings: list[Finding], overrides: dict[str, Severity | None]) -> list[Finding]:
    """Config `rules:` re-levels or disables any rule id (schema and policy alike)."""
    if not overrides:
        return findings
    out = []
    for f in findings:
        if f.rule in overrides:
            level = overrides[f.rule]
            if level is None:
                continue
            f = f.with_(severity=level)
        out.append(f)
    return out


def _load_before(
    base: Workspace, config: RepoConfig, options: EvalOptions, limits: LoadLimits, patch_files: set[str]
) -> LoadResult:
    """The changed and deleted files as they were at base (in scope of the config): the other side of each change."""
    changed = set(options.changed_paths or ()) | set(options.deleted_paths)
    paths = [p for p in sorted(changed) if base.exists(p) and config.selects(p)]
    return load_workspace(base, paths, limits, patch_files=patch_files)


def _deleted_objects(before: LoadResult, loaded: LoadResult) -> list[ResourceRef]:
    """Objects defined in the changed files at base that no changed file defines any more."""
    after_keys = {r.ref.key() for r in loaded.resources if not r.is_patch}
    gone: dict[tuple[str, str, str, str], ResourceRef] = {}
    for r in before.resources:
        if not r.is_patch and r.ref.key() not in after_keys:
            gone.setdefault(r.ref.key(), r.ref)
    return [gone[k] for k in sorted(gone)]
