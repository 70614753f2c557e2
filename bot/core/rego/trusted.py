"""Base-branch policy sets evaluated in the long-lived sandbox worker, so even a trusted policy has a time limit.

The parent keeps only a small handle (the sources and how to compile them); the worker
compiles each distinct handle once and keeps it (an LRU inside the child), so the fast
path costs one pipe round trip per evaluation. A worker that overran is killed and the
next call starts a fresh one, which compiles again from the handle's sources.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.config import RepoConfig
from bot.core.findings import Finding
from bot.core.rego.policyset import PolicySet
from bot.core.rego.sources import workspace_sources
from bot.core.resource import FieldPath, Resource
from bot.core.sandbox import SandboxLimitError, trusted_worker
from bot.core.workspace import Workspace

_CACHE_SIZE = 32
_compiled: OrderedDict[str, PolicySet] = OrderedDict()  # inside the worker child only
_INVENTORIES = 4
_inventories: OrderedDict[str, dict[str, Any]] = OrderedDict()  # inside the worker child only: inventories by digest


@dataclass(frozen=True)
class TrustedPolicySet:
    """What `PolicySet.load` needs, by value; ``key`` names it inside the worker."""

    sources: tuple[tuple[str, str], ...]
    namespaces: tuple[str, ...]
    engine: str
    builtin: bool
    label: str = "policies"

    @property
    def key(self) -> str:
        digest = hashlib.sha256(repr((self.namespaces, self.engine, self.builtin)).encode())
        for name, text in self.sources:
            digest.update(name.encode() + b"\0" + text.encode() + b"\0")
        return digest.hexdigest()

    def compile(self) -> str:
        """Compile now (in the worker) so a broken policy is reported at load time; raises PolicyError.

        Returns the engine that judges: ``opa`` where regorus would read a policy differently
        (`bot.core.rego.parity.route_engine`), else the one asked for.
        """
        return str(self._call({"spec": self, "resources": None}))

    def evaluate(
        self,
        resources: Sequence[Resource],
        *,
        peers: Sequence[Resource] | None = None,
        inventory: dict[str, list[dict[str, object]]] | None = None,
    ) -> list[Finding]:
        """``peers``: the objects applied together with ``resources``; ``inventory``: theirs, built already.

        See `PolicySet.evaluate`. An inventory crosses the pipe once: the worker keeps the last
        few by digest, and later calls with the same object send only the digest.
        """
        if not any(not r.is_patch for r in resources):
            return []
        shipped_peers = None
        if peers is not None and peers is not resources:
            shipped_peers = [_without_positions(r) for r in peers if not r.is_patch]
        payload: dict[str, Any] = {"spec": self, "resources": [_without_positions(r) for r in resources], "peers": shipped_peers}
        try:
            if inventory is None:
                answer = self._call(payload)
            else:
                digest = _inventory_digest(inventory)
                answer = self._call({**payload, "inventory_digest": digest})
                if isinstance(answer, dict):  # the worker does not hold it (first use, or a fresh worker)
                    answer = self._call({**payload, "inventory_digest": digest, "inventory": inventory})
        except SandboxLimitError as e:
            return [_limit_finding(e, self.label)]
        findings = []
        for data in answer:
            finding = Finding.from_json(data)
            if "lookup" in data:  # the field's position, looked up here where the positions are
                index, path = data["lookup"]
                line, column = resources[index].position(tuple(path))
                finding = finding.with_(line=line, column=column)
            findings.append(finding)
        return findings

    def _call(self, payload: dict[str, Any]) -> Any:
        worker = trusted_worker()
        return worker.call(
            f"{__name__}:run_in_worker", payload, timeout=worker.limits.trusted_wall_seconds, label=self.label
        )


_digests: list[tuple[dict[str, Any], str]] = []  # in the parent: recent inventories (kept alive, so ids stay theirs) and digests


def _inventory_digest(inventory: dict[str, list[dict[str, object]]]) -> str:
    """Computed once per inventory object: a tree's inventory is judged with again and again."""
    for known, digest in _digests:
        if known is inventory:
            return digest
    digest = hashlib.sha256(json.dumps(inventory, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    _digests.insert(0, (inventory, digest))
    del _digests[_INVENTORIES:]
    return digest


def compiled_in_worker(_payload: Any = None) -> int:
    """How many policy sets the worker holds compiled (warm-up and its test ask)."""
    return len(_compiled)


def run_in_worker(payload: dict[str, Any]) -> Any:
    """Runs inside the worker child: compile (cached by key), then judge the resources, as JSON."""
    spec: TrustedPolicySet = payload["spec"]
    key = spec.key
    policy_set = _compiled.get(key)
    if policy_set is None:
        policy_set = PolicySet.load(list(spec.sources), namespaces=spec.namespaces, engine=spec.engine, builtin=spec.builtin)
        _compiled[key] = policy_set
        while len(_compiled) > _CACHE_SIZE:
            _compiled.popitem(last=False)
    _compiled.move_to_end(key)
    if payload["resources"] is None:
        return policy_set.engine.name
    inventory = None
    if "inventory_digest" in payload:
        digest = payload["inventory_digest"]
        if "inventory" in payload:
            _inventories[digest] = payload["inventory"]
            while len(_inventories) > _INVENTORIES:
                _inventories.popitem(last=False)
        inventory = _inventories.get(digest)
        if inventory is None:
            return {"missing": digest}  # the parent sends it along
        _inventories.move_to_end(digest)
    lookups: list[tuple[int, FieldPath]] = []
    probes = [_PositionProbe(r, i, lookups) for i, r in enumerate(payload["resources"])]
    answer = []
    for finding in policy_set.evaluate(probes, peers=payload.get("peers"), inventory=inventory):
        data = finding.to_json()
        if finding.line < 0:
            data["lookup"] = lookups[-finding.line - 1]
        answer.append(data)
    return answer


# Field positions are most of a resource's pickled size (and of the time to send it), so only the
# two a finding without a field path uses cross the pipe; a finding's own field is looked up
# in the parent. ``_PositionProbe.position`` hands out a placeholder line that names the lookup.
_KEPT_POSITIONS: tuple[FieldPath, ...] = ((), ("metadata", "name"))


def _without_positions(resource: Resource) -> Resource:
    kept = {k: resource.positions[k] for k in _KEPT_POSITIONS if k in resource.positions}
    return dataclasses.replace(resource, positions=kept)


class _PositionProbe(Resource):
    """A resource (inside the worker) whose ``position`` records the path asked for and returns ``(-n, 0)``."""

    def __init__(self, resource: Resource, index: int, lookups: list[tuple[int, FieldPath]]):
        super().__init__(resource.obj, resource.file, resource.doc_index, resource.line, resource.positions, resource.is_patch)
        self._index = index
        self._lookups = lookups

    def position(self, path: FieldPath) -> tuple[int, int]:
        self._lookups.append((self._index, tuple(path)))
        return -len(self._lookups), 0


def _limit_finding(error: SandboxLimitError, label: str) -> Finding:
    return error.finding(
        "the repository's policies were stopped and judged nothing", file=label,
        remediation="Make the policy cheaper, or raise GITOPS_BOT_TRUSTED_POLICY_TIMEOUT (README: Threat model).",
    )


def judge_changes_limited(trusted: Workspace, config: RepoConfig, before: Sequence[Resource], after: Sequence[Resource],
                          **options: Any) -> list[Finding]:
    """`bot.core.change_policies.judge_changes` in the worker: change-aware base policies get the time limit too.

    Only the policy files cross the pipe (a Workspace of the trusted tree may be GitHub-backed).
    """
    files = dict(workspace_sources(trusted, config.policy_dirs)) if config.policy_dirs else {}
    # The child runs in "/": local directories (CLI --policy) must not depend on the working directory.
    options["extra_dirs"] = tuple(str(Path(d).resolve()) for d in options.get("extra_dirs", ()))
    payload = {"files": files, "config": config, "before": list(before), "after": list(after), "options": options}
    worker = trusted_worker()
    try:
        answer = worker.call(f"{__name__}:judge_changes_in_worker", payload, timeout=worker.limits.trusted_wall_seconds,
                             label="change policies")
    except SandboxLimitError as e:
        return [_limit_finding(e, config.source or "change policies")]
    return [Finding.from_json(f) for f in answer]


def judge_changes_in_worker(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Runs inside the worker child."""
    from bot.core.change_policies import judge_changes

    trusted = Workspace.from_dict(payload["files"])
    findings = judge_changes(trusted, payload["config"], payload["before"], payload["after"], **payload["options"])
    return [f.to_json() for f in findings]
