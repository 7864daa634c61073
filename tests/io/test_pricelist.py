"""A city's price list into a catalog version: the shipped sample workbook and broken ones."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from app.estimate.catalogs import RateCatalog, load_builtin_catalogs
from app.io.pricelist import (
    PriceListError,
    import_price_list,
    parse_money,
    read_crosswalk,
    read_price_list,
)
from tests.conftest import API_KEY
from tests.live import run_takeoff

WORKBOOK = "tangerang-hspk-sample-2025.xlsx"
CROSSWALK = "tangerang-hspk-sample-2025-crosswalk.csv"


@pytest.mark.parametrize(
    ("text", "decimal", "value"),
    [
        ("Rp 1.400.000,00", ",", "1400000"),
        ("1.400.000", ",", "1400000"),
        ("Rp. 1.550,-", ",", "1550"),
        ("16.500,50", ",", "16500.5"),
        ("1,400,000.00", ".", "1400000"),
        (" 175000 ", ",", "175000"),
        (12750.0, ",", "12750"),
    ],
)
def test_indonesian_and_english_money(text: object, decimal: str, value: str) -> None:
    assert parse_money(text, decimal) == Decimal(value)


@pytest.mark.parametrize(
    ("text", "decimal", "reason"),
    [
        ("1,400,000.00", ",", "is not an amount written as 1.400.000,00"),
        ("1.400.000,00", ".", "is not an amount written as 1,400,000.00"),
        ("hubungi penyedia", ",", "is not an amount"),
        ("0", ",", "price must be > 0"),
        (-5, ",", "price must be > 0"),
    ],
)
def test_unreadable_money_says_why(text: object, decimal: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_money(text, decimal)


@pytest.fixture(scope="module")
def base(data_dir: Path) -> RateCatalog:
    return load_builtin_catalogs(data_dir / "catalogs")["tangerang-ahsp-sample"]


def test_the_sample_workbook_is_read_below_its_title_rows(data_dir: Path) -> None:
    prices = read_price_list((data_dir / "pricelists" / WORKBOOK).read_bytes(), WORKBOOK)
    assert prices.header_row == 5
    assert len(prices.rows) == 24
    assert prices.unreadable == {24: "'hubungi penyedia' is not an amount written as 1.400.000,00"}
    units = {code: (row.unit, row.price) for code, row in prices.rows.items()}
    assert units["1.1.1.01"] == ("OH", Decimal("150000.00"))  # "Rp 150.000,00"
    assert units["1.1.1.03"] == ("OH", Decimal("210000"))  # "O.H", "210.000"
    assert units["2.1.03"] == ("kg", Decimal("1550"))  # "Rp 1.550,-"
    assert units["2.1.05"][0] == "m3"  # m³
    assert units["2.1.10"] == ("L", Decimal("16500.00"))  # Ltr
    assert units["2.1.11"][0] == "L"  # liter
    assert units["2.1.12"][0] == "unit"  # bh
    assert units["3.1.01"][0] == "hour"  # Jam
    assert [units[c][0] for c in ("4.1.01", "4.1.02", "4.1.03")] == ["m", "m", "m"]  # m' M1 mtr


def test_import_prices_items_and_reprices_analyses(data_dir: Path, base: RateCatalog) -> None:
    folder = data_dir / "pricelists"
    prices = read_price_list((folder / WORKBOOK).read_bytes(), WORKBOOK)
    imported = import_price_list(
        base, "tangerang-hspk-2025", prices, read_crosswalk((folder / CROSSWALK).read_bytes())
    )
    catalog = imported.catalog
    assert imported.items == ["KERB", "U-DITCH", "EDGE-MARKING", "PAPAN-NAMA"]
    assert catalog.items["KERB"].rate == Decimal(182500)
    assert "KERB" not in catalog.analyses  # the list's HSP replaces the analysis
    assert "row 31" in catalog.items["KERB"].source
    assert catalog.basic_prices["M.BITUMEN"].price == Decimal(12750)
    assert imported.added == ["1.1.1.01", "1.1.1.02", "1.1.1.03", "2.1.10"]
    assert catalog.basic_prices["1.1.1.01"].unit == "OH"
    # AC-WC worked out again: bitumen 12,500 -> 12,750, AMP 8.5 -> 8.75 M, truck 450 -> 465 k,
    # loader 500 -> 510 k per hour, everything else as before
    assert catalog.items["AC-WC"].rate == catalog.costing("AC-WC").hsp
    assert catalog.items["AC-WC"].rate != base.items["AC-WC"].rate
    assert imported.unused_problems == [
        "row 24: 'hubungi penyedia' is not an amount written as 1.400.000,00"
    ]


def _workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_needed_rows_that_are_broken_or_missing_stop_the_import(base: RateCatalog) -> None:
    data = _workbook(
        [
            ["DAFTAR HARGA SATUAN"],
            ["Kode", "Uraian", "Satuan", "Harga"],
            ["2.1.01", "Aspal keras", "kg", "12,750.00"],
            ["4.1.01", "Pasang kanstin", "m3", "182.500"],
            ["3.1.01", "Dump truck", "", "465.000"],
        ]
    )
    prices = read_price_list(data, "broken.xlsx")
    crosswalk = [
        (2, "M.BITUMEN", "2.1.01"),
        (3, "KERB", "4.1.01"),
        (4, "E.DUMP", "3.1.01"),
        (5, "E.AMP", "3.1.02"),
        (6, "NOTHING", "4.1.01"),
    ]
    with pytest.raises(PriceListError) as failed:
        import_price_list(base, "broken", prices, crosswalk)
    assert failed.value.problems == [
        "crosswalk row 2 (M.BITUMEN <- 2.1.01): list row 3: '12,750.00' is not an amount "
        "written as 1.400.000,00",
        "crosswalk row 3 (KERB <- 4.1.01): list row 4 is per m3, KERB per m",
        "crosswalk row 4 (E.DUMP <- 3.1.01): list row 5: no unit",
        "crosswalk row 5 (E.AMP <- 3.1.02): no row with code 3.1.02 in broken.xlsx",
        "crosswalk row 6 (NOTHING <- 4.1.01): NOTHING is neither an item nor a basic price "
        "of tangerang-ahsp-sample",
    ]


def test_header_by_other_names_and_english_numbers_in_csv(base: RateCatalog) -> None:
    text = "Price list 2025;;;\nItem no;Name;UoM;Cost\nB-1;Bitumen;KG;12,750.00\n"
    with pytest.raises(PriceListError, match="no header row with the columns code: kode"):
        read_price_list(text.encode(), "list.csv")
    columns = {"code": "Item no", "description": "Name", "unit": "UoM", "price": "Cost"}
    prices = read_price_list(text.encode(), "list.csv", columns=columns, decimal=".")
    assert prices.rows["B-1"].price == Decimal(12750) and prices.rows["B-1"].unit == "kg"


def test_cli_saves_nothing_on_failure_then_a_version(tmp_path: Path, data_dir: Path) -> None:
    folder = data_dir / "pricelists"
    store = str(tmp_path / "store")
    crosswalk = tmp_path / "crosswalk.csv"
    crosswalk.write_text((folder / CROSSWALK).read_text() + "M.WATER,2.1.14\n", encoding="utf-8")
    args = ("catalog", "import", str(folder / WORKBOOK), "--slug", "kota-2025")
    failed = run_takeoff(
        *args, "--base", "tangerang-ahsp-sample", "--crosswalk", str(crosswalk), data_dir=store
    )
    assert failed.returncode == 1, failed.stderr
    assert (
        "crosswalk row 22 (M.WATER <- 2.1.14): list row 24: 'hubungi penyedia' is not an "
        "amount written as 1.400.000,00" in failed.stderr
    )
    assert "nothing saved: 1 problem(s)" in failed.stderr
    no_base = run_takeoff(*args, "--crosswalk", str(folder / CROSSWALK), data_dir=store)
    assert no_base.returncode == 2
    assert "no catalog 'kota-2025'" in no_base.stderr
    assert "a new catalog starts from another one: name it with base" in no_base.stderr

    done = run_takeoff(
        *args,
        "--base",
        "tangerang-ahsp-sample",
        "--crosswalk",
        str(folder / CROSSWALK),
        data_dir=store,
    )
    assert done.returncode == 0, done.stderr
    assert "catalog 'kota-2025' version 1: 4 item rate(s), 16 basic price(s)" in done.stdout
    assert "row 24" in done.stderr


def test_http_import_needs_a_key_and_saves_a_version(client: TestClient, data_dir: Path) -> None:
    folder = data_dir / "pricelists"
    files = {
        "file": (WORKBOOK, (folder / WORKBOOK).read_bytes()),
        "crosswalk": (CROSSWALK, (folder / CROSSWALK).read_bytes()),
    }
    form = {"slug": "kota-http", "base": "tangerang-ahsp-sample"}
    assert client.post("/catalogs/import", files=files, data=form).status_code == 401
    key = {"X-API-Key": API_KEY}
    broken = {**files, "crosswalk": ("c.csv", b"item_code,list_code\nKERB,9.9.9\n")}
    refused = client.post("/catalogs/import", files=broken, data=form, headers=key)
    assert refused.status_code == 422
    assert "no row with code 9.9.9" in refused.json()["detail"]
    assert client.get("/catalogs/kota-http").status_code == 404

    saved = client.post("/catalogs/import", files=files, data=form, headers=key)
    assert saved.status_code == 201, saved.text
    assert saved.json()["version"] == 1
    assert saved.headers["location"].endswith("/catalogs/kota-http/versions/1")
    body = client.get("/catalogs/kota-http").json()
    assert body["items"]["KERB"]["rate"] == "182500"
    assert body["basic_prices"]["E.DUMP"]["price"] == "465000"
    assert body["analysis_results"]["AC-WC"]["hsp"] == body["items"]["AC-WC"]["rate"]


def test_saved_estimate_is_priced_again_with_its_own_version_and_distance(
    client: TestClient, data_dir: Path
) -> None:
    folder = data_dir / "pricelists"
    key = {"X-API-Key": API_KEY}
    workbook = (WORKBOOK, (folder / WORKBOOK).read_bytes())
    form = {"slug": "kota-pinned", "base": "tangerang-ahsp-sample"}
    first = {"file": workbook, "crosswalk": (CROSSWALK, (folder / CROSSWALK).read_bytes())}
    assert client.post("/catalogs/import", files=first, data=form, headers=key).status_code == 201
    road = {
        "type": "Feature",
        "properties": {"template": "asphalt-overlay"},
        "geometry": {"type": "LineString", "coordinates": [[106.63, -6.17], [106.631, -6.17]]},
    }
    params = {"catalog": "kota-pinned", "haul_km": 25, "save": "true"}
    saved = client.post("/estimates", params=params, json=road).json()
    ac_wc = next(line for line in saved["items"] if line["code"] == "AC-WC")
    assert ac_wc["haul_km"] == 25.0

    # a dearer truck in the next version of the list
    dearer = {"file": workbook, "crosswalk": ("c.csv", b"item_code,list_code\nE.DUMP,3.1.02\n")}
    again = client.post("/catalogs/import", files=dearer, data={"slug": "kota-pinned"}, headers=key)
    assert again.json()["version"] == 2
    now = client.post("/estimates", params={**params, "save": "false"}, json=road).json()
    assert next(i for i in now["items"] if i["code"] == "AC-WC")["unit_rate"] > ac_wc["unit_rate"]

    table = client.get(f"/estimates/{saved['id']}", params={"f": "csv"}).text
    row = next(csv.DictReader(io.StringIO(table)))
    assert row["ac_wc_amount"] == ac_wc["amount"]


def test_header_names_as_a_regional_ssh_export_writes_them() -> None:
    data = _workbook(
        [
            ["STANDAR SATUAN HARGA TAHUN ANGGARAN 2025"],
            [],
            [
                "Kode Kelompok Barang",
                "Uraian Kelompok Barang",
                "Kode Barang",
                "Uraian Barang",
                "Spesifikasi",
                "Satuan",
                "Harga Satuan Tahun 2025",
            ],
            [
                "1.1.7",
                "Bahan bangunan",
                "1.1.7.01.01",
                "Semen Portland",
                "50 kg",
                "Zak",
                "Rp 78.500,00",
            ],
        ]
    )
    prices = read_price_list(data, "ssh.xlsx")
    assert prices.header_row == 3
    row = prices.rows["1.1.7.01.01"]
    assert (row.description, row.unit, row.price) == ("Semen Portland", "Zak", Decimal(78500))
