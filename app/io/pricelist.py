"""A city's price list (HSPK / SSH) from XLSX or CSV, and a new catalog version made from it.

Cities publish their lists as spreadsheets with title rows above the table (PEMERINTAH KOTA
..., TAHUN ANGGARAN ...), section rows inside it (A. UPAH, B. BAHAN), money written the
Indonesian way ("Rp 1.400.000,00", "1.400.000,-") and units spelt many ways. The table's
header row is found by its column names; every row is read or reported with its row number
and the reason. A crosswalk (`item_code,list_code`) says which row prices which catalog item
or basic price; the other rows become basic prices for analyses. When a row the crosswalk
needs is missing or unreadable, nothing is made: the caller gets the whole list of problems.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from app.errors import InvalidInput, UnknownCatalog
from app.estimate.catalogs import RateCatalog
from app.estimate.units import canonical_unit
from app.resolve import resolve_catalog
from app.store.repository import Repository

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

ROLES = ("code", "description", "unit", "price")
_HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "code": ("kode", "kode barang", "kode rekening", "code", "item code"),
    "description": ("uraian", "nama barang", "uraian barang", "nama", "description", "item"),
    "unit": ("satuan", "sat", "unit", "units"),
    "price": ("harga", "harga satuan", "harga satuan rp", "harga rp", "price", "unit price"),
}
_HEADER_ROWS = 30
_MONEY_TRIM = re.compile(r"^(rp\.?|idr)\s*|\s*(,-|\.-|-)$", re.IGNORECASE)
_GROUPED = {
    ",": re.compile(r"^\d{1,3}(\.\d{3})+(,\d+)?$|^\d+(,\d+)?$"),
    ".": re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$|^\d+(\.\d+)?$"),
}


class PriceListError(InvalidInput):
    """The list cannot make a catalog version; `problems` names every row and why."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems), field="file")
        self.problems = list(problems)


@dataclass(frozen=True)
class ListRow:
    """A price row as read: its row number in the file (1-based, as a spreadsheet shows)."""

    row: int
    code: str
    description: str
    unit: str
    price: Decimal


@dataclass
class PriceList:
    """The readable rows by code, and the unreadable ones (row number -> why)."""

    source: str
    header_row: int
    rows: dict[str, ListRow] = field(default_factory=dict)
    unreadable: dict[int, str] = field(default_factory=dict)
    unreadable_codes: dict[str, int] = field(default_factory=dict)


def parse_money(value: Any, decimal: str = ",") -> Decimal:
    """A price from a cell: a number as stored, or text such as "Rp 1.400.000,00",
    "1.400.000", "1.400.000,-" (`decimal` ","), or "1,400,000.00" (`decimal` ".")."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a price")
    number = parse_number(value, decimal)
    if number <= 0:
        raise ValueError(f"price must be > 0, got {value!r}")
    return number


def parse_number(value: Any, decimal: str = ",") -> Decimal:
    """A finite number from a cell: as stored, or text grouped by the other mark than
    `decimal` ("1.400.000,00" or "9,8" for ","; "1,400,000.00" for "."), a leading "Rp" and a
    trailing ",-" dropped."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        number = Decimal(str(value))
    else:
        text = " ".join(str(value).replace("\u00a0", " ").split())
        text = _MONEY_TRIM.sub("", text).replace(" ", "")
        if not _GROUPED[decimal].match(text):
            style = "1.400.000,00" if decimal == "," else "1,400,000.00"
            raise ValueError(f"{str(value).strip()!r} is not an amount written as {style}")
        thousands = "." if decimal == "," else ","
        try:
            number = Decimal(text.replace(thousands, "").replace(decimal, "."))
        except InvalidOperation as exc:
            raise ValueError(f"{value!r} is not an amount") from exc
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite amount")
    return number


def _text(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())


def _name(value: Any) -> str:
    """A header cell compared by its words: "Harga Satuan (Rp.)" -> "harga satuan rp"."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", _text(value).lower()).split())


def _find_header(
    rows: Sequence[tuple[int, Sequence[Any]]], columns: Mapping[str, str] | None
) -> tuple[int, dict[str, int]]:
    """The header row's number and the position of each role's column in it."""
    wanted = {role: (_name(name),) for role, name in columns.items()} if columns else _HEADER_NAMES
    for number, cells in rows[:_HEADER_ROWS]:
        names = [_name(cell) for cell in cells]
        found: dict[str, int] = {}
        for role in ROLES:
            # a known name as it stands first ("Kode Barang" beside "Kode Kelompok Barang"),
            # else one followed by more words ("Harga Satuan Tahun 2025")
            for exact in (True, False):
                position = next(
                    (
                        position
                        for position, name in enumerate(names)
                        if position not in found.values()
                        and any(
                            name == known or (not exact and name.startswith(known + " "))
                            for known in wanted[role]
                        )
                    ),
                    None,
                )
                if position is not None:
                    found[role] = position
                    break
        if len(found) == len(ROLES):
            return number, found
    expected = "; ".join(f"{role}: {' / '.join(names[:3])}" for role, names in wanted.items())
    raise PriceListError(
        [f"no header row with the columns {expected} in the first {_HEADER_ROWS} rows"]
    )


def _xlsx_rows(data: bytes) -> list[tuple[int, Sequence[Any]]]:
    try:
        import openpyxl  # here: only a workbook price list needs it

        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise PriceListError([f"not a readable XLSX workbook ({exc})"]) from exc
    rows = list(enumerate(book.worksheets[0].iter_rows(values_only=True), start=1))
    book.close()
    return rows


def csv_rows(data: bytes) -> list[tuple[int, Sequence[Any]]]:
    """Numbered rows (from 1) of CSV text in UTF-8 (a BOM allowed) or, failing that, Windows
    code page 1252, split at the separator (`,`, `;` or tab) the first lines use."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    try:
        separator = csv.Sniffer().sniff(text[:8192], delimiters=",;\t").delimiter
    except csv.Error:
        separator = ","
    return list(enumerate(csv.reader(io.StringIO(text), delimiter=separator), start=1))


def read_price_list(
    data: bytes,
    filename: str,
    *,
    columns: Mapping[str, str] | None = None,
    decimal: str = ",",
) -> PriceList:
    """Read a price list; `columns` maps roles (code, description, unit, price) to header
    names when they differ from the usual ones; `decimal` is the decimal mark of prices
    written as text ("," Indonesian, "." English)."""
    if columns and set(columns) != set(ROLES):
        raise PriceListError([f"--columns must name {', '.join(ROLES)}, got {', '.join(columns)}"])
    if decimal not in _GROUPED:
        raise PriceListError([f"decimal mark must be ',' or '.', got {decimal!r}"])
    is_xlsx = data[:2] == b"PK" or filename.lower().endswith((".xlsx", ".xlsm"))
    rows = _xlsx_rows(data) if is_xlsx else csv_rows(data)
    header, where = _find_header(rows, columns)
    prices = PriceList(source=filename, header_row=header)
    for number, cells in rows:
        if number <= header:
            continue
        values = {
            role: cells[position] if position < len(cells) else None
            for role, position in where.items()
        }
        code, price = _text(values["code"]), values["price"]
        if not code and _text(price) == "":
            continue  # a blank, section or note row: not a price
        problem = _row_problem(code, values, prices)
        if problem is None:
            try:
                amount = parse_money(price, decimal)
            except ValueError as exc:
                problem = str(exc)
        if problem is not None:
            prices.unreadable[number] = problem
            if code:
                prices.unreadable_codes.setdefault(code, number)
            continue
        prices.rows[code] = ListRow(
            number,
            code,
            _text(values["description"]),
            canonical_unit(_text(values["unit"])),
            amount,
        )
    return prices


def _row_problem(code: str, values: Mapping[str, Any], prices: PriceList) -> str | None:
    if not code:
        return "no code"
    if code in prices.rows:
        return f"code {code} is already on row {prices.rows[code].row}"
    if not _text(values["unit"]):
        return "no unit"
    if not _text(values["description"]):
        return "no description"
    if _text(values["price"]) == "":
        return "no price"
    return None


def read_crosswalk(data: bytes) -> list[tuple[int, str, str]]:
    """Crosswalk rows (row number, item or basic price code, list code) of a CSV with the
    header `item_code,list_code`."""
    text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    header = [_name(cell).replace(" ", "_") for cell in next(reader, [])]
    if header[:2] != ["item_code", "list_code"]:
        raise PriceListError(["the crosswalk's header must be item_code,list_code"])
    pairs = []
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) < 2 or not cells[0].strip() or not cells[1].strip():
            raise PriceListError([f"crosswalk row {number}: needs an item_code and a list_code"])
        pairs.append((number, cells[0].strip(), cells[1].strip()))
    return pairs


@dataclass(frozen=True)
class Imported:
    """A catalog version made from a price list, and what the list gave it."""

    catalog: RateCatalog
    items: list[str]
    basic_prices: list[str]
    added: list[str]
    unused_problems: list[str]


def import_price_list(
    base: RateCatalog, slug: str, prices: PriceList, crosswalk: Iterable[tuple[int, str, str]]
) -> Imported:
    """`base` with the prices of `prices`: crosswalked items get the row's price as a flat
    rate (their analysis, if any, gives way), crosswalked basic prices take the row's price,
    and every other readable row is added as a basic price under its list code.

    Raises `PriceListError` listing every crosswalk row whose list row is missing,
    unreadable or in another unit; nothing is made then.
    """
    body = base.model_dump(mode="json", exclude={"version"})
    body["slug"] = slug
    items, basics = body["items"], body.setdefault("basic_prices", {})
    analyses = body.setdefault("analyses", {})
    problems: list[str] = []
    named_items: list[str] = []
    named_prices: list[str] = []
    used: set[str] = set()
    for number, target, code in crosswalk:
        where = f"crosswalk row {number} ({target} <- {code})"
        row = prices.rows.get(code)
        if row is None:
            if code in prices.unreadable_codes:
                line = prices.unreadable_codes[code]
                problems.append(f"{where}: list row {line}: {prices.unreadable[line]}")
            else:
                problems.append(f"{where}: no row with code {code} in {prices.source}")
            continue
        used.add(code)
        cited = f"{prices.source}, row {row.row}: {row.description} [S]"
        if target in items:
            unit = items[target]["unit"]
            if row.unit != unit:
                problems.append(
                    f"{where}: list row {row.row} is per {row.unit}, {target} per {unit}"
                )
                continue
            items[target] = {**items[target], "rate": format(row.price, "f"), "source": cited}
            analyses.pop(target, None)
            named_items.append(target)
        elif target in basics:
            unit = basics[target]["unit"]
            if row.unit != unit:
                problems.append(
                    f"{where}: list row {row.row} is per {row.unit}, {target} per {unit}"
                )
                continue
            basics[target] = {**basics[target], "price": format(row.price, "f"), "source": cited}
            named_prices.append(target)
        else:
            problems.append(
                f"{where}: {target} is neither an item nor a basic price of {base.slug}"
            )
    if problems:
        raise PriceListError(problems)
    added = []
    for code, row in prices.rows.items():
        if code not in used and code not in basics:
            basics[code] = {
                "description": row.description,
                "unit": row.unit,
                "price": format(row.price, "f"),
                "source": f"{prices.source}, row {row.row} [S]",
            }
            added.append(code)
    for code in analyses:
        items[code].pop("rate", None)  # worked out again from the new basic prices
    try:
        catalog = RateCatalog.model_validate(body)
    except ValidationError as exc:
        raise PriceListError([f"the new version does not validate: {exc}"]) from exc
    unused = [f"row {row}: {why}" for row, why in sorted(prices.unreadable.items())]
    return Imported(catalog, named_items, named_prices, added, unused)


def parse_columns(text: str | None) -> dict[str, str] | None:
    """`"code=Kode Barang,description=Uraian,unit=Satuan,price=Harga 2025"` as a mapping."""
    if not text:
        return None
    columns: dict[str, str] = {}
    for part in text.split(","):
        role, sep, name = part.partition("=")
        if not sep or role.strip() not in ROLES or not name.strip():
            raise PriceListError(
                [f"--columns part {part!r} is not ROLE=Header with ROLE one of {', '.join(ROLES)}"]
            )
        columns[role.strip()] = name.strip()
    return columns


def save_price_list(
    repository: Repository,
    data: bytes,
    filename: str,
    crosswalk: bytes,
    *,
    slug: str,
    base: str | None = None,
    columns: str | None = None,
    decimal: str = ",",
) -> tuple[Imported, int]:
    """Import a price list into a new version of catalog `slug`, made from `base` (default:
    the newest version of `slug`); the version number it was saved as. Nothing is saved when
    the import fails."""
    if not SLUG.match(slug):
        raise InvalidInput(
            f"{slug!r} is not a catalog id (lowercase words joined by -)", field="slug"
        )
    prices = read_price_list(data, filename, columns=parse_columns(columns), decimal=decimal)
    pairs = read_crosswalk(crosswalk)
    try:
        start = resolve_catalog(repository, base or slug)
    except UnknownCatalog as exc:
        if base is not None:
            raise
        raise UnknownCatalog(
            f"{exc.detail}; a new catalog starts from another one: name it with base",
            field="base",
        ) from exc
    imported = import_price_list(start, slug, prices, pairs)
    body = imported.catalog.model_dump(mode="json", exclude={"version"})
    saved = repository.catalogs.add(slug, body, note=f"imported from {filename}")
    return imported, saved.version
