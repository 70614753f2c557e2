"""Build the plan of a change: affected roots, rendered at base and head, diffed object by object."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bot.core.masking import mask_secrets
from bot.core.workspace import Workspace
from bot.errors import GitOpsBotError
from bot.plan.deployers import Target, deployers_of, find_targets
from bot.plan.helm import HelmInput, HelmNotFound, HelmRunner, helm_source, prepare_helm
from bot.plan.kustomize_runner import KustomizeNotFound, KustomizeRunner
from bot.plan.model import FAILED, HELM_NOT_RENDERED, HELM_ROOT, NOT_RENDERED, REFUSED, Plan, RootPlan
from bot.plan.objects import diff_objects
from bot.plan.render import (
    KustomizeInput,
    Rendered,
    RenderRefused,
    Side,
    finish_side,
    prepare_side,
    refusals,
)
from bot.plan.roots import AffectedRoot, find_affected_roots, in_scope
from bot.pull.context import PullContext

# Each root costs two kustomize builds: past this many, the rest are listed, not rendered.
MAX_ROOTS = 50
# kustomize builds run as subprocesses, so threads overlap them well even on 2 cores.
BUILD_WORKERS = 4


def plan_change(
    ctx: PullContext,
    *,
    runner: KustomizeRunner | None = None,
    scopes: Sequence[str] = (),
    max_roots: int = MAX_ROOTS,
    helm: HelmRunner | None = None,
) -> Plan:
    """The plan of a pull request (or local change): what the reconciler will change once it merges."""
    head = ctx.workspace(ctx.head_sha())
    base_sha = ctx.base_sha()
    base = ctx.workspace(base_sha) if base_sha else Workspace([], lambda _: None, label="empty")
    changed: list[str] = []
    for c in ctx.changed_files():
        changed.append(c.path)
        if c.previous_path:
            changed.append(c.previous_path)
    return build_plan(base, head, changed, runner=runner, scopes=scopes, max_roots=max_roots, helm=helm)


def build_plan(
    base: Workspace,
    head: Workspace,
    changed_paths: Iterable[str],
    *,
    runner: KustomizeRunner | None = None,
    scopes: Sequence[str] = (),
    max_roots: int = MAX_ROOTS,
    helm: HelmRunner | None = None,
) -> Plan:
    """Render every root that ``changed_paths`` affect at both sides and diff them.

    A root that cannot be rendered (unsafe, no kustomize, kustomize error) is listed with
    the reason instead of objects: the plan always completes. Workspaces are read on the
    calling thread only; the kustomize builds run in parallel.
    """
    runner = runner or KustomizeRunner()
    helm = helm or HelmRunner.from_environ(os.environ)  # the operator's switch (GITOPS_BOT_HELM)
    base_side, head_side = Side(base), Side(head)
    targets = _targets(base, head)
    notices: list[str] = []
    roots = [r for r in find_affected_roots((base_side, head_side), changed_paths, targets, notices)
             if in_scope(r.path, scopes)]
    jobs: list[_RootJob | _HelmJob | RootPlan] = []
    for number, root in enumerate(roots):
        plan = RootPlan(root.path, root.kind, deployed_by=deployers_of(targets, root.path))
        if root.kind == HELM_ROOT:
            jobs.append(_prepare_helm(plan, root, base, head, targets, helm) if helm.enabled else
                        _fail(plan, NOT_RENDERED, HELM_NOT_RENDERED))
        elif number >= max_roots:
            _fail(plan, NOT_RENDERED, f"the change affects {len(roots)} roots; only the first {max_roots} are rendered")
            jobs.append(plan)
        else:
            jobs.append(_prepare(plan, root, base_side, head_side))
    with ThreadPoolExecutor(max_workers=BUILD_WORKERS) as pool:
        done = list(pool.map(lambda job: job if isinstance(job, RootPlan) else job.finish(runner), jobs))
    return Plan(base=base.label, head=head.label, roots=done, notices=notices)


def _targets(base: Workspace, head: Workspace) -> list[Target]:
    """Deployers at head, plus those only base still has (a change that removes an Application)."""
    targets = find_targets(head)
    known = {t.deployer for t in targets}
    return targets + [t for t in find_targets(base) if t.deployer not in known]


@dataclass
class _RootJob:
    """A root whose files are read: what is left is running kustomize and diffing."""

    plan: RootPlan
    before: Rendered | KustomizeInput | None  # None: the root does not exist on that side
    after: Rendered | KustomizeInput | None

    def finish(self, runner: KustomizeRunner) -> RootPlan:
        plan = self.plan
        try:
            before = _finish("base", self.before, runner)
            after = _finish("head", self.after, runner)
        except KustomizeNotFound as e:
            return _fail(plan, NOT_RENDERED, str(e))
        except RenderRefused as e:
            return _fail(plan, REFUSED, str(e))
        except GitOpsBotError as e:
            return _fail(plan, FAILED, str(e))
        except OSError as e:  # the sandbox or the binary itself: the plan still completes
            return _fail(plan, FAILED, f"kustomize could not run: {e.strerror or e}")
        plan.objects = diff_objects(before.resources if before else [], after.resources if after else [], plan.path)
        for rendered, side in ((before, "base"), (after, "head")):
            plan.notes.extend(mask_secrets(f"{side}: {note}") for note in (rendered.notes if rendered else []))
        return plan


@dataclass
class _HelmJob:
    """A chart whose files are read at both sides: what is left is `helm template` and diffing."""

    plan: RootPlan
    before: HelmInput | None
    after: HelmInput | None
    helm: HelmRunner

    def finish(self, runner: KustomizeRunner) -> RootPlan:
        try:
            before = self.helm.render(self.before) if self.before else None
            after = self.helm.render(self.after) if self.after else None
        except HelmNotFound as e:
            return _fail(self.plan, NOT_RENDERED, str(e))
        except RenderRefused as e:
            return _fail(self.plan, REFUSED, str(e))
        except GitOpsBotError as e:
            return _fail(self.plan, FAILED, str(e))
        except OSError as e:
            return _fail(self.plan, FAILED, f"helm could not run: {e.strerror or e}")
        return _RootJob(self.plan, before, after).finish(runner)


def _prepare_helm(
    plan: RootPlan, root: AffectedRoot, base: Workspace, head: Workspace, targets: list[Target], helm: HelmRunner
) -> _HelmJob | RootPlan:
    """Refuse before anything runs when either side asks for something outside the repository."""
    try:
        sides = []
        for ws in (base, head):
            source = helm_source(ws, root.path, targets)
            present = any(p.startswith(f"{root.path}/") for p in ws.paths)  # a chart this change adds or removes
            sides.append(prepare_helm(ws, source) if source is not None and present else None)
    except GitOpsBotError as e:
        return _fail(plan, REFUSED, str(e))
    return _HelmJob(plan, sides[0], sides[1], helm)


def _prepare(plan: RootPlan, root: AffectedRoot, base: Side, head: Side) -> _RootJob | RootPlan:
    """Read what both sides need; refuse before anything runs if either side is unsafe."""
    problems = [*refusals(base, root.path), *refusals(head, root.path)]
    if problems:
        return _fail(plan, REFUSED, "; ".join(dict.fromkeys(problems)))
    try:
        before = prepare_side(base, root.path, root.recurse) if base.exists(root.path) else None
        after = prepare_side(head, root.path, root.recurse) if head.exists(root.path) else None
    except GitOpsBotError as e:
        return _fail(plan, REFUSED, str(e))
    return _RootJob(plan, before, after)


def _finish(label: str, prepared: Rendered | KustomizeInput | None, runner: KustomizeRunner) -> Rendered | None:
    """One side's render; errors name the side (kustomize missing is the same for both)."""
    if prepared is None:
        return None
    try:
        return finish_side(prepared, runner)
    except KustomizeNotFound:
        raise
    except GitOpsBotError as e:
        raise type(e)(f"{label}: {e}") from e


def _fail(plan: RootPlan, status: str, reason: str) -> RootPlan:
    plan.status = status
    plan.reason = mask_secrets(reason)  # kustomize errors may quote a literal from the input
    return plan
