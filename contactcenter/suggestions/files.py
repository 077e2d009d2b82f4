"""The rules/ folder: manifest.json (rule ids, names, holdouts), one JDM file per rule, scripts/*.md.j2."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from contactcenter.suggestions import engine, scripts
from contactcenter.suggestions.jdm import load_text
from contactcenter.suggestions.schemas import Problem

MANIFEST = "manifest.json"


class ManifestRule(BaseModel):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(min_length=1, max_length=120)
    file: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.-]+\.json$")
    holdout_pct: float = Field(default=0, ge=0, le=50)


class Manifest(BaseModel):
    rules: list[ManifestRule]


@dataclass(frozen=True)
class RuleFile:
    id: str
    name: str
    holdout_pct: float
    content: dict[str, Any]


def _manifest(root: Path) -> tuple[Manifest | None, list[Problem]]:
    path = root / MANIFEST
    try:
        return Manifest.model_validate_json(path.read_bytes()), []
    except FileNotFoundError:
        return None, [Problem(path=str(path), message="missing: it lists each rule's id, name and file")]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        return None, [Problem(path=str(path), message=f"{where}: {first['msg']}")]


def read_folder(root: Path) -> tuple[list[RuleFile], list[Problem]]:
    """Every valid rule in the folder, and every problem (rules, scripts, manifest), naming file and row."""
    manifest, problems = _manifest(root)
    script_ids, script_problems = scripts.check_dir(root / "scripts", root=root)
    problems += script_problems
    if manifest is None:
        return [], problems
    out: list[RuleFile] = []
    seen: set[str] = set()
    for m in manifest.rules:
        path = root / m.file
        if m.id in seen:
            problems.append(Problem(path=str(root / MANIFEST), message=f"rule id {m.id!r} is listed twice"))
            continue
        seen.add(m.id)
        try:
            text = path.read_bytes()
        except OSError:
            problems.append(Problem(path=str(path), message=f"missing: the manifest lists it for rule {m.id!r}"))
            continue
        parsed, found = load_text(text, path=str(path))
        if parsed is not None:
            parsed, found = engine.validate(json.loads(text), path=str(path), scripts=script_ids)
        problems += found
        if parsed is not None:
            out.append(RuleFile(m.id, m.name, m.holdout_pct, parsed.content))
    listed = {m.file for m in manifest.rules} | {MANIFEST}
    for extra in sorted(p.name for p in root.glob("*.json") if p.name not in listed):
        problems.append(Problem(path=str(root / extra), message="not listed in manifest.json"))
    return out, problems


def write_folder(root: Path, rules: list[RuleFile]) -> None:
    """Write rules and the manifest (scripts are not touched: they are edited as files)."""
    root.mkdir(parents=True, exist_ok=True)
    entries = []
    for r in sorted(rules, key=lambda r: r.id):
        (root / f"{r.id}.json").write_text(json.dumps(r.content, indent=2) + "\n")
        entries.append({"id": r.id, "name": r.name, "file": f"{r.id}.json", "holdout_pct": r.holdout_pct})
    (root / MANIFEST).write_text(json.dumps({"rules": entries}, indent=2) + "\n")
