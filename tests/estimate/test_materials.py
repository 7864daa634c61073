"""The material-order view of a 100 m x 5 m road, worked out by hand for every template.

Net quantities are the bill's (see test_hand_calculations); the view adds the template's
material loss, the catalog's conversions (loose factor 1.2, densities, 45 blocks per m2,
cement per m3 in 50 kg bags) and counts loads of the vehicle limit reached first:
dump truck 10 t / 7 m3 loose, truck mixer 7 m3, asphalt distributor 4,000 L.
"""

from __future__ import annotations

import pytest
import shapely

from app.batch.bill import BillAccumulator
from app.estimate import Measures, Overrides, price_bill
from app.estimate.materials import material_view
from app.geo.routing import nearest_hauls
from app.store.repository import StoredFeature


def view(templates, catalogs, slug, overrides=None, hauls=None):
    catalog = catalogs["tangerang-sample"]
    bill = price_bill(
        Measures.from_columns([100.0], [5.0]),
        slug,
        templates=templates,
        catalog=catalog,
        overrides=overrides,
    )
    return material_view(bill.items, [templates[slug]], catalog, overrides, hauls)


def rows(result):
    return {line["material"]: line for line in result.to_list()}


def check(line, net, loss_pct, order, loose, mass, vehicle, capacity, unit, loads):
    assert line["net_quantity"] == pytest.approx(net, abs=1e-9)
    assert line["loss_pct"] == pytest.approx(loss_pct)
    assert line["order_quantity"] == pytest.approx(order, abs=1e-9)
    assert line["loose_volume_m3"] == (None if loose is None else pytest.approx(loose, abs=1e-9))
    assert line["mass_t"] == (None if mass is None else pytest.approx(mass, abs=1e-9))
    assert line["vehicle"]["id"] == vehicle
    assert (line["vehicle"]["capacity"], line["vehicle"]["capacity_unit"]) == (capacity, unit)
    assert line["loads"] == loads


def test_local_flexible(templates, catalogs):
    got = rows(view(templates, catalogs, "local-flexible"))
    assert list(got) == ["LPA", "LPB", "SHOULDER", "PRIME-COAT", "AC-WC"]
    # LPB: 100 x (5 + 0.6) x 0.15 = 84 m3; x 1.05 = 88.2; loose x 1.2 = 105.84 m3;
    # mass 88.2 x 2.0 = 176.4 t: 17.64 truckloads by mass, 15.12 by volume -> 18 of 10 t
    check(got["LPB"], 84, 5, 88.2, 105.84, 176.4, "dump-truck-10t", 10, "t", 18)
    # LPA: 100 x 5.3 x 0.15 = 79.5 m3; 83.475; loose 100.17; 166.95 t -> 17 loads
    check(got["LPA"], 79.5, 5, 83.475, 100.17, 166.95, "dump-truck-10t", 10, "t", 17)
    # shoulder: 100 x 2 x 1.0 x 0.15 = 30 m3, no loss; loose 36 m3 (5.14 loads); 60 t (6)
    check(got["SHOULDER"], 30, 0, 30, 36, 60, "dump-truck-10t", 10, "t", 6)
    # prime coat: 500 m2 x 1.0 L emulsion = 500 L (paid as 300 L residue); x 1.03 = 515 L
    check(got["PRIME-COAT"], 500, 3, 515, None, None, "asphalt-distributor", 4000, "L", 1)
    # AC-WC: 500 x 0.05 x 2.32 = 58 t; x 1.03 = 59.74 t -> 6 loads
    check(got["AC-WC"], 58, 3, 59.74, None, 59.74, "dump-truck-10t", 10, "t", 6)
    assert "pieces" not in got["LPA"] and "cement_bags" not in got["LPA"]


def test_neighbourhood_paving(templates, catalogs):
    got = rows(view(templates, catalogs, "neighbourhood-paving"))
    assert list(got) == ["SAND-BED", "PAVING-K300-8"]
    # sand: 500 x 0.04 = 20 m3; 21; loose 25.2 m3 = 3.6 loads; 21 x 1.7 = 35.7 t = 3.57
    # loads: the volume binds -> 4 loads of 7 m3
    check(got["SAND-BED"], 20, 5, 21, 25.2, 35.7, "dump-truck-10t", 7, "m3", 4)
    # blocks: 500 m2 x 1.03 = 515 m2 = 515 x 45 = 23,175 pieces; 515 x 0.176 = 90.64 t
    check(got["PAVING-K300-8"], 500, 3, 515, None, 90.64, "dump-truck-10t", 10, "t", 10)
    assert got["PAVING-K300-8"]["pieces"] == 23175


def test_collector_rigid(templates, catalogs):
    got = rows(view(templates, catalogs, "collector-rigid"))
    assert list(got) == ["LEAN-CONC", "CONC-FC30"]
    # lean concrete: 100 x 5.6 x 0.1 = 56 m3; x 1.02 = 57.12 m3 = 8.16 mixers -> 9;
    # cement 57.12 x 276 kg / 50 kg = 315.3 -> 316 bags; mass 57.12 x 2.4 = 137.088 t
    check(got["LEAN-CONC"], 56, 2, 57.12, None, 137.088, "truck-mixer-7m3", 7, "m3", 9)
    assert got["LEAN-CONC"]["cement_bags"] == 316
    # slab: 500 x 0.28 = 140 m3; 142.8 m3 = 20.4 mixers -> 21; 142.8 x 448 / 50 = 1279.5
    check(got["CONC-FC30"], 140, 2, 142.8, None, 342.72, "truck-mixer-7m3", 7, "m3", 21)
    assert got["CONC-FC30"]["cement_bags"] == 1280


def test_neighbourhood_rigid(templates, catalogs):
    got = rows(view(templates, catalogs, "neighbourhood-rigid"))
    assert list(got) == ["CONC-FC20", "SAND-BED"]  # the catalog's order
    # sand: 500 x 0.05 = 25 m3; 26.25; loose 31.5 m3 = 4.5 loads; 44.625 t = 4.46 -> 5
    check(got["SAND-BED"], 25, 5, 26.25, 31.5, 44.625, "dump-truck-10t", 7, "m3", 5)
    # concrete: 500 x 0.15 = 75 m3; 76.5 = 10.93 mixers -> 11; 76.5 x 384 / 50 = 587.5
    check(got["CONC-FC20"], 75, 2, 76.5, None, 183.6, "truck-mixer-7m3", 7, "m3", 11)
    assert got["CONC-FC20"]["cement_bags"] == 588


def test_collector_flexible(templates, catalogs):
    got = rows(view(templates, catalogs, "collector-flexible"))
    assert list(got) == ["LPA", "LPB", "PRIME-COAT", "TACK-COAT", "AC-BC", "AC-WC"]
    # LPB: 100 x 6 x 0.2 = 120 m3; 126; loose 151.2; 252 t -> 26 loads
    check(got["LPB"], 120, 5, 126, 151.2, 252, "dump-truck-10t", 10, "t", 26)
    # LPA: 100 x 5.6 x 0.15 = 84 m3 -> 18 loads (as the local road's LPB)
    check(got["LPA"], 84, 5, 88.2, 105.84, 176.4, "dump-truck-10t", 10, "t", 18)
    # tack coat: 500 x 0.25 = 125 L of emulsion; x 1.05 = 131.25 L
    check(got["TACK-COAT"], 125, 5, 131.25, None, None, "asphalt-distributor", 4000, "L", 1)
    # AC-BC: 500 x 0.06 x 2.32 = 69.6 t; 71.688 t -> 8 loads; AC-WC 46.4 t; 47.792 -> 5
    check(got["AC-BC"], 69.6, 3, 71.688, None, 71.688, "dump-truck-10t", 10, "t", 8)
    check(got["AC-WC"], 46.4, 3, 47.792, None, 47.792, "dump-truck-10t", 10, "t", 5)


def test_arterial_flexible(templates, catalogs):
    got = rows(view(templates, catalogs, "arterial-flexible"))
    assert list(got) == [
        "LPA", "LPB", "PRIME-COAT", "TACK-COAT", "AC-BASE", "AC-BC", "AC-WC"
    ]  # fmt: skip
    # LPB: 100 x 6 x 0.3 = 180 m3; 189; loose 226.8; 378 t -> 38 loads
    check(got["LPB"], 180, 5, 189, 226.8, 378, "dump-truck-10t", 10, "t", 38)
    # tack coat: 500 x 0.5 = 250 L; 262.5 L
    check(got["TACK-COAT"], 250, 5, 262.5, None, None, "asphalt-distributor", 4000, "L", 1)
    # AC-Base: 500 x 0.075 x 2.32 = 87 t; 89.61 t -> 9 loads
    check(got["AC-BASE"], 87, 3, 89.61, None, 89.61, "dump-truck-10t", 10, "t", 9)


def test_asphalt_overlay(templates, catalogs):
    got = rows(view(templates, catalogs, "asphalt-overlay"))
    assert list(got) == ["TACK-COAT", "AC-WC"]
    check(got["TACK-COAT"], 125, 5, 131.25, None, None, "asphalt-distributor", 4000, "L", 1)
    check(got["AC-WC"], 46.4, 3, 47.792, None, 47.792, "dump-truck-10t", 10, "t", 5)


def test_a_loss_override_changes_the_order_not_the_net(templates, catalogs):
    overrides = Overrides(material_loss={"AC-WC": 0.1})
    got = rows(view(templates, catalogs, "asphalt-overlay", overrides))
    # 46.4 t x 1.10 = 51.04 t -> 6 loads
    check(got["AC-WC"], 46.4, 10, 51.04, None, 51.04, "dump-truck-10t", 10, "t", 6)


def test_templates_that_disagree_on_a_loss_order_with_the_larger(templates, catalogs):
    catalog = catalogs["tangerang-sample"]
    overlay = templates["asphalt-overlay"]
    lossy = overlay.model_copy(
        update={
            "slug": "lossy-overlay",
            "layers": tuple(
                layer.model_copy(update={"material_loss": 0.08}) if layer.code == "AC-WC" else layer
                for layer in overlay.layers
            ),
        }
    )
    bill = price_bill(
        Measures.from_columns([100.0], [5.0]),
        "asphalt-overlay",
        templates=templates,
        catalog=catalog,
    )
    result = material_view(bill.items, [overlay, lossy], catalog)
    assert rows(result)["AC-WC"]["order_quantity"] == pytest.approx(46.4 * 1.08)
    assert result.warnings == (
        "AC-WC: templates state material losses of 3 %, 8 %; ordered with the largest",
    )


def test_a_catalog_without_vehicles_has_no_material_view(templates, catalogs):
    catalog = catalogs["example-eur"]
    bill = price_bill(
        Measures.from_columns([100.0], [5.0]),
        "asphalt-overlay",
        templates=templates,
        catalog=catalog,
    )
    assert material_view(bill.items, [templates["asphalt-overlay"]], catalog).lines == ()


def test_a_batch_orders_for_the_whole_file(templates, catalogs):
    catalog = catalogs["tangerang-sample"]

    def bill(lengths):
        return price_bill(
            Measures.from_columns(lengths, [5.0] * len(lengths)),
            "local-flexible",
            templates=templates,
            catalog=catalog,
        )

    batch = BillAccumulator(catalog)
    batch.add(bill([60.0]))
    batch.add(bill([40.0]))
    whole = material_view(batch.bill().items, [templates["local-flexible"]], catalog)
    # LPA ordered per chunk: 60 m -> 100.17 t (11 loads), 40 m -> 66.78 t (7 loads) = 18;
    # the file as a whole: 166.95 t -> 17 loads, as the single 100 m road
    assert rows(whole) == rows(view(templates, catalogs, "local-flexible"))
    assert rows(whole)["LPA"]["loads"] == 17


def test_a_material_no_source_supplies_says_so(templates, catalogs):
    site = shapely.Point(110.0, -7.0)
    quarry = StoredFeature(
        id=7,
        feature_id=None,
        geometry=shapely.Point(110.0, -7.01),
        properties={"name": "Quarry", "kind": "quarry", "materials": ["LPA"]},
    )
    hauls = nearest_hauls(site, ["AC-WC", "LPA"], [quarry], detour_factor=1.3)
    assert list(hauls) == ["LPA"]
    got = rows(view(templates, catalogs, "local-flexible", hauls=hauls))
    assert got["LPA"]["source"] == {"id": 7, "name": "Quarry", "kind": "quarry"}
    # 0.01 deg of latitude at 7 deg S is 1.10591 km on the WGS84 ellipsoid; x 1.3
    assert got["LPA"]["haul_km"] == pytest.approx(1.10591 * 1.3, abs=1e-3)
    assert got["AC-WC"]["source"] is None and got["AC-WC"]["haul_km"] is None
    assert got["AC-WC"]["haul_warning"] == "no material source supplies it: no haul distance"


def test_the_delivery_schedule_follows_one_crew_or_plant_a_day(templates, catalogs):
    rigid = rows(view(templates, catalogs, "collector-rigid"))
    # slab 142.8 m3 at 100 m3 a day: 2 working days; 21 mixer loads over 2 days: 11 a day
    assert (rigid["CONC-FC30"]["working_days"], rigid["CONC-FC30"]["loads_per_day"]) == (2, 11)
    # lean concrete 57.12 m3: one day, all 9 loads
    assert (rigid["LEAN-CONC"]["working_days"], rigid["LEAN-CONC"]["loads_per_day"]) == (1, 9)
    paving = rows(view(templates, catalogs, "neighbourhood-paving"))
    # 515 m2 of blocks at 150 m2 a day: 3.43 -> 4 days; 10 loads: 3 a day
    assert paving["PAVING-K300-8"]["daily_output"] == 150
    assert (paving["PAVING-K300-8"]["working_days"], paving["PAVING-K300-8"]["loads_per_day"]) == (
        4,
        3,
    )
