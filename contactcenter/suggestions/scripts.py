"""Sales scripts: Jinja2 templates in rules/scripts/<id>.md.j2, rendered in the sandboxed environment.

A missing field renders as a plain "[not on file]" marker, never as an error: an agent mid-call needs
the rest of the script. The first line may be a title comment: {# title: Fund adviser introduction #}.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import ChainableUndefined, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from contactcenter.suggestions.catalogue import by_name, example_facts, namespaces
from contactcenter.suggestions.schemas import Problem

SUFFIX = ".md.j2"
MISSING = "[not on file]"
# Names a script may use besides the fact namespaces.
EXTRA_NAMES = frozenset({"suggestion", "agent"})
TITLE = re.compile(r"^\{#\s*title:\s*(.+?)\s*#\}")
MAX_SCRIPT = 20_000


class Missing(ChainableUndefined):
    """Undefined that prints a plain marker and never raises, however deep the lookup."""

    def __str__(self) -> str:
        return MISSING


def _finalize(value: Any) -> Any:
    return MISSING if value is None else value


def make_env() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=Missing, finalize=_finalize, autoescape=False, keep_trailing_newline=False)


@dataclass(frozen=True)
class Script:
    id: str
    title: str
    source: str


def to_html(text: str) -> str:
    """Escape the rendered script, then paragraphs, line breaks and **bold**."""
    out = []
    for para in re.split(r"\n\s*\n", text.strip()):
        esc = html.escape(para.strip())
        esc = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", esc)
        out.append("<p>" + esc.replace("\n", "<br>") + "</p>")
    return "".join(out)


class ScriptStore:
    """The scripts of one rules/ folder, parsed once; renders them for a contact."""

    def __init__(self, scripts: dict[str, Script]) -> None:
        self.env = make_env()
        self.scripts = scripts
        self.templates = {sid: self.env.from_string(s.source) for sid, s in scripts.items()}

    @classmethod
    def from_dir(cls, folder: Path) -> ScriptStore:
        found: dict[str, Script] = {}
        for p in sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []:
            sid = p.name.removesuffix(SUFFIX)
            try:
                source = p.read_text()
                make_env().parse(source)
            except (OSError, UnicodeDecodeError, TemplateSyntaxError):
                continue  # `rules check` names it; a broken script is simply absent at run time
            m = TITLE.match(source)
            found[sid] = Script(sid, m[1] if m else sid.replace("_", " ").capitalize(), source)
        return cls(found)

    def render(self, script_id: str, context: dict[str, Any]) -> str:
        """The script rendered as escaped HTML; a missing or failing script says so plainly."""
        tmpl = self.templates.get(script_id)
        if tmpl is None:
            return f"<p>{html.escape(f'Script {script_id!r} is not available.')}</p>"
        try:
            return to_html(tmpl.render(context))
        except Exception:  # sandbox refusals or a bad filter argument: the agent still gets the suggestion
            return f"<p>{html.escape(f'Script {script_id!r} could not be rendered.')}</p>"


def _template_line(exc: BaseException, name: str) -> int | None:
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == name:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def check_script(source: str, *, path: str) -> list[Problem]:
    """Syntax, facts used, and a sandboxed render with example facts; problems name the template line."""
    if len(source) > MAX_SCRIPT:
        return [Problem(path=path, message=f"longer than {MAX_SCRIPT} characters")]
    env = make_env()
    try:
        ast = env.parse(source, name=path)
    except TemplateSyntaxError as exc:
        return [Problem(path=path, message=f"line {exc.lineno}: {exc.message}")]
    problems = []
    known = namespaces()
    for name in sorted(meta.find_undeclared_variables(ast) - known - EXTRA_NAMES):
        problems.append(Problem(path=path, message=f"unknown name {name!r} (facts are {', '.join(sorted(known))})"))
    for node in ast.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name in known:
            fact = f"{node.node.name}.{node.attr}"
            if fact not in by_name():
                problems.append(Problem(path=path, message=f"line {node.lineno}: unknown fact {fact!r}"))
    try:
        ctx: dict[str, Any] = {**example_facts(), "suggestion": {"offer": "X", "title": "X", "reason": "X"}}
        env.from_string(source).render(ctx | {"agent": {"name": "Alice"}})
    except Exception as exc:
        line = _template_line(exc, "<template>")
        where = f"line {line}: " if line else ""
        problems.append(Problem(path=path, message=f"{where}does not render: {exc.__class__.__name__}: {exc}"[:300]))
    return problems


def check_dir(folder: Path, *, root: Path) -> tuple[set[str], list[Problem]]:
    """Every script's id, and every problem in the folder."""
    ids: set[str] = set()
    problems: list[Problem] = []
    for p in sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []:
        rel = str(p.relative_to(root)) if p.is_relative_to(root) else str(p)
        try:
            source = p.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(path=rel, message=f"unreadable: {exc.__class__.__name__}"))
            continue
        problems += check_script(source, path=rel)
        ids.add(p.name.removesuffix(SUFFIX))
    return ids, problems
