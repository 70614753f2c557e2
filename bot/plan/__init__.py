"""The plan: what the reconciler will change, object by object, for the roots a change affects."""

from bot.plan.build import build_plan, plan_change
from bot.plan.markdown import COMMENT_LIMIT, render_plan_comments, render_plan_markdown
from bot.plan.model import Deployer, ObjectDiff, Plan, Risk, RootPlan, SecretKeyChange

__all__ = [
    "COMMENT_LIMIT",
    "Deployer",
    "ObjectDiff",
    "Plan",
    "Risk",
    "RootPlan",
    "SecretKeyChange",
    "build_plan",
    "plan_change",
    "render_plan_comments",
    "render_plan_markdown",
]
