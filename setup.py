"""Build hook: the built-in Rego library lives once, in ``policies/``, and ships as ``bot/builtin_policies``.

Everything else is declared in pyproject.toml; a package mapped onto a directory outside ``bot/`` is
the one thing its package discovery cannot express.
"""

from setuptools import find_namespace_packages, setup

LIBRARY = "bot.builtin_policies"

setup(
    packages=[
        *find_namespace_packages(include=["bot", "bot.*"], exclude=["*.__pycache__"]),
        LIBRARY,
        *(f"{LIBRARY}.{sub}" for sub in find_namespace_packages("policies", exclude=["*.__pycache__"])),
    ],
    package_dir={LIBRARY: "policies"},
)
