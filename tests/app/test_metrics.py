"""/metrics of a real server sums every process: gunicorn workers, evaluation processes, RQ work horses."""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import redis
import requests
from prometheus_client.mmap_dict import MmapedDict, mmap_key

from bot.app.metrics_store import DirectoryCollector, compact_dead_processes
from bot.app.queue.redis_queue import RedisQueue
from bot.app.queue.sqlite_queue import SqliteQueue
from bot.app.settings import AppSettings
from tests.support.gunicorn import (
    REPO_ROOT,
    free_port,
    post_webhook,
    run_gunicorn,
    serve_gunicorn,
    subprocess_env,
    wait_for,
)
from tests.support.recording_service import read_records
from tests.support.redis_server import running_redis

from .conftest import SECRET, base_env, load_example

_ids = itertools.count()
QUEUED = 'gitops_bot_deliveries_total{event="pull_request",result="queued"}'


def scrape(url: str) -> dict[str, float]:
    text = requests.get(url, timeout=10).text
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\w+(?:\{[^}]*\})?) (\S+)$", text, re.MULTILINE)}


def test_two_gunicorn_workers_and_their_evaluation_processes_add_up(private_key_pem: str, tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    stale = MmapedDict(str(metrics_dir / "counter_1.db"))  # an earlier run's file (pid 1 is always alive)
    stale.write_value(mmap_key("gitops_bot_deliveries", "gitops_bot_deliveries_total", ["event", "result"],
                               ["pull_request", "queued"], "Webhook deliveries received, by event and result"),
                      1000.0, 0.0)
    stale.close()
    env = base_env(private_key_pem, tmp_path, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
                   GITOPS_TEST_SERVICE_SLEEP="0.2")  # jobs overlap, so both workers' threads claim some
    records = tmp_path / "requests.jsonl"
    payload = load_example("pull_request.opened")
    sent: list[str] = []
    with serve_gunicorn(env, workers=2) as server:
        url = server.url
        assert not (metrics_dir / "counter_1.db").exists()  # emptied at start
        for _ in range(6):  # which worker accepts or claims is the kernel's choice: send until both did
            batch = [f"mp-{next(_ids)}" for _ in range(8)]
            assert [post_webhook(url, "pull_request", payload, SECRET, d).status_code for d in batch] == [202] * 8
            sent += batch
            expected = len(sent)
            try:
                wait_for(lambda: len(read_records(records)) == expected, timeout=60)  # noqa: B023 - called at once
            except AssertionError:  # say where the missing deliveries are
                queue = SqliteQueue(tmp_path / "queue.sqlite3", worker_threads=0)
                late = {d: queue.status(d) for d in sent if not any(r.get("delivery_id") == d
                                                                    for r in read_records(records))}
                raise AssertionError(f"not evaluated within 60 s: {late}\n{server.output()[-6000:]}") from None
            if len({r["ppid"] for r in read_records(records)}) >= 2:
                break
        assert post_webhook(url, "pull_request", payload, SECRET, sent[0]).status_code == 200  # duplicate
        assert post_webhook(url, "pull_request", payload, SECRET, "mp-bad", signature="sha256=00").status_code == 401
        queue = SqliteQueue(tmp_path / "queue.sqlite3", worker_threads=0)
        wait_for(lambda: all((queue.status(d) or {}).get("status") == "done" for d in sent))
        claimed_by = {r["ppid"] for r in read_records(records)}
        evaluators = {r["pid"] for r in read_records(records)}
        niceness = {os.getpriority(os.PRIO_PROCESS, pid) - os.getpriority(os.PRIO_PROCESS, 0) for pid in evaluators}
        scrapes = [scrape(url + "/metrics") for _ in range(6)]  # answered by either worker
        files = sorted(p.name for p in metrics_dir.glob("counter_*.db"))
        killed = requests.get(url + "/healthz", timeout=5).json()["pid"]
        os.kill(killed, signal.SIGKILL)  # gunicorn starts another; what the dead one counted stays
        wait_for(lambda: not (metrics_dir / f"counter_{killed}.db").exists())  # folded by child_exit
        after_kill = scrape(url + "/metrics")
    assert len(claimed_by) >= 2, "both gunicorn workers should have evaluated deliveries"
    assert niceness == {10}  # evaluation processes yield the CPU to acknowledgements
    assert len(files) >= 2 + len(claimed_by), files  # two web workers and at least one evaluation process each
    n = float(len(sent))
    for metrics in scrapes:
        assert metrics[QUEUED] == n
        assert metrics['gitops_bot_deliveries_total{event="pull_request",result="duplicate"}'] == 1
        assert metrics['gitops_bot_deliveries_total{event="pull_request",result="invalid_signature"}'] == 1
        assert metrics['gitops_bot_evaluations_total{outcome="success"}'] == n
        assert metrics['gitops_bot_job_duration_seconds_count{event="pull_request"}'] == n
        assert metrics["gitops_bot_queue_depth"] == 0
        assert metrics["gitops_bot_queue_oldest_age_seconds"] == 0
        assert metrics["gitops_bot_superseded_jobs_total"] == 0  # defined (counted by the supersede logic)
    assert f"counter_{killed}.db" in files and (metrics_dir / "counter_archive.db").exists()
    assert {k: after_kill[k] for k in scrapes[0] if k.startswith("gitops_bot_")
            and not k.endswith("_created")} == {k: v for k, v in scrapes[0].items() if k.startswith("gitops_bot_")
                                                and not k.endswith("_created")}


def test_the_queue_reports_how_long_its_oldest_delivery_waited(private_key_pem: str, tmp_path: Path) -> None:
    env = base_env(private_key_pem, tmp_path, GITOPS_BOT_WORKER_THREADS="0")  # nobody takes jobs
    with run_gunicorn(env) as url:
        assert post_webhook(url, "pull_request", load_example("pull_request.opened"), SECRET, "wait-1").status_code == 202
        first = scrape(url + "/metrics")
        wait_for(lambda: scrape(url + "/metrics")["gitops_bot_queue_oldest_age_seconds"] > 0.5, timeout=10)
    assert first["gitops_bot_queue_depth"] == 1


COUNTING_CHILD = """
import sys
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
r = CollectorRegistry()
Counter("jobs", "", ["event"], registry=r).labels(event="push").inc(int(sys.argv[1]))
Histogram("took_seconds", "", buckets=(1, 10), registry=r).observe(float(sys.argv[1]))
Gauge("left", "", multiprocess_mode="mostrecent", registry=r).set(float(sys.argv[1]))
Gauge("busy", "", multiprocess_mode="livesum", registry=r).set(1)
"""


def test_files_of_finished_processes_fold_into_one_archive_without_changing_the_sums(tmp_path: Path) -> None:
    env = subprocess_env({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})

    def run_child(n: int) -> None:
        subprocess.run([sys.executable, "-c", COUNTING_CHILD, str(n)], env=env, check=True, timeout=60)

    def totals() -> dict[str, float]:
        return {f"{s.name}{sorted(s.labels.items())}": s.value
                for metric in DirectoryCollector(tmp_path).collect() for s in metric.samples}

    for n in (1, 2, 3):
        run_child(n)
    assert len(list(tmp_path.glob("*.db"))) == 12
    before = {k: v for k, v in totals().items() if not k.startswith("busy")}
    assert len(list(tmp_path.glob("*.db"))) == 3  # the scrape folded them: counter, histogram, mostrecent gauge
    assert before["jobs_total[('event', 'push')]"] == 6
    assert before["took_seconds_count[]"] == 3 and before["took_seconds_bucket[('le', '1.0')]"] == 1
    assert before["left[]"] == 3  # the latest value written
    assert totals() == before and compact_dead_processes(tmp_path) == 0  # folding twice adds nothing
    run_child(4)
    after = totals()
    assert after["jobs_total[('event', 'push')]"] == 10 and after["took_seconds_count[]"] == 4
    assert after["left[]"] == 4 and not any(k.startswith("busy") for k in after)


def test_an_rq_worker_serves_the_counts_of_its_work_horses(private_key_pem: str, tmp_path: Path) -> None:
    port = free_port()
    with running_redis(tmp_path) as redis_url:
        env = base_env(private_key_pem, tmp_path, GITOPS_BOT_QUEUE="redis", GITOPS_BOT_REDIS_URL=redis_url,
                       GITOPS_BOT_WORKER_THREADS="0", GITOPS_BOT_WORKER_METRICS_PORT=str(port),
                       PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "shared-by-mistake"))
        worker = subprocess.Popen([sys.executable, "-m", "bot.app.worker"], cwd=REPO_ROOT, env=subprocess_env(env),
                                  stdout=subprocess.DEVNULL, stderr=open(tmp_path / "worker.log", "wb"))  # noqa: SIM115
        try:
            with run_gunicorn(env) as url:
                for n in range(3):
                    payload = load_example("pull_request.opened" if n else "merge_group.checks_requested")
                    event = "pull_request" if n else "merge_group"
                    assert post_webhook(url, event, payload, SECRET, f"rq-{n}").status_code == 202
                wait_for(lambda: len(read_records(tmp_path / "requests.jsonl")) == 3, timeout=60)
                endpoint = f"http://127.0.0.1:{port}/metrics"
                success = 'gitops_bot_evaluations_total{outcome="success"}'
                worker_metrics = wait_for(lambda: _when(endpoint, success, 3))
                web_metrics = scrape(url + "/metrics")
        finally:
            worker.terminate()
            worker.wait(20)
        assert redis.Redis.from_url(redis_url).ping()
    assert worker_metrics['gitops_bot_job_duration_seconds_count{event="pull_request"}'] == 2
    assert worker_metrics['gitops_bot_job_duration_seconds_count{event="merge_group"}'] == 1
    assert QUEUED not in worker_metrics  # the web processes count deliveries; each endpoint shows its own
    assert web_metrics[QUEUED] == 2 and web_metrics["gitops_bot_queue_depth"] == 0
    assert 'gitops_bot_evaluations_total{outcome="success"}' not in web_metrics


def _when(url: str, name: str, value: float) -> dict[str, float] | None:
    """The metrics at ``url`` once ``name`` has ``value`` (None before, also while nothing listens yet)."""
    try:
        metrics = scrape(url)
    except requests.ConnectionError:
        return None
    return metrics if metrics.get(name) == value else None


def test_both_queues_tell_the_age_of_their_oldest_waiting_delivery(tmp_path: Path) -> None:
    with running_redis(tmp_path) as redis_url:
        settings = AppSettings(app_id=1, private_key="k", webhook_secret="s", queue_backend="redis",
                               redis_url=redis_url)
        queues = [RedisQueue(settings), SqliteQueue(tmp_path / "queue.sqlite3", worker_threads=0)]
        try:
            assert [q.oldest_age() for q in queues] == [0.0, 0.0]
            for queue in queues:
                assert queue.enqueue("age-1", "pull_request", {"action": "opened"})
            wait_for(lambda: all(q.oldest_age() > 0.3 for q in queues), timeout=10)
            assert [q.depth() for q in queues] == [1, 1]
            assert all(q.oldest_age() < 60 for q in queues)
        finally:
            queues[0].stop()
