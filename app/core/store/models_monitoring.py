"""ORM rows of drift reports (issue 8)."""

from __future__ import annotations
