"""risk models: the writer's deadline-risk model, for its standbys and gateways

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 01:10:00

The writer keeps each model it trains (the JSON of dispatch/risk_json.py, never a pickle)
and the last few before it; a standby or a gateway loads the newest instead of training its
own, so that a case has the same risk on every node (docs/kpis.md §8).
"""

import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('risk_models',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('trained_at', sa.Float(), nullable=False),
    sa.Column('doc', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_risk_models_trained_at', 'risk_models', ['trained_at'], unique=False)


def downgrade() -> None:
    # Each node trains its own model again.
    op.drop_index('ix_risk_models_trained_at', table_name='risk_models')
    op.drop_table('risk_models')
