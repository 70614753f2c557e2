"""Compare jsonschema-rs and jsonschema on generated manifests: prints docs/s for each and the ratio.

Usage: python bench/bench_schema_engines.py [--docs 5000] [--broken 0.05] [--strict] [--version 1.31]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.resource import Resource  # noqa: E402
from bot.core.schemas import SchemaValidator  # noqa: E402
from bot.core.schemas import builtin as builtin_schemas  # noqa: E402
from bot.core.schemas.engine import ENGINES  # noqa: E402


def deployment(i: int, broken: bool) -> dict:
    container = {
        "name": f"app-{i}",
        "image": f"registry.example.com/app-{i}:1.{i % 40}",
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
        "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "REPLICA", "value": str(i)}],
        "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": 0.1}},
    }
    spec = {
        "replicas": 3,
        "selector": {"matchLabels": {"app": f"app-{i}"}},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
        "template": {"metadata": {"labels": {"app": f"app-{i}"}}, "spec": {"containers": [container]}},
    }
    if broken:
        spec["replicas"] = "three"
        del container["name"]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"app-{i}", "namespace": "prod", "labels": {"app": f"app-{i}"}},
        "spec": spec,
    }


def service(i: int, broken: bool) -> dict:
    port = {"name": "http", "port": "80" if broken else 80, "targetPort": 8080, "protocol": "TCP"}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"app-{i}", "namespace": "prod"},
        "spec": {
            "type": "Nodeport" if broken else "ClusterIP",
            "selector": {"app": f"app-{i}"},
            "ports": [port],
        },
    }


def config_map(i: int, broken: bool) -> dict:
    data = {f"key-{k}": f"value-{i}-{k}" for k in range(8)}
    if broken:
        data["key-0"] = 42
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"cfg-{i}", "namespace": "prod"},
        "data": data,
    }


def corpus(count: int, broken_share: float, seed: int = 7) -> list[Resource]:
    rng = random.Random(seed)
    makers = (deployment, service, config_map)
    return [
        Resource(obj=makers[i % 3](i, rng.random() < broken_share), file=f"apps/doc-{i}.yaml")
        for i in range(count)
    ]


def measure(engine: str, resources: list[Resource], strict: bool, version: str) -> tuple[float, float, int]:
    builtin_schemas.builtin_validator.cache_clear()  # each engine pays its own first use, definitions included
    builtin_schemas._documents.cache_clear()
    validator = SchemaValidator(version, strict=strict, engine=engine)
    started = time.perf_counter()
    for resource in resources[:3]:  # compile the three kinds (first use)
        validator.validate(resource)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    findings = sum(len(validator.validate(resource)) for resource in resources)
    elapsed = time.perf_counter() - started
    return len(resources) / elapsed, cold, findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--broken", type=float, default=0.05)
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--version", default="1.31")
    args = parser.parse_args()
    resources = corpus(args.docs, args.broken)
    rates = {}
    for engine in ENGINES:
        rate, cold, findings = measure(engine, resources, args.strict, args.version)
        rates[engine] = rate
        print(
            f"{engine:14s} {rate:10.0f} docs/s   first use (load + compile 3 kinds) {cold * 1000:7.1f} ms   "
            f"{findings} findings"
        )
    print(f"ratio jsonschema-rs / jsonschema: {rates['jsonschema-rs'] / rates['jsonschema']:.1f}x")


if __name__ == "__main__":
    main()
