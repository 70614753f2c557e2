"""A stand-in `helm` for plan and verdict tests: records its arguments, environment and working directory.

Mode ``ok`` renders one ConfigMap from the values it was handed; ``chart`` renders the chart's
``templates/*.yaml`` as `helm template` prints them (``# Source: <chart name>/templates/<file>``),
substituting ``{{ .Release.Name }}``, ``{{ .Release.Namespace }}`` and ``{{ .Values.a.b }}`` from the
chart's values.yaml and the ``--values`` files merged in order; ``fail``, ``slow`` and ``big`` (more
output than any test allows) exercise the failures and limits. The sandbox gives the child no
environment of ours, so the stand-in keeps its record and its mode in files beside itself.
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
    repo = Path(os.getcwd()).parent / "repo"
    files = sorted(str(p.relative_to(repo)) for p in repo.rglob("*") if p.is_file())
    log.write(json.dumps({{"argv": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd(), "files": files}}) + "\\n")
if mode == "fail":
    sys.stderr.write("Error: template: web/templates/deployment.yaml:3:4: executing: nil pointer\\n")
    sys.exit(1)
if mode == "slow":
    time.sleep(30)
if mode == "big":
    sys.stdout.write("# padding\\n" * 200000)
    sys.exit(0)
args = sys.argv[1:]
release, chart = args[1], Path(args[2])
namespace = args[args.index("--namespace") + 1]
values = [Path(args[i + 1]).read_text() for i, a in enumerate(args) if a == "--values"]
chart_values = (chart / "values.yaml").read_text() if (chart / "values.yaml").exists() else ""
if mode == "chart":
    import re
    import yaml
    def merge(base, over):
        out = dict(base)
        for k, v in over.items():
            out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
        return out
    merged = {{}}
    for text in [chart_values, *values]:
        merged = merge(merged, yaml.safe_load(text) or {{}})
    def lookup(match):
        value = merged
        for part in match.group(1).split("."):
            value = value[part]
        return value if isinstance(value, str) else json.dumps(value)
    name = yaml.safe_load((chart / "Chart.yaml").read_text())["name"]
    for template in sorted((chart / "templates").glob("*.yaml")):
        text = template.read_text()
        text = re.sub(r"{{{{ *\\.Release\\.Name *}}}}", release, text)
        text = re.sub(r"{{{{ *\\.Release\\.Namespace *}}}}", namespace, text)
        text = re.sub(r"{{{{ *\\.Values\\.([\\w.]+) *}}}}", lookup, text)
        print(f"---\\n# Source: {{name}}/templates/{{template.name}}\\n{{text}}", end="")
    sys.exit(0)
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
