"""Throughput of each Rego engine on the built-in policy library: prints documents/second and the ratio.

    python bench/bench_rego_engines.py [--docs 5000] [--seed 7]

Two figures per engine: ``engine`` is the raw per-document query (input in,
JSON out), ``policyset`` is the full `PolicySet.evaluate` path the bot runs
(inventory, query, findings). Times are CPU time of this process (all its
threads), so other work on a shared machine does not skew the ratio. regopy (rego-cpp) is measured raw only, in a
child process, because it is known to segfault; it is never a default.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.rego import PolicySet  # noqa: E402
from bot.core.rego.targets import combined_query
from bot.core.resource import Resource  # noqa: E402

WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"]
OTHER_KINDS = ["Service", "ConfigMap", "Secret", "Ingress", "ServiceAccount"]


def generate_documents(count: int, seed: int) -> list[dict[str, Any]]:
    """A mix like a real GitOps repo: mostly workloads, some good, some breaking several rules."""
    rng = random.Random(seed)
    docs = []
    for i in range(count):
        kind = rng.choice(WORKLOAD_KINDS) if rng.random() < 0.7 else rng.choice(OTHER_KINDS)
        docs.append(_workload(rng, kind, i) if kind in WORKLOAD_KINDS else _other(rng, kind, i))
    return docs


def _container(rng: random.Random, i: int) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": f"c{i}",
        "image": rng.choice(
            ["nginx", "nginx:latest", "registry.example.com/app:1.2.3", "redis@sha256:" + "a" * 64]
        ),
    }
    if rng.random() < 0.6:
        container["resources"] = {
            "requests": {"cpu": "100m", "memory": "64Mi"},
            "limits": {"memory": "128Mi"},
        }
    if rng.random() < 0.5:
        container["securityContext"] = {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "privileged": rng.random() < 0.1,
            "capabilities": {"add": ["NET_ADMIN"]} if rng.random() < 0.1 else {"drop": ["ALL"]},
        }
    if rng.random() < 0.5:
        container["livenessProbe"] = {"httpGet": {"path": "/healthz", "port": 8080}}
        container["readinessProbe"] = {"httpGet": {"path": "/ready", "port": 8080}}
    return container


def _workload(rng: random.Random, kind: str, i: int) -> dict[str, Any]:
    pod_spec: dict[str, Any] = {"containers": [_container(rng, n) for n in range(rng.randint(1, 3))]}
    if rng.random() < 0.05:
        pod_spec["hostNetwork"] = True
    if rng.random() < 0.05:
        pod_spec["volumes"] = [{"name": "host", "hostPath": {"path": "/var/run"}}]
    template = {"metadata": {"labels": {"app": f"app{i}"}}, "spec": pod_spec}
    if kind == "Pod":
        spec: dict[str, Any] = pod_spec
    elif kind == "CronJob":
        spec = {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": template}}}
    else:
        spec = {"replicas": rng.randint(1, 5), "template": template}
    api = {"Pod": "v1", "Job": "batch/v1", "CronJob": "batch/v1"}.get(kind, "apps/v1")
    return {
        "apiVersion": api,
        "kind": kind,
        "metadata": {"name": f"w{i}", "namespace": f"ns{i % 20}"},
        "spec": spec,
    }


def _other(rng: random.Random, kind: str, i: int) -> dict[str, Any]:
    api = {"Ingress": "networking.k8s.io/v1"}.get(kind, "v1")
    doc: dict[str, Any] = {
        "apiVersion": api,
        "kind": kind,
        "metadata": {"name": f"o{i % 4000}", "namespace": "default"},
    }
    if kind == "Secret":
        doc["stringData"] = {"password": "hunter2"}
    if kind == "ConfigMap":
        doc["data"] = {"key": "value"}
    return doc


def as_resources(docs: list[dict[str, Any]]) -> list[Resource]:
    return [
        Resource(doc, f"manifests/{i // 50}.yaml", i % 50, 1 + (i % 50) * 30) for i, doc in enumerate(docs)
    ]


def measure_policyset(engine: str, resources: list[Resource]) -> tuple[float, float, int]:
    """(raw engine docs/s: one call per document with every rule, PolicySet docs/s: batched and
    kind-scoped, findings) for one engine."""
    policies = PolicySet.load([], engine=engine)
    policies.evaluate(resources[:200])  # warm-up: first queries prepare and cache
    every_rule = combined_query(policies.targets)
    started = time.process_time()
    for resource in resources:
        policies.engine.evaluate(every_rule, resource.obj)
    raw = len(resources) / (time.process_time() - started)
    best = 0.0
    for _ in range(2):  # best of two: the machine is shared
        started = time.process_time()
        findings = policies.evaluate(resources)
        best = max(best, len(resources) / (time.process_time() - started))
    return raw, best, len(findings)


def measure_small_change(engine: str, resources: list[Resource], repeats: int = 20) -> float:
    """Milliseconds per `evaluate` of a 20-document change: the common pull request, set-up costs included."""
    policies = PolicySet.load([], engine=engine)
    policies.evaluate(resources)
    started = time.process_time()
    for _ in range(repeats):
        policies.evaluate(resources)
    return (time.process_time() - started) * 1000 / repeats


def _regopy_child(docs: list[dict[str, Any]], queue: multiprocessing.Queue) -> None:
    import regopy

    policies = PolicySet.load([], engine="regorus")  # only for the module list and the query text
    from bot.core.rego.sources import builtin_sources, split_sources

    modules, _, _ = split_sources(builtin_sources())
    interpreter = regopy.Interpreter()
    for filename, text in modules:
        interpreter.add_module(filename, text)
    interpreter.add_data_json(json.dumps({"gitops": {"inventory": {}}}))
    query = f"x := {policies._query}"
    started = time.process_time()
    try:
        for doc in docs:
            interpreter.set_input(doc)
            interpreter.query(query)
    except Exception as e:  # noqa: BLE001 - any failure is the figure we report
        queue.put(f"failed: {type(e).__name__}: {str(e)[:100]}")
        return
    queue.put(f"{len(docs) / (time.process_time() - started):,.0f} docs/s (engine)")


def measure_regopy(docs: list[dict[str, Any]]) -> str:
    try:
        import regopy  # noqa: F401
    except ImportError:
        return "not installed"
    queue: multiprocessing.Queue = multiprocessing.Queue()
    child = multiprocessing.get_context("fork").Process(target=_regopy_child, args=(docs, queue))
    child.start()
    child.join(timeout=600)
    if child.exitcode != 0:
        return f"crashed (exit code {child.exitcode})"
    return queue.get()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    docs = generate_documents(args.docs, args.seed)
    resources = as_resources(docs)
    print(f"{len(docs)} generated documents, built-in library")
    figures = {}
    for engine in ("regorus", "opa"):
        raw, full, findings = measure_policyset(engine, resources)
        figures[engine] = full
        small = measure_small_change(engine, resources[:20])
        print(
            f"{engine:8} {raw:8,.0f} docs/s (engine) {full:8,.0f} docs/s (policyset) "
            f"{small:7.1f} ms per 20-document change  {findings} findings"
        )
    print(f"regopy   {measure_regopy(docs)}")
    print(f"ratio regorus/opa (policyset): {figures['regorus'] / figures['opa']:.2f}x")


if __name__ == "__main__":
    main()
