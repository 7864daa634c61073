"""Field tests of what was built: core samples (thickness, density) and sand-cone densities.

A layer's cores are compared with its design thickness (the template's, or the request's
thickness override): a core thinner than design minus the catalog's stated tolerance for
that material is below tolerance, and the layer is "thin" when its mean thickness is. A
correction is a new record that `supersedes` one; superseded records no longer count. Each
test on its own is "ok" or "below tolerance" (a core), "recorded" (a sand cone: the catalog
states no density to hold it against) or "superseded".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.errors import InvalidInput
from app.estimate.site_records import read_records


class FieldTest(BaseModel):
    """One test as sent: where (a feature index or a [lon, lat] point), which layer, what."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sample: str = Field(min_length=1, max_length=100)
    date: date
    kind: Literal["core", "sand-cone"]
    layer: str = Field(min_length=1, max_length=40)
    thickness_mm: float | None = Field(default=None, gt=0, lt=2000, allow_inf_nan=False)
    density_t_m3: float | None = Field(default=None, gt=0, lt=10, allow_inf_nan=False)
    feature: int | None = Field(default=None, ge=0)
    point: tuple[float, float] | None = None
    supersedes: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _measured_and_placed(self) -> FieldTest:
        if self.kind == "core" and self.thickness_mm is None:
            raise ValueError("a core states its thickness_mm")
        if self.kind == "sand-cone" and (self.density_t_m3 is None or self.thickness_mm):
            raise ValueError("a sand-cone test states a density_t_m3 and no thickness")
        if (self.feature is None) == (self.point is None):
            raise ValueError("a test is placed by either a feature index or a point")
        if self.point is not None:
            lon, lat = self.point
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValueError(f"point {list(self.point)} is not a longitude and latitude")
        return self


@dataclass(frozen=True)
class StoredTest:
    """A recorded field test."""

    id: int
    sample: str
    tested_on: date
    kind: str
    layer: str
    thickness_mm: float | None
    density_t_m3: float | None
    feature: int | None
    lon: float | None
    lat: float | None
    supersedes: int | None
    owner: str | None


def read_field_tests(body: Any, layers: Mapping[str, float], features: int) -> list[FieldTest]:
    """Tests from `{"tests": [...]}` (or a bare list); `layers` are the estimate's layer codes
    with their design thickness in mm. A problem names the record's index."""

    def check(test: FieldTest, index: int) -> None:
        if test.layer not in layers:
            raise InvalidInput(
                f"the estimate has no layer {test.layer}; its layers: {', '.join(layers)}",
                row=index,
                field="layer",
            )

    return read_records(
        body,
        key="tests",
        model=FieldTest,
        names=("test", "tests", "field tests"),
        features=features,
        check=check,
    )


def test_statuses(
    layers: Mapping[str, float],
    tolerances: Mapping[str, float],
    tests: Sequence[StoredTest],
) -> list[str]:
    """Each test's status, in the order of `tests` (all of one estimate)."""
    superseded = {test.supersedes for test in tests if test.supersedes is not None}
    statuses = []
    for test in tests:
        if test.id in superseded:
            statuses.append("superseded")
        elif test.kind == "core" and test.layer in layers:
            floor = layers[test.layer] - tolerances.get(test.layer, 0.0)
            statuses.append("below tolerance" if (test.thickness_mm or 0.0) < floor else "ok")
        else:
            statuses.append("recorded")
    return statuses


def layer_checks(
    layers: Mapping[str, float],
    tolerances: Mapping[str, float],
    tests: Sequence[StoredTest],
) -> tuple[list[dict[str, Any]], list[str]]:
    """Per layer: design and mean core thickness, samples, cores below tolerance, status."""
    superseded = {test.supersedes for test in tests if test.supersedes is not None}
    counted = [test for test in tests if test.id not in superseded and test.kind == "core"]
    checks, warnings = [], []
    for code, design in layers.items():
        cores = [test.thickness_mm or 0.0 for test in counted if test.layer == code]
        tolerance = tolerances.get(code, 0.0)
        floor = design - tolerance
        below = sum(thickness < floor for thickness in cores)
        mean = sum(cores) / len(cores) if cores else None
        status = "no samples" if mean is None else ("thin" if mean < floor else "ok")
        checks.append(
            {
                "code": code,
                "design_thickness_mm": design,
                "tolerance_mm": tolerance,
                "mean_thickness_mm": None if mean is None else round(mean, 1),
                "samples": len(cores),
                "below_tolerance": below,
                "status": status,
            }
        )
        if below:
            warnings.append(
                f"{code}: {below} of {len(cores)} cores thinner than {floor:g} mm "
                f"({design:g} mm designed, {tolerance:g} mm tolerance)"
            )
    return checks, warnings
