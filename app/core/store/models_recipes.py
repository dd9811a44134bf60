"""ORM rows of the recipes and their versions (issue 10)."""

from __future__ import annotations
