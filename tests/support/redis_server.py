"""A real redis-server on a free loopback port, for the tests of the distributed mode."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.support.gunicorn import free_port, wait_for


@contextmanager
def running_redis(workdir: Path) -> Iterator[str]:
    """Start redis-server (no persistence) in ``workdir``; yields its URL; stops it afterwards."""
    server_binary = shutil.which("redis-server")
    assert server_binary, "redis-server is required (Debian package redis-server)"
    port = free_port()
    server = subprocess.Popen(
        [server_binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for(lambda: _pings(url), timeout=15)
        yield url
    finally:
        server.terminate()
        server.wait(10)


def _pings(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url).ping())
    except redis.RedisError:
        return False
