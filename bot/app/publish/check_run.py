"""The verdict as a completed check run: the first request carries the text, later ones more annotations."""

from __future__ import annotations

from bot.core.report import Report
from bot.github.api import RepoApi
from bot.reporters.github_check import CheckContext, CheckRunResult, build_outputs, conclusion


def publish(api: RepoApi, check_run_id: int, report: Report, ctx: CheckContext) -> CheckRunResult:
    """Complete the check run with the verdict, then append the remaining annotation batches."""
    outputs = build_outputs(report, ctx)
    verdict = conclusion(report, ctx)
    api.update_check_run(check_run_id, conclusion=verdict, output=outputs[0])
    for extra in outputs[1:]:
        api.update_check_run(check_run_id, output=extra)
    return CheckRunResult(verdict, outputs[0].title, sum(len(o.annotations) for o in outputs), len(outputs), outputs)
