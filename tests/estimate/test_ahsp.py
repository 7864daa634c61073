"""AHSP analyses against worked analysis sheets, written out line by line by hand."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.estimate.ahsp import Analysis, BasicPrice, cost
from app.estimate.catalogs import RateCatalog, load_builtin_catalogs, priced_catalog

TAG = "worked example [I]"


def _prices(**prices: tuple[str, str]) -> dict[str, BasicPrice]:
    return {
        code.replace("_", "."): BasicPrice(
            description=code, unit=unit, price=Decimal(price), source=TAG
        )
        for code, (unit, price) in prices.items()
    }


def _line(kind: str, price: str, coefficient: str | None = None, **extra: Any) -> dict[str, Any]:
    line: dict[str, Any] = {"kind": kind, "price": price, "source": TAG, **extra}
    if coefficient is not None:
        line["coefficient"] = coefficient
    return line


def test_labour_heavy_hand_excavation_per_oh_rounded_to_hundreds() -> None:
    # Galian tanah biasa 1 m3, by hand (labour per OH):
    #   A. Pekerja 0.750 OH x 150,000 = 112,500
    #      Mandor  0.025 OH x 200,000 =   5,000      A = 117,500
    #   D = 117,500; E = 15 % x D = 17,625; D + E = 135,125 -> to the hundred: 135,100
    prices = _prices(L_01=("OH", "150000"), L_03=("OH", "200000"))
    analysis = Analysis(
        lines=(_line("labour", "L.01", "0.750"), _line("labour", "L.03", "0.025")),
        overhead_profit_pct=Decimal(15),
        source=TAG,
    )
    sheet = cost(analysis, prices, haul_km=None, rounding=Decimal(100))
    assert [line.amount for line in sheet.lines] == [Decimal("112500"), Decimal("5000")]
    assert sheet.totals == {"labour": 117500, "material": 0, "equipment": 0}
    assert sheet.overhead_profit == Decimal("17625")
    assert sheet.unrounded == Decimal("135125")
    assert sheet.hsp == Decimal("135100")
    assert sheet.haul_km is None


def test_material_heavy_prime_coat_with_loss_factor_inside_the_coefficient() -> None:
    # Lapis resap pengikat, per litre of residue (EI-611 structure):
    #   A. Pekerja 0.0241 h x 21,500 = 518.15; Mandor 0.0040 h x 30,000 = 120    A = 638.15
    #   B. Emulsion 1.6667 x Fh 1.03 = 1.716701 kg x 9,800 = 16,823.6698          B = 16,823.6698
    #   C. Sprayer 0.0040 h x 250,000 = 1,000; compressor 0.0040 h x 200,000 = 800 C = 1,800
    #   D = 19,261.8198; E = 15 % = 2,889.27297; D + E = 22,151.09277 -> 22,151
    prices = _prices(
        L_01=("hour", "21500"),
        L_03=("hour", "30000"),
        M_EMULSION=("kg", "9800"),
        E_SPRAYER=("hour", "250000"),
        E_COMPRESSOR=("hour", "200000"),
    )
    analysis = Analysis(
        lines=(
            _line("labour", "L.01", "0.0241"),
            _line("labour", "L.03", "0.0040"),
            _line("material", "M.EMULSION", "1.6667", loss_factor="1.03"),
            _line("equipment", "E.SPRAYER", "0.0040"),
            _line("equipment", "E.COMPRESSOR", "0.0040"),
        ),
        overhead_profit_pct=Decimal(15),
        source=TAG,
    )
    sheet = cost(analysis, prices, haul_km=None, rounding=Decimal(1))
    assert sheet.lines[2].coefficient == Decimal("1.716701")
    assert sheet.totals == {
        "labour": Decimal("638.15"),
        "material": Decimal("16823.6698"),
        "equipment": Decimal("1800"),
    }
    assert sheet.direct == Decimal("19261.8198")
    assert sheet.unrounded == Decimal("22151.09277")
    assert sheet.hsp == Decimal("22151")


def test_equipment_with_haul_aggregate_base_at_10_km() -> None:
    # Lapis fondasi agregat, 1 m3 compacted, L = 10 km:
    #   A. Pekerja 0.0595 h x 21,500 = 1,279.25
    #   B. Agregat 1.1987 x Fh 1.05 = 1.258635 m3 x 328,000 = 412,832.28
    #   C. Dump truck 10 t, Fa 0.83, v1 30, v2 40 km/h, T1 2.82, T4 1 min, 1.81 t per m3:
    #      Ts = 2.82 + 10/30 x 60 + 10/40 x 60 + 1 = 38.82 min
    #      Q = 10 x 0.83 x 60 / (38.82 x 1.81) = 498 / 70.2642 m3/h
    #      coefficient = 70.2642 / 498 h; x 450,000 = 31,618,890 / 498 = 63,491.7469879518...
    #   D = 477,603.2769879518...; x 1.15 = 549,243.7685361445... -> 549,244
    prices = _prices(L_01=("hour", "21500"), M_AGG=("m3", "328000"), E_DUMP=("hour", "450000"))
    truck = {
        "capacity": "10",
        "efficiency": "0.83",
        "loaded_kmh": "30",
        "empty_kmh": "40",
        "load_min": "2.82",
        "unload_min": "1",
        "carried_per_unit": "1.81",
    }
    analysis = Analysis(
        lines=(
            _line("labour", "L.01", "0.0595"),
            _line("material", "M.AGG", "1.1987", loss_factor="1.05"),
            _line("equipment", "E.DUMP", haul=truck),
        ),
        overhead_profit_pct=Decimal(15),
        source=TAG,
    )
    sheet = cost(analysis, prices, haul_km=Decimal(10), rounding=Decimal(1))
    dump = sheet.lines[2]
    assert dump.cycle_min == Decimal("38.82")
    assert abs(dump.coefficient - Decimal("0.14109277108433734939759036144578")) < Decimal("1e-30")
    assert abs(dump.amount - Decimal("63491.746987951807228915662650602")) < Decimal("1e-25")
    assert sheet.totals["material"] == Decimal("412832.28")
    assert abs(sheet.unrounded - Decimal("549243.76853614457831325301")) < Decimal("1e-20")
    assert sheet.hsp == Decimal("549244")
    assert sheet.haul_km == Decimal(10)
    with pytest.raises(ValueError, match="haul distance"):
        cost(analysis, prices, haul_km=None, rounding=Decimal(1))


@pytest.fixture(scope="module")
def ahsp_sample(data_dir: Path) -> RateCatalog:
    return load_builtin_catalogs(data_dir / "catalogs")["tangerang-ahsp-sample"]


def test_ac_wc_between_5_and_25_km_changes_by_the_truck_hours_alone(
    ahsp_sample: RateCatalog,
) -> None:
    # Only the dump truck line depends on L: Ts = 12.05 + L/30 x 60 + L/40 x 60 + 5 min, so
    # from 5 to 25 km Ts grows by 20 x (2 + 1.5) = 70 min, i.e. 70 / (10 x 0.83 x 60) = 70/498
    # truck hours per tonne, x 450,000 = 63,253.01... x 1.15 (O&P) = 72,740.96... per tonne.
    near = ahsp_sample.costing("AC-WC", Decimal(5))
    far = ahsp_sample.costing("AC-WC", Decimal(25))
    assert near.lines[8].cycle_min == Decimal("34.55")
    assert far.lines[8].cycle_min == Decimal("104.55")
    change = far.unrounded - near.unrounded
    assert abs(change - Decimal(70) * 450000 / 498 * Decimal("1.15")) < Decimal("1e-30")
    assert abs(change - Decimal("72740.963855421686746987951807")) < Decimal("1e-20")
    # each HSP rounded to the rupiah on its own: 1,407,961.39... -> 1,407,961 and
    # 1,480,702.36... -> 1,480,702, so the rounded HSPs differ by 72,741
    assert (near.hsp, far.hsp) == (Decimal(1407961), Decimal(1480702))
    assert ahsp_sample.items["AC-WC"].rate == ahsp_sample.costing("AC-WC").hsp
    assert ahsp_sample.haul_km == Decimal(10)

    priced = priced_catalog(ahsp_sample, Decimal(25))
    assert priced.items["AC-WC"].rate == far.hsp
    assert priced.haul_km == Decimal(25)
    assert priced.items["LPA"].rate > ahsp_sample.items["LPA"].rate  # aggregate is hauled too
    assert priced.items["PRIME-COAT"].rate == ahsp_sample.items["PRIME-COAT"].rate
    assert priced.items["MOBILISASI"].rate == Decimal(7500000)  # a flat rate in the same catalog


def test_sample_lands_near_the_flat_sample_rates(ahsp_sample: RateCatalog, data_dir: Path) -> None:
    flat = load_builtin_catalogs(data_dir / "catalogs")["tangerang-sample"]
    assert ahsp_sample.items.keys() == flat.items.keys()
    off = {
        code: round(float(ahsp_sample.items[code].rate / flat.items[code].rate - 1) * 100)
        for code in ahsp_sample.analyses
    }
    far = {code: pct for code, pct in off.items() if abs(pct) > 4}
    # the two gaps the data file explains in the items' sources
    assert far == {"LEAN-CONC": 13, "CONC-FC20": 23}
    assert "13 % above" in ahsp_sample.items["LEAN-CONC"].source


def _with(catalog: RateCatalog, **changes: Any) -> dict[str, Any]:
    body = catalog.model_dump(mode="json")
    body.update(changes)
    return body


def test_a_stale_rate_or_an_unknown_basic_price_is_refused(ahsp_sample: RateCatalog) -> None:
    items = ahsp_sample.model_dump(mode="json")["items"]
    stale = {**items, "AC-WC": {**items["AC-WC"], "rate": "1400000"}}
    with pytest.raises(ValidationError, match="AC-WC states rate 1400000, but its analysis"):
        RateCatalog.model_validate(_with(ahsp_sample, items=stale))
    analyses = ahsp_sample.model_dump(mode="json")["analyses"]
    lines = analyses["LPA"]["lines"]
    broken = {**analyses, "LPA": {**analyses["LPA"], "lines": [{**lines[0], "price": "L.99"}]}}
    with pytest.raises(ValidationError, match=r"analysis LPA names unknown basic prices: L\.99"):
        RateCatalog.model_validate(_with(ahsp_sample, analyses=broken))
    with pytest.raises(ValidationError, match="hauls material: give the catalog a haul_km"):
        RateCatalog.model_validate(_with(ahsp_sample, haul_km=None))
