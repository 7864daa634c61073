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


def in_catalog_order(codes: list[str], catalog: RateCatalog | str) -> list[str]:
    """`codes` in the order of the catalog's items (a shipped one by slug): the bill's order."""
    if isinstance(catalog, str):
        catalog = load_builtin_catalogs(DATA / "catalogs")[catalog]
    order = list(catalog.items)
    return sorted(codes, key=order.index)
