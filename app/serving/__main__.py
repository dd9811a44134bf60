"""``python -m app.serving --bundle /model --host 0.0.0.0 --port 8080``: the image's entry."""

from __future__ import annotations

import sys

from .options import from_args
from .server import serve

if __name__ == "__main__":
    sys.exit(serve(from_args()))
