"""Gatekeeper ConstraintTemplates and constraints, evaluated offline like ``gator``."""

from bot.core.gatekeeper.evaluate import GatekeeperResult, evaluate_gatekeeper
from bot.core.gatekeeper.match import MatchError, matches
from bot.core.gatekeeper.suites import run_gatekeeper_suites, run_suites

__all__ = [
    "GatekeeperResult",
    "MatchError",
    "evaluate_gatekeeper",
    "matches",
    "run_gatekeeper_suites",
    "run_suites",
]
