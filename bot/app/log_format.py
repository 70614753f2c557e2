"""Log line formats of the App's processes: readable text (default) or one JSON object per line.

GITOPS_BOT_LOG_FORMAT=json makes every line of the web processes (gunicorn's own included), the
evaluation processes and the workers a JSON object, for log pipelines; the context of a delivery
(delivery id, event, installation, repo, PR, sha, duration, outcome, GitHub calls) comes as fields.
Credentials are masked in every line either way (`MaskSecretsFilter`, and here for the fields).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.app.log_masking import MaskSecretsFilter
from bot.core.masking import mask_secrets
from bot.errors import ConfigError

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s [%(process)d] [%(levelname)s] %(message)s"  # gunicorn's own, for one stream
TEXT_DATE_FORMAT = "[%Y-%m-%d %H:%M:%S %z]"
# Attributes a log call may set with ``extra=``; the JSON line carries each one that is present.
CONTEXT_FIELDS = ("delivery_id", "event", "installation", "repo", "pr", "sha", "duration_ms", "outcome",
                  "github_calls", "error")


def log_format(env: Mapping[str, str] | None = None) -> str:
    """GITOPS_BOT_LOG_FORMAT (text | json, default text); a ConfigError names a bad value."""
    env = os.environ if env is None else env
    value = env.get("GITOPS_BOT_LOG_FORMAT", "").strip().lower() or "text"
    if value not in LOG_FORMATS:
        raise ConfigError(f"GITOPS_BOT_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {value!r}")
    return value


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line: time, level, logger, pid, message, context fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": mask_secrets(record.getMessage()),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = mask_secrets(value) if isinstance(value, str) else value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = mask_secrets(record.exc_text)
        return json.dumps(line, ensure_ascii=False, default=str)


def make_formatter(fmt: str, text_format: str = TEXT_FORMAT) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else logging.Formatter(text_format, TEXT_DATE_FORMAT)


def configure_root_logging(text_format: str = TEXT_FORMAT, env: Mapping[str, str] | None = None) -> None:
    """Log to stderr in GITOPS_BOT_LOG_FORMAT at GITOPS_BOT_LOG_LEVEL, credentials masked (workers, children)."""
    env = os.environ if env is None else env
    handler = logging.StreamHandler()
    handler.setFormatter(make_formatter(log_format(env), text_format))
    handler.addFilter(MaskSecretsFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    level = env.get("GITOPS_BOT_LOG_LEVEL", "INFO").strip().upper() or "INFO"
    try:
        root.setLevel(level)
    except ValueError:
        raise ConfigError(f"GITOPS_BOT_LOG_LEVEL must be a logging level (DEBUG, INFO, ...), got {level!r}") from None
