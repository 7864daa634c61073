"""A 100 m x 5 m road on every shipped template: net pay quantities worked out by hand.

Surface A = 100 x 5 = 500 m2. A layer with extra width w covers 100 x (5 + w) m2. No loss
factor enters a bill quantity; the material losses only raise the material-order quantity.
Prime and tack coat are emulsion with 60 % residue: the Tangerang catalog pays per litre of
residue (litres of product x 0.60), the euro example per litre of product.
"""

from __future__ import annotations

import pytest

from app.estimate import Measures, price_bill
from app.estimate.quantities import order_quantities
from tests.estimate.conftest import in_catalog_order

ROAD = Measures.from_columns([100.0], [5.0])

NET_TANGERANG = {
    "asphalt-overlay": {
        "TACK-COAT": 75.0,  # 500 m2 x 0.25 L/m2 = 125 L of emulsion x 0.60 residue
        "AC-WC": 46.4,  # 500 x 0.04 m x 2.32 t/m3
    },
    "local-flexible": {
        "EXCAVATION": 196.0,  # 100 x (5 + 0.6) = 560 m2 x 0.35 m box cut
        "SUBGRADE-PREP": 560.0,  # 100 x (5 + 0.6)
        "LPB": 84.0,  # 560 x 0.15
        "LPA": 79.5,  # 100 x (5 + 0.3) = 530 x 0.15
        "PRIME-COAT": 300.0,  # 500 x 1.0 L/m2 x 0.60
        "AC-WC": 58.0,  # 500 x 0.05 x 2.32
        "SHOULDER": 30.0,  # 100 m x 2 sides x 1.0 m x 0.15 m
    },
    "collector-flexible": {
        "EXCAVATION": 270.0,  # 100 x (5 + 1.0) = 600 m2 x 0.45 m
        "SUBGRADE-PREP": 600.0,
        "LPB": 120.0,  # 600 x 0.20
        "LPA": 84.0,  # 100 x (5 + 0.6) = 560 x 0.15
        "PRIME-COAT": 300.0,  # 500 x 1.0 x 0.60
        "AC-BC": 69.6,  # 500 x 0.06 x 2.32
        "TACK-COAT": 75.0,  # 500 x 0.25 x 0.60
        "AC-WC": 46.4,  # 500 x 0.04 x 2.32
        "KERB": 200.0,  # 100 m x 2 sides
        "U-DITCH": 200.0,
        "EDGE-MARKING": 200.0,
    },
    "arterial-flexible": {
        "EXCAVATION": 375.0,  # 600 m2 x 0.625 m
        "SUBGRADE-PREP": 600.0,
        "LPB": 180.0,  # 600 x 0.30
        "LPA": 84.0,  # 560 x 0.15
        "PRIME-COAT": 300.0,
        "AC-BASE": 87.0,  # 500 x 0.075 x 2.32
        "TACK-COAT": 150.0,  # 500 x 0.50 (two coats of 0.25) x 0.60
        "AC-BC": 69.6,
        "AC-WC": 46.4,
        "KERB": 200.0,
        "U-DITCH": 200.0,
        "EDGE-MARKING": 200.0,
    },
    "collector-rigid": {
        "EXCAVATION": 212.8,  # 100 x (5 + 0.6) = 560 m2 x 0.38 m
        "SUBGRADE-PREP": 560.0,
        "LEAN-CONC": 56.0,  # 560 x 0.10
        "CONC-FC30": 140.0,  # 500 x 0.28
        "DOWEL-BAR": 1200.0,  # 500 m2 x 2.4 kg/m2
        "SAWN-JOINT": 100.0,  # a 5 m joint every 5 m: 500 / 5
        "CURING": 500.0,
        "FORMWORK": 56.0,  # 100 m x 2 edges x 0.28 m
        "LONG-JOINT": 100.0,  # 5 m > one 4 m slab: 2 slabs, 1 joint x 100 m
        "TIE-BAR": 147.0,  # 100 m of joint x 1.47 kg/m
        "KERB": 200.0,
    },
    "neighbourhood-rigid": {
        "SUBGRADE-PREP": 500.0,
        "SAND-BED": 25.0,  # 500 x 0.05
        "PLASTIC-SHEET": 500.0,
        "CONC-FC20": 75.0,  # 500 x 0.15
        "SAWN-JOINT": 138.88888888888889,  # 500 / 3.6
        "FORMWORK": 30.0,  # 100 x 2 x 0.15
        "LONG-JOINT": 100.0,  # 5 m > one 3.5 m slab: 1 joint x 100 m
        "TIE-BAR": 83.0,  # 100 m x 0.83 kg/m
    },
    "neighbourhood-paving": {
        "EXCAVATION": 60.0,  # 500 x 0.12
        "SUBGRADE-PREP": 500.0,
        "SAND-BED": 20.0,  # 500 x 0.04
        "PAVING-K300-8": 500.0,
        "KERB": 200.0,
    },
}


def quantities(bill):
    return {line.code: line.quantity for line in bill.items}


def test_every_shipped_template_is_worked_out_here(templates):
    assert set(NET_TANGERANG) == set(templates)


@pytest.mark.parametrize("slug", sorted(NET_TANGERANG))
def test_net_quantities_of_a_100_by_5_m_road(templates, catalogs, slug):
    bill = price_bill(ROAD, slug, templates=templates, catalog=catalogs["tangerang-sample"])
    got = quantities(bill)
    assert list(got) == in_catalog_order(list(NET_TANGERANG[slug]), "tangerang-sample")
    for code, expected in NET_TANGERANG[slug].items():
        assert got[code] == pytest.approx(expected, rel=1e-12), code


def test_a_catalog_paying_per_litre_of_product_gets_the_litres_sprayed(templates, catalogs):
    bill = price_bill(
        ROAD, "collector-flexible", templates=templates, catalog=catalogs["example-eur"]
    )
    got = quantities(bill)
    assert got["PRIME-COAT"] == pytest.approx(500.0)  # 500 m2 x 1.0 L/m2
    assert got["TACK-COAT"] == pytest.approx(125.0)  # 500 m2 x 0.25 L/m2
    assert got["AC-WC"] == pytest.approx(46.4)


def test_every_new_construction_template_prepares_the_subgrade(templates):
    for slug, template in templates.items():
        codes = {item.code for item in template.items}
        assert ("SUBGRADE-PREP" in codes) is (slug != "asphalt-overlay"), slug


def test_tie_bars_only_where_the_width_needs_two_slabs(templates, catalogs):
    # 3.5 m: one slab, no joint; 3.6 m: two slabs; 7.5 m: three slabs, two joints
    bill = price_bill(
        Measures.from_columns([100.0, 100.0, 100.0], [3.5, 3.6, 7.5]),
        "neighbourhood-rigid",
        templates=templates,
        catalog=catalogs["tangerang-sample"],
    )
    ties = [
        {line.code: line.quantity for line in bill.feature_lines(i)}["TIE-BAR"] for i in range(3)
    ]
    assert ties == [0.0, pytest.approx(83.0), pytest.approx(166.0)]


def test_material_order_adds_the_losses_the_bill_leaves_out(templates, catalogs):
    template = templates["local-flexible"]
    bill = price_bill(ROAD, "local-flexible", templates=templates, catalog=catalogs["example-eur"])
    net = bill.blocks[0].quantities
    order = dict(
        zip(
            [item.code for item in template.items],
            order_quantities(template.items, net)[:, 0],
            strict=True,
        )
    )
    assert order["LPB"] == pytest.approx(88.2)  # 84 x 1.05
    assert order["LPA"] == pytest.approx(83.475)  # 79.5 x 1.05
    assert order["PRIME-COAT"] == pytest.approx(515.0)  # 500 L x 1.03
    assert order["AC-WC"] == pytest.approx(59.74)  # 58 x 1.03
    assert order["EXCAVATION"] == pytest.approx(196.0)  # no loss stated
