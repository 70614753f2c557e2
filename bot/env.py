"""Numbers from environment variables, refused at start-up with a message that names the variable."""

from __future__ import annotations

from collections.abc import Mapping

from bot.errors import ConfigError


def env_int(env: Mapping[str, str], name: str, *, default: int, minimum: int = 0) -> int:
    """``env[name]`` as an integer of at least ``minimum``; ``default`` when unset or blank."""
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {text!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def env_number(env: Mapping[str, str], name: str, *, default: float, positive: bool = False) -> float:
    """``env[name]`` as a number, never negative (``positive``: above 0); ``default`` when unset or blank."""
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {text!r}") from None
    if value < 0 or (positive and value == 0):
        raise ConfigError(f"{name} must be {'positive' if positive else 'at least 0'}, got {text!r}")
    return value
