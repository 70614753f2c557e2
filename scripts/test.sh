#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, then run it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1 || ! command -v git >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server git >/dev/null
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[test]'
# Real OPA (Go, as a shared library) is the oracle the tests compare our default engine with.
# The wheel declares Python >= 3.14 but runs on 3.11.
.venv/bin/pip install -q --ignore-requires-python 'opa-golib-python-bindings>=0.4.4,<0.5'

.venv/bin/ruff check bot tests bench
.venv/bin/lint-imports
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
