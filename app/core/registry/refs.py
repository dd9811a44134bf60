"""Model references (``name``, ``name@3``, ``name@champion``) and the names they may use."""

from __future__ import annotations

import re

from app.core.errors import InvalidInput

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\- ]{0,199}$")
_ALIAS = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,99}$")
#: aliases that would read as something else in a reference
RESERVED_ALIASES = frozenset({"latest"})


def parse_ref(ref: str) -> tuple[str, int | str | None]:
    """(model name, version number | alias | None for the latest active version)."""
    ref = (ref or "").strip()
    name, at, rest = ref.rpartition("@")
    if not at:
        name, rest = ref, ""
    if not name:
        raise InvalidInput(
            f"'{ref}' is not a model reference.",
            hint="Write NAME, NAME@VERSION (e.g. churn@3) or NAME@ALIAS (e.g. churn@champion).",
        )
    if not at or rest == "latest":
        return name, None
    if rest.isdigit():
        return name, int(rest)
    if not rest:
        raise InvalidInput(f"'{ref}' ends with '@' but names no version or alias.")
    return name, rest


def check_name(name: str) -> str:
    if not _NAME.match(name or "") or name != name.strip():
        raise InvalidInput(
            f"'{name}' cannot name a model.",
            hint="Use up to 200 letters, digits, spaces, '.', '_' or '-', starting with a "
            "letter or digit (no '@').",
        )
    return name


def check_alias(alias: str) -> str:
    if not _ALIAS.match(alias or "") or alias in RESERVED_ALIASES:
        raise InvalidInput(
            f"'{alias}' cannot be an alias.",
            hint="Use a word of letters, digits, '_' or '-' starting with a letter, such as "
            "champion or challenger ('latest' is reserved).",
        )
    return alias
