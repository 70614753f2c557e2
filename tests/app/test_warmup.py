"""Warm workers: a fresh process has its schemas and built-in policies compiled before the first delivery."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.gunicorn import REPO_ROOT

PROBE = """
import json, sys
from bot.core.schemas import builtin
from bot.core.sandbox import trusted_worker

def compiled_policy_sets():  # base policies compile and stay cached in this thread's sandbox worker
    return trusted_worker().call("bot.core.rego.trusted:compiled_in_worker", None, label="probe")

before = {"policies": compiled_policy_sets(), "github": "github" in sys.modules}
from bot.app.warmup import warm_up
warm_up()
after_warm_up = {"policies": compiled_policy_sets(), "validators": builtin.builtin_validator.cache_info().currsize,
                 "github": "github" in sys.modules}
# The first delivery after warm-up: a new repository with the default config compiles nothing new.
from bot.core.evaluate import evaluate
from bot.core.workspace import Workspace
misses = builtin.builtin_validator.cache_info().misses
evaluate(Workspace.from_dict({"k/d.yaml": "apiVersion: v1\\nkind: Service\\nmetadata: {name: s}\\nspec: {}\\n"}))
first = {"policies": compiled_policy_sets(), "new_validators": builtin.builtin_validator.cache_info().misses - misses}
print(json.dumps([before, after_warm_up, first]))
"""


def test_warm_up_compiles_schemas_and_builtin_policies_so_the_first_delivery_compiles_nothing():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    before, after, first = json.loads(out.stdout.strip().splitlines()[-1])

    assert before == {"policies": 0, "github": False}
    assert after["policies"] == 1 and after["validators"] >= 4 and after["github"] is True
    assert first == {"policies": 1, "new_validators": 0}
