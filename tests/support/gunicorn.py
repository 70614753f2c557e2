"""Run the real App under gunicorn in a subprocess, and post signed webhooks to it."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign(body: bytes, secret: str) -> str:
    """The X-Hub-Signature-256 header GitHub would send."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_webhook(
    url: str, event: str, payload: Any, secret: str, delivery_id: str, *, signature: str | None = None
) -> requests.Response:
    """POST ``payload`` (dict or raw bytes) to ``url`` + /webhook the way GitHub does."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/test",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id,
        "X-Hub-Signature-256": sign(body, secret) if signature is None else signature,
    }
    return requests.post(url.rstrip("/") + "/webhook", data=body, headers=headers, timeout=10)


def subprocess_env(env: Mapping[str, str]) -> dict[str, str]:
    """The parent's environment plus ``env``, with the repo importable (bot.*, tests.support.*)."""
    merged = {**os.environ, **env}
    merged["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), merged.get("PYTHONPATH", "")) if p)
    merged.setdefault("PYTHONUNBUFFERED", "1")
    return merged


class GunicornServer:
    """One gunicorn master (+ workers) in its own process group, so a test can kill -9 all of it."""

    def __init__(
        self, env: Mapping[str, str], port: int | None = None, workers: int = 1, threads: int = 4
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False)
        command = [
            GUNICORN, "bot.app.web:create_app()", "-c", "python:bot.app.gunicorn_conf",
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), "--threads", str(threads),
            "--graceful-timeout", "5",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=subprocess_env(env),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return Path(self._log.name).read_text(errors="replace")

    def wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.output()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn not healthy after {timeout}s:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL the master and every worker: a crash, no cleanup."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        try:  # workers left behind by a dead master
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._log.close()


@contextmanager
def run_gunicorn(
    env: dict[str, str], port: int | None = None, *, workers: int = 1, threads: int = 4
) -> Iterator[str]:
    """Serve ``gunicorn 'bot.app.web:create_app()'`` with ``env``; yields the base URL once /healthz answers."""
    with serve_gunicorn(env, port, workers=workers, threads=threads) as server:
        yield server.url


@contextmanager
def serve_gunicorn(
    env: dict[str, str], port: int | None = None, *, workers: int = 1, threads: int = 4
) -> Iterator[GunicornServer]:
    """Like `run_gunicorn`, yielding the server itself: tests that audit the log read ``server.output()``."""
    server = GunicornServer(env, port, workers=workers, threads=threads)
    try:
        server.wait_healthy()
        yield server
    finally:
        server.stop()
        os.unlink(server._log.name)


def wait_for(predicate: Any, timeout: float = 20, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy; raise on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
