"""Sources that keep producing data: a watched folder whose new files become versions.

It ends in ``DatasetService.add_file``, so its data becomes dataset versions like any dropped
file. (A SQL query is read once, like a file: ``app.core.readers.sql``.)
"""

from app.core.sources.watch import FolderWatcher

__all__ = ["FolderWatcher"]
