"""The versioned JSON form of a report (schema: bot/schemas/report-v1.json), for other tools to read."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.core.masking import mask_report
from bot.core.report import Report


@dataclass(frozen=True)
class JsonReporter:
    """Exactly ``Report.to_json()`` after masking, indented, keys in their defined (stable) order."""

    def render(self, report: Report) -> str:
        return json.dumps(mask_report(report).to_json(), indent=2, ensure_ascii=False) + "\n"
