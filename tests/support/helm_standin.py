"""A stand-in `helm` for plan tests: records its arguments, environment and working directory, renders a ConfigMap.

The sandbox gives the child no environment of ours, so the stand-in keeps its record and its
mode (``ok``, ``fail``, ``slow``) in files beside itself.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SCRIPT = '''#!{python}
import json, os, sys, time
from pathlib import Path
here = Path(__file__).resolve().parent
mode = (here / "mode").read_text().strip() if (here / "mode").exists() else "ok"
with open(here / "calls.jsonl", "a") as log:
    log.write(json.dumps({{"argv": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd()}}) + "\\n")
if mode == "fail":
    sys.stderr.write("Error: template: web/templates/deployment.yaml:3:4: executing: nil pointer\\n")
    sys.exit(1)
if mode == "slow":
    time.sleep(30)
args = sys.argv[1:]
release, chart = args[1], Path(args[2])
namespace = args[args.index("--namespace") + 1]
values = [Path(args[i + 1]).read_text() for i, a in enumerate(args) if a == "--values"]
chart_values = (chart / "values.yaml").read_text() if (chart / "values.yaml").exists() else ""
print("---")
print(json.dumps({{"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {{"name": release + "-rendered", "namespace": namespace}},
                  "data": {{"chart": chart.name, "values": chart_values + "".join(values)}}}}))
'''


def install(bin_dir: Path, mode: str = "ok") -> Path:
    """Write an executable ``helm`` into ``bin_dir`` (created) and return the path of its call log."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    helm = bin_dir / "helm"
    helm.write_text(SCRIPT.format(python=sys.executable))
    helm.chmod(0o755)
    (bin_dir / "mode").write_text(mode)
    return bin_dir / "calls.jsonl"


def calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
