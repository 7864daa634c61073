"""The shipped rule set, templates and catalog, and a way to run a programme on a file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.estimate.catalogs import RateCatalog, load_builtin_catalogs
from app.estimate.templates import Template, load_builtin_templates
from app.io.sources import open_source
from app.programme.rules import RuleSet, load_builtin_rule_sets
from app.programme.run import Programme, ProgrammeRequest, make_programme

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    return load_builtin_rule_sets(DATA / "rules")["kota-kabupaten"]


@pytest.fixture(scope="session")
def templates() -> dict[str, Template]:
    return load_builtin_templates(DATA / "templates")


@pytest.fixture(scope="session")
def catalog() -> RateCatalog:
    return load_builtin_catalogs(DATA / "catalogs")["tangerang-sample"]


@pytest.fixture
def run_programme(rules: RuleSet, templates: dict[str, Template], catalog: RateCatalog) -> Any:
    def run(
        path: Path,
        budget: Decimal | None = None,
        complaints: list[tuple[float, float]] | None = None,
        **options: Any,
    ) -> Programme:
        request = ProgrammeRequest(
            rules=rules,
            catalog=catalog,
            templates=templates,
            budget=budget,
            complaints=None if complaints is None else np.asarray(complaints, dtype=float),
            **options,
        )
        return make_programme(open_source(path, geometry_optional=True), request)

    return run
