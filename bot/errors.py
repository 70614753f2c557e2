"""One exception hierarchy; every message is meant for a user, never a traceback."""


class GitOpsBotError(Exception):
    """Base of every error the bot raises on purpose. ``str(err)`` is user-facing."""

    exit_code = 2


class ConfigError(GitOpsBotError):
    """Invalid `.gitops-bot.yaml`, CLI flags, environment or policy configuration."""


class PolicyError(GitOpsBotError):
    """A Rego policy that does not compile or cannot be evaluated."""


class GitHubError(GitOpsBotError):
    """GitHub answered in a way the bot cannot work with (after retries)."""
