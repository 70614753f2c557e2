"""Installation tokens are minted once and reused until five minutes before they expire."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from gh_helpers import REPO

from bot.github.auth import InstallationTokenCache
from bot.github.client import GitHubClientFactory
from tests.support.github_standin import FixtureRepo, GitHubStandIn, app_private_key


def test_one_token_serves_many_clients(standin: GitHubStandIn, factory: GitHubClientFactory) -> None:
    for _ in range(3):
        factory.repo(1, REPO).get_pull(7)

    assert standin.tokens_minted == 1
    mint = standin.requests_to("POST", r"/app/installations/1/access_tokens")[0]
    assert mint.authorization.startswith("Bearer ey")  # the App JWT
    pulls = standin.requests_to("GET", r"/repos/acme/gitops/pulls/7")
    assert {r.authorization for r in pulls} == {"token ghs_standin1x0001"}


def test_each_installation_gets_its_own_token(standin: GitHubStandIn, factory: GitHubClientFactory) -> None:
    assert factory.tokens.token(1) != factory.tokens.token(2)
    assert factory.tokens.token(1) == "ghs_standin1x0001"
    assert standin.tokens_minted == 2


def test_token_is_renewed_five_minutes_before_expiry(standin: GitHubStandIn) -> None:
    now = [time.time()]
    cache = InstallationTokenCache(9, app_private_key(), standin.base_url, clock=lambda: now[0])
    first = cache.token(5)
    now[0] += 54 * 60  # 6 minutes left of the hour
    assert cache.token(5) == first
    now[0] += 2 * 60  # 4 minutes left
    second = cache.token(5)

    assert second != first
    assert standin.tokens_minted == 2


def test_short_lived_tokens_are_never_reused(fixture_repo: FixtureRepo) -> None:
    server = GitHubStandIn([fixture_repo], token_ttl=timedelta(minutes=4))
    with server.serving():
        cache = InstallationTokenCache(9, app_private_key(), server.base_url)
        cache.token(5)
        cache.token(5)
    assert server.tokens_minted == 2


def test_concurrent_threads_share_one_mint(standin: GitHubStandIn) -> None:
    cache = InstallationTokenCache(9, app_private_key(), standin.base_url)
    tokens: list[str] = []
    threads = [threading.Thread(target=lambda: tokens.append(cache.token(3))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(set(tokens)) == 1 and len(tokens) == 8
    assert standin.tokens_minted == 1
