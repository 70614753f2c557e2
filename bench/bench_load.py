"""Webhook load against gunicorn on loopback: acknowledgement latency, lost deliveries, evaluations per second.

    python bench/bench_load.py                                  # both queue modes, 200/s for 10 s, 1/2/4 workers
    python bench/bench_load.py --modes sqlite --rate 200 --seconds 10 --skip-throughput
    python bench/bench_load.py --ack-service github              # acks while real evaluations share the cores

Not run by CI. Two phases per queue mode (``sqlite``: the embedded queue, evaluation
processes under the web workers; ``redis``: a redis-server started here, the web only
queues, ``python -m bot.app.worker`` RQ workers evaluate):

- **ack**: signed ``pull_request`` deliveries (GitHub's 25 kB example body, distinct
  delivery ids, pre-signed) sent open-loop at ``--rate`` per second for ``--seconds``,
  each on a new connection as GitHub does. Latency runs from the scheduled send time to
  the answer, so a client or server that falls behind shows in the figures. Then every
  accepted delivery must be processed: "lost" counts those that never were (read from the
  App's own /metrics: evaluations + superseded jobs). ``--ack-service recording`` (default)
  evaluates with the test suite's recording fake, which isolates the web path;
  ``github`` runs the real evaluation against the stand-in meanwhile.
- **throughput**: the real App (``GitHubService``) against the GitHub stand-in (this
  process) serving a realistic repository (500 documents in 50 kustomize apps, a pull
  request changing 3 Deployments, a fresh head sha per pull request); for each
  ``--workers`` count (evaluation processes: embedded threads of one web worker, or RQ
  workers) a warm-up delivery per worker, then ``--deliveries`` at once; evaluations per
  second from the first send to the last evaluation counted on /metrics.

The machine has 2 cores shared by everything here (client, gunicorn, workers, stand-in,
Redis): the script prints the load average before each phase, so contended runs show.
On a machine shared with other work, ``--priority`` (root) gives this script's session and
the server's an autogroup niceness of -10, which stands in for a host of its own: the
kernel shares the CPU between sessions first, however many processes each runs.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from tests.support.github_standin import (  # noqa: E402
    FixtureRepo,
    GitHubStandIn,
    PullSpec,
    app_private_key,
    fake_sha,
)
from tests.support.gitops_corpus import changed_deployments, gitops_repo  # noqa: E402
from tests.support.gunicorn import REPO_ROOT, GunicornServer, free_port, sign, subprocess_env  # noqa: E402
from tests.support.redis_server import running_redis  # noqa: E402

SECRET = "bench-load-secret"
REPO = "bench/gitops"
INSTALLATION = 7
BASE = fake_sha("load-base")
EXAMPLE = REPO_ROOT / "fixtures" / "github" / "webhooks" / "pull_request.opened.json"
TICKS = os.sysconf("SC_CLK_TCK")
PROCESSED = re.compile(r"^gitops_bot_(?:evaluations_total\{[^}]*\}|superseded_jobs_total) (\S+)$", re.MULTILINE)


# ---- the App under load --------------------------------------------------------------------------


class App:
    """gunicorn (+ redis-server and RQ workers in the redis mode), and where to read what it processed."""

    def __init__(self, url: str, metric_urls: list[str], server: GunicornServer, workers: list[int]) -> None:
        self.url = url
        self.metric_urls = metric_urls
        self.server = server
        self.worker_pids = workers

    def cpu_seconds(self) -> tuple[float, float]:
        """(web, evaluation) CPU seconds so far: gunicorn workers; their evaluation processes or RQ workers.

        Work horses RQ has reaped count in their worker's children time.
        """
        web = sum(_cpu(pid) for pid in _children(self.server.process.pid))
        evaluation = sum(_cpu(pid) for pid in _descendants(self.server.process.pid)) - web
        for pid in self.worker_pids:
            evaluation += _cpu(pid, children=True) + sum(_cpu(p) for p in _descendants(pid))
        return web, evaluation

    def processed(self) -> float:
        total = 0.0
        for url in self.metric_urls:
            try:
                text = _get(url)
            except OSError:
                continue  # a worker still starting
            total += sum(float(v) for v in PROCESSED.findall(text))
        return total

    def wait_processed(self, count: int, timeout: float) -> tuple[float, float]:
        """(processed, seconds waited) once ``count`` deliveries are processed or ``timeout`` passed."""
        start = time.monotonic()
        while True:
            done = self.processed()
            if done >= count or time.monotonic() - start > timeout:
                return done, time.monotonic() - start
            time.sleep(0.2)


@contextmanager
def running_app(mode: str, workdir: Path, *, service: str, api_url: str = "", web_workers: int = 2,
                threads: int = 4, eval_workers: int = 2, prioritise_workers: bool = False) -> Iterator[App]:
    env = {
        "GITHUB_APP_ID": "4242", "GITHUB_APP_PRIVATE_KEY": app_private_key(), "GITHUB_WEBHOOK_SECRET": SECRET,
        "GITOPS_BOT_APP_SLUG": "gitops-policy-bot", "GITOPS_BOT_DATA_DIR": str(workdir),
        "GITOPS_BOT_LOG_LEVEL": "WARNING",
    }
    if api_url:
        env["GITHUB_API_URL"] = api_url
    if service == "recording":
        env["GITOPS_BOT_SERVICE_FACTORY"] = "tests.support.recording_service:make"
    with ExitStack() as stack:
        workers: list[subprocess.Popen[bytes]] = []
        metric_ports: list[int] = []
        if mode == "redis":
            env |= {"GITOPS_BOT_QUEUE": "redis", "GITOPS_BOT_REDIS_URL": stack.enter_context(running_redis(workdir)),
                    "GITOPS_BOT_WORKER_THREADS": "0"}
            for _ in range(eval_workers):
                port = free_port()
                metric_ports.append(port)
                workers.append(subprocess.Popen(
                    [sys.executable, "-m", "bot.app.worker"], cwd=REPO_ROOT,
                    env=subprocess_env({**env, "GITOPS_BOT_WORKER_METRICS_PORT": str(port)}),
                    stdout=subprocess.DEVNULL, stderr=open(workdir / f"worker-{port}.log", "wb"),  # noqa: SIM115
                    start_new_session=True))  # as on a host of their own
                if PRIORITY and prioritise_workers:  # the ack phase leaves them out: they would share the web's host
                    _prioritise(workers[-1].pid)
        else:
            env["GITOPS_BOT_WORKER_THREADS"] = str(-(-eval_workers // web_workers))  # 0: nobody evaluates
        server = GunicornServer(env, workers=web_workers, threads=threads)
        if PRIORITY:
            _prioritise(server.process.pid)  # gunicorn runs in a session (autogroup) of its own
        try:
            server.wait_healthy(60)
            metric_urls = ([f"http://127.0.0.1:{p}/metrics" for p in metric_ports] if mode == "redis"
                           else [server.url + "/metrics"])
            yield App(server.url, metric_urls, server, [w.pid for w in workers])
        finally:
            server.stop()
            for worker in workers:
                worker.terminate()
            for worker in workers:
                try:
                    worker.wait(30)
                except subprocess.TimeoutExpired:
                    worker.kill()


# ---- deliveries ----------------------------------------------------------------------------------


def delivery_bodies(count: int, pulls: list[PullSpec] | None, run: str) -> list[tuple[str, bytes, str]]:
    """(delivery id, body, signature) for ``count`` pull_request deliveries, cycling over ``pulls``."""
    example = EXAMPLE.read_text()
    out = []
    for n in range(count):
        payload = json.loads(example)
        if pulls:
            pull = pulls[n % len(pulls)]
            payload["installation"]["id"] = INSTALLATION
            payload["repository"]["full_name"] = REPO
            payload["number"] = payload["pull_request"]["number"] = pull.number
            payload["pull_request"]["head"]["sha"] = pull.head_sha
            payload["pull_request"]["head"]["repo"]["full_name"] = REPO
            payload["pull_request"]["base"]["sha"] = pull.base_sha
            payload["pull_request"]["base"]["ref"] = pull.base_ref
            payload["pull_request"]["base"]["repo"]["full_name"] = REPO
        body = json.dumps(payload).encode()
        out.append((f"{run}-{n}", body, sign(body, SECRET)))
    return out


def post(port: int, delivery_id: str, body: bytes, signature: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)  # a new connection, as GitHub's
    try:
        connection.request("POST", "/webhook", body, {
            "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/bench", "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": delivery_id, "X-Hub-Signature-256": signature})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def fire(url: str, deliveries: list[tuple[str, bytes, str]], rate: float, senders: int = 32
         ) -> tuple[list[float], dict[int, int]]:
    """Send open-loop at ``rate`` per second: (latency per delivery from its scheduled time, statuses)."""
    port = int(url.rsplit(":", 1)[1])
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    indexes = itertools.count()
    start = time.perf_counter() + 0.2

    def sender() -> None:
        while (i := next(indexes)) < len(deliveries):
            scheduled = start + i / rate
            pause = scheduled - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            try:
                status = post(port, *deliveries[i])
            except OSError:
                status = 0
            took = time.perf_counter() - scheduled
            with lock:
                latencies.append(took)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, statuses


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


# ---- phases --------------------------------------------------------------------------------------


def realistic_standin(pulls: int) -> tuple[GitHubStandIn, list[PullSpec]]:
    """500 documents in 50 kustomize apps; ``pulls`` pull requests, each changing 3 Deployments at its own sha."""
    base = gitops_repo(500, kustomize=True)
    head = gitops_repo(500, kustomize=True, changed=changed_deployments(3, 50))
    specs = [PullSpec(100 + n, BASE, fake_sha(f"load-head-{n}")) for n in range(pulls)]
    repo = FixtureRepo(REPO, commits={BASE: base, **{p.head_sha: head for p in specs}},
                       pulls={p.number: p for p in specs})
    return GitHubStandIn([repo]), specs


def ack_phase(mode: str, args: argparse.Namespace) -> None:
    count = int(args.rate * args.seconds)
    with ExitStack() as stack:
        api_url, pulls = "", None
        if args.ack_service == "github":
            standin, pulls = realistic_standin(count)
            api_url = stack.enter_context(standin.serving())
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"bench-load-{mode}-")))
        app = stack.enter_context(running_app(mode, workdir, service=args.ack_service, api_url=api_url,
                                              web_workers=args.web_workers, threads=args.threads,
                                              eval_workers=args.ack_workers))
        deliveries = delivery_bodies(count, pulls, f"ack-{mode}")
        time.sleep(2)  # let the evaluation processes and RQ workers finish starting
        print(f"[{mode}] ack: {count} deliveries at {args.rate:g}/s, {args.web_workers} web workers x "
              f"{args.threads} threads, service {args.ack_service}; load average {_load()}", flush=True)
        web_before, eval_before = app.cpu_seconds()
        latencies, statuses = fire(app.url, deliveries, args.rate)
        accepted = statuses.get(202, 0)
        processed, waited = app.wait_processed(accepted, timeout=args.drain_timeout if args.ack_workers else 0)
        web_after, eval_after = app.cpu_seconds()
        ms = [1000 * s for s in latencies]
        print(f"[{mode}] ack latency p50 {percentile(ms, 0.5):.1f} ms  p99 {percentile(ms, 0.99):.1f} ms  "
              f"max {max(ms):.1f} ms; answers {dict(sorted(statuses.items()))}; processed {processed:.0f} of "
              f"{accepted} accepted ({accepted - processed:.0f} lost) {waited:.1f} s after the last send; "
              f"CPU per delivery: web {1000 * (web_after - web_before) / count:.2f} ms, evaluation "
              f"{1000 * (eval_after - eval_before) / count:.2f} ms; load average {_load()}", flush=True)


def throughput_phase(mode: str, args: argparse.Namespace) -> None:
    for workers in args.workers:
        total = workers + args.deliveries
        standin, pulls = realistic_standin(total)
        with standin.serving() as api_url, tempfile.TemporaryDirectory(prefix=f"bench-load-{mode}-") as workdir, \
                running_app(mode, Path(workdir), service="github", api_url=api_url,
                            web_workers=1, threads=args.threads, eval_workers=workers, prioritise_workers=True) as app:
            deliveries = delivery_bodies(total, pulls, f"tp-{mode}-{workers}")
            for delivery in deliveries[:workers]:  # one warm-up each: imports, compiled policies
                post(int(app.url.rsplit(":", 1)[1]), *delivery)
            warm, _ = app.wait_processed(workers, timeout=300)
            load = _load()
            start = time.perf_counter()
            fire(app.url, deliveries[workers:], rate=1000.0)
            done, _ = app.wait_processed(total, timeout=args.drain_timeout)
            seconds = time.perf_counter() - start
            conclusions = sorted({r["conclusion"] for r in standin.check_runs.values() if r.get("conclusion")})
            print(f"[{mode}] {workers} worker(s): {done - warm:.0f}/{args.deliveries} evaluations in {seconds:.1f} s = "
                  f"{(done - warm) / seconds:.2f}/s (check runs {conclusions}, {len(standin.requests)} API calls); "
                  f"load average before {load}", flush=True)


def _get(url: str) -> str:
    host, _, rest = url.removeprefix("http://").partition("/")
    name, _, port = host.partition(":")
    connection = http.client.HTTPConnection(name, int(port), timeout=10)
    try:
        connection.request("GET", "/" + rest)
        return connection.getresponse().read().decode()
    finally:
        connection.close()


def _cpu(pid: int, children: bool = False) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0  # gone
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / TICKS


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):  # each thread lists the children it started
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass  # gone
    return found


def _descendants(pid: int) -> list[int]:
    out = []
    for child in _children(pid):
        out += [child, *_descendants(child)]
    return out


PRIORITY: list[bool] = []  # --priority given


def _prioritise(pid: int) -> None:
    Path(f"/proc/{pid}/autogroup").write_text("-10")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="+", default=["sqlite", "redis"], choices=["sqlite", "redis"])
    parser.add_argument("--rate", type=float, default=200.0, help="deliveries per second in the ack phase")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the ack phase")
    parser.add_argument("--ack-service", default="recording", choices=["recording", "github"])
    parser.add_argument("--ack-workers", type=int, default=2,
                        help="evaluation processes during the ack phase (0: none, the web path alone)")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per web worker")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="throughput phase")
    parser.add_argument("--deliveries", type=int, default=40, help="throughput phase, per worker count")
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument("--skip-ack", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--priority", action="store_true", help="autogroup niceness -10 (root): see above")
    args = parser.parse_args(argv)
    if args.priority:
        if os.getsid(0) != os.getpid():  # a session of our own, or the caller's shell would keep the priority
            os.execvp("setsid", ["setsid", "--wait", sys.executable, *sys.argv])
        PRIORITY.append(True)
        _prioritise(os.getpid())
    print(f"{os.cpu_count()} CPUs; load average {_load()}{'; --priority' if args.priority else ''}", flush=True)
    for mode in args.modes:
        if not args.skip_ack:
            ack_phase(mode, args)
        if not args.skip_throughput:
            throughput_phase(mode, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
