"""Small real input files for batch tests, and the shipped templates and catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.estimate.catalogs import RateCatalog, find_catalog, load_builtin_catalogs
from app.estimate.templates import Template, load_builtin_templates

DATA = Path(__file__).resolve().parents[2] / "data"
SAMPLE_LAYER = DATA / "sample_layers" / "tangerang_roads.geojson"

# Saved by a spreadsheet in the Indonesian locale: BOM, `;`, decimal commas, quoted fields,
# an EWKT row, and rows that are wrong in every way a row can be.
EXCEL_CSV = (
    "\ufeffid;name;width_m;template;geom\n"
    '1;"Jalan Mawar; gang 2";3,5;;"LINESTRING (106.6300 -6.1700, 106.6309 -6.1700)"\n'
    "2;Jalan Melati;4,25;neighbourhood-rigid;LINESTRING (106.6300 -6.1710, 106.6300 -6.1720)\n"
    "3;Jalan Anggrek;lebar;;LINESTRING (106.6300 -6.1730, 106.6310 -6.1730)\n"
    "4;Jalan Kenanga;5;;LINESTRING (106.63 -6.17\n"
    "5;Jalan Dahlia;5;no-such-template;LINESTRING (106.6300 -6.1740, 106.6310 -6.1740)\n"
    "6;Jalan Teratai;5\n"
    '7;"=HYPERLINK(""x"")";-2;;LINESTRING (106.6300 -6.1750, 106.6310 -6.1750)\n'
    '8;Jalan Srikandi;;;"SRID=32748;LINESTRING (680000 9317000, 680100 9317000)"\n'
)


@pytest.fixture
def excel_csv(tmp_path: Path) -> Path:
    path = tmp_path / "jalan.csv"
    path.write_bytes(EXCEL_CSV.encode("utf-8"))
    return path


@pytest.fixture(scope="session")
def templates() -> dict[str, Template]:
    return load_builtin_templates(DATA / "templates")


@pytest.fixture(scope="session")
def catalog() -> RateCatalog:
    return find_catalog(load_builtin_catalogs(DATA / "catalogs"), "tangerang-sample")
