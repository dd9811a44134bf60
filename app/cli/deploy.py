"""``modeldesk deploy``: being built (its issue's helper replaces this module)."""

from __future__ import annotations

from typing import Any

from app.cli import add_common
from app.core.errors import InvalidInput


def register(commands: Any) -> None:
    p = commands.add_parser("deploy", help="(being built)")
    add_common(p)
    p.set_defaults(handler=_not_yet)


def _not_yet(services: Any, args: Any) -> Any:
    raise InvalidInput("modeldesk deploy is not built yet")
