"""A `helm` for tests that renders with Helm's own Go engine (helm-python-sdk's libhelm_c), not a stand-in's regexes.

No helm *binary* can be installed here (no Debian package; no PyPI or npm package ships the CLI),
but helm-python-sdk ships Helm v4's chart loader and template engine as a C library. This
small ``helm`` answers the one command the bot runs, ``helm template RELEASE CHART --namespace
NS --no-hooks --values F...``, as the CLI does: value files deep-merged in order over the
chart's values, each rendered template printed after a ``# Source: <chart>/templates/<file>``
comment, notes, partials and hooks left out. scripts/test.sh installs the SDK.
"""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPT = '''#!{python}
import re, sys
from pathlib import Path

import yaml
from helm_python.chart import Chart


def merge(base, over):
    out = dict(base)
    for key, value in over.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def is_hook(document):
    obj = yaml.safe_load(document)
    annotations = ((obj or {{}}).get("metadata") or {{}}).get("annotations") or {{}}
    return isinstance(obj, dict) and "helm.sh/hook" in annotations


args = sys.argv[1:]
if args[:1] != ["template"]:
    sys.exit("this test helm only runs `helm template`")
release, chart = args[1], args[2]
namespace = args[args.index("--namespace") + 1]
values = {{}}
for i, arg in enumerate(args):
    if arg == "--values":
        values = merge(values, yaml.safe_load(Path(args[i + 1]).read_text()) or {{}})
try:
    with Chart.load(chart) as loaded:
        manifests = loaded.render(values=values, name=release, namespace=namespace, is_install=True)
except Exception as error:
    sys.stderr.write(f"Error: {{error}}\\n")
    sys.exit(1)
for name in sorted(manifests):
    if name.endswith("NOTES.txt"):
        continue
    for document in re.split(r"^---[ \\t]*$", manifests[name], flags=re.MULTILINE):
        if document.strip() and not is_hook(document):
            print(f"---\\n# Source: {{name}}\\n{{document.strip(chr(10))}}")
'''


def install(bin_dir: Path) -> Path:
    """Write the executable ``helm`` into ``bin_dir`` (created) and return its path."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    helm = bin_dir / "helm"
    helm.write_text(SCRIPT.format(python=sys.executable))
    helm.chmod(0o755)
    return helm


def create_chart(name: str, directory: Path) -> Path:
    """Helm's own starter chart (``helm create``), written by the engine; returns its directory."""
    from helm_python.chart import Chart

    directory.mkdir(parents=True, exist_ok=True)
    with Chart.create(name, directory):
        pass
    return directory / name
