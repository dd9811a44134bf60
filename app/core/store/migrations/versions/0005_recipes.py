"""recipes: named recipes, their immutable versions, and where they are used

Revision ID: 0005
Revises: 0004

"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recipes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipes")),
        sa.UniqueConstraint("name", name=op.f("uq_recipes_name")),
    )
    op.create_table(
        "recipe_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipe_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("steps_sha256", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recipe_id"],
            ["recipes.id"],
            name=op.f("fk_recipe_versions_recipe_id_recipes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipe_versions")),
        sa.UniqueConstraint(
            "recipe_id", "version", name=op.f("uq_recipe_versions_recipe_id_version")
        ),
    )
    with op.batch_alter_table("recipe_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recipe_versions_steps_sha256"), ["steps_sha256"], unique=False
        )
    op.create_table(
        "recipe_usages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipe_version_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("dataset_version_id", sa.Integer(), nullable=True),
        sa.Column("input_version_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_recipe_usages_dataset_version_id_dataset_versions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["input_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_recipe_usages_input_version_id_dataset_versions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recipe_version_id"],
            ["recipe_versions.id"],
            name=op.f("fk_recipe_usages_recipe_version_id_recipe_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_recipe_usages_run_id_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipe_usages")),
    )
    with op.batch_alter_table("recipe_usages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recipe_usages_recipe_version_id"), ["recipe_version_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_recipe_usages_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("recipe_usages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recipe_usages_run_id"))
        batch_op.drop_index(batch_op.f("ix_recipe_usages_recipe_version_id"))
    op.drop_table("recipe_usages")
    with op.batch_alter_table("recipe_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recipe_versions_steps_sha256"))
    op.drop_table("recipe_versions")
    op.drop_table("recipes")
