"""SQLAlchemy Core tables, mirroring the Alembic migrations (a test checks they agree)."""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData()
_NOW = sa.text("now()")

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()")),
    sa.Column("email", sa.Text(), nullable=False),
    sa.Column("password_hash", sa.Text(), nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("roles", postgresql.ARRAY(sa.Text()), nullable=False, server_default=sa.text("'{user}'")),
    sa.Column("token_version", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("created_at", sa.TIMESTAMP(timezone=True), nullable=False, server_default=_NOW),
    sa.Column("updated_at", sa.TIMESTAMP(timezone=True), nullable=False, server_default=_NOW),
    sa.CheckConstraint("email = lower(email)", name="users_email_lower_case"),
    sa.UniqueConstraint("email", name="users_email_key"),
    sa.Index("users_created_at_idx", "created_at", "id"),
)

orders = sa.Table(
    "orders",
    metadata,
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
    sa.CheckConstraint("status IN ('created', 'processing', 'completed', 'cancelled')", name="orders_status_valid"),
    sa.CheckConstraint("total_amount >= 0", name="orders_total_non_negative"),
    sa.Index("orders_user_created_idx", "user_id", "created_at"),
    sa.Index("orders_user_total_idx", "user_id", "total_amount"),
    sa.Index("orders_created_idx", "created_at"),
    sa.Index("orders_status_idx", "status"),
)
