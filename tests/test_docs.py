"""The docs stay true: every route is in docs/api.md with its guard, every package in
docs/directory-structure.md, every setting in docs/operations.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from contactcenter.app import create_app
from contactcenter.auth import deps
from contactcenter.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
METHODS = "GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS"
# A route's own section: "### `GET /api/customers/{customer_id}`".
HEADING = re.compile(rf"^#+ `({METHODS}) (/\S*)`\s*$")
# Any mention of a route anywhere on the page, in a heading, a table or prose.
MENTION = re.compile(rf"`({METHODS}) (/[^`\s]*)`")
GUARD_LINE = re.compile(r"^- Guard: `(\w+)`")


@pytest.fixture(scope="module")
def app() -> FastAPI:
    # No lifespan: the routes exist as soon as the app is built.
    return create_app(Settings(secret_key="x" * 40, log_json=False, log_level="WARNING"))


def api_routes(app: FastAPI) -> dict[str, APIRoute]:
    """Every HTTP route as "METHOD /path", including those of included routers."""
    try:
        # Recent FastAPI keeps each included router as one entry of app.routes; this walks into them.
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI copies every route into app.routes
        pairs = [(r.path, r) for r in app.routes if isinstance(r, APIRoute)]
    else:
        pairs = [
            (ctx.path or ctx.original_route.path, ctx.original_route)
            for ctx in iter_route_contexts(app.routes)
            if isinstance(ctx.original_route, APIRoute)
        ]
    return {f"{method} {path}": route for path, route in pairs for method in sorted(route.methods or ())}


def guard_name(dep: Dependant) -> str:
    """The name, in auth/deps.py, of the one guard a route declares."""
    names = {id(obj): name for name, obj in vars(deps).items() if isinstance(obj, deps.Guard)}

    def walk(d: Dependant) -> list[str]:
        found: list[str] = [names.get(id(d.call), "<unnamed>")] if isinstance(d.call, deps.Guard) else []
        return found + [g for sub in d.dependencies for g in walk(sub)]

    found = walk(dep)
    assert len(found) == 1, found
    return found[0]


def api_doc_sections() -> dict[str, str]:
    """Route heading -> the text under it, up to the next heading."""
    sections: dict[str, str] = {}
    current: str | None = None
    for line in (DOCS / "api.md").read_text().splitlines():
        if line.startswith("#"):
            m = HEADING.match(line)
            current = f"{m[1]} {m[2]}" if m else None
            if current is not None:
                assert current not in sections, f"{current} is documented twice"
                sections[current] = ""
        elif current is not None:
            sections[current] += line + "\n"
    return sections


def test_the_app_has_routes_to_check(app: FastAPI) -> None:
    # Guards against a silent empty list if FastAPI changes how it stores included routers again.
    assert len(api_routes(app)) >= 20


def test_every_route_has_a_section_in_api_md(app: FastAPI) -> None:
    missing = sorted(set(api_routes(app)) - set(api_doc_sections()))
    assert missing == [], "document these in docs/api.md as '### `METHOD /path`'"


def test_api_md_names_no_route_that_does_not_exist(app: FastAPI) -> None:
    mentioned = {f"{m[1]} {m[2]}" for m in MENTION.finditer((DOCS / "api.md").read_text())}
    stale = sorted(mentioned - set(api_routes(app)))
    assert stale == []


def test_api_md_names_each_routes_guard(app: FastAPI) -> None:
    routes = api_routes(app)
    wrong = []
    for key, text in api_doc_sections().items():
        if key not in routes:
            continue
        documented = next((m[1] for line in text.splitlines() if (m := GUARD_LINE.match(line))), None)
        actual = guard_name(routes[key].dependant)
        if documented != actual:
            wrong.append(f"{key}: documented {documented}, declared {actual}")
    assert wrong == []


def package_tree_entries(text: str) -> set[str]:
    """The entries of the contactcenter/ tree on the page: the first word of each indented line under the
    `contactcenter/` line of the tree block, up to the next top-level entry (`web/`, `rules/`, ...). Lines
    indented to the description column continue a description: their first word is prose, not an entry."""
    block = text.split("## The tree", 1)[1].split("```", 2)[1]
    entries: set[str] = set()
    described_at: int | None = None  # the column descriptions start at, taken from the contactcenter/ line
    for line in block.splitlines():
        indent = len(line) - len(line.lstrip())
        if not line.strip():
            continue
        if indent == 0:  # a top-level entry
            first, _, rest = line.partition(" ")
            described_at = len(line) - len(rest.lstrip()) if first == "contactcenter/" else None
        elif described_at is not None and indent < described_at:
            entries.add(line.split()[0])
    return entries


def test_the_package_tree_is_read_from_the_page() -> None:
    sample = (
        "## The tree\n\n```\n"
        "contactcenter/  the package\n"
        "  db/           the database;\n"
        "                planner/ in a description\n"
        "  a/b/          nested\n"
        "web/            pages\n"
        "  planner/      the editor's source\n"
        "```\n"
    )
    assert package_tree_entries(sample) == {"db/", "a/b/"}  # neither planner/ is an entry of contactcenter/


def test_directory_structure_lists_every_package() -> None:
    entries = package_tree_entries((DOCS / "directory-structure.md").read_text())
    pkg = ROOT / "contactcenter"
    packages = sorted(p.parent.relative_to(pkg).as_posix() + "/" for p in pkg.rglob("__init__.py") if p.parent != pkg)
    assert packages, "no packages found"
    # As a tree entry under contactcenter/, not anywhere on the page: `planner/` under web/ does not count.
    missing = [p for p in packages if p not in entries]
    assert missing == [], "add these to the contactcenter/ tree of docs/directory-structure.md"


def test_operations_md_lists_every_setting() -> None:
    text = (DOCS / "operations.md").read_text()
    missing = [f"CC_{name.upper()}" for name in Settings.model_fields if f"CC_{name.upper()}" not in text]
    assert missing == []
