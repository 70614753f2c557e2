"""Judge a change the same way everywhere: the App's pull requests and `gitops-bot check --base`."""

from __future__ import annotations

import dataclasses

from bot.core.evaluate import EvalOptions, evaluate
from bot.core.kustomize import kustomizations_near
from bot.core.report import Report
from bot.pull.context import PullContext


def evaluate_change(ctx: PullContext, options: EvalOptions | None = None) -> Report:
    """Changed files at head, judged with config and policies from base (the trusted side)."""
    options = options or EvalOptions()
    head = ctx.workspace(ctx.head_sha())
    base_sha = ctx.base_sha()
    if base_sha is None:
        return evaluate(head, options=options)
    base = ctx.workspace(base_sha)
    changed = ctx.changed_files()
    scoped = dataclasses.replace(
        options,
        changed_paths=[c.path for c in changed if c.status != "removed"],
        deleted_paths=[c.path for c in changed if c.status == "removed"]
        + [c.previous_path for c in changed if c.previous_path],
    )
    # What the evaluation reads first, said up front: a remote tree fetches it in one request.
    changed_paths, deleted_paths = list(scoped.changed_paths or ()), list(scoped.deleted_paths)
    head.prefetch(changed_paths + kustomizations_near(head, changed_paths))
    base.prefetch(changed_paths + deleted_paths)
    return evaluate(head, base=base, trusted=base, options=scoped)
