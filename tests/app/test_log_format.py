"""JSON log lines and the per-job line: one object per record, the delivery's context, credentials masked."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator

import pytest

from bot.app.handlers import DeliveryLog
from bot.app.job_log import delivery_fields, logged_job
from bot.app.log_format import JsonFormatter, configure_root_logging, log_format
from bot.app.log_masking import MaskSecretsFilter
from bot.errors import ConfigError
from bot.github.client import GitHubClientFactory
from bot.github.retry import RetryPolicy
from tests.support.github_standin import FixtureRepo, GitHubStandIn, PullSpec, app_private_key, fake_sha

from .conftest import load_example

TOKEN = "ghs_" + "A1b2C3d4" * 5  # an installation token's shape


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(MaskSecretsFilter())
    logger = logging.getLogger("test.json")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.handlers[:] = []


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_record_is_one_json_line_with_its_context_and_no_token(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    DeliveryLog(logger, {"delivery_id": "d-1"}).info("minted %s\nfor you", TOKEN, extra={"repo": "acme/shop",
                                                                                          "error": f"Bearer {TOKEN}"})
    try:
        raise RuntimeError(f"GitHub said no to token {TOKEN}")
    except RuntimeError:
        logger.exception("it failed")
    first, second = lines(stream)
    assert (first["level"], first["logger"], first["delivery_id"], first["repo"]) == ("INFO", "test.json", "d-1",
                                                                                     "acme/shop")
    assert str(first["message"]).startswith("[d-1] minted ") and "\n" in str(first["message"])
    assert "RuntimeError" in str(second["exception"])
    assert TOKEN not in stream.getvalue() and TOKEN[4:] not in stream.getvalue()


def test_the_log_format_is_text_unless_json_is_asked_for() -> None:
    assert (log_format({}), log_format({"GITOPS_BOT_LOG_FORMAT": "JSON"})) == ("text", "json")
    with pytest.raises(ConfigError, match="GITOPS_BOT_LOG_FORMAT must be one of text, json, got 'yaml'"):
        log_format({"GITOPS_BOT_LOG_FORMAT": "yaml"})
    with pytest.raises(ConfigError, match="GITOPS_BOT_LOG_LEVEL must be a logging level"):
        configure_root_logging(env={"GITOPS_BOT_LOG_LEVEL": "LOUD"})


def test_a_deliverys_fields_come_from_its_payload() -> None:
    assert delivery_fields("pull_request", load_example("pull_request.opened")) == {
        "event": "pull_request.opened", "installation": 1, "repo": "Codertocat/Hello-World", "pr": 2,
        "sha": "ec26c3e57ca3a959ca5aad62de7213c562f8c821"}
    hostile = {"action": {"nested": 1}, "repository": {"full_name": ["x"]}, "pull_request": "nope"}
    assert delivery_fields("pull_request", hostile) == {"event": "pull_request"}


def test_the_job_line_counts_the_github_calls_of_its_thread_only(caplog: pytest.LogCaptureFixture) -> None:
    payload = load_example("pull_request.opened")
    sha = fake_sha("log")
    standin = GitHubStandIn([FixtureRepo("acme/x", commits={sha: {"a.yaml": b"x: 1\n"}}, pulls={5: PullSpec(5, sha, sha)})])
    with standin.serving(), caplog.at_level("INFO"):
        factory = GitHubClientFactory(42, app_private_key(), standin.base_url, RetryPolicy(sleep=lambda _: None))

        def read_pull() -> None:  # a fresh client each time: one request to GitHub
            factory.repo(1, "acme/x").get_pull(5)

        with logged_job("pull_request", payload, "d-2"):
            for _ in range(3):
                read_pull()
            elsewhere = threading.Thread(target=read_pull)  # another job's thread: not this job's
            elsewhere.start()
            elsewhere.join()
        with pytest.raises(ValueError), logged_job("pull_request", payload, "d-3"):
            read_pull()
            raise ValueError("broken")
        read_pull()  # outside any job: counted nowhere
    assert sum(r.path.endswith("/pulls/5") for r in standin.requests) == 6  # every read reached GitHub
    done, failed = (r for r in caplog.records if r.name == "bot.app.jobs")
    assert [vars(done)[k] for k in ("outcome", "github_calls", "delivery_id", "pr")] == ["handled", 3, "d-2", 2]
    assert [vars(failed)[k] for k in ("outcome", "github_calls", "error")] == ["failed", 1, "ValueError: broken"]
    assert "job pull_request.opened Codertocat/Hello-World#2 @ec26c3e57ca3 handled in" in done.getMessage()
