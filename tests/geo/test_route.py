"""The way a haul by road takes over a small made-up network on the equator (the roads of
tests/api/test_routing.py): partly along a road where a point lies on it, backwards along a
road drawn the other way, and as long as the distance of record."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod

from app.geo.network import RoadNetwork

ROADS = [
    [[120.0, 0.0], [120.01, 0.0]],  # road 1: A -> B
    [[120.010005, 0.0], [120.01, 0.01]],  # road 2: B (0.56 m off) -> C
    [[120.0, 0.0], [119.98, 0.0], [119.98, 0.009], [120.0, 0.009]],  # road 3: A -> F
    [[120.05, 0.0], [120.06, 0.0]],  # road 4, on its own
]
NETWORK = RoadNetwork.build([shapely.LineString(line) for line in ROADS])
GEOD = Geod(ellps="WGS84")


def test_from_the_middle_of_one_road_back_along_it_and_on_along_another() -> None:
    assert NETWORK is not None
    site = shapely.Point(120.005, 0.0001)  # 11 m north of the middle of road 1
    f = shapely.Point(120.0, 0.009)
    (route,) = NETWORK.routes(site, [f])
    assert route is not None
    coordinates = shapely.get_coordinates(route)
    expected = [
        [120.005, 0.0001],  # the site
        [120.005, 0.0],  # where it meets road 1
        [120.0, 0.0],  # A, back along road 1
        [119.98, 0.0],
        [119.98, 0.009],
        [120.0, 0.009],  # F, the end of road 3
    ]
    assert coordinates == pytest.approx(np.array(expected), abs=1e-9)
    # drawn as long as the distance measured: 11 m of access, 557 m of road 1, 2,226 + 995 +
    # 2,226 m of road 3
    (km,) = NETWORK.distances_km(site, [f])
    assert GEOD.geometry_length(route) == pytest.approx(km * 1000, abs=0.01)


def test_two_points_on_one_road_and_no_way_to_a_road_apart() -> None:
    assert NETWORK is not None
    along, apart, away = NETWORK.routes(
        shapely.Point(120.008, 0.0),
        [shapely.Point(120.002, 0.0), shapely.Point(120.06, 0.0), shapely.Point(121.0, 0.0)],
    )
    assert along is not None
    assert shapely.get_coordinates(along) == pytest.approx(
        np.array([[120.008, 0.0], [120.002, 0.0]]), abs=1e-9
    )
    assert (apart, away) == (None, None)  # road 4 joins no other; 111 km from any road
    assert NETWORK.routes(shapely.Point(121.0, 0.0), [shapely.Point(120.0, 0.0)]) == [None]


def test_a_source_at_the_site_has_no_way_to_draw() -> None:
    assert NETWORK is not None
    site = shapely.Point(120.005, 0.0)  # on road 1
    assert NETWORK.routes(site, [site]) == [None]
    (km,) = NETWORK.distances_km(site, [site])
    assert km == pytest.approx(0.0, abs=1e-6)  # under a millimetre
