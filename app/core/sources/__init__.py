"""Sources beyond files: a SQL query on any SQLAlchemy URL, and a watched folder.

Both end in ``DatasetService.add_table`` / ``add_file``, so a source's data becomes dataset
versions like any dropped file; credentials never reach the store (``masked_url``).
"""

from app.core.sources.sql import masked_url, read_query
from app.core.sources.watch import FolderWatcher

__all__ = ["FolderWatcher", "masked_url", "read_query"]
