"""A 100 m x 5 m road on every shipped template: net pay quantities worked out by hand.

Surface A = 100 x 5 = 500 m2. A layer with extra width w covers 100 x (5 + w) m2. No loss
factor enters a bill quantity; the material losses only raise the material-order quantity.
Prime and tack coat are emulsion with 60 % residue: the Tangerang catalog pays per litre of
residue (litres of product x 0.60), the euro example per litre of product.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from app.batch.bill import BillAccumulator
from app.estimate import Measures, price_bill
from app.estimate.grand_total import grand_total_figures
from app.estimate.quantities import order_quantities
from tests.estimate.conftest import in_catalog_order

ROAD = Measures.from_columns([100.0], [5.0])

NET_TANGERANG = {
    "patching": {
        "ASPHALT-CUT": 25.0,  # 500 m2 x 0.05 m cut
        "TACK-COAT": 75.0,  # 500 x 0.25 L/m2 x 0.60
        "AC-WC": 58.0,  # 500 x 0.05 x 2.32
    },
    "crack-sealing": {"CRACK-SEAL": 250.0},  # 500 m2 / 2 m2 per metre of crack
    "overlay-levelling": {
        "TACK-COAT": 75.0,
        "AC-WC-L": 23.2,  # 500 x 0.02 x 2.32
        "AC-WC": 46.4,  # 500 x 0.04 x 2.32
    },
    "mill-overlay": {
        "COLD-MILLING": 25.0,  # 500 x 0.05
        "TACK-COAT": 75.0,
        "AC-WC": 58.0,
    },
    "paving-relay": {"SAND-BED": 20.0, "PAVING-RELAY": 500.0},  # 500 x 0.04 m3; 500 m2
    "slab-replacement": {
        "CONC-BREAKOUT": 100.0,  # 500 x 0.20
        "CONC-FC30": 100.0,
        "CURING": 500.0,
    },
    "joint-sealing": {"JOINT-RESEAL": 100.0},  # a 5 m joint every 5 m: 500 / 5
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
        "SAWN-JOINT": 138.89,  # 500 / 3.6 = 138.888..., stated to the centimetre
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


MAINTENANCE = {
    "asphalt-overlay",
    "patching",
    "crack-sealing",
    "overlay-levelling",
    "mill-overlay",
    "paving-relay",
    "slab-replacement",
    "joint-sealing",
}


def test_every_new_construction_template_prepares_the_subgrade(templates):
    for slug, template in templates.items():
        codes = {item.code for item in template.items}
        assert ("SUBGRADE-PREP" in codes) is (slug not in MAINTENANCE), slug


def test_tie_bars_only_where_the_width_needs_two_slabs(templates, catalogs):
    # 3.5 m: one slab, no joint; 3.6 m: two slabs; 7.5 m: three slabs, two joints
    bill = price_bill(
        Measures.from_columns([100.0, 100.0, 100.0], [3.5, 3.6, 7.5]),
        "neighbourhood-rigid",
        templates=templates,
        catalog=catalogs["tangerang-sample"],
    )
    ties = [
        {line.code: line.quantity for line in bill.feature_lines(i)}.get("TIE-BAR")
        for i in range(3)
    ]
    assert ties == [None, 83.0, 166.0]  # no line where there is no joint


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


# --- the bill as an auditor checks it: stated volumes, amounts, Divisi, project items ---

NEIGHBOURHOOD_RIGID_LINES = {
    # code: (stated volume, amount = volume x rate, rounded once)
    "SUBGRADE-PREP": (500.0, Decimal("1600000")),  # 500 m2 x 3,200
    "CONC-FC20": (75.0, Decimal("97500000")),  # 75 m3 x 1,300,000
    "SAND-BED": (25.0, Decimal("6250000")),  # 25 m3 x 250,000
    "TIE-BAR": (83.0, Decimal("1577000")),  # 83 kg x 19,000
    "FORMWORK": (30.0, Decimal("5250000")),  # 30 m2 x 175,000
    # 500 / 3.6 = 138.888... m stated 138.89 m; 138.89 x 45,000 = 6,250,050 (not 6,250,000)
    "SAWN-JOINT": (138.89, Decimal("6250050")),
    "LONG-JOINT": (100.0, Decimal("4500000")),  # 100 m x 45,000
    "PLASTIC-SHEET": (500.0, Decimal("3000000")),  # 500 m2 x 6,000
}
PROJECT_LINES = {
    "MOBILISASI": (1.0, Decimal("7500000")),
    "PAPAN-NAMA": (1.0, Decimal("1500000")),
    "TRAFFIC-MGMT": (1.0, Decimal("5000000")),
    "SMKK": (1.0, Decimal("10000000")),
}


def _lines(lines):
    return {line.code: (line.quantity, line.amount) for line in lines}


def test_stated_volumes_and_amounts_of_a_100_by_5_m_rigid_road(templates, catalogs):
    catalog = catalogs["tangerang-sample"]
    bill = price_bill(ROAD, "neighbourhood-rigid", templates=templates, catalog=catalog)
    assert _lines(bill.items) == NEIGHBOURHOOD_RIGID_LINES
    assert _lines(bill.feature_lines(0)) == NEIGHBOURHOOD_RIGID_LINES
    # 1,600,000 + 97,500,000 + 6,250,000 + 1,577,000 + 5,250,000 + 6,250,050 + 4,500,000
    #   + 3,000,000 = 125,927,050
    assert bill.totals.subtotal == Decimal("125927050")
    assert [(d.division, d.amount) for d in bill.divisions] == [
        ("3", Decimal("1600000")),
        ("5", Decimal("124327050")),
    ]
    json_items = bill.to_dict()["items"]
    sawn = next(item for item in json_items if item["code"] == "SAWN-JOINT")
    assert (sawn["quantity"], sawn["amount"], sawn["division"], sawn["pay_item"]) == (
        138.89,
        "6250050",
        "5",
        None,
    )


def test_project_items_once_for_three_roads_and_in_no_feature(templates, catalogs):
    catalog = catalogs["tangerang-sample"]
    roads = Measures.from_columns([100.0] * 3, [5.0] * 3)
    road_bill = price_bill(roads, "neighbourhood-rigid", templates=templates, catalog=catalog)
    bill = price_bill(
        roads, "neighbourhood-rigid", templates=templates, catalog=catalog, project_items=True
    )
    lines = _lines(bill.items)
    for code, expected in PROJECT_LINES.items():
        assert lines[code] == expected, code
    assert [line.code for line in bill.items].count("MOBILISASI") == 1
    assert list(lines) == in_catalog_order(list(lines), catalog)
    for index in range(3):
        codes = {line.code for line in bill.feature_lines(index)}
        assert codes == set(NEIGHBOURHOOD_RIGID_LINES), index  # no project item
        assert bill.feature_lines(index) == road_bill.feature_lines(index)
    # 3 roads: 3 x 125,927,050 = 377,781,150 (each line 3 x, e.g. 416.67 m sawn joint:
    # round(3 x 138.888...) = 416.67 x 45,000 = 18,750,150), + 24,000,000 project items
    assert lines["SAWN-JOINT"] == (416.67, Decimal("18750150"))
    assert bill.totals.subtotal == Decimal("401781150")
    assert sum(line.amount for line in bill.items) == bill.totals.subtotal
    assert sum(d.amount for d in bill.divisions) == bill.totals.subtotal
    assert [(d.division, d.amount) for d in bill.divisions] == [
        ("1", Decimal("14000000")),
        ("3", Decimal("4800000")),
        ("5", Decimal("372981150")),
        ("11", Decimal("10000000")),
    ]
    # PPN 11 % of 401,781,150 = 44,195,926.5 -> 44,195,927
    assert bill.totals.tax == Decimal("44195927")
    assert bill.totals.total == Decimal("445977077")


def test_an_aggregated_line_states_the_sum_of_unrounded_volumes(templates, catalogs):
    # three 100 x 3 m rigid roads: each has 300 / 3.6 = 83.333... m of sawn joint, stated
    # 83.33 m (3,749,850); the bill states round(250.000) = 250.00 m (11,250,000), not
    # 3 x 83.33 = 249.99 m: the DKH rounds the total of the volume back-up once
    catalog = catalogs["tangerang-sample"]
    roads = Measures.from_columns([100.0] * 3, [3.0] * 3)
    bill = price_bill(roads, "neighbourhood-rigid", templates=templates, catalog=catalog)
    assert _lines(bill.items)["SAWN-JOINT"] == (250.0, Decimal("11250000"))
    assert [_lines(bill.feature_lines(i))["SAWN-JOINT"] for i in range(3)] == [
        (83.33, Decimal("3749850"))
    ] * 3
    assert "LONG-JOINT" not in _lines(bill.items)  # 3 m: one slab, no joint, no line
    assert "TIE-BAR" not in _lines(bill.items)


def test_a_batch_of_one_bills_what_a_single_estimate_does(templates, catalogs):
    catalog = catalogs["tangerang-sample"]
    roads = Measures.from_columns([100.0, 100.0, 100.0], [3.0, 3.0, 3.0])
    single = price_bill(
        roads, "neighbourhood-rigid", templates=templates, catalog=catalog, project_items=True
    )
    for chunks in ([[0, 1, 2]], [[0], [1], [2]], [[2], [0, 1]]):
        accumulator = BillAccumulator(catalog)
        for rows in chunks:
            accumulator.add(
                price_bill(
                    roads.take(np.array(rows)),
                    "neighbourhood-rigid",
                    templates=templates,
                    catalog=catalog,
                )
            )
        batch = accumulator.bill()
        assert batch.items == single.items, chunks
        assert batch.divisions == single.divisions, chunks
        assert batch.totals == single.totals, chunks
    assert BillAccumulator(catalog).bill().items == ()  # no road priced: no mobilisation
    alone = BillAccumulator(catalog, project_items=False)
    alone.add(price_bill(roads, "neighbourhood-rigid", templates=templates, catalog=catalog))
    assert "MOBILISASI" not in _lines(alone.bill().items)
    # 24,000,000 of project items less
    assert alone.bill().totals.subtotal == single.totals.subtotal - Decimal("24000000")


@pytest.mark.parametrize(
    ("total", "rounded", "indonesian", "english"),
    [
        (
            Decimal("445977077"),
            "445977000",
            "Empat Ratus Empat Puluh Lima Juta Sembilan Ratus Tujuh Puluh Tujuh Ribu Rupiah",
            "Four hundred and forty-five million, nine hundred and seventy-seven thousand rupiah",
        ),
        (
            Decimal("2150934999"),
            "2150934000",
            "Dua Miliar Seratus Lima Puluh Juta Sembilan Ratus Tiga Puluh Empat Ribu Rupiah",
            "Two billion, one hundred and fifty million, nine hundred and thirty-four "
            "thousand rupiah",
        ),
        (
            Decimal("31000000500"),
            "31000000000",
            "Tiga Puluh Satu Miliar Rupiah",
            "Thirty-one billion rupiah",
        ),
        (Decimal("999"), "0", "Nol Rupiah", "Zero rupiah"),
    ],
)
def test_rounded_total_and_terbilang_of_an_answer(total, rounded, indonesian, english):
    unit = Decimal("1000")
    assert grand_total_figures(total, unit, "id", "IDR") == {
        "rounded_total": rounded,
        "total_in_words": indonesian,
    }
    assert grand_total_figures(total, unit, "en", "IDR")["total_in_words"] == english
