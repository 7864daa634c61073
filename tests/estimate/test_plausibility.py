"""Plausibility warnings: the rules on their own, and what `POST /estimates` says with them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.estimate.plausibility import default_width_warning, plausibility_warnings
from app.estimate.templates import Template

RANGE = np.array([[2.0, 30.0]])


def warnings_for(
    length: float, area: float, width: float, polygon: bool = True, low_high: Any = RANGE
) -> list[str]:
    return plausibility_warnings(
        np.array([length]), np.array([area]), np.array([width]), np.array([polygon]), low_high
    ).get(0, [])


def test_a_street_raises_nothing() -> None:
    assert warnings_for(180.0, 180.0 * 6, 6.0) == []
    assert warnings_for(180.0, 180.0 * 2, 2.0) == []  # the bounds themselves are plausible
    assert warnings_for(19_999.0, 199_990.0, 10.0) == []


def test_a_width_outside_the_template_range() -> None:
    assert warnings_for(100.0, 150.0, 1.5) == [
        "mean width 1.5 m is outside the 2-30 m plausible for its template: "
        "check the width or the outline"
    ]
    assert warnings_for(500.0, 500.0 * 35, 35.0, low_high=np.array([[3.0, 12.5]])) == [
        "mean width 35.0 m is outside the 3-12.5 m plausible for its template: "
        "check the width or the outline"
    ]


def test_an_outline_at_the_wrong_scale() -> None:
    # An 8 x 5 km rectangle, as the medial axis measures it.
    assert warnings_for(8_075.0, 40_000_000.0, 4_953.6) == [
        "mean width 4,953.6 m is outside the 2-30 m plausible for its template: "
        "check the width or the outline",
        "area 40,000,000 m2 is larger than one road (200,000 m2): check the scale of the drawing",
        "the centerline (8,075.0 m) is shorter than twice the mean width (4,953.6 m): the "
        "outline is not a road strip, so its length is a guess",
    ]
    assert warnings_for(25_300.0, 151_800.0, 6.0, polygon=False) == [
        "length 25.3 km is longer than one road (20 km): check the scale of the drawing"
    ]


def test_a_square_is_not_a_road_strip() -> None:
    assert warnings_for(19.9, 199.0, 10.0) == [
        "the centerline (19.9 m) is shorter than twice the mean width (10.0 m): the outline "
        "is not a road strip, so its length is a guess"
    ]
    assert warnings_for(20.0, 200.0, 10.0) == []
    assert warnings_for(19.9, 199.0, 10.0, polygon=False) == []  # a line has its width given


def test_each_feature_gets_its_own_warnings() -> None:
    found = plausibility_warnings(
        np.array([100.0, 100.0, 100.0]),
        np.array([600.0, 100.0, 600.0]),
        np.array([6.0, 1.0, 6.0]),
        np.array([True, True, True]),
        np.array([[2.0, 30.0], [2.0, 30.0], [7.0, 30.0]]),
    )
    assert sorted(found) == [1, 2]
    assert [len(found[1]), len(found[2])] == [1, 1]
    assert found[2][0].startswith("mean width 6.0 m is outside the 7-30 m")


def test_a_template_range_must_be_a_range_with_a_source(templates: dict[str, Template]) -> None:
    shipped = templates["local-flexible"]
    assert shipped.plausible_width_m == (2.0, 30.0)
    body = shipped.model_dump(exclude={"version"})
    with pytest.raises(ValidationError, match="no source given for: plausible_width_m"):
        Template.model_validate(body | {"plausible_width_m": (3.0, 12.0)})
    sources = body["sources"] | {"plausible_width_m": "two to three lanes [I]"}
    own = Template.model_validate(body | {"plausible_width_m": (3.0, 12.0), "sources": sources})
    assert own.plausible_width_m == (3.0, 12.0)
    with pytest.raises(ValidationError, match=r"must be \(min, max\), got \(12.0, 3.0\)"):
        Template.model_validate(body | {"plausible_width_m": (12.0, 3.0), "sources": sources})


def test_default_width_words() -> None:
    assert default_width_warning(5.0, "local-flexible") == (
        "no width given: priced with template local-flexible's default width 5 m"
    )


# ----------------------------------------------------------------------------- through the API

LINE = {"type": "LineString", "coordinates": [[106.6300, -6.1700], [106.6309, -6.1700]]}


def post(client: TestClient, body: dict[str, Any], **params: str) -> dict[str, Any]:
    response = client.post(
        "/estimates",
        params={"template": "local-flexible", "catalog": "tangerang-sample", **params},
        json=body,
        timeout=60,
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def rectangle(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_a_line_without_a_width_says_it_took_the_default(client: TestClient) -> None:
    answer = post(client, LINE)
    expected = "no width given: priced with template local-flexible's default width 5 m"
    assert answer["features"][0]["warnings"] == [expected]
    assert answer["warnings"] == [f"feature 0: {expected}"]

    for body, params in (
        ({"type": "Feature", "properties": {"width_m": 6}, "geometry": LINE}, {}),
        (LINE, {"width_m": "6"}),
    ):
        assert post(client, body, **params)["warnings"] == []


def test_an_eight_by_five_km_rectangle_is_flagged(client: TestClient) -> None:
    answer = post(client, rectangle(106.60, -6.20, 106.6723, -6.1548))
    feature = answer["features"][0]
    width, area = feature["mean_width_m"], feature["area_m2"]
    assert width > 1_000 and area > 30_000_000
    assert feature["warnings"][:2] == [
        f"mean width {width:,.1f} m is outside the 2-30 m plausible for its template: "
        "check the width or the outline",
        f"area {area:,.0f} m2 is larger than one road (200,000 m2): check the scale of the drawing",
    ]


def test_a_square_outline_is_flagged(client: TestClient) -> None:
    answer = post(client, rectangle(106.6300, -6.1700, 106.63018, -6.16982))  # ~20 x 20 m
    feature = answer["features"][0]
    length, width = feature["length_m"], feature["mean_width_m"]
    assert length < 2 * width
    assert (
        f"the centerline ({length:,.1f} m) is shorter than twice the mean width ({width:,.1f} m): "
        "the outline is not a road strip, so its length is a guess"
    ) in feature["warnings"]


def test_a_plain_street_outline_has_no_warning(client: TestClient) -> None:
    answer = post(client, rectangle(106.6300, -6.1700, 106.6309, -6.16995))  # ~100 x 5.5 m
    assert answer["warnings"] == []
