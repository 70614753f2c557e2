"""Policy throughput per backend on a generated corpus: regorus, OPA in-process, OPA server (not run by CI).

    python bench/bench_backends.py                        # 2000 generated documents
    python bench/bench_backends.py --documents 5000 --rounds 5

The built-in library judges the same loaded resources on each backend. Compiling
(and, for the server, pushing the bundle) happens before the clock starts; each
round is one full evaluation (for the server: one POST of every document). The
server is the test stand-in (tests/support/opa_standin.py): real OPA behind a
local HTTP socket, so the figure includes JSON encoding and the round trip but
not a network. Prints documents per second (best round) and the ratio to regorus.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing


def load_resources(documents: int, seed: int) -> list:
    from bench.generate_corpus import build_corpus, write_corpus
    from bot.core.manifests import load_workspace
    from bot.core.workspace import Workspace

    with tempfile.TemporaryDirectory(prefix="bench-backends-") as tmp:
        write_corpus(build_corpus(documents, max(1, documents // 10), 0.0, seed), Path(tmp))
        ws = Workspace.from_directory(tmp)
        return load_workspace(ws, ws.paths).resources


def best_rate(evaluate: Callable[[], list], documents: int, rounds: int) -> tuple[float, int]:
    """Best documents/second over ``rounds`` runs, and the number of findings (equal across backends)."""
    best, findings = float("inf"), 0
    for _ in range(rounds):
        start = time.perf_counter()
        findings = len(evaluate())
        best = min(best, time.perf_counter() - start)
    return documents / best, findings


def main(argv: list[str] | None = None) -> int:
    from bot.backends.opa_bundle import build_bundle
    from bot.backends.opa_server import OpaServerPolicies, OpaServerSettings
    from bot.core.rego import PolicySet
    from tests.support.opa_standin import OpaStandin

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    resources = load_resources(args.documents, args.seed)
    print(f"corpus: {len(resources)} resources, built-in policy library, best of {args.rounds} rounds")
    rows: list[tuple[str, float, int]] = []
    for engine in ("regorus", "opa"):
        policy_set = PolicySet.load([], engine=engine)
        policy_set.evaluate(resources[:10])  # warm-up: compiled queries, caches
        rate = best_rate(lambda ps=policy_set: ps.evaluate(resources), len(resources), args.rounds)
        rows.append((f"{engine} (in-process)", *rate))
    with OpaStandin() as server:
        remote = OpaServerPolicies(
            OpaServerSettings(server.url, timeout_seconds=600), build_bundle([], ("main",), builtin=True)
        )
        remote.prepare()  # push the bundle before the clock starts
        remote.evaluate(resources[:10])
        rows.append(
            (
                "opa-server (stand-in)",
                *best_rate(lambda: remote.evaluate(resources), len(resources), args.rounds),
            )
        )

    base = rows[0][1]
    print(f"{'backend':<24}{'docs/s':>10}{'ratio':>8}{'findings':>10}")
    for name, rate, findings in rows:
        print(f"{name:<24}{rate:>10.0f}{rate / base:>8.2f}{findings:>10}")
    if len({findings for _, _, findings in rows}) != 1:
        print("warning: the backends disagree on the number of findings", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
