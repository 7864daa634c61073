"""Overlap reports stay small whatever the input; dissolve charges each part of a surface once."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from app.errors import TooLarge
from app.geo import overlap
from app.geo.measure import geodesic_areas
from app.geo.overlap import PavedSurfaces, find_overlaps


def _box(west: float, east: float) -> shapely.Polygon:
    return shapely.box(west, -6.1701, east, -6.1700)


@pytest.mark.parametrize("pairs_per_block", [1_000_000, 10])
def test_pairs_past_the_list_are_counted_and_shared_edges_are_not_overlaps(
    monkeypatch: pytest.MonkeyPatch, pairs_per_block: int
) -> None:
    monkeypatch.setattr(overlap, "_PAIRS_PER_BLOCK", pairs_per_block)
    monkeypatch.setattr(overlap, "_MIN_BLOCK", 1)
    road = _box(106.6000, 106.6010)
    other = _box(106.7000, 106.7010)
    # ten boxes side by side: each shares an edge with the next, no area
    row = [_box(106.65 + k * 0.0001, 106.65 + (k + 1) * 0.0001) for k in range(10)]
    surfaces = np.array([road, road, *row, other, other], dtype=object)
    report = find_overlaps(surfaces, listed=1)
    assert [(o.first, o.second) for o in report.listed] == [(0, 1)]
    assert report.listed[0].area_m2 == pytest.approx(geodesic_areas([road])[0], rel=1e-9)
    assert (report.pairs, report.features) == (2, 4)
    assert find_overlaps(surfaces, listed=5).pairs == 2


def test_many_copies_give_every_pair_counted_and_the_first_listed() -> None:
    surfaces = np.array([_box(106.6000, 106.6010)] * 60, dtype=object)
    report = find_overlaps(surfaces, listed=5)
    assert [(o.first, o.second) for o in report.listed] == [(0, k) for k in range(1, 6)]
    assert (report.pairs, report.features) == (60 * 59 // 2, 60)


def _shifted_copies(count: int) -> np.ndarray:
    """`count` distinct boxes, each shifted a millimetre from the last: all overlap."""
    return np.array(
        [_box(106.6000 + k * 1e-8, 106.6010 + k * 1e-8) for k in range(count)], dtype=object
    )


def test_past_the_budget_of_checks_the_pairs_are_a_range_from_bounding_boxes() -> None:
    surfaces = _shifted_copies(60)
    # 59 pairs of the first box, then 41 of the second's 58 are tested
    report = find_overlaps(surfaces, listed=5, checks=100)
    assert (report.pairs, report.most_pairs, report.features) == (100, 60 * 59 // 2, 60)
    assert not report.exact
    assert [(o.first, o.second) for o in report.listed] == [(0, k) for k in range(1, 6)]
    whole = find_overlaps(surfaces, listed=5, checks=60 * 59 // 2)
    assert (whole.pairs, whole.most_pairs, whole.exact) == (60 * 59 // 2, 60 * 59 // 2, True)


def test_copies_are_counted_without_spending_checks() -> None:
    road, apart = _box(106.6000, 106.6010), _box(106.7000, 106.7010)
    # 300 copies of one road, 3 of another, and one road shifted over the first
    surfaces = np.array([road] * 300 + [apart] * 3 + [_box(106.6005, 106.6015)], dtype=object)
    report = find_overlaps(surfaces, listed=3, checks=1)
    assert report.exact
    assert report.pairs == 300 * 299 // 2 + 3 + 300
    assert report.features == 304
    assert [(o.first, o.second) for o in report.listed] == [(0, 1), (0, 2), (0, 3)]


@pytest.mark.parametrize("seed", range(5))
def test_pairs_of_bounding_boxes_are_counted_as_the_spatial_index_finds_them(seed: int) -> None:
    random = np.random.default_rng(seed)
    corners = random.integers(0, 30, (400, 2)).astype(float)
    boxes = np.column_stack([corners, corners + random.integers(0, 6, (400, 2))])
    polygons = shapely.box(*boxes.T)  # some are lines or points: boxes of no size
    position, other = shapely.STRtree(polygons).query(polygons)
    assert overlap._box_pairs(boxes) == int((position < other).sum())


def test_dissolve_refuses_more_pairs_than_its_budget_before_any_union() -> None:
    with pytest.raises(TooLarge, match=r"15 pairs.*more than the 10 .*POST /batch"):
        PavedSurfaces(max_pairs=10).pave(_shifted_copies(6))
    copies = np.array([_box(106.6000, 106.6010)] * 500, dtype=object)
    paved = PavedSurfaces(max_pairs=10).pave(copies)  # copies are paved whole: no pairs
    assert paved[0] == 0
    assert paved[1:] == pytest.approx(geodesic_areas(copies[1:]), rel=1e-12)


def test_paving_a_file_in_parts_charges_what_paving_it_whole_does() -> None:
    first, later = _box(106.6000, 106.6020), _box(106.6010, 106.6030)
    surfaces = np.array([first, later, later, _box(106.6025, 106.6040)], dtype=object)
    whole = PavedSurfaces().pave(surfaces)
    parts = PavedSurfaces()
    in_parts = np.concatenate(
        [parts.pave(surfaces[:1]), parts.pave(surfaces[1:3]), parts.pave(surfaces[3:])]
    )
    area = geodesic_areas(surfaces)
    assert whole[0] == 0
    assert whole[1] == pytest.approx(area[1] / 2, rel=1e-6)
    assert whole[2] == pytest.approx(area[2], rel=1e-12)  # a copy is paved whole
    assert whole[3] == pytest.approx(
        area[3] / 3, rel=1e-6
    )  # 106.6025-106.6030 of 106.6025-106.6040
    assert in_parts == pytest.approx(whole, rel=1e-9)
