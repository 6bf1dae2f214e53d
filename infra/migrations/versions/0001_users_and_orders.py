"""Users and orders.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("roles", postgresql.ARRAY(sa.Text()), nullable=False, server_default=sa.text("'{user}'")),
        # Bumped by password change, role change: tokens carrying an older version are revoked.
        sa.Column("token_version", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", sa.TIMESTAMP(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("updated_at", sa.TIMESTAMP(timezone=True), nullable=False, server_default=_NOW),
        sa.CheckConstraint("email = lower(email)", name="users_email_lower_case"),
        sa.UniqueConstraint("email", name="users_email_key"),
    )
    op.create_index("users_created_at_idx", "users", ["created_at", "id"])

    op.create_table(
        "orders",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column(
            "user_id", postgresql.UUID(as_uuid=True),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="orders_user_id_fkey"), nullable=False,
        ),
        sa.Column("items", postgresql.JSONB(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False, server_default=sa.text("'created'")),
        sa.Column("total_amount", sa.Numeric(10, 2), nullable=False),
        sa.Column("created_at", sa.TIMESTAMP(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("updated_at", sa.TIMESTAMP(timezone=True), nullable=False, server_default=_NOW),
        sa.CheckConstraint(
            "status IN ('created', 'processing', 'completed', 'cancelled')", name="orders_status_valid"
        ),
        sa.CheckConstraint("total_amount >= 0", name="orders_total_non_negative"),
    )
    # Own-orders listing sorted either way, and the admin's unfiltered listing.
    op.create_index("orders_user_created_idx", "orders", ["user_id", "created_at"])
    op.create_index("orders_user_total_idx", "orders", ["user_id", "total_amount"])
    op.create_index("orders_created_idx", "orders", ["created_at"])
    op.create_index("orders_status_idx", "orders", ["status"])


def downgrade() -> None:
    op.drop_table("orders")
    op.drop_table("users")
