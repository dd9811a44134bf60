"""The schema revision this code knows, apart from SQLAlchemy: the list commands' read path
(``app.core.store.lite``) compares it with the store's without importing the engine."""

VERSION_TABLE = "modeldesk_alembic_version"
#: The newest migration this code knows. A test checks it equals Alembic's head.
HEAD_REVISION = "0014_variants"
