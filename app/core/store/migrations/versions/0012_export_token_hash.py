"""deployment tokens kept as a SHA-256 digest (never in clear), so they can be rotated

Revision ID: 0012_export
Revises: 0011_trust

"""

import sqlalchemy as sa
from alembic import op

revision = "0012_export"
down_revision = "0011_trust"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(
            sa.Column("token_sha256", sa.String(64), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("token_sha256")
