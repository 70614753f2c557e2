"""The content cache: trees and blobs by sha shared across processes (disk) and workers (Redis), bounded."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bot.errors import ConfigError
from bot.github.api import TreeEntry
from bot.github.blobs import git_blob_sha
from bot.github.content_cache import (
    REDIS_PREFIX,
    ContentCache,
    DiskStore,
    RedisStore,
    content_cache_from_env,
)
from tests.support.gunicorn import REPO_ROOT, free_port
from tests.support.redis_server import running_redis

COMMIT = "c" * 40
DATA = b"apiVersion: v1\nkind: ConfigMap\n"
SHA = git_blob_sha(DATA)
ENTRIES = [TreeEntry("apps/a.yaml", SHA, len(DATA)), TreeEntry("README.md", "d" * 40, 3)]


def test_a_blob_written_by_one_process_is_read_by_another(tmp_path: Path):
    ContentCache(DiskStore(tmp_path)).put_blob(SHA, DATA)
    ContentCache(DiskStore(tmp_path)).put_tree("https://api.github.com/acme/gitops", COMMIT, ENTRIES)
    script = (
        "import sys; from bot.github.content_cache import ContentCache, DiskStore\n"
        f"cache = ContentCache(DiskStore(sys.argv[1]))\n"
        f"sys.stdout.write(repr((cache.blob({SHA!r}), cache.tree('https://api.github.com/acme/gitops', {COMMIT!r}))))\n"
    )

    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=True).stdout

    assert out == repr((DATA, ENTRIES))


def test_only_sha_addressed_things_are_cached_and_trees_are_per_repository(tmp_path: Path):
    cache = ContentCache(DiskStore(tmp_path))
    cache.put_tree("https://api.github.com/acme/gitops", "main", ENTRIES)  # a branch moves
    cache.put_blob("HEAD", DATA)
    cache.put_tree("https://api.github.com/acme/gitops", COMMIT, ENTRIES)

    fresh = ContentCache(DiskStore(tmp_path))
    assert fresh.tree("https://api.github.com/acme/gitops", "main") is None
    assert fresh.blob("HEAD") is None
    assert fresh.tree("https://api.github.com/acme/other", COMMIT) is None
    assert fresh.tree("https://api.github.com/acme/gitops", COMMIT) == ENTRIES
    assert sum(1 for p in tmp_path.rglob("*") if p.is_file()) == 1


def test_a_blob_that_does_not_hash_to_its_id_is_a_miss(tmp_path: Path):
    store = DiskStore(tmp_path)
    ContentCache(store).put_blob(SHA, DATA)
    [entry] = [p for p in tmp_path.rglob("*") if p.is_file()]
    import zlib

    entry.write_bytes(zlib.compress(b"kind: Secret\n"))  # someone with write access to the store

    assert ContentCache(store).blob(SHA) is None


def test_the_disk_cache_stays_under_its_bound_and_evicts_the_least_recently_used(tmp_path: Path):
    store = DiskStore(tmp_path, max_bytes=10_000)
    for i in range(5):
        store.put(f"blob:{i}", bytes([i]) * 1000)
    old = time.time() - 100
    for i in range(5):
        os.utime(store._path(f"blob:{i}"), (old + i, old + i))
    assert store.get("blob:0") == bytes([0]) * 1000  # read: now the most recently used
    for i in range(5, 11):
        store.put(f"blob:{i}", bytes([i]) * 1000)

    assert store.size() <= 10_000
    assert store.get("blob:0") is not None  # used recently, kept
    assert store.get("blob:1") is None  # the oldest untouched entry went first


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


def test_workers_share_trees_and_blobs_through_redis_with_a_refreshed_ttl(redis_url: str, tmp_path: Path):
    env = {"GITOPS_BOT_CACHE_TTL_SECONDS": "3600"}
    first = content_cache_from_env(env, tmp_path, redis_url)  # auto: Redis when the queue is Redis
    second = content_cache_from_env(env, tmp_path, redis_url)
    assert isinstance(first.shared, RedisStore)

    first.put_blob(SHA, DATA)
    first.put_tree("https://api.github.com/acme/gitops", COMMIT, ENTRIES)

    assert second.blob(SHA) == DATA
    assert second.tree("https://api.github.com/acme/gitops", COMMIT) == ENTRIES
    connection = redis.Redis.from_url(redis_url)
    ttls = [connection.ttl(k) for k in connection.keys(REDIS_PREFIX + "*")]
    assert len(ttls) == 2 and all(0 < t <= 3600 for t in ttls)  # every entry expires unless it is read


def test_an_unreachable_redis_costs_requests_not_the_evaluation(tmp_path: Path):
    cache = ContentCache(RedisStore(redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0",
                                                         socket_connect_timeout=0.5)))
    cache.put_blob(SHA, DATA)
    assert ContentCache(cache.shared).blob(SHA) is None


def test_the_cache_settings_are_validated(tmp_path: Path):
    assert isinstance(content_cache_from_env({}, tmp_path, None).shared, DiskStore)
    assert (tmp_path / "cache").is_dir()
    assert content_cache_from_env({"GITOPS_BOT_CACHE": "off"}, tmp_path, None).shared is None
    with pytest.raises(ConfigError, match="GITOPS_BOT_CACHE must be one of"):
        content_cache_from_env({"GITOPS_BOT_CACHE": "s3"}, tmp_path, None)
    with pytest.raises(ConfigError, match="needs GITOPS_BOT_REDIS_URL"):
        content_cache_from_env({"GITOPS_BOT_CACHE": "redis"}, tmp_path, None)
    with pytest.raises(ConfigError, match="GITOPS_BOT_CACHE_MAX_BYTES must be an integer"):
        content_cache_from_env({"GITOPS_BOT_CACHE_MAX_BYTES": "lots"}, tmp_path, None)
