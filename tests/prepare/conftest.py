"""Prepare tests: modules marked ``both_stores`` run on SQLite and PostgreSQL (tests/contract)."""

from tests.contract.backends import *  # noqa: F403 (the fixtures and the parametrizing hook)
