"""The evaluation stage that adds Gatekeeper findings to a report (called from `bot.core.evaluate`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.core.config import RepoConfig
from bot.core.findings import Finding
from bot.core.gatekeeper.evaluate import GatekeeperResult, evaluate_gatekeeper
from bot.core.gatekeeper.expansion import is_expansion_template
from bot.core.gatekeeper.objects import is_constraint, is_template
from bot.core.manifests import LoadLimits, load_workspace
from bot.core.rego.engine import in_process_engine
from bot.core.resource import Resource
from bot.core.sandbox import SandboxLimitError, run_sandboxed, trusted_worker
from bot.core.workspace import Workspace

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def check_gatekeeper(
    findings: list[Finding],
    resources: Sequence[Resource],
    *,
    trusted: Workspace,
    config: RepoConfig,
    limits: LoadLimits,
    engine: str | None = None,
) -> list[Finding]:
    """``findings`` plus Gatekeeper's, minus the unknown-kind notices about templates and their constraints.

    Templates and constraints come from the judged resources and from ``gatekeeper.paths`` in
    `.gitops-bot.yaml`, read from the trusted tree like every other policy. Templates always run
    in a sandbox child (`bot.core.sandbox`): a fresh one when the change carries templates.
    """
    settings = config.raw.get("gatekeeper") or {}
    if settings.get("enabled") is False:
        return findings
    policy_resources = configured_policy_resources(trusted, settings.get("paths") or (), limits)
    from_change = [r for r in resources if _is_policy_object(r)]
    if not policy_resources and not any(_is_gatekeeper_object(r) for r in resources):
        return findings  # nothing to run: no child process for the common case
    payload = {"resources": list(resources), "policy_resources": policy_resources, "engine": in_process_engine(engine or config.policy_engine)}
    label = f"Gatekeeper templates ({', '.join(sorted({r.file for r in from_change or policy_resources})[:3])})"
    try:
        if from_change:  # templates the change carries are untrusted: a fresh, limited child
            answer = run_sandboxed(f"{__name__}:evaluate_in_child", payload, label=label)
        else:  # the base branch's templates: the long-lived worker, still under a time limit
            worker_limits = trusted_worker().limits
            answer = trusted_worker().call(f"{__name__}:evaluate_in_child", payload, timeout=worker_limits.trusted_wall_seconds, label=label)
    except SandboxLimitError as e:
        blamed = (from_change or policy_resources)[0]
        return findings + [e.finding(
            "no Gatekeeper constraint was evaluated", file=blamed.file, line=blamed.line,
            remediation="Make the template's Rego cheaper (no unbounded numbers.range or nested iteration).",
        )]
    kinds = set(answer["template_kinds"])
    result = GatekeeperResult([Finding.from_json(f) for f in answer["findings"]], kinds)
    return [f for f in findings if not result.explains_unknown_kind(f)] + result.findings


def evaluate_in_child(payload: dict[str, Any]) -> dict[str, Any]:
    """Runs inside the sandbox child: Gatekeeper's findings as JSON."""
    result = evaluate_gatekeeper(payload["resources"], policy_resources=payload["policy_resources"], engine=payload["engine"])
    return {"findings": [f.to_json() for f in result.findings], "template_kinds": sorted(result.template_kinds)}


def _is_policy_object(resource: Resource) -> bool:
    """Objects whose content executes (Rego of a template; an expansion's generator)."""
    return isinstance(resource.obj, dict) and (is_template(resource.obj) or is_expansion_template(resource.obj))


def _is_gatekeeper_object(resource: Resource) -> bool:
    return _is_policy_object(resource) or (isinstance(resource.obj, dict) and is_constraint(resource.obj))


def configured_policy_resources(ws: Workspace, locations: Sequence[str], limits: LoadLimits) -> list[Resource]:
    """Templates, constraints and ExpansionTemplates under the configured directories, files or globs."""
    if not locations:
        return []
    wanted = [p for p in ws.paths if p.endswith(MANIFEST_SUFFIXES) and any(_under(p, loc) for loc in locations)]
    loaded = load_workspace(ws, wanted, limits)
    return [r for r in loaded.resources if is_template(r.obj) or is_constraint(r.obj) or is_expansion_template(r.obj)]


def _under(path: str, location: str) -> bool:
    import fnmatch

    loc = location.strip().removeprefix("./")
    if any(ch in loc for ch in "*?["):
        return fnmatch.fnmatchcase(path, loc)
    return path == loc or path.startswith(loc.rstrip("/") + "/")
