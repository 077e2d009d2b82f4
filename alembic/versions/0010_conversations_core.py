"""conversations core: chat's numbering and read positions move to chat_threads; wrap-up outcomes

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

Safe to run again after an interruption (SQLite runs DDL outside a transaction): each step checks what is
already there. Columns are dropped with ALTER TABLE ... DROP COLUMN, never by rebuilding `conversations`
(on SQLite a rebuild drops the table, and the foreign keys' ON DELETE CASCADE would take the messages).
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_MOVED = ("last_seq", "customer_read_seq", "agent_read_seq")


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def _has_table(table: str) -> bool:
    return sa.inspect(op.get_bind()).has_table(table)


def upgrade() -> None:
    if not _has_table("chat_threads"):
        op.create_table(
            "chat_threads",
            sa.Column("conversation_id", sa.String(length=36), nullable=False),
            sa.Column("last_seq", sa.Integer(), nullable=False),
            sa.Column("customer_read_seq", sa.Integer(), nullable=False),
            sa.Column("agent_read_seq", sa.Integer(), nullable=False),
            sa.Column("closed", sa.Boolean(), nullable=False),
            sa.ForeignKeyConstraint(
                ["conversation_id"],
                ["conversations.id"],
                name=op.f("fk_chat_threads_conversation_id_conversations"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_chat_threads")),
        )
    have = _columns("conversations")
    if set(_MOVED) <= have:
        # Every chat's thread, with its numbers as they are (threads copied before an interruption stay).
        op.execute(
            "INSERT INTO chat_threads (conversation_id, last_seq, customer_read_seq, agent_read_seq, closed)"
            " SELECT c.id, c.last_seq, c.customer_read_seq, c.agent_read_seq, c.status = 'closed'"
            " FROM conversations c WHERE c.channel = 'chat'"
            " AND NOT EXISTS (SELECT 1 FROM chat_threads t WHERE t.conversation_id = c.id)"
        )
    for name, column in (
        ("outcome", sa.Column("outcome", sa.String(length=40), nullable=True)),
        ("outcome_note", sa.Column("outcome_note", sa.String(length=500), nullable=True)),
    ):
        if name not in have:
            op.add_column("conversations", column)
    for name in _MOVED:
        if name in have:
            op.execute(f"ALTER TABLE conversations DROP COLUMN {name}")


def downgrade() -> None:
    have = _columns("conversations")
    for name in _MOVED:
        if name not in have:
            op.add_column("conversations", sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE conversations SET last_seq = t.last_seq, customer_read_seq = t.customer_read_seq,"
        " agent_read_seq = t.agent_read_seq FROM chat_threads t WHERE t.conversation_id = conversations.id"
    )
    for name in ("outcome", "outcome_note"):
        if name in have:
            op.execute(f"ALTER TABLE conversations DROP COLUMN {name}")
    op.drop_table("chat_threads")
