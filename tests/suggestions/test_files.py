"""`contactcenter rules check`: the real rules/ folder is clean, and each kind of mistake is named with its file
and row or template line."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from contactcenter.bus.memory import MemoryBus
from contactcenter.db import Database
from contactcenter.suggestions import service
from contactcenter.suggestions.files import read_folder
from tests.procs import cli
from tests.suggestions.helpers import RULES, demo_rule, table


def test_the_rules_folder_passes_rules_check() -> None:
    done = cli({}, "rules", "check")
    assert done.returncode == 0, done.stderr
    assert "5 rules checked" in done.stdout and "0 problems" in done.stdout


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copytree(RULES, tmp_path / "rules")
    return tmp_path / "rules"


def _write(folder: Path, rule_id: str, content: object) -> None:
    (folder / f"{rule_id}.json").write_text(json.dumps(content))


def _messages(folder: Path) -> list[str]:
    _rules, problems = read_folder(folder)
    return [f"{p.path}|{p.row}|{p.message}" for p in problems]


def test_check_fails_the_command_and_names_the_file_and_row(folder: Path) -> None:
    c = demo_rule("fund-advisor")
    table(c)["rules"][1]["in_0"] = '"gold" and and'
    _write(folder, "fund-advisor", c)
    done = cli({}, "rules", "check", "--dir", str(folder))
    assert done.returncode == 1
    assert "fund-advisor.json" in done.stderr and "row 2" in done.stderr and "not a valid expression" in done.stderr


def test_function_nodes_are_refused(folder: Path) -> None:
    c = demo_rule("retention")
    c["nodes"].append(
        {"id": "js", "type": "functionNode", "name": "Run code", "content": {"source": "export default 1"}}
    )
    _write(folder, "retention", c)
    [msg] = _messages(folder)
    assert "retention.json" in msg and "function (JavaScript) nodes are not allowed" in msg


@pytest.mark.parametrize("kind", ["switchNode", "expressionNode", "decisionNode", "customNode"])
def test_other_node_kinds_are_refused(folder: Path, kind: str) -> None:
    c = demo_rule("retention")
    c["nodes"].append({"id": "x", "type": kind, "name": "Extra", "content": {}})
    _write(folder, "retention", c)
    [msg] = _messages(folder)
    assert f"node kind {kind!r} is not supported" in msg


def test_unknown_facts_are_named_in_columns_and_cells(folder: Path) -> None:
    c = demo_rule("home-insurance")
    t = table(c)
    t["inputs"][1]["field"] = "customer.shoe_size"
    t["rules"][0]["out_reason"] = '"Owns " + customer.favourite_colour'
    _write(folder, "home-insurance", c)
    msgs = _messages(folder)
    assert any("unknown fact 'customer.shoe_size'" in m for m in msgs), msgs
    t["inputs"][1]["field"] = "contact.channel"
    _write(folder, "home-insurance", c)
    [msg] = _messages(folder)
    assert "|1|" in msg and "unknown fact 'customer.favourite_colour'" in msg


def test_a_missing_script_is_named_per_row(folder: Path) -> None:
    (folder / "scripts" / "retention.md.j2").unlink()
    msgs = _messages(folder)
    assert len(msgs) == 2 and all("no script 'retention'" in m for m in msgs)
    assert {m.split("|")[1] for m in msgs} == {"1", "2"}


def test_template_errors_name_the_line(folder: Path) -> None:
    (folder / "scripts" / "travel_insurance.md.j2").write_text("Hello\n{{ customer.first_name }\n")
    [msg] = _messages(folder)
    assert "travel_insurance.md.j2" in msg and "line 2" in msg


def test_template_render_errors_and_unknown_facts_are_found(folder: Path) -> None:
    (folder / "scripts" / "travel_insurance.md.j2").write_text(
        "Hi {{ customer.first_name }}\n{{ customer.years_with_bank // 0 }}\n{{ customer.pet_name }}\n"
    )
    msgs = _messages(folder)
    assert any("line 3" in m and "unknown fact 'customer.pet_name'" in m for m in msgs), msgs
    assert any("does not render" in m and "ZeroDivisionError" in m for m in msgs), msgs


def test_sandbox_refuses_unsafe_templates(folder: Path) -> None:
    (folder / "scripts" / "travel_insurance.md.j2").write_text("{{ customer.__class__.__mro__ }}\n{{ ''.__class__ }}")
    msgs = _messages(folder)
    assert msgs and all("travel_insurance" in m for m in msgs)


def test_bad_json_names_the_line(folder: Path) -> None:
    (folder / "retention.json").write_text('{\n  "nodes": [\n    oops\n')
    [msg] = _messages(folder)
    assert "retention.json" in msg and "line 3" in msg


def test_files_not_in_the_manifest_and_missing_files(folder: Path) -> None:
    (folder / "stray.json").write_text("{}")
    (folder / "retention.json").unlink()
    msgs = _messages(folder)
    assert any("stray.json" in m and "not listed" in m for m in msgs)
    assert any("retention.json" in m and "missing" in m for m in msgs)


def test_outputs_and_row_ids_are_required(folder: Path) -> None:
    c = demo_rule("mortgage-first")
    t = table(c)
    t["outputs"] = [o for o in t["outputs"] if o["field"] != "priority"]
    _write(folder, "mortgage-first", c)
    assert any("output column 'priority'" in m for m in _messages(folder))
    c = demo_rule("mortgage-first")
    table(c)["rules"][1]["_id"] = table(c)["rules"][0]["_id"]
    table(c)["rules"][0]["out_script"] = "customer.segment"
    _write(folder, "mortgage-first", c)
    msgs = _messages(folder)
    assert any("|2|" in m and "used by another row" in m for m in msgs), msgs
    assert any("|1|" in m and "quoted script id" in m for m in msgs), msgs


def test_import_publishes_changed_files_and_export_writes_them_back(folder: Path, tmp_path: Path) -> None:
    env = {"CC_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", "CC_LOG_LEVEL": "WARNING"}
    assert cli(env, "migrate").returncode == 0
    done = cli(env, "rules", "import", "--dir", str(folder))
    assert done.returncode == 0 and "imported 5 changed rules" in done.stdout, done.stderr
    assert "imported 0 changed rules" in cli(env, "rules", "import", "--dir", str(folder)).stdout
    c = demo_rule("retention")
    table(c)["rules"][0]["out_priority"] = "99"
    _write(folder, "retention", c)
    assert "imported 1 changed rules" in cli(env, "rules", "import", "--dir", str(folder), "--author", "ci").stdout
    out = tmp_path / "exported"
    shutil.copytree(folder / "scripts", out / "scripts")
    done = cli(env, "rules", "export", "--dir", str(out))
    assert done.returncode == 0 and "exported 5 rules" in done.stdout
    assert json.loads((out / "retention.json").read_text()) == c
    assert json.loads((out / "fund-advisor.json").read_text()) == demo_rule("fund-advisor")
    assert cli(env, "rules", "check", "--dir", str(out)).returncode == 0
    c["nodes"][0]["type"] = "functionNode"
    _write(folder, "retention", c)
    done = cli(env, "rules", "import", "--dir", str(folder))
    assert done.returncode == 1 and "function (JavaScript)" in done.stderr


async def test_two_processes_importing_the_folder_at_once_publish_each_rule_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both app processes start together and both read an empty database; the first then imports the rules/
    folder while the second is still about to: each rule must end at version 1, not 1 from one process and 2
    from the other (seen once in CI as a wrong version)."""
    bus = MemoryBus()
    read_by_slow = asyncio.Event()
    fast_done = asyncio.Event()
    real = service.current_versions

    async def slow_read(session: Any, **kw: Any) -> Any:
        got = await real(session, **kw)
        if not read_by_slow.is_set():  # the slow process read "nothing yet"; let the fast one import everything
            read_by_slow.set()
            await fast_done.wait()
        return got

    monkeypatch.setattr(service, "current_versions", slow_read)

    async def importer(after: asyncio.Event | None) -> list[str]:
        if after is not None:
            await after.wait()
        async with db.session() as s:
            done, _problems = await service.import_rules(s, bus, folder=RULES, author="rules/ folder", only_new=True)
        fast_done.set()
        return done

    slow = asyncio.create_task(importer(None))
    fast = await importer(read_by_slow)
    names = {p.stem for p in RULES.glob("*.json")} - {"manifest"}
    assert sorted(fast) == sorted(names) and await slow == []
    async with db.session() as s:
        versions = await real(s, content=False)
    assert {rid: v for rid, (_n, v, _p, _c) in versions.items()} == {rid: 1 for rid in names}
