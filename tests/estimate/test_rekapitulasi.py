"""Rekapitulasi per Divisi, project items and the rounded total in words, by hand."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from app.estimate import Measures, RateCatalog, price_bill
from app.estimate.divisions import UNPLACED, division_amounts
from app.estimate.grand_total import rounded_total, total_in_words
from app.estimate.project import project_lines

ROAD = Measures.from_columns([100.0], [5.0])


def test_divisions_of_a_100_by_5_m_collector_road_sum_to_the_subtotal(templates, catalogs):
    catalog = catalogs["tangerang-sample"]
    bill = price_bill(ROAD, "collector-flexible", templates=templates, catalog=catalog)
    rows = division_amounts([(line.code, line.amount) for line in bill.items], catalog)
    # 2 Drainase: U-DITCH 200 m x 1,250,000 = 250,000,000
    # 3 Pekerjaan Tanah: EXCAVATION 270 m3 x 95,000 = 25,650,000
    #   + SUBGRADE-PREP 600 m2 x 3,200 = 1,920,000 -> 27,570,000
    # 5 Perkerasan Berbutir: LPB 120 x 385,000 = 46,200,000 + LPA 84 x 570,185 = 47,895,540
    #   -> 94,095,540
    # 6 Perkerasan Aspal: PRIME 300 L x 22,131 = 6,639,300; AC-BC 69.6 t x 1,315,000 =
    #   91,524,000; TACK 75 L x 21,500 = 1,612,500; AC-WC 46.4 t x 1,400,000 = 64,960,000
    #   -> 164,735,800
    # 9 Lain-lain: KERB 200 x 175,000 = 35,000,000 + EDGE-MARKING 200 x 22,000 = 4,400,000
    #   -> 39,400,000
    assert [(row.division, row.amount) for row in rows] == [
        ("2", Decimal("250000000")),
        ("3", Decimal("27570000")),
        ("5", Decimal("94095540")),
        ("6", Decimal("164735800")),
        ("9", Decimal("39400000")),
    ]
    # 250,000,000 + 27,570,000 + 94,095,540 + 164,735,800 + 39,400,000 = 575,801,340
    assert bill.totals.subtotal == Decimal("575801340")
    assert sum(row.amount for row in rows) == bill.totals.subtotal
    assert rows[3].name.id == "Perkerasan Aspal"
    assert rows[3].to_dict() == {
        "division": "6",
        "name": {"en": "Asphalt pavement", "id": "Perkerasan Aspal"},
        "amount": "164735800",
    }


def test_divisions_with_project_items_put_smkk_last(templates, catalogs):
    catalog = catalogs["tangerang-sample"]
    bill = price_bill(ROAD, "asphalt-overlay", templates=templates, catalog=catalog)
    lines = [*project_lines(catalog), *bill.items]
    rows = division_amounts([(line.code, line.amount) for line in lines], catalog)
    # 1 Umum: MOBILISASI 7,500,000 + PAPAN-NAMA 1,500,000 + TRAFFIC-MGMT 5,000,000
    # 6: TACK 75 L x 21,500 = 1,612,500 + AC-WC 46.4 t x 1,400,000 = 64,960,000
    # 11 SMKK: 10,000,000
    assert [(row.division, row.amount) for row in rows] == [
        ("1", Decimal("14000000")),
        ("6", Decimal("66572500")),
        ("11", Decimal("10000000")),
    ]
    assert rows[-1].name.id == "Sistem Manajemen Keselamatan Konstruksi (SMKK)"


def test_a_catalog_version_without_divisions_sums_its_lines_unplaced(catalogs):
    old = catalogs["tangerang-sample"].model_dump(mode="json")
    items = {}
    for code in ("LPA", "AC-WC"):
        item = old["items"][code]
        for name in ("division", "pay_item", "pay_item_note", "per_litre_of", "product"):
            item.pop(name, None)
        items[code] = item
    old.update(items=items, divisions={})
    old["sources"].pop("divisions")
    catalog = RateCatalog.model_validate(old)
    rows = division_amounts([("LPA", Decimal("10")), ("AC-WC", Decimal("5"))], catalog)
    assert [(row.division, row.name, row.amount) for row in rows] == [
        (None, UNPLACED, Decimal("15"))
    ]


def test_a_line_from_another_catalog_is_named(catalogs):
    with pytest.raises(KeyError, match="'GEOTEXTILE' is not an item of catalog tangerang-sample"):
        division_amounts([("GEOTEXTILE", Decimal("1"))], catalogs["tangerang-sample"])


def test_project_items_once_at_one_lump_sum_each(catalogs):
    lines = project_lines(catalogs["tangerang-sample"])
    assert [(line.code, line.unit, line.quantity, line.amount) for line in lines] == [
        ("MOBILISASI", "Ls", 1.0, Decimal("7500000")),
        ("PAPAN-NAMA", "Ls", 1.0, Decimal("1500000")),
        ("TRAFFIC-MGMT", "Ls", 1.0, Decimal("5000000")),
        ("SMKK", "Ls", 1.0, Decimal("10000000")),
    ]
    assert [(line.division, line.pay_item) for line in lines] == [
        ("1", "1.2"),
        ("1", None),
        ("1", "1.8"),
        ("11", None),
    ]
    assert project_lines(catalogs["tangerang-sample"], include=False) == ()


def test_a_project_quantity_the_catalog_fixes(catalogs):
    data = catalogs["example-eur"].model_dump(mode="json")
    data["items"]["PAPAN-NAMA"].update(unit="unit", project_quantity=2)
    lines = {line.code: line for line in project_lines(RateCatalog.model_validate(data))}
    # 2 boards x 350.00 = 700.00
    assert (lines["PAPAN-NAMA"].quantity, lines["PAPAN-NAMA"].amount) == (2.0, Decimal("700.00"))
    assert lines["MOBILISASI"].amount == Decimal("2500.00")


@pytest.mark.parametrize(
    ("total", "unit", "rounded"),
    [
        (Decimal("82151100"), Decimal("1000"), Decimal("82151000")),
        (Decimal("1896410608"), Decimal("1000"), Decimal("1896410000")),
        (Decimal("1999999999"), Decimal("1000"), Decimal("1999999000")),  # never up
        (Decimal("5000"), Decimal("1000"), Decimal("5000")),
        (Decimal("25159.34"), Decimal("0.01"), Decimal("25159.34")),
        (Decimal("25159.34"), Decimal("1"), Decimal("25159")),
        (Decimal("82151100"), None, Decimal("82151100")),
    ],
)
def test_rounded_total_goes_down_to_the_unit(total, unit, rounded):
    assert rounded_total(total, unit) == rounded


def test_the_tangerang_catalog_rounds_to_the_thousand_rupiah(catalogs):
    assert catalogs["tangerang-sample"].rounding_unit == Decimal("1000")
    unit = catalogs["tangerang-sample"].rounding_unit
    assert rounded_total(Decimal("1896410608"), unit) == Decimal("1896410000")


@pytest.mark.parametrize(
    ("amount", "indonesian", "english"),
    [
        (
            Decimal("82151000"),
            "Delapan Puluh Dua Juta Seratus Lima Puluh Satu Ribu Rupiah",
            "Eighty-two million, one hundred and fifty-one thousand rupiah",
        ),
        (
            Decimal("1896410000"),
            "Satu Miliar Delapan Ratus Sembilan Puluh Enam Juta Empat Ratus Sepuluh Ribu Rupiah",
            "One billion, eight hundred and ninety-six million, four hundred and ten thousand "
            "rupiah",
        ),
        (
            Decimal("12500000000"),
            "Dua Belas Miliar Lima Ratus Juta Rupiah",
            "Twelve billion, five hundred million rupiah",
        ),
        (Decimal("1000"), "Seribu Rupiah", "One thousand rupiah"),
        (Decimal("0"), "Nol Rupiah", "Zero rupiah"),
    ],
)
def test_terbilang(amount, indonesian, english):
    assert total_in_words(amount, "id") == indonesian
    assert total_in_words(amount, "en") == english


def test_terbilang_with_cents():
    assert total_in_words(Decimal("25159.34"), "en", "EUR") == (
        "Twenty-five thousand, one hundred and fifty-nine euro and thirty-four cents"
    )
    assert total_in_words(Decimal("25159.34"), "id", "EUR") == (
        "Dua Puluh Lima Ribu Seratus Lima Puluh Sembilan Euro Tiga Puluh Empat Sen"
    )


def test_english_terbilang_reads_as_num2words_writes_it():
    """English is put together a group of three digits at a time; every join num2words makes
    ("and" before a last group under 100, commas between groups, empty groups skipped) must
    come out the same."""
    from num2words import num2words

    edges = [1005, 1099, 1100, 1_000_005, 1_000_100, 1_001_000, 2_000_000_005, 10**12 + 7]
    rng = random.Random(7)
    numbers = edges + [rng.randrange(1000, 10 ** rng.randrange(4, 19)) for _ in range(3000)]
    for number in numbers:
        expected = f"{num2words(number, lang='en')} rupiah"
        assert total_in_words(Decimal(number), "en") == expected[0].upper() + expected[1:]


def test_terbilang_refuses_other_languages_and_negative_amounts():
    with pytest.raises(ValueError, match="'id' or 'en', not 'fr'"):
        total_in_words(Decimal("1"), "fr")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=">= 0"):
        total_in_words(Decimal("-1"), "id")


@pytest.mark.parametrize("catalog", ["tangerang-sample", "example-eur"])
def test_every_template_rekapitulasi_adds_up_to_its_subtotal(templates, catalogs, catalog):
    for slug in templates:
        bill = price_bill(ROAD, slug, templates=templates, catalog=catalogs[catalog])
        rows = division_amounts(
            [(line.code, line.amount) for line in bill.items], catalogs[catalog]
        )
        assert sum(row.amount for row in rows) == bill.totals.subtotal, slug
        numbers = [int(row.division or 0) for row in rows]
        assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers), slug
        assert None not in {row.division for row in rows}, slug


def test_a_catalog_copied_with_another_rate_prices_its_own_project_items(catalogs):
    # project lines are kept per catalog object: a copy at another rate is priced anew
    catalog = catalogs["tangerang-sample"]
    assert _amounts(project_lines(catalog))["MOBILISASI"] == Decimal("7500000")
    items = dict(catalog.items)
    items["MOBILISASI"] = items["MOBILISASI"].model_copy(update={"rate": Decimal("9000000")})
    dearer = catalog.model_copy(update={"items": items})
    assert _amounts(project_lines(dearer))["MOBILISASI"] == Decimal("9000000")
    assert _amounts(project_lines(catalog))["MOBILISASI"] == Decimal("7500000")


def _amounts(lines):
    return {line.code: line.amount for line in lines}
