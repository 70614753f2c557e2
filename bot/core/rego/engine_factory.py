"""Pick a Rego engine adapter by name (the adapters import `engine`; only this module imports them)."""

from __future__ import annotations

from bot.core.rego.engine import DEFAULT_ENGINE, ENGINES, RegoEngine
from bot.errors import ConfigError

OPA_EXTRA_MISSING = (
    "Rego engine {engine!r} needs real OPA (opa-golib-python-bindings), which is not installed: "
    "install the extra with `pip install --ignore-requires-python 'gitops-policy-bot[opa]'`, "
    "or use the default engine regorus"
)


def make_engine(name: str = DEFAULT_ENGINE) -> RegoEngine:
    """A fresh engine by name; an unknown name is a configuration error that lists the valid ones."""
    if name == "regorus":
        from bot.core.rego.regorus_engine import RegorusEngine

        return RegorusEngine()
    if name in ("opa", "opa-server"):  # opa-server judges remotely (bot.backends); checks of edits run OPA here
        try:
            from bot.core.rego.opa_engine import OpaGolibEngine
        except ImportError:  # an optional extra: asking for it without installing it is a setting to fix, not a crash
            raise ConfigError(OPA_EXTRA_MISSING.format(engine=name)) from None
        return OpaGolibEngine()
    raise ConfigError(f"unknown Rego engine {name!r}: expected one of {', '.join(ENGINES)}")
