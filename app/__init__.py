"""ModelDesk: from a dropped dataset to a tested model in a Docker container."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("modeldesk")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
