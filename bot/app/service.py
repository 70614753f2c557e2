"""The App's evaluation of one change: check run in progress, evaluate, publish verdict, comment and review."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.app import supersede
from bot.app.evaluation_service import EvaluationRequest, ServiceFactory
from bot.app.head_registry import HeadRegistry, PublishedCheck, Refusal, head_registry_for
from bot.app.pipeline import PipelineOptions, Verdict, evaluate_pull
from bot.app.publish import check_run, ownership, plan_comments, review, sticky_comment
from bot.backends import edge_backends
from bot.backends.schema_catalog import catalog_access
from bot.commands.events import CommentEvent
from bot.commands.run import CommandResult, CommandSettings, refuse_commands, run_commands
from bot.core.config import InvalidConfigError, RepoConfig, find_config, load_repo_config
from bot.core.evaluate import EvalOptions
from bot.core.masking import mask_secrets
from bot.core.rendered import DEFAULT_MAX_RENDERED_ROOTS
from bot.core.report import Report
from bot.core.workspace import Workspace
from bot.errors import GitHubError, GitOpsBotError
from bot.github.api import CheckRunOutput, PullInfo, RepoApi
from bot.github.client import GitHubClientFactory
from bot.github.content_cache import DiskStore, content_cache_from_env
from bot.github.pull_context import GitHubPullContext
from bot.github.retry import RetryPolicy
from bot.github.sharing import github_sharing_from_env
from bot.plan.verdict_renderer import RENDER_CACHE_BYTES, max_rendered_roots, renderer_from_environ
from bot.reporters import github_check, github_comment, github_plan

if TYPE_CHECKING:
    from bot.app.settings import AppSettings

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class EvaluationOutcome:
    check_run_id: int
    conclusion: str  # success | failure | neutral
    title: str
    annotations: int = 0
    comment_id: int | None = None
    review_comments: int = 0
    report: Report | None = field(default=None, compare=False, repr=False)
    problems: tuple[str, ...] = ()  # best-effort steps that failed (comment, review, protection lookup)
    superseded_by: str = ""  # a newer head (or evaluation of this one) took over: this one stopped publishing


class GitHubService:
    """Turns an `EvaluationRequest` into a completed check run (plus comment and review on pull requests)."""

    def __init__(self, settings: AppSettings, *, client_factory: GitHubClientFactory | None = None,
                 retry_policy: RetryPolicy | None = None, heads: HeadRegistry | None = None) -> None:
        self._settings = settings
        self._heads = heads or head_registry_for(settings)  # who may publish for each pull request
        self._factory = client_factory or GitHubClientFactory(
            settings.app_id, settings.private_key, settings.api_url, retry_policy,
            cache=content_cache_from_env(os.environ, settings.data_dir, settings.redis_url),
            sharing=github_sharing_from_env(os.environ, settings.redis_url))
        # The operator's OPA server / kubeconform (OPA_URL, KUBECONFORM_PATH); a repository's own
        # `policies.opa.url` is never called by the App.
        self._backends = edge_backends(os.environ, repository_opa_url=False)
        # kustomize roots (and Helm charts when GITOPS_BOT_HELM is on) judged as rendered, cached by content on disk
        self._renderer = renderer_from_environ(
            os.environ, DiskStore(settings.data_dir / "render-cache", RENDER_CACHE_BYTES))
        self._max_rendered_roots = max_rendered_roots(os.environ, DEFAULT_MAX_RENDERED_ROOTS)
        # Only the operator's schema locations are ever read; a repository's config selects among them.
        self._schema_catalog = catalog_access(
            settings.schema_locations, settings.data_dir / "schema-cache", repository_may_add=False
        )

    def evaluate(self, request: EvaluationRequest) -> EvaluationOutcome:
        """Never leaves a check run in progress: on an error it is completed as failed, saying why."""
        tag = f"[{request.delivery_id or '-'}] {request.repo_full_name}@{request.head_sha[:7]}"
        api = self._factory.repo(request.installation_id, request.repo_full_name)
        try:
            return self._evaluate_with_check_run(api, request, tag)
        finally:
            close = getattr(api, "close", None)
            if close is not None:
                close()

    def evaluate_context(self, api: RepoApi, ctx: GitHubPullContext, request: EvaluationRequest) -> EvaluationOutcome:
        """`evaluate` on a context the caller already holds (a command's), so its trees are not listed again."""
        tag = f"[{request.delivery_id or '-'}] {request.repo_full_name}@{request.head_sha[:7]}"
        return self._evaluate_with_check_run(api, request, tag, ctx)

    def abandon(self, request: EvaluationRequest, reason: str) -> None:
        """The delivery will not run again: complete its open check run as failed, saying why."""
        tag = f"[{request.delivery_id or '-'}] {request.repo_full_name}@{request.head_sha[:7]}"
        api = self._factory.repo(request.installation_id, request.repo_full_name)
        try:
            for check_run_id in api.open_check_runs(self._settings.check_name, request.head_sha):
                log.warning("%s check run %d abandoned: %s", tag, check_run_id, reason)
                self._fail_check_run(api, check_run_id, "The evaluation did not finish", (
                    f"The evaluation stopped without a verdict and will not be retried: {reason}. "
                    "Push again or re-run the check; if it keeps failing, the App's logs have the details "
                    f"(delivery {request.delivery_id or '-'})."), tag)
        finally:
            close = getattr(api, "close", None)
            if close is not None:
                close()

    def _check_run(self, api: RepoApi, request: EvaluationRequest, tag: str) -> int:
        """One run per head sha: an earlier attempt's run that never completed (its worker died) is reused."""
        open_runs = api.open_check_runs(self._settings.check_name, request.head_sha)
        if open_runs:
            log.info("%s %s: continuing check run %d left in progress by an earlier attempt", tag,
                     request.trigger, open_runs[0])
            for stale in open_runs[1:]:  # older leftovers: one run per sha from here on
                self._fail_check_run(api, stale, "Superseded",
                                     f"This run was interrupted; check run {open_runs[0]} has the verdict.", tag,
                                     conclusion="cancelled")
            return open_runs[0]
        check_run_id = api.create_check_run(self._settings.check_name, request.head_sha)
        log.info("%s %s: check run %d in progress", tag, request.trigger, check_run_id)
        return check_run_id

    def _evaluate_with_check_run(self, api: RepoApi, request: EvaluationRequest, tag: str,
                                 ctx: GitHubPullContext | None = None) -> EvaluationOutcome:
        started = supersede.start(self._heads, api, request)
        if isinstance(started, Refusal):
            return self._drop(api, request, started.latest, tag)
        publication = supersede.Publication(self._heads, started, tag)
        # An earlier attempt of this very delivery completed its check run: the verdict is out, not repeated.
        done = self._heads.published(request.delivery_id, request.head_sha) if request.delivery_id else None
        check_run_id = done.check_run_id if done else self._check_run(api, request, tag)
        fail = self._fail_check_run if done is None else _keep_published
        try:
            outcome = self._evaluate(api, check_run_id, request, publication, done, ctx)
        except GitHubError as exc:
            fail(api, check_run_id, "GitHub did not answer as expected", str(exc), tag)
            raise
        except GitOpsBotError as exc:
            # Bad input (config, policies, manifests) that retrying cannot fix: the verdict is the message.
            log.warning("%s evaluation stopped: %s", tag, exc)
            title = "The change could not be evaluated"
            fail(api, check_run_id, title, str(exc), tag)
            return EvaluationOutcome(check_run_id, "failure", title)
        except (KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except BaseException:  # also Rust panics from native extensions (pyo3 PanicException)
            log.exception("%s evaluation crashed", tag)
            fail(api, check_run_id, "Internal error",
                 f"An internal error stopped the evaluation (delivery {request.delivery_id or '-'}). "
                 "Re-run the check; if it fails again, the App's logs have the details.", tag)
            raise
        log.info("%s %s: %s (%s)", tag, request.trigger, outcome.conclusion, outcome.title)
        return outcome

    def _evaluate(self, api: RepoApi, check_run_id: int, request: EvaluationRequest,
                  publication: supersede.Publication, done: PublishedCheck | None,
                  ctx: GitHubPullContext | None = None) -> EvaluationOutcome:
        ctx = ctx or self.pull_context(api, request)
        verdict = evaluate_pull(ctx, self.pipeline_options())
        return self._publish(api, check_run_id, ctx, verdict, request, publication, done)

    def _drop(self, api: RepoApi, request: EvaluationRequest, latest: str, tag: str) -> EvaluationOutcome:
        """Superseded before it started: nothing is evaluated; a run an earlier attempt left open is cancelled."""
        log.info("%s %s dropped: superseded by %s", tag, request.trigger, latest)
        run_ids = api.open_check_runs(self._settings.check_name, request.head_sha)
        for run_id in run_ids:
            self._cancel(api, run_id, request.head_sha, latest, tag)
        return EvaluationOutcome(run_ids[0] if run_ids else 0, "cancelled", supersede.SUPERSEDED_TITLE,
                                 superseded_by=latest)

    def _cancel(self, api: RepoApi, check_run_id: int, sha: str, latest: str, tag: str) -> None:
        """A newer head took over: this run ends cancelled, naming it (a newer evaluation of ``sha`` keeps it)."""
        if latest != sha:
            self._fail_check_run(api, check_run_id, f"Superseded by {latest[:7]}",
                                 supersede.superseded_text(sha, latest), tag, conclusion="cancelled")

    def pull_context(self, api: RepoApi, request: EvaluationRequest) -> GitHubPullContext:
        """The one context of a delivery: the webhook's pull request as is, fetched only when it lacks one."""
        pull = request.pull
        if pull is None and request.pull_number is not None:
            pull = api.get_pull(request.pull_number)
        base_sha = request.base_sha or (pull.base_sha if pull else None)
        return GitHubPullContext(api, request.head_sha, base_sha, request.pull_number, pull=pull,
                                 approvals_from=request.approvals_from)

    def pipeline_options(self) -> PipelineOptions:
        """The same options for the check run and for commands that re-derive the verdict."""
        return PipelineOptions(EvalOptions(backends=self._backends, schema_catalog=self._schema_catalog, renderer=self._renderer,
                                           max_rendered_roots=self._max_rendered_roots),
                               self._bot_login())

    def _publish(self, api: RepoApi, check_run_id: int, ctx: GitHubPullContext, verdict: Verdict,
                 request: EvaluationRequest, publication: supersede.Publication,
                 done: PublishedCheck | None) -> EvaluationOutcome:
        """The verdict out: the check run first (it is the gate), then the best-effort comment, review and plan.

        Each step runs only while this evaluation is the pull request's newest (`supersede.Publication`).
        """
        pull = ctx.pull()
        problems: list[str] = []
        warning = self._protection_warning(api, pull, problems)
        published, annotations = done, 0
        with publication.guard("check run") as may:
            if may and published is None:
                check = check_run.publish(api, check_run_id, verdict.report, github_check.CheckContext(
                    changed_paths=verdict.changed_paths,
                    protection_warning=warning,
                    neutral_on_warnings=verdict.options.neutral_on_warnings,
                    fail_on_warnings=verdict.options.fail_on_warnings,
                ))
                published, annotations = PublishedCheck(check_run_id, check.conclusion, check.title), check.annotations
                if request.delivery_id:
                    self._heads.record_published(request.delivery_id, request.head_sha, published)
        if published is None:
            self._cancel(api, check_run_id, request.head_sha, publication.superseded_by, publication.tag)
            return EvaluationOutcome(check_run_id, "cancelled", supersede.SUPERSEDED_TITLE,
                                     superseded_by=publication.superseded_by)
        comment_id = None
        review_comments = 0
        if pull is not None:
            with publication.guard("comment") as may:
                comment_id = self._comment(api, pull, verdict, warning, problems) if may else None
            with publication.guard("review") as may:
                review_comments = self._review(api, pull, verdict, problems) if may else 0
            if verdict.options.auto_plan and request.trigger.startswith("pull_request."):
                with publication.guard("plan") as may:
                    if may:
                        self._auto_plan(api, pull, ctx, problems)
        return EvaluationOutcome(check_run_id, published.conclusion, published.title, annotations, comment_id,
                                 review_comments, verdict.report, tuple(problems), publication.superseded_by)

    def _auto_plan(self, api: RepoApi, pull: PullInfo, ctx: GitHubPullContext, problems: list[str]) -> None:
        """`commands.autoPlan`: the plan comments follow every push. Best effort: the check is already out."""
        try:
            post_plan(api, pull.number, ctx, self._bot_login())
        except (GitOpsBotError, OSError) as exc:
            log.warning("auto-plan for #%d failed: %s", pull.number, exc)
            problems.append(f"auto-plan: {exc}")

    def run_commands(self, event: CommentEvent) -> list[CommandResult]:
        """The `/gitops ...` commands of one PR comment, with the prefix and approvers of the base branch.

        One context for the whole comment: the approval's verdict, the plan and the evaluation that
        follows read the same trees. An invalid config at the base is the answer, not a silent default.
        """
        api = self._factory.repo(event.installation_id, event.repo_full_name)
        try:
            pull = api.get_pull(event.pull_number)  # the comment's payload has no head sha
            ctx = GitHubPullContext(api, pull.head_sha, pull.base_sha, pull.number, pull=pull)
            host = _PullCommandHost(self, api, event, ctx)
            try:
                config = trusted_config(ctx.workspace(pull.base_sha))
            except InvalidConfigError as exc:
                return refuse_commands(event, host, str(exc))
            return run_commands(event, CommandSettings.of(config.raw, self._bot_login()), host)
        finally:
            close = getattr(api, "close", None)
            if close is not None:
                close()

    def _comment(self, api: RepoApi, pull: PullInfo, verdict: Verdict, warning: str,
                 problems: list[str]) -> int | None:
        if not verdict.options.sticky_comment:
            return None
        if not self._bot_login():  # it could never be found again: a new comment on every push
            problems.append(f"comment: skipped, {ownership.NO_LOGIN}")
            return None
        try:
            body = github_comment.render(verdict.report, github_comment.CommentContext(
                _repo_html_url(pull), pull.head_sha, self._settings.check_name, warning))
            return sticky_comment.upsert(api, pull.number, body, bot_login=self._bot_login(),
                                         create=github_comment.should_comment(verdict.report))
        except GitHubError as exc:
            log.warning("sticky comment on #%d failed: %s", pull.number, exc)
            problems.append(f"comment: {exc}")
            return None

    def _review(self, api: RepoApi, pull: PullInfo, verdict: Verdict, problems: list[str]) -> int:
        if not verdict.review_comments:
            return 0
        if not self._bot_login():  # earlier reviews could not be recognised: the same comments on every push
            problems.append(f"review: skipped, {ownership.NO_LOGIN}")
            return 0
        try:
            return review.post(api, pull.number, pull.head_sha, list(verdict.review_comments),
                                      bot_login=self._bot_login(), check_name=self._settings.check_name)
        except GitHubError as exc:
            log.warning("review on #%d failed: %s", pull.number, exc)
            problems.append(f"review: {exc}")
            return 0

    def _protection_warning(self, api: RepoApi, pull: PullInfo | None, problems: list[str]) -> str:
        """Best effort: a missing permission or a GitHub hiccup here never blocks the verdict."""
        if pull is None:
            return ""
        try:
            required = api.required_status_checks(pull.base_ref)
        except Exception as exc:  # noqa: BLE001 - best effort, logged
            log.info("could not read protection of %s: %s", pull.base_ref, exc)
            problems.append(f"branch protection: {exc}")
            return ""
        docs = github_check.REQUIRED_CHECK_DOCS
        if required is None:
            return (f"> ⚠️ The base branch `{pull.base_ref}` is not protected: pull requests can merge whatever "
                    f"this check says. [Make the check required]({docs}).")
        if self._settings.check_name not in required:
            return (f"> ⚠️ The base branch `{pull.base_ref}` does not require the **{self._settings.check_name}** "
                    f"check: pull requests can merge while it fails. [Make the check required]({docs}).")
        return ""

    def _fail_check_run(self, api: RepoApi, check_run_id: int, title: str, message: str, tag: str,
                        conclusion: str = "failure") -> None:
        try:
            api.update_check_run(check_run_id, conclusion=conclusion,
                                 output=CheckRunOutput(title, github_check.truncate(mask_secrets(message))))
        except Exception:  # noqa: BLE001 - already failing; the original error is what matters
            log.exception("%s could not mark check run %d as failed", tag, check_run_id)

    def _bot_login(self) -> str:
        return self._settings.bot_login

    def bot_login(self) -> str:
        """The App's own login ("<slug>[bot]"): only its comments are ours; "" when the slug is not configured."""
        return self._settings.bot_login


class _PullCommandHost:
    """`bot.commands.run.CommandHost` for one pull request through the GitHub API."""

    def __init__(self, service: GitHubService, api: RepoApi, event: CommentEvent, ctx: GitHubPullContext) -> None:
        self._service, self._api, self._event, self._ctx = service, api, event, ctx
        pull = ctx.pull()
        assert pull is not None  # comments are only ever on pull requests
        self._pull = pull

    def react(self, content: str) -> None:
        """Best effort: a missing reaction must not stop (or repeat) the command itself."""
        try:
            self._api.add_reaction(self._event.comment_id, content)
        except GitHubError as exc:
            log.warning("could not react %s to comment %d: %s", content, self._event.comment_id, exc)

    def reply(self, body: str) -> None:
        self._api.create_issue_comment(self._pull.number, mask_secrets(body))

    def repo_role(self, login: str) -> str:
        return self._api.collaborator_role(login)

    def in_team(self, org: str, team_slug: str, login: str) -> bool:
        return self._api.team_member(org, team_slug, login)

    def committed_at(self, sha: str) -> datetime | None:
        text = self._api.committed_at(sha)
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
        except ValueError:
            return None
        return moment.replace(tzinfo=moment.tzinfo or UTC) if moment else None

    def current_report(self) -> tuple[Report, str]:
        return evaluate_pull(self._ctx, self._service.pipeline_options()).report, self._pull.head_sha

    def evaluate(self) -> None:
        self._service.evaluate_context(self._api, self._ctx, EvaluationRequest(
            self._event.installation_id, self._event.repo_full_name, self._pull.head_sha, self._pull.base_sha,
            self._pull.number, "issue_comment.command", self._event.delivery_id, pull=self._pull))

    def plan(self, paths: tuple[str, ...]) -> int | None:
        count = post_plan(self._api, self._pull.number, self._ctx, self._service.bot_login(), scopes=paths)
        if count > plan_comments.MAX_PARTS:
            self.reply(f"The plan has {count} parts; only the first {plan_comments.MAX_PARTS} are posted. "
                       "Narrow it with paths: `plan apps/web`, or run `gitops-bot plan` locally.")
        return count


def post_plan(api: RepoApi, pull_number: int, ctx: GitHubPullContext, bot_login: str,
              scopes: tuple[str, ...] = ()) -> int:
    """Render the plan and keep its comments up to date; returns how many parts it has."""
    from bot.plan import plan_change  # renders with kustomize: only when asked

    if not bot_login:  # its parts could never be edited again: new ones on every plan
        raise GitOpsBotError(ownership.NO_LOGIN)

    plan = plan_change(ctx, scopes=[p for p in scopes if p != "."])
    bodies = [mask_secrets(b) for b in github_plan.plan_comment_bodies(plan)]
    plan_comments.publish_plan(api, pull_number, bodies, bot_login=bot_login)
    return len(bodies)


def _keep_published(api: RepoApi, check_run_id: int, title: str, message: str, tag: str) -> None:
    """An error after an earlier attempt published the verdict: the completed run keeps it; only logged."""
    log.warning("%s check run %d keeps its published verdict; this attempt stopped: %s: %s", tag, check_run_id,
                title, message)


def trusted_config(trusted: Workspace) -> RepoConfig:
    """`.gitops-bot.yaml` at the trusted side (defaults when absent); raises `InvalidConfigError` when invalid."""
    found = find_config(trusted.read)
    return RepoConfig() if found is None else load_repo_config(found[1], found[0])


def _repo_html_url(pull: PullInfo) -> str:
    """https://github.com/o/r from https://github.com/o/r/pull/7 (saves a request for the repository)."""
    return pull.html_url.rsplit("/pull/", 1)[0]


if TYPE_CHECKING:  # the default factory fits the seam: checked statically, costs nothing at run time
    _DEFAULT_FACTORY: ServiceFactory = GitHubService
