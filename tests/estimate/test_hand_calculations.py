"""Bills computed by hand, line by line, against the engine.

Quantities are compared to 1e-12 relative (they are float64); amounts and totals exactly.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.estimate import Measures, Overrides, RateCatalog, Template, price_bill
from tests.estimate.conftest import in_catalog_order


def lines(bill):
    return {line.code: (line.quantity, line.amount) for line in bill.items}


def assert_lines(bill, expected, catalog=None):
    got = lines(bill)
    order = in_catalog_order(list(expected), catalog or bill.catalog.slug)
    assert list(got) == order, "items come in catalog order"
    for code, (quantity, amount) in expected.items():
        assert got[code][0] == pytest.approx(quantity, rel=1e-12), code
        assert got[code][1] == Decimal(amount), code


def test_neighbourhood_rigid_100_m_by_3_m(templates, catalogs):
    bill = price_bill(
        Measures.from_columns([100.0], [3.0]),
        "neighbourhood-rigid",
        templates=templates,
        catalog=catalogs["tangerang-sample"],
    )
    # surface A = 100 x 3 = 300 m2, no extra widths; net quantities, no loss factor
    assert_lines(
        bill,
        {
            # 300 m2 x 3,200 = 960,000
            "SUBGRADE-PREP": (300.0, "960000"),
            # 300 x 0.05 m = 15 m3; 15 x 250,000 = 3,750,000
            "SAND-BED": (15.0, "3750000"),
            # 300 m2 x 6,000 = 1,800,000
            "PLASTIC-SHEET": (300.0, "1800000"),
            # 300 x 0.15 m = 45 m3; 45 x 1,300,000 = 58,500,000
            "CONC-FC20": (45.0, "58500000"),
            # one 3 m joint every 3.6 m: 300 / 3.6 = 83.333... m, stated 83.33 m;
            # 83.33 x 45,000 = 3,749,850
            "SAWN-JOINT": (83.33, "3749850"),
            # 100 m x 2 edges x 0.15 m = 30 m2; 30 x 175,000 = 5,250,000
            "FORMWORK": (30.0, "5250000"),
            # 3 m fits one 3.5 m slab: no longitudinal joint, no tie bars, so no line
        },
    )
    totals = bill.totals
    # 960,000 + 3,750,000 + 1,800,000 + 58,500,000 + 3,749,850 + 5,250,000 = 74,009,850
    assert totals.subtotal == Decimal("74009850")
    assert totals.overhead_profit == Decimal("0")  # AHSP rates include it: 0 %
    assert totals.tax == Decimal("8141084")  # 74,009,850 x 11 % = 8,141,083.5 -> 8,141,084
    assert totals.total == Decimal("82150934")
    assert totals.length_m == 100.0
    assert totals.area_m2 == 300.0
    assert bill.currency == "IDR"


def test_collector_flexible_250_m_by_7_m(templates, catalogs):
    bill = price_bill(
        Measures.from_columns([250.0], [7.0]),
        "collector-flexible",
        templates=templates,
        catalog=catalogs["tangerang-sample"],
    )
    # surface A = 250 x 7 = 1750 m2
    assert_lines(
        bill,
        {
            # A = 250 x (7 + 1.0) = 2000 m2 x 0.45 m box cut = 900 m3; x 95,000 = 85,500,000
            "EXCAVATION": (900.0, "85500000"),
            # 2000 m2 x 3,200 = 6,400,000
            "SUBGRADE-PREP": (2000.0, "6400000"),
            # 2000 x 0.20 = 400 m3; 400 x 385,000 = 154,000,000
            "LPB": (400.0, "154000000"),
            # A = 250 x (7 + 0.6) = 1900 m2; 1900 x 0.15 = 285 m3
            # 285 x 570,185 = 162,502,725
            "LPA": (285.0, "162502725"),
            # 1750 x 1.0 L/m2 of emulsion = 1750 L; paid per litre of residue: x 0.60 = 1050 L
            # 1050 x 22,131 = 23,237,550
            "PRIME-COAT": (1050.0, "23237550"),
            # 1750 x 0.06 x 2.32 = 243.6 t; 243.6 x 1,315,000 = 320,334,000
            "AC-BC": (243.6, "320334000"),
            # 1750 x 0.25 L/m2 x 0.60 residue = 262.5 L; 262.5 x 21,500 = 5,643,750
            "TACK-COAT": (262.5, "5643750"),
            # 1750 x 0.04 x 2.32 = 162.4 t; 162.4 x 1,400,000 = 227,360,000
            "AC-WC": (162.4, "227360000"),
            # 250 m x 2 sides = 500 m; 500 x 175,000 = 87,500,000
            "KERB": (500.0, "87500000"),
            # 500 m x 1,250,000 = 625,000,000
            "U-DITCH": (500.0, "625000000"),
            # 500 m x 22,000 = 11,000,000
            "EDGE-MARKING": (500.0, "11000000"),
        },
    )
    # 85,500,000 + 6,400,000 + 154,000,000 + 162,502,725 + 23,237,550 + 320,334,000
    # + 5,643,750 + 227,360,000 + 87,500,000 + 625,000,000 + 11,000,000 = 1,708,478,025
    assert bill.totals.subtotal == Decimal("1708478025")
    assert bill.totals.overhead_profit == Decimal("0")
    # 1,708,478,025 x 11 % = 187,932,582.75 -> 187,932,583
    assert bill.totals.tax == Decimal("187932583")
    assert bill.totals.total == Decimal("1896410608")
    # one feature: its own bill is the aggregate
    assert bill.feature_totals(0) == bill.totals


def test_base_layers_wider_than_the_surface_with_a_measured_polygon_area(templates, catalogs):
    # A polygon: length 120 m, area measured 612 m2 (mean width 5.1 m).
    bill = price_bill(
        Measures.from_columns([120.0], area_m2=[612.0]),
        "local-flexible",
        templates=templates,
        catalog=catalogs["tangerang-sample"],
    )
    assert_lines(
        bill,
        {
            # A = 612 + 120 x 0.6 = 684 m2 x 0.35 m = 239.4 m3; x 95,000 = 22,743,000
            "EXCAVATION": (239.4, "22743000"),
            # 684 m2 x 3,200 = 2,188,800
            "SUBGRADE-PREP": (684.0, "2188800"),
            # 684 x 0.15 = 102.6 m3; 102.6 x 385,000 = 39,501,000
            "LPB": (102.6, "39501000"),
            # A_LPA = 612 + 120 x 0.3 = 648 m2; 648 x 0.15 = 97.2 m3
            # 97.2 x 570,185 = 55,421,982
            "LPA": (97.2, "55421982"),
            # 612 x 1.0 x 0.60 residue = 367.2 L; 367.2 x 22,131 = 8,126,503.2 -> 8,126,503
            "PRIME-COAT": (367.2, "8126503"),
            # 612 x 0.05 x 2.32 = 70.992 t, stated 70.99 t; 70.99 x 1,400,000 = 99,386,000
            "AC-WC": (70.99, "99386000"),
            # 120 m x 2 sides x 1.0 m x 0.15 m = 36 m3; 36 x 420,000 = 15,120,000
            "SHOULDER": (36.0, "15120000"),
        },
    )
    assert bill.totals.area_m2 == 612.0


def test_euro_catalog_with_overhead_profit_and_vat(templates, catalogs):
    bill = price_bill(
        Measures.from_columns([120.0], [5.0]),
        "local-flexible",
        templates=templates,
        catalog=catalogs["example-eur"],
    )
    assert_lines(
        bill,
        {
            # A = 120 x (5 + 0.6) = 672 m2 x 0.35 = 235.2 m3; x 12.50 = 2940.00
            "EXCAVATION": (235.2, "2940.00"),
            # 672 m2 x 1.20 = 806.40
            "SUBGRADE-PREP": (672.0, "806.40"),
            # 672 x 0.15 = 100.8 m3; 100.8 x 31.20 = 3144.96
            "LPB": (100.8, "3144.96"),
            # A = 120 x (5 + 0.3) = 636 m2; 636 x 0.15 = 95.4 m3; 95.4 x 38.75 = 3696.75
            "LPA": (95.4, "3696.75"),
            # this catalog pays per litre of product: 600 x 1.0 = 600 L; 600 x 1.35 = 810.00
            "PRIME-COAT": (600.0, "810.00"),
            # 600 x 0.05 x 2.32 = 69.6 t; 69.6 x 92.50 = 6438.00
            "AC-WC": (69.6, "6438.00"),
            # 120 x 2 x 1.0 x 0.15 = 36 m3; 36 x 34.00 = 1224.00
            "SHOULDER": (36.0, "1224.00"),
        },
    )
    # 2940.00 + 806.40 + 3144.96 + 3696.75 + 810.00 + 6438.00 + 1224.00 = 19060.11
    assert bill.totals.subtotal == Decimal("19060.11")
    # 19060.11 x 10 % = 1906.011 -> 1906.01
    assert bill.totals.overhead_profit == Decimal("1906.01")
    # (19060.11 + 1906.01) x 20 % = 20966.12 x 0.2 = 4193.224 -> 4193.22
    assert bill.totals.tax == Decimal("4193.22")
    # 19060.11 + 1906.01 + 4193.22 = 25159.34
    assert bill.totals.total == Decimal("25159.34")
    assert bill.to_dict(features=False)["totals"]["total"] == "25159.34"


def street_template() -> Template:
    return Template.model_validate(
        {
            "slug": "lit-street",
            "name": {"en": "Lit street", "id": "Jalan berlampu"},
            "description": {"en": "Test", "id": "Uji"},
            "default_width_m": 4,
            "sources": {"default_width_m": "test [I]"},
            "layers": [
                {
                    "code": "GEOTEXTILE",
                    "basis": "area",
                    "material_loss": 0.1,
                    "extra_width_m": 1,
                    "sources": {"material_loss": "test [I]", "extra_width_m": "test [I]"},
                }
            ],
            "linear_items": [
                {
                    "code": "KERB",
                    "sides": 2,
                    "material_loss": 0.05,
                    "sources": {"sides": "t [I]", "material_loss": "t [I]"},
                }
            ],
            "count_items": [
                {
                    "code": "LIGHT",
                    "spacing_m": 50,
                    "per_station": 2,
                    "sources": {"spacing_m": "t [I]", "per_station": "t [I]"},
                }
            ],
        }
    )


def test_count_linear_and_area_items(catalogs):
    base = catalogs["tangerang-sample"]
    item = base.items["KERB"]
    catalog = RateCatalog.model_validate(
        {
            **base.model_dump(mode="json"),
            "items": {
                "GEOTEXTILE": {**item.model_dump(mode="json"), "unit": "m²", "rate": "30000"},
                "KERB": item.model_dump(mode="json"),
                "LIGHT": {**item.model_dump(mode="json"), "unit": "each", "rate": "4500000"},
            },
        }
    )
    template = street_template()
    bill = price_bill(
        Measures.from_columns([120.0, 100.0]),
        "lit-street",
        templates={"lit-street": template},
        catalog=catalog,
    )
    # net quantities: the 10 % and 5 % material losses are not billed
    # feature 0: 120 m, default width 4 m
    #   GEOTEXTILE: 120 x (4 + 1) = 600 m2 -> x 30,000 = 18,000,000
    #   KERB: 120 x 2 = 240 m -> x 175,000 = 42,000,000
    #   LIGHT: ceil(120 / 50) = 3 stations x 2 = 6 -> x 4,500,000 = 27,000,000
    # feature 1: 100 m
    #   GEOTEXTILE: 100 x 5 = 500 m2 -> 15,000,000
    #   KERB: 100 x 2 = 200 m -> 35,000,000
    #   LIGHT: ceil(100 / 50) = 2 stations x 2 = 4 -> 18,000,000
    first = {line.code: (line.quantity, line.amount) for line in bill.feature_lines(0)}
    assert first["GEOTEXTILE"] == (pytest.approx(600.0), Decimal("18000000"))
    assert first["KERB"] == (pytest.approx(240.0), Decimal("42000000"))
    assert first["LIGHT"] == (6.0, Decimal("27000000"))
    second = {line.code: (line.quantity, line.amount) for line in bill.feature_lines(1)}
    assert second["LIGHT"] == (4.0, Decimal("18000000"))
    assert_lines(
        bill,
        {
            "GEOTEXTILE": (1100.0, "33000000"),  # 600 + 500 = 1100 m2 x 30,000
            "KERB": (440.0, "77000000"),  # 240 + 200 = 440 m x 175,000
            "LIGHT": (10.0, "45000000"),  # 6 + 4 = 10 x 4,500,000
        },
        catalog,
    )
    assert [line.unit for line in bill.items] == ["m2", "m", "unit"]
    # 33,000,000 + 77,000,000 + 45,000,000 = 155,000,000; 11 % VAT = 17,050,000
    assert bill.totals.total == Decimal("155000000") + Decimal("17050000")


def test_overrides_by_request_and_feature(templates, catalogs):
    bill = price_bill(
        Measures.from_columns([100.0, 100.0, 100.0]),
        "asphalt-overlay",
        templates=templates,
        catalog=catalogs["tangerang-sample"],
        overrides=Overrides(width_m=5, thickness={"AC-WC": 0.05}),
        feature_overrides=[
            None,
            Overrides(width_m=4, rates={"AC-WC": "1500000"}),
            Overrides(material_loss={"TACK-COAT": 0}, thickness={"AC-WC": 0.03}),
        ],
    )
    # tack coat: emulsion 0.25 L/m2, paid per litre of residue (x 0.60)
    # feature 0, request only: A = 100 x 5 = 500 m2
    #   TACK-COAT 500 x 0.25 x 0.6 = 75 L x 21,500 = 1,612,500
    #   AC-WC 500 x 0.05 x 2.32 = 58 t x 1,400,000 = 81,200,000
    # feature 1, width 4 wins over 5; rate 1,500,000: A = 400 m2
    #   TACK-COAT 400 x 0.25 x 0.6 = 60 L x 21,500 = 1,290,000
    #   AC-WC 400 x 0.05 x 2.32 = 46.4 t x 1,500,000 = 69,600,000
    # feature 2, thickness 0.03 wins over 0.05; its material loss does not touch the bill
    #   TACK-COAT 500 x 0.25 x 0.6 = 75 L x 21,500 = 1,612,500
    #   AC-WC 500 x 0.03 x 2.32 = 34.8 t x 1,400,000 = 48,720,000
    assert [line.amount for line in bill.feature_lines(1)] == [
        Decimal("1290000"),
        Decimal("69600000"),
    ]
    assert [line.amount for line in bill.feature_lines(2)] == [
        Decimal("1612500"),
        Decimal("48720000"),
    ]
    assert bill.features.width_m.tolist() == [5.0, 4.0, 5.0]
    # aggregated: one line per (code, rate): the overridden AC-WC rate is its own line
    assert [(line.code, line.unit_rate) for line in bill.items] == [
        ("TACK-COAT", Decimal("21500")),
        ("AC-WC", Decimal("1400000")),
        ("AC-WC", Decimal("1500000")),
    ]
    aggregated = [(line.quantity, line.amount) for line in bill.items]
    # TACK-COAT 75 + 60 + 75 = 210 L x 21,500 = 4,515,000
    assert aggregated[0] == (pytest.approx(210.0), Decimal("4515000"))
    # AC-WC at 1,400,000: 58 + 34.8 = 92.8 t -> 129,920,000
    assert aggregated[1] == (pytest.approx(92.8), Decimal("129920000"))
    assert aggregated[2] == (pytest.approx(46.4), Decimal("69600000"))


def test_measured_width_wins_over_overrides_and_default(templates, catalogs):
    bill = price_bill(
        Measures.from_columns([10.0, 10.0, 10.0], [2.5, float("nan"), float("nan")]),
        "neighbourhood-rigid",
        templates=templates,
        catalog=catalogs["tangerang-sample"],
        overrides=Overrides(width_m=3.5),
        feature_overrides=[Overrides(width_m=9), Overrides(width_m=4), None],
    )
    # column 2.5 > feature 4 > request 3.5 > template default 3.0
    assert bill.features.width_m.tolist() == [2.5, 4.0, 3.5]
    assert bill.features.area_m2.tolist() == [25.0, 40.0, 35.0]


def test_overhead_profit_and_vat_overrides(templates, catalogs):
    bill = price_bill(
        Measures.from_columns([100.0], [3.0]),
        "neighbourhood-rigid",
        templates=templates,
        catalog=catalogs["tangerang-sample"],
        overrides=Overrides(overhead_profit_pct=Decimal("10"), vat_pct=Decimal("12")),
    )
    # subtotal 74,009,850 (see the 100 m x 3 m test); O&P 10 % = 7,400,985
    # tax 12 % x 81,410,835 = 9,769,300.2 -> 9,769,300; total 74,009,850 + 7,400,985 + 9,769,300
    assert bill.totals.overhead_profit == Decimal("7400985")
    assert bill.totals.tax == Decimal("9769300")
    assert bill.totals.total == Decimal("91180135")
    assert bill.vat_pct == Decimal("12")


def test_box_cut_follows_the_thickness_of_the_layers_it_is_dug_for(templates, catalogs):
    bill = price_bill(
        Measures.from_columns([100.0, 100.0, 100.0]),
        "local-flexible",
        templates=templates,
        catalog=catalogs["tangerang-sample"],
        feature_overrides=[
            None,
            Overrides(thickness={"LPB": 0.25, "AC-WC": 0.04}),
            Overrides(thickness={"LPB": 0.25, "EXCAVATION": 0.5}),
        ],
    )
    # box cut 5 m + 0.6 m (as wide as the LPB below it) = 5.6 m wide, 100 m long
    # feature 0: template depth 0.35 m (AC-WC 0.05 + LPA 0.15 + LPB 0.15) -> 196 m3
    # feature 1: LPB +0.10, AC-WC -0.01 -> 0.44 m -> 246.4 m3
    # feature 2: the box cut's own thickness wins over the layers' -> 0.5 m -> 280 m3
    excavated = [
        next(line.quantity for line in bill.feature_lines(i) if line.code == "EXCAVATION")
        for i in range(3)
    ]
    assert excavated == [pytest.approx(196.0), pytest.approx(246.4), pytest.approx(280.0)]
