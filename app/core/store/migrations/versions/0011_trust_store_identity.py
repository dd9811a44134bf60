"""the store's identity (a store id made once) and whether its audit log was anchored

Revision ID: 0011_trust
Revises: 0010

"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0011_trust"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "store_info",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_store_info"),
    )
    op.bulk_insert(table, [{"key": "store_id", "value": uuid.uuid4().hex}])


def downgrade() -> None:
    op.drop_table("store_info")
