"""deploy: images built from model versions and the containers that run them

Revision ID: 0006
Revises: 0005

"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=True),
        sa.Column("tag", sa.String(length=300), nullable=False),
        sa.Column("image_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("base_image", sa.String(length=300), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("build_seconds", sa.Float(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("example", sa.JSON(), nullable=False),
        sa.Column("owner", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_images")),
    )
    op.create_index(op.f("ix_model_images_model_version_id"), "model_images", ["model_version_id"])
    op.create_table(
        "deployments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("image_row_id", sa.Integer(), nullable=True),
        sa.Column("model_version_id", sa.Integer(), nullable=True),
        sa.Column("container_id", sa.String(length=100), nullable=False),
        sa.Column("container_name", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=100), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("smoke_test", sa.JSON(), nullable=False),
        sa.Column("owner", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["image_row_id"],
            ["model_images.id"],
            name=op.f("fk_deployments_image_row_id_model_images"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployments")),
    )
    op.create_index(op.f("ix_deployments_image_row_id"), "deployments", ["image_row_id"])
    op.create_index(op.f("ix_deployments_model_version_id"), "deployments", ["model_version_id"])


def downgrade() -> None:
    op.drop_table("deployments")
    op.drop_table("model_images")
