"""deployment variants (primary/canary/shadow, weight, replicas) behind a load balancer

Revision ID: 0014_variants
Revises: 0013_team

"""

import sqlalchemy as sa
from alembic import op

revision = "0014_variants"
down_revision = "0013_team"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="single"))
        batch.add_column(sa.Column("variant_id", sa.Integer(), nullable=True))
        batch.create_index("ix_deployments_variant_id", ["variant_id"])
    op.create_table(
        "deployment_variants",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "deployment_id",
            sa.Integer(),
            sa.ForeignKey("deployments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column(
            "image_row_id",
            sa.Integer(),
            sa.ForeignKey("model_images.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("model_version_id", sa.Integer(), nullable=True),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("replicas", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_deployment_variants_deployment_id", "deployment_variants", ["deployment_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_deployment_variants_deployment_id", "deployment_variants")
    op.drop_table("deployment_variants")
    with op.batch_alter_table("deployments") as batch:
        batch.drop_index("ix_deployments_variant_id")
        batch.drop_column("variant_id")
        batch.drop_column("kind")
