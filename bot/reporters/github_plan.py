"""The plan as PR comments: numbered parts edited in place on later plans, stale parts deleted."""

from __future__ import annotations

import re

from bot.plan import COMMENT_LIMIT, render_plan_comments
from bot.plan.model import Plan

_MARKER = "<!-- gitops-policy-bot:plan part={part} -->"
_MARKER_RE = re.compile(r"<!-- gitops-policy-bot:plan part=(\d+) -->")


def plan_comment_bodies(plan: Plan, limit: int = COMMENT_LIMIT) -> list[str]:
    """Rendered parts, each starting with its hidden marker and within GitHub's limit."""
    marker_room = len(_MARKER.format(part=999)) + 1
    parts = render_plan_comments(plan, limit=limit - marker_room)
    return [f"{_MARKER.format(part=i)}\n{body}" for i, body in enumerate(parts, start=1)]
