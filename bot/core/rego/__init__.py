"""Rego policies: engine adapters, METADATA, conftest semantics, and the policy test runner."""

from bot.core.rego.engine import DEFAULT_ENGINE, ENGINES, RegoEngine
from bot.core.rego.engine_factory import make_engine
from bot.core.rego.metadata import RuleMetadata, parse_package_metadata
from bot.core.rego.policyset import PolicySet
from bot.core.rego.sources import builtin_policy_dir
from bot.core.rego.testing import PolicyTestResult, run_policy_tests

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "PolicySet",
    "PolicyTestResult",
    "RegoEngine",
    "RuleMetadata",
    "builtin_policy_dir",
    "make_engine",
    "parse_package_metadata",
    "run_policy_tests",
]
