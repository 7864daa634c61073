"""Fixtures shared by every test package.

The PostGIS database comes from `TAKEOFF_TEST_DATABASE_URL` (the README's test command
creates a throw-away one). When `TAKEOFF_TEST_REQUIRE_POSTGIS=1` a missing URL is an error,
never a silent skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa


def _postgis_url() -> str | None:
    return os.environ.get("TAKEOFF_TEST_DATABASE_URL") or None


@pytest.fixture(scope="session")
def postgis_url() -> str:
    """URL of a migrated PostGIS test database."""
    url = _postgis_url()
    if url is None:
        if os.environ.get("TAKEOFF_TEST_REQUIRE_POSTGIS") == "1":
            pytest.fail("TAKEOFF_TEST_DATABASE_URL is not set but PostGIS is required")
        pytest.skip("no PostGIS database (set TAKEOFF_TEST_DATABASE_URL)")
    return url


@pytest.fixture(scope="session")
def postgis_engine(postgis_url: str) -> Iterator[sa.Engine]:
    """An engine on the PostGIS test database."""
    engine = sa.create_engine(postgis_url)
    yield engine
    engine.dispose()
