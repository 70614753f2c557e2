"""A logging filter that masks credentials in every log line: the second line of defence for logs."""

from __future__ import annotations

import logging

from bot.core.masking import mask_secrets


class MaskSecretsFilter(logging.Filter):
    """Rewrites a record's message (and traceback) through `mask_secrets` before any handler writes it.

    The App never logs tokens, keys or Secret values on purpose; this catches the
    accidental ones (an exception that quotes a request, a library's debug line).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_secrets(logging.Formatter().formatException(record.exc_info))
        return True
