"""The reconciliation of a saved estimate as a workbook: Materials, Layers and Warnings.

Materials lists per material the planned (order) quantity, what the tickets delivered, the
difference and its percentage as Excel formulas over the cells shown (`=D5-C5`,
`=IF(C5=0,0,E5/C5*100)`, the computed value cached for readers that do not calculate), the
status and, for tonnes, the yield. Layers lists per layer the design and mean core thickness,
the tolerance, samples, cores below tolerance and the status. Text goes through the formula
guard like every other workbook (`app.io.xlsx.put_cell`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from app.io.xlsx import cell_name, number_format, put_cell

MATERIALS_HEADER = (
    "Material",
    "Unit",
    "Planned (order quantity)",
    "Delivered",
    "Difference",
    "Difference %",
    "Status",
    "Yield %",
)
LAYERS_HEADER = (
    "Layer",
    "Design thickness mm",
    "Tolerance mm",
    "Mean thickness mm",
    "Samples",
    "Below tolerance",
    "Status",
)
_FIRST = 4
"""The first data row of each sheet (0-based): title, note, blank, header come first."""


def _header(sheet: Any, row: int, names: Sequence[str], bold: Any) -> None:
    for column, name in enumerate(names):
        put_cell(sheet, row, column, name, bold)


def reconciliation_workbook(answer: Mapping[str, Any]) -> bytes:
    """The workbook of a `GET /estimates/{id}/reconciliation` answer."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    bold = book.add_format({"bold": True})
    figure = book.add_format({"num_format": number_format(3)})
    percent = book.add_format({"num_format": number_format(2)})
    estimate = answer["estimate"]

    materials = book.add_worksheet("Materials")
    materials.set_column("A:A", 14)
    materials.set_column("C:H", 16)
    put_cell(materials, 0, 0, f"Estimate {estimate}: delivered against planned", bold)
    put_cell(
        materials,
        1,
        0,
        f"{answer['tickets']} tickets; tolerance {answer['tolerance_pct']:g} % either way",
    )
    _header(materials, _FIRST - 1, MATERIALS_HEADER, bold)
    for row, line in enumerate(answer["materials"], start=_FIRST):
        planned, delivered = cell_name(row, 2), cell_name(row, 3)
        difference = cell_name(row, 4)
        put_cell(materials, row, 0, line["material"])
        put_cell(materials, row, 1, line["unit"])
        put_cell(materials, row, 2, line["planned"], figure)
        put_cell(materials, row, 3, line["delivered"], figure)
        materials.write_formula(
            row, 4, f"=ROUND({delivered}-{planned},3)", figure, line["difference"]
        )
        materials.write_formula(
            row,
            5,
            f"=IF({planned}=0,0,ROUND({difference}/{planned}*100,2))",
            percent,
            line["difference_pct"],
        )
        put_cell(materials, row, 6, line["status"])
        put_cell(materials, row, 7, line.get("yield_pct"), percent)

    layers = book.add_worksheet("Layers")
    layers.set_column("A:G", 18)
    put_cell(layers, 0, 0, f"Estimate {estimate}: cores against design thickness", bold)
    put_cell(layers, 1, 0, "Superseded tests are not counted")
    _header(layers, _FIRST - 1, LAYERS_HEADER, bold)
    for row, layer in enumerate(answer["layers"], start=_FIRST):
        values = (
            layer["code"],
            layer["design_thickness_mm"],
            layer["tolerance_mm"],
            layer["mean_thickness_mm"],
            layer["samples"],
            layer["below_tolerance"],
            layer["status"],
        )
        for column, value in enumerate(values):
            put_cell(layers, row, column, value)

    warnings = book.add_worksheet("Warnings")
    warnings.set_column("A:A", 100)
    put_cell(warnings, 0, 0, "Warnings", bold)
    for row, warning in enumerate(answer["warnings"], start=1):
        put_cell(warnings, row, 0, warning)
    book.close()
    return buffer.getvalue()
