"""The plan reads what the change touches: the same files in a repository of 250 apps as in one of 1,000."""

from __future__ import annotations

from bot.core.deploy_targets import MAX_SCANNED_FILES
from bot.core.workspace import Workspace
from bot.plan.build import build_plan
from bot.plan.kustomize_runner import KustomizeRunner
from bot.plan.model import Plan
from tests.support.gitops_corpus import gitops_repo

APP = "apps/app00007"


def _counted(files: dict[str, bytes], label: str, reads: list[str]) -> Workspace:
    def read(path: str) -> bytes | None:
        reads.append(f"{label}:{path}")
        return files.get(path)

    return Workspace(files, read, label=label)


def _plan_reads(apps: int, runner: KustomizeRunner) -> tuple[Plan, list[str]]:
    base = gitops_repo(apps * 10, kustomize=True)
    head = gitops_repo(apps * 10, kustomize=True, changed=(7,))
    # Deployers (Argo CD, Flux) are looked for in every manifest up to this many; both sizes are above it,
    # so what is left is what the change itself costs.
    assert sum(p.endswith(".yaml") for p in base) > MAX_SCANNED_FILES
    reads: list[str] = []
    plan = build_plan(_counted(base, "base", reads), _counted(head, "head", reads), [f"{APP}/deployment.yaml"],
                      runner=runner)
    return plan, sorted(reads)


def test_the_plan_reads_the_changed_root_only_whatever_the_size_of_the_repository(runner: KustomizeRunner):
    small_plan, small = _plan_reads(250, runner)
    large_plan, large = _plan_reads(1000, runner)

    assert large == small
    app_files = sorted(p for p in gitops_repo(80, kustomize=True) if p.startswith(f"{APP}/"))
    assert small == sorted(f"{side}:{p}" for side in ("base", "head") for p in app_files)  # 12 files a side
    for plan in (small_plan, large_plan):
        [root] = plan.roots
        assert (root.path, root.status) == (APP, "rendered"), root.reason
        assert [(o.operation, o.key[1]) for o in root.objects] == [("update", "Deployment")]
