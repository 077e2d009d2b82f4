"""Rules in the database: versions, publish, rollback, holdout, import/export between rules/ and the database.

The only module (with feedback.py for suggestions and their outcomes) that writes or publishes. A publish is
validated first; a refused publish changes nothing, so the published version stays in force. Every change
goes out on the bus after the commit, and every process reloads that rule (runtime.py).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.bus import Bus
from contactcenter.db import utcnow
from contactcenter.http import ApiError
from contactcenter.suggestions import engine, stats
from contactcenter.suggestions.events import TOPIC_RULES, RuleChanged
from contactcenter.suggestions.files import RuleFile, read_folder, write_folder
from contactcenter.suggestions.jdm import ParsedRule
from contactcenter.suggestions.models import Rule, RuleVersion
from contactcenter.suggestions.schemas import Problem, RuleDetail, RuleList, RuleSummary, Stats, VersionOut

log = structlog.get_logger("suggestions")


class RuleInvalid(Exception):
    """A draft that may not be published; routes answer 422 invalid_rule with the problems."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("invalid_rule")
        self.problems = problems


def _version_out(v: RuleVersion) -> VersionOut:
    return VersionOut(version=v.version, author=v.author, published_at=v.published_at, comment=v.comment)


async def announce(bus: Bus, *, rule_id: str, version: int) -> None:
    """Tell every process; a bus outage is logged (each process also polls, see runtime.py)."""
    try:
        await bus.publish_event(TOPIC_RULES, RuleChanged(rule_id=rule_id, version=version))
    except Exception as exc:
        log.warning("publish_failed", what="suggestions.rule_changed", error=repr(exc))


async def _rule(session: AsyncSession, rule_id: str, *, lock: bool = False) -> Rule:
    q = select(Rule).where(Rule.id == rule_id)
    rule = await session.scalar(q.with_for_update() if lock else q)
    if rule is None:
        raise ApiError(404, "rule_not_found", f"no rule {rule_id!r}")
    return rule


async def _version(session: AsyncSession, rule_id: str, version: int) -> RuleVersion:
    v = await session.scalar(select(RuleVersion).where(RuleVersion.rule_id == rule_id, RuleVersion.version == version))
    if v is None:
        raise ApiError(404, "version_not_found", f"rule {rule_id!r} has no version {version}")
    return v


async def list_rules(session: AsyncSession) -> RuleList:
    """Every rule at its published version, with its figures over all versions."""
    rows = await session.execute(
        select(Rule, RuleVersion)
        .join(RuleVersion, (RuleVersion.rule_id == Rule.id) & (RuleVersion.version == Rule.version))
        .order_by(Rule.id)
    )
    figures = await stats.by_rule(session)
    running = {rid: version for rid, (_, version, _, _) in (await current_versions(session, content=False)).items()}
    return RuleList(
        rules=[
            RuleSummary(
                id=r.id,
                name=r.name,
                version=r.version,
                published_at=v.published_at,
                author=v.author,
                comment=v.comment,
                holdout_pct=r.holdout_pct,
                stats=figures.get(r.id, Stats()),
                in_force=running.get(r.id),
                stopped=v.stopped_reason if v.stopped_at is not None else None,
            )
            for r, v in rows.all()
        ]
    )


async def get_rule(session: AsyncSession, *, rule_id: str, version: int | None = None) -> RuleDetail:
    """A rule with the content of its published version (or of `version`) and every version's metadata."""
    rule = await _rule(session, rule_id)
    shown = await _version(session, rule_id, version or rule.version)
    versions = await session.scalars(
        select(RuleVersion).where(RuleVersion.rule_id == rule_id).order_by(RuleVersion.version.desc())
    )
    return RuleDetail(
        id=rule.id,
        name=rule.name,
        version=shown.version,
        holdout_pct=rule.holdout_pct,
        content=shown.content,
        versions=[_version_out(v) for v in versions],
    )


def check_draft(content: Any, *, rule_id: str, scripts: Collection[str]) -> ParsedRule:
    """Validate a draft from the editor; raises RuleInvalid with every problem."""
    parsed, problems = engine.validate(content, path=rule_id, scripts=scripts)
    if parsed is None:
        raise RuleInvalid(problems)
    return parsed


async def publish(
    session: AsyncSession,
    bus: Bus,
    *,
    rule_id: str,
    content: dict[str, Any],
    comment: str,
    author: str,
    scripts: Collection[str],
    name: str | None = None,
    holdout_pct: float = 0.0,
    create_only: bool = False,
) -> VersionOut:
    """Validate, then store as the next version and put it in force; a new id creates the rule. With
    create_only an existing rule is left alone (409 rule_exists), checked under the row lock."""
    check_draft(content, rule_id=rule_id, scripts=scripts)
    rule = await session.scalar(select(Rule).where(Rule.id == rule_id).with_for_update())
    if rule is not None and create_only:
        await session.rollback()
        raise ApiError(409, "rule_exists", f"rule {rule_id!r} already exists")
    now = utcnow()
    if rule is None:
        rule = Rule(id=rule_id, name=name or rule_id, version=1, holdout_pct=holdout_pct, updated_at=now)
        session.add(rule)
    else:
        rule.version += 1
        rule.updated_at = now
        if name:
            rule.name = name
    v = RuleVersion(
        rule_id=rule_id, version=rule.version, content=content, author=author, comment=comment, published_at=now
    )
    session.add(v)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise ApiError(409, "version_conflict", "someone published this rule at the same moment; try again") from exc
    log.info("rule_published", rule=rule_id, version=v.version, author=author)
    await announce(bus, rule_id=rule_id, version=v.version)
    return _version_out(v)


async def rollback(
    session: AsyncSession, bus: Bus, *, rule_id: str, version: int, comment: str, author: str, scripts: Collection[str]
) -> VersionOut:
    """Publish an earlier version's content again, as a new version."""
    old = await _version(session, rule_id, version)
    await _rule(session, rule_id)
    note = comment or f"rollback to version {version}"
    return await publish(
        session, bus, rule_id=rule_id, content=old.content, comment=note, author=author, scripts=scripts
    )


async def set_holdout(session: AsyncSession, bus: Bus, *, rule_id: str, holdout_pct: float) -> float:
    """Hold this share of matching contacts out of the rule (recorded, not shown)."""
    rule = await _rule(session, rule_id, lock=True)
    rule.holdout_pct = holdout_pct
    rule.updated_at = utcnow()
    await session.commit()
    await announce(bus, rule_id=rule_id, version=rule.version)
    return holdout_pct


async def current_versions(
    session: AsyncSession, *, content: bool = True
) -> dict[str, tuple[str, int, float, dict[str, Any]]]:
    """rule id -> (name, version, holdout %, content) of every rule in force: its published version, or if
    that one was stopped the newest earlier one never stopped (a rule with none is left out)."""
    running = (
        select(RuleVersion.rule_id, func.max(RuleVersion.version).label("version"))
        .join(Rule, Rule.id == RuleVersion.rule_id)
        .where(RuleVersion.stopped_at.is_(None), RuleVersion.version <= Rule.version)
        .group_by(RuleVersion.rule_id)
        .subquery()
    )
    cols = (RuleVersion.content,) if content else ()
    rows = await session.execute(
        select(Rule.id, Rule.name, running.c.version, Rule.holdout_pct, *cols)
        .join(running, running.c.rule_id == Rule.id)
        .join(RuleVersion, (RuleVersion.rule_id == Rule.id) & (RuleVersion.version == running.c.version))
    )
    return {r[0]: (r[1], r[2], r[3], r[4] if content else {}) for r in rows.all()}


async def stop_version(session: AsyncSession, bus: Bus, *, rule_id: str, version: int, reason: str) -> bool:
    """Put a version that ran past the time limit out of force, on every process; False if already done."""
    done = await session.execute(
        update(RuleVersion)
        .where(RuleVersion.rule_id == rule_id, RuleVersion.version == version, RuleVersion.stopped_at.is_(None))
        .values(stopped_at=utcnow(), stopped_reason=reason[:300])
    )
    await session.commit()
    if not getattr(done, "rowcount", 0):
        return False
    await announce(bus, rule_id=rule_id, version=version)
    return True


async def import_rules(
    session: AsyncSession, bus: Bus, *, folder: Path, author: str, only_new: bool
) -> tuple[list[str], list[Problem]]:
    """Publish each rule file that is new (or, unless only_new, differs from its version in force)."""
    files, problems = read_folder(folder)
    script_ids = {p.name.removesuffix(".md.j2") for p in (folder / "scripts").glob("*.md.j2")}
    current = await current_versions(session)
    done: list[str] = []
    for f in files:
        have = current.get(f.id)
        if have is not None and (only_new or have[3] == f.content):
            continue
        try:
            await publish(
                session,
                bus,
                rule_id=f.id,
                content=f.content,
                comment=f"imported from {folder.name}/{f.id}.json",
                author=author,
                scripts=script_ids,
                name=f.name,
                holdout_pct=f.holdout_pct,
                # Two processes starting together both read "new": the second must not publish version 2
                create_only=have is None,
            )
            done.append(f.id)
        except ApiError as exc:  # another process imported it at the same moment
            log.info("rule_import_skipped", rule=f.id, reason=exc.code)
    return done, problems


async def export_rules(session: AsyncSession, *, folder: Path) -> int:
    """Write every rule's version in force to the folder (rules and manifest)."""
    current = await current_versions(session)
    write_folder(folder, [RuleFile(rid, n, pct, c) for rid, (n, _, pct, c) in sorted(current.items())])
    return len(current)
