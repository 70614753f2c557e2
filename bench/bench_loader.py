"""Documents per second of the position-keeping loader against plain ``yaml.load_all(CSafeLoader)``.

Run from the repository root: ``python -m bench.bench_loader [--documents 5000]``.
"""

from __future__ import annotations

import argparse
import time

import yaml

from bot.core.manifests import LoadLimits, load_manifest
from bot.core.yamlpos import load_yaml

try:
    from yaml import CSafeLoader as PlainLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as PlainLoader  # type: ignore[assignment]

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: team-{team}
  labels: {{app: app-{i}, tier: backend, version: "1.{i}"}}
  annotations:
    owner: team-{team}@example.com
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: app-{i}
  template:
    metadata:
      labels:
        app: app-{i}
    spec:
      containers:
        - name: app
          image: registry.example.com/app-{i}:1.{i}.0
          ports:
            - containerPort: 8080
              protocol: TCP
          resources:
            requests: {{cpu: 100m, memory: 128Mi}}
            limits: {{cpu: "1", memory: 512Mi}}
          env:
            - name: LOG_LEVEL
              value: info
            - name: FEATURE_X
              value: "true"
        - name: sidecar
          image: registry.example.com/proxy:2.{team}
          securityContext:
            runAsNonRoot: true
            readOnlyRootFilesystem: true
"""


def generate_corpus(documents: int) -> str:
    return "---\n".join(DEPLOYMENT.format(i=i, team=i % 7, replicas=1 + i % 5) for i in range(documents))


def best_of(runs: int, func) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    text = generate_corpus(args.documents)
    data = text.encode()
    limits = LoadLimits(max_bytes=len(data) + 1, max_documents=args.documents + 1)
    print(f"corpus: {args.documents} documents, {len(data) / 1e6:.1f} MB, loader {PlainLoader.__name__}")

    plain = best_of(args.runs, lambda: list(yaml.load_all(text, Loader=PlainLoader)))
    positions = best_of(args.runs, lambda: load_yaml(text, limits))
    manifests = best_of(args.runs, lambda: load_manifest("corpus.yaml", data, limits))
    for label, seconds in (
        ("yaml.load_all(CSafeLoader)", plain),
        ("yamlpos.load_yaml", positions),
        ("manifests.load_manifest", manifests),
    ):
        print(f"{label:28} {args.documents / seconds:10,.0f} docs/s  {seconds / plain:5.2f}x plain")


if __name__ == "__main__":
    main()
