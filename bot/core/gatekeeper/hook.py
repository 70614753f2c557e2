"""The evaluation stage that adds Gatekeeper findings to a report (called from `bot.core.evaluate`)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.config import RepoConfig
from bot.core.findings import Finding
from bot.core.gatekeeper.evaluate import evaluate_gatekeeper
from bot.core.gatekeeper.expansion import is_expansion_template
from bot.core.gatekeeper.objects import is_constraint, is_template
from bot.core.manifests import LoadLimits, load_workspace
from bot.core.rego.engine import DEFAULT_ENGINE, ENGINES
from bot.core.resource import Resource
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
    `.gitops-bot.yaml`, read from the trusted tree like every other policy.
    """
    settings = config.raw.get("gatekeeper") or {}
    if settings.get("enabled") is False:
        return findings
    policy_resources = configured_policy_resources(trusted, settings.get("paths") or (), limits)
    result = evaluate_gatekeeper(resources, policy_resources=policy_resources, engine=in_process_engine(engine, config))
    return [f for f in findings if not result.explains_unknown_kind(f)] + result.findings


def in_process_engine(engine: str | None, config: RepoConfig) -> str:
    """Templates always run in-process: an engine of ours by name, else (e.g. an OPA server) the default."""
    name = engine or config.policy_engine or DEFAULT_ENGINE
    if name in ENGINES:
        return name
    return "opa" if name.startswith("opa") else DEFAULT_ENGINE


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
