"""Bills computed by hand, line by line, against the engine.

Quantities are compared to 1e-12 relative (they are float64); amounts and totals exactly.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.estimate import Measures, Overrides, RateCatalog, Template, price_bill


def lines(bill):
    return {line.code: (line.quantity, line.amount) for line in bill.items}


def assert_lines(bill, expected):
    got = lines(bill)
    assert list(got) == list(expected), "items come in template order"
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
    # surface A = 100 x 3 = 300 m2, no extra widths
    assert_lines(
        bill,
        {
            # 300 x 0.05 m x (1 + 0.05) = 15.75 m3; 15.75 x 250,000 = 3,937,500
            "SAND-BED": (15.75, "3937500"),
            # 300 x 0.15 m x (1 + 0.02) = 45.9 m3; 45.9 x 1,300,000 = 59,670,000
            "CONC-FC20": (45.9, "59670000"),
        },
    )
    totals = bill.totals
    assert totals.subtotal == Decimal("63607500")  # 3,937,500 + 59,670,000
    assert totals.overhead_profit == Decimal("0")  # AHSP rates include it: 0 %
    assert totals.tax == Decimal("6996825")  # 63,607,500 x 11 % = 6,996,825
    assert totals.total == Decimal("70604325")
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
            # A = 250 x (7 + 1.0) = 2000 m2; 2000 x 0.20 x 1.05 = 420 m3
            # 420 x 385,000 = 161,700,000
            "LPB": (420.0, "161700000"),
            # A = 250 x (7 + 0.6) = 1900 m2; 1900 x 0.15 x 1.05 = 299.25 m3
            # 299.25 x 570,185 = 170,627,861.25 -> 170,627,861
            "LPA": (299.25, "170627861"),
            # 1750 x 1.0 L/m2 x 1.03 = 1802.5 L
            # 1802.5 x 22,131 = 39,891,127.5 -> half up -> 39,891,128
            "PRIME-COAT": (1802.5, "39891128"),
            # 1750 x 0.06 x 2.32 x 1.03 = 250.908 t; 250.908 x 1,315,000 = 329,944,020
            "AC-BC": (250.908, "329944020"),
            # 1750 x 0.25 L/m2 x 1.05 = 459.375 L
            # 459.375 x 21,500 = 9,876,562.5 -> half up -> 9,876,563
            "TACK-COAT": (459.375, "9876563"),
            # 1750 x 0.04 x 2.32 x 1.03 = 167.272 t; 167.272 x 1,400,000 = 234,180,800
            "AC-WC": (167.272, "234180800"),
            # 250 m x 2 sides = 500 m; 500 x 175,000 = 87,500,000
            "KERB": (500.0, "87500000"),
            # 500 m x 1,250,000 = 625,000,000
            "U-DITCH": (500.0, "625000000"),
            # 500 m x 22,000 = 11,000,000
            "EDGE-MARKING": (500.0, "11000000"),
        },
    )
    # 161,700,000 + 170,627,861 + 39,891,128 + 329,944,020 + 9,876,563
    # + 234,180,800 + 87,500,000 + 625,000,000 + 11,000,000 = 1,669,720,372
    assert bill.totals.subtotal == Decimal("1669720372")
    assert bill.totals.overhead_profit == Decimal("0")
    # 1,669,720,372 x 11 % = 183,669,240.92 -> 183,669,241
    assert bill.totals.tax == Decimal("183669241")
    assert bill.totals.total == Decimal("1853389613")
    # one feature: its own bill is the aggregate
    assert bill.feature_totals(0) == bill.totals


def test_base_layers_wider_than_the_surface_with_a_measured_polygon_area(templates, catalogs):
    # A polygon: length 120 m, area measured 610 m2 (mean width 5.083 m).
    bill = price_bill(
        Measures.from_columns([120.0], area_m2=[610.0]),
        "local-flexible",
        templates=templates,
        catalog=catalogs["tangerang-sample"],
    )
    assert_lines(
        bill,
        {
            # A_LPB = 610 + 120 x 0.6 = 682 m2; 682 x 0.15 x 1.05 = 107.415 m3
            # 107.415 x 385,000 = 41,354,775
            "LPB": (107.415, "41354775"),
            # A_LPA = 610 + 120 x 0.3 = 646 m2; 646 x 0.15 x 1.05 = 101.745 m3
            # 101.745 x 570,185 = 58,013,473.325 -> 58,013,473
            "LPA": (101.745, "58013473"),
            # 610 x 1.0 x 1.03 = 628.3 L; 628.3 x 22,131 = 13,904,907.3 -> 13,904,907
            "PRIME-COAT": (628.3, "13904907"),
            # 610 x 0.05 x 2.32 x 1.03 = 72.8828 t; 72.8828 x 1,400,000 = 102,035,920
            "AC-WC": (72.8828, "102035920"),
        },
    )
    assert bill.totals.area_m2 == 610.0


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
            # A = 120 x (5 + 0.6) = 672 m2; 672 x 0.15 x 1.05 = 105.84 m3
            # 105.84 x 31.20 = 3302.208 -> 3302.21
            "LPB": (105.84, "3302.21"),
            # A = 120 x (5 + 0.3) = 636 m2; 636 x 0.15 x 1.05 = 100.17 m3
            # 100.17 x 38.75 = 3881.5875 -> 3881.59
            "LPA": (100.17, "3881.59"),
            # 600 x 1.0 x 1.03 = 618 L; 618 x 1.35 = 834.30
            "PRIME-COAT": (618.0, "834.30"),
            # 600 x 0.05 x 2.32 x 1.03 = 71.688 t; 71.688 x 92.50 = 6631.14
            "AC-WC": (71.688, "6631.14"),
        },
    )
    # 3302.21 + 3881.59 + 834.30 + 6631.14 = 14649.24
    assert bill.totals.subtotal == Decimal("14649.24")
    # 14649.24 x 10 % = 1464.924 -> 1464.92
    assert bill.totals.overhead_profit == Decimal("1464.92")
    # (14649.24 + 1464.92) x 20 % = 16114.16 x 0.2 = 3222.832 -> 3222.83
    assert bill.totals.tax == Decimal("3222.83")
    # 14649.24 + 1464.92 + 3222.83 = 19336.99
    assert bill.totals.total == Decimal("19336.99")
    assert bill.to_dict(features=False)["totals"]["total"] == "19336.99"


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
                    "waste": 0.1,
                    "extra_width_m": 1,
                    "sources": {"waste": "test [I]", "extra_width_m": "test [I]"},
                }
            ],
            "linear_items": [
                {
                    "code": "KERB",
                    "sides": 2,
                    "waste": 0.05,
                    "sources": {"sides": "t [I]", "waste": "t [I]"},
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
    # feature 0: 120 m, default width 4 m
    #   GEOTEXTILE: 120 x (4 + 1) x 1.10 = 660 m2 -> x 30,000 = 19,800,000
    #   KERB: 120 x 2 x 1.05 = 252 m -> x 175,000 = 44,100,000
    #   LIGHT: ceil(120 / 50) = 3 stations x 2 = 6 -> x 4,500,000 = 27,000,000
    # feature 1: 100 m
    #   GEOTEXTILE: 100 x 5 x 1.10 = 550 m2 -> 16,500,000
    #   KERB: 100 x 2 x 1.05 = 210 m -> 36,750,000
    #   LIGHT: ceil(100 / 50) = 2 stations x 2 = 4 -> 18,000,000
    first = {line.code: (line.quantity, line.amount) for line in bill.feature_lines(0)}
    assert first["GEOTEXTILE"] == (pytest.approx(660.0), Decimal("19800000"))
    assert first["KERB"] == (pytest.approx(252.0), Decimal("44100000"))
    assert first["LIGHT"] == (6.0, Decimal("27000000"))
    second = {line.code: (line.quantity, line.amount) for line in bill.feature_lines(1)}
    assert second["LIGHT"] == (4.0, Decimal("18000000"))
    assert_lines(
        bill,
        {
            "GEOTEXTILE": (1210.0, "36300000"),  # 660 + 550 = 1210 m2 x 30,000
            "KERB": (462.0, "80850000"),  # 252 + 210 = 462 m x 175,000
            "LIGHT": (10.0, "45000000"),  # 6 + 4 = 10 x 4,500,000
        },
    )
    assert [line.unit for line in bill.items] == ["m2", "m", "unit"]
    # 36,300,000 + 80,850,000 + 45,000,000 = 162,150,000; 11 % VAT = 17,836,500
    assert bill.totals.total == Decimal("162150000") + Decimal("17836500")


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
            Overrides(waste={"TACK-COAT": 0}, thickness={"AC-WC": 0.03}),
        ],
    )
    # feature 0, request only: A = 100 x 5 = 500 m2
    #   TACK-COAT 500 x 0.25 x 1.05 = 131.25 L x 21,500 = 2,821,875
    #   AC-WC 500 x 0.05 x 2.32 x 1.03 = 59.74 t x 1,400,000 = 83,636,000
    # feature 1, width 4 wins over 5; rate 1,500,000: A = 400 m2
    #   TACK-COAT 400 x 0.25 x 1.05 = 105 L x 21,500 = 2,257,500
    #   AC-WC 400 x 0.05 x 2.32 x 1.03 = 47.792 t x 1,500,000 = 71,688,000
    # feature 2, thickness 0.03 wins over 0.05, no tack waste: A = 500 m2
    #   TACK-COAT 500 x 0.25 = 125 L x 21,500 = 2,687,500
    #   AC-WC 500 x 0.03 x 2.32 x 1.03 = 35.844 t x 1,400,000 = 50,181,600
    assert [line.amount for line in bill.feature_lines(1)] == [
        Decimal("2257500"),
        Decimal("71688000"),
    ]
    assert bill.features.width_m.tolist() == [5.0, 4.0, 5.0]
    # aggregated: one line per (code, rate): the overridden AC-WC rate is its own line
    assert [(line.code, line.unit_rate) for line in bill.items] == [
        ("TACK-COAT", Decimal("21500")),
        ("AC-WC", Decimal("1400000")),
        ("AC-WC", Decimal("1500000")),
    ]
    aggregated = [(line.quantity, line.amount) for line in bill.items]
    # TACK-COAT 131.25 + 105 + 125 = 361.25 L x 21,500 = 7,766,875
    assert aggregated[0] == (pytest.approx(361.25), Decimal("7766875"))
    # AC-WC at 1,400,000: 59.74 + 35.844 = 95.584 t -> 133,817,600
    assert aggregated[1] == (pytest.approx(95.584), Decimal("133817600"))
    assert aggregated[2] == (pytest.approx(47.792), Decimal("71688000"))


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
    # subtotal 63,607,500 (see the 100 m x 3 m test); O&P 10 % = 6,360,750
    # tax 12 % x 69,968,250 = 8,396,190; total 63,607,500 + 6,360,750 + 8,396,190
    assert bill.totals.overhead_profit == Decimal("6360750")
    assert bill.totals.tax == Decimal("8396190")
    assert bill.totals.total == Decimal("78364440")
    assert bill.vat_pct == Decimal("12")
