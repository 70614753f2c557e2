#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, then run it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
apt_install() {
  [ -n "${APT_UPDATED:-}" ] || { $SUDO apt-get update -qq; APT_UPDATED=1; }
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}
# Redis for the distributed-queue tests, git for `check --base` and the plan tests.
command -v redis-server >/dev/null 2>&1 && command -v git >/dev/null 2>&1 || apt_install redis-server git
# `gitops-bot plan` renders kustomize roots with `kustomize build` or `kubectl kustomize` (kustomize v5;
# the machine image ships kubectl). Debian's kubernetes-client (kustomize v2) is only a last resort.
command -v kustomize >/dev/null 2>&1 || command -v kubectl >/dev/null 2>&1 || apt_install kubernetes-client

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[test]'
# Real OPA (Go, as a shared library) is the oracle the tests compare our default engine with.
# The wheel declares Python >= 3.14 but runs on 3.11.
.venv/bin/pip install -q --ignore-requires-python 'opa-golib-python-bindings>=0.4.4,<0.5'
# No helm binary is installable here; Helm's own Go engine (a C library in this wheel) renders charts for real
# behind a small `helm template` for the tests (tests/support/helm_engine.py).
.venv/bin/pip install -q 'helm-python-sdk>=0.2.2,<0.3'

.venv/bin/ruff check bot tests bench
.venv/bin/lint-imports
.venv/bin/python -m mypy  # --strict on bot/ ([tool.mypy] in pyproject.toml)
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
