"""store copies: which store was copied into this one (modeldesk store copy, resumable)

Revision ID: 0013_team
Revises: 0012_export

"""

import sqlalchemy as sa
from alembic import op

revision = "0013_team"
down_revision = "0012_export"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "store_copies",
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_store_copies")),
    )


def downgrade() -> None:
    op.drop_table("store_copies")
