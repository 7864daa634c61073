"""One analysis sheet per analysed item of a bill, in the layout of the Bina Marga sheets.

A. Tenaga, B. Bahan, C. Peralatan: coefficient x basic price = amount per line, each part
summed; D = A + B + C; E = overhead & profit; F = D + E; the HSP as rounded. A hauled item's
sheet is worked out at the haul distance L the item was priced at (the request's, else the
delivery plan's route, else the catalog's) and says so and where L came from; lines of the
bill priced at a feature's own L carry that L in the JSON answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from app.estimate.ahsp import LineKind
from app.estimate.bom import BillOfMaterials
from app.estimate.catalogs import HaulOrigin, RateCatalog
from app.io.safety import neutralise

if TYPE_CHECKING:
    from xlsxwriter import Workbook

_PARTS: tuple[tuple[LineKind, str, str], ...] = (
    ("labour", "A.", "TENAGA"),
    ("material", "B.", "BAHAN"),
    ("equipment", "C.", "PERALATAN"),
)
_ORIGINS: dict[HaulOrigin, str] = {
    "request": "diberikan pada permintaan",
    "network": "rute jaringan jalan ke sumber terdekat",
    "straight-line": "garis lurus ke sumber terdekat x faktor belok",
    "catalog": "nilai bawaan katalog",
}
"""Where L came from, as the sheet says it."""
_HEADER = ("No", "Uraian", "Kode", "Satuan", "Koefisien", "Harga Satuan", "Jumlah Harga")


def _number(value: Decimal) -> float:
    return float(value)


def _rows(catalog: RateCatalog, code: str, rates: Iterable[Decimal]) -> list[tuple[Any, ...]]:
    item = catalog.items[code]
    sheet = catalog.costing(code)
    rows: list[tuple[Any, ...]] = [
        ("ANALISA HARGA SATUAN PEKERJAAN",),
        ("Mata pembayaran", item.pay_item or "-"),
        ("Jenis pekerjaan", item.description.id),
        ("Satuan pembayaran", item.unit),
        ("Katalog", f"{catalog.slug} v{catalog.version}", catalog.label),
    ]
    if sheet.haul_km is not None:
        origin = _ORIGINS[catalog.haul_length(code).origin]
        rows.append(("Jarak angkut rata-rata L (km)", _number(sheet.haul_km), origin))
    other = sorted(rate for rate in set(rates) if rate != sheet.hsp)
    if other:
        rows.append(
            (
                "Baris lain pada tagihan",
                "dihitung dengan L fitur sendiri: " + ", ".join(format(r, "f") for r in other),
            )
        )
    rows += [(), _HEADER]
    for kind, letter, title in _PARTS:
        lines = [line for line in sheet.lines if line.kind == kind]
        rows.append((letter, title))
        for number, line in enumerate(lines, start=1):
            rows.append(
                (
                    number,
                    line.description,
                    line.price_code,
                    line.unit,
                    _number(line.coefficient),
                    _number(line.price),
                    _number(line.amount),
                )
            )
        rows.append(("", f"JUMLAH HARGA {title}", "", "", "", "", _number(sheet.totals[kind])))
    rows += [
        ("D.", "JUMLAH (A + B + C)", "", "", "", "", _number(sheet.direct)),
        (
            "E.",
            f"BIAYA UMUM DAN KEUNTUNGAN {sheet.overhead_profit_pct.normalize():f} % x D",
            "",
            "",
            "",
            "",
            _number(sheet.overhead_profit),
        ),
        ("F.", "HARGA SATUAN PEKERJAAN (D + E)", "", "", "", "", _number(sheet.unrounded)),
        ("", "DIBULATKAN", "", "", "", "", _number(sheet.hsp)),
    ]
    return rows


def write_analysis_sheets(book: Workbook, catalog: RateCatalog, bill: BillOfMaterials) -> None:
    """An `AHSP <code>` sheet for every analysed item the bill prices (none for flat rates)."""
    rates: dict[str, list[Decimal]] = {}
    for line in bill.items:
        if line.code in catalog.analyses:
            rates.setdefault(line.code, []).append(line.unit_rate)
    for code, used in rates.items():
        sheet = book.add_worksheet(f"AHSP {code}"[:31])
        for row, values in enumerate(_rows(catalog, code, used)):
            for column, value in enumerate(values):
                sheet.write(row, column, neutralise(value))
