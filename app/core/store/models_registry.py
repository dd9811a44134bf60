"""ORM rows of the model registry and its audit trail (issue 6)."""

from __future__ import annotations
