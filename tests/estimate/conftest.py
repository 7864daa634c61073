"""Shipped templates and catalogs, loaded once from the repository's data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.estimate.catalogs import RateCatalog, load_builtin_catalogs
from app.estimate.templates import Template, load_builtin_templates

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="session")
def templates() -> dict[str, Template]:
    return load_builtin_templates(DATA / "templates")


@pytest.fixture(scope="session")
def catalogs() -> dict[str, RateCatalog]:
    return load_builtin_catalogs(DATA / "catalogs")
