"""Every third-party package the app imports is a main dependency: an operator installs `pip install .`
without the dev extras, and a module found only in the dev extras (httpx for webhooks was) crashes the app."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_top_levels() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "contactcenter").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"contactcenter", "alembic", "__future__"}


def test_every_imported_package_is_a_main_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    main = {_norm(re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0]) for d in project["dependencies"]}
    dists = packages_distributions()
    missing = {}
    for module in sorted(_imported_top_levels()):
        names = {_norm(d) for d in dists.get(module, [])}
        assert names, f"{module} is imported by the app but no installed distribution provides it"
        if not names & main:
            missing[module] = sorted(names)
    # A package that only arrives with another one (as a sub-dependency) counts as missing too: the app
    # imports it, so pyproject says so with its own lower bound.
    assert missing == {}, f"imported by contactcenter/ but not in [project] dependencies: {missing}"
