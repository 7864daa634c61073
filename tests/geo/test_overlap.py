"""Overlap reports stay small whatever the input; dissolve charges each part of a surface once."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

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
