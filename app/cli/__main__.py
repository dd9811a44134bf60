"""``python -m app.cli …``: the ``modeldesk`` command (Serve locally starts the server so)."""

from app.cli import main

raise SystemExit(main())
