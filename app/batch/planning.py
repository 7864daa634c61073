"""A chunk's plan, made where the chunk is worked on: each row's own options (template,
width, name, overrides), with template maps and width rules applied, and the problems found.

Only the templates must come from the store; the caller resolves the references a chunk may
use (`references`) and hands them over, so the rest runs in a worker process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from app.batch.mapping import TemplateMap, WidthRule
from app.errors import TakeoffError
from app.estimate.templates import Template
from app.io.csvin import parse_numbers
from app.pipeline import OVERRIDE_PROPERTIES, EstimateOptions, FeaturePlan, plan_columns

BoolArray = npt.NDArray[np.bool_]
_JSON_OVERRIDES = ("thickness", "density", "spray_rate", "material_loss", "rates")


class RowErrors:
    """Each row's first problem as `row N, column C: reason` (None: none so far)."""

    def __init__(self, count: int, first_row: int) -> None:
        self.messages: list[str | None] = [None] * count
        self.failed: BoolArray = np.zeros(count, dtype=bool)
        self.first_row = first_row

    def add(self, index: int, column: str | None, reason: str) -> None:
        """Keep the first problem of row `index` (0-based in the chunk)."""
        if self.messages[index] is None:
            place = f"row {self.first_row + index}" + (f", column {column}" if column else "")
            self.messages[index] = f"{place}: {reason}"
            self.failed[index] = True


def column_of(problem: TakeoffError) -> str | None:
    """The input column a domain error's `field` names (`thickness.AC-WC` -> `thickness`)."""
    return str(problem.where.get("field", "")).split(".")[0] or None


@dataclass(frozen=True)
class Templates:
    """The templates a chunk's rows name: the usable ones, and why each other one is not."""

    usable: dict[str, Template]
    unusable: dict[str, str]


def _column_values(table: pa.Table, name: str) -> npt.NDArray[np.object_]:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=object)


def _numbers(table: pa.Table, name: str, decimal: str) -> tuple[npt.NDArray[np.float64], BoolArray]:
    column = table.column(name)
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        values = column.to_numpy(zero_copy_only=False).astype(np.float64)
        return values, np.zeros(len(values), dtype=bool)
    return parse_numbers(column.cast(pa.string()), decimal)


@dataclass(frozen=True)
class RowPlanner:
    """What applies to every row unless the row says otherwise, and how rows say it."""

    options: EstimateOptions
    decimal: str
    template_map: TemplateMap | None = None
    width_from: WidthRule | None = None

    def references(self, table: pa.Table) -> set[str]:
        """Every template reference the rows of `table` may use (their own, the map's, the
        default), found without planning them."""
        found = {self.options.template}
        if self.template_map is not None:
            found |= set(self.template_map.templates.values())
            found |= {self.template_map.default} if self.template_map.default else set()
        if "template" in table.column_names:
            column = table.column("template")
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                found |= {value for value in pc.unique(column).to_pylist() if value}
        return found

    def plan(
        self,
        table: pa.Table,
        broken: dict[int, str],
        errors: RowErrors,
        templates: Templates,
    ) -> FeaturePlan:
        """Each row's plan; every problem found goes to `errors` with the row and column."""
        count = table.num_rows
        for index, reason in broken.items():
            errors.add(index, None, reason)
        has = set(table.column_names)

        template: list[Any] | None = None
        template_column = "template"
        if "template" in has:
            template = _column_values(table, "template").tolist()
        mapping = self.template_map
        if mapping is not None:
            mapped, reasons = mapping.lookup(_column_values(table, mapping.column))
            own = template or [None] * count
            template = []
            for index, value in enumerate(own):
                template.append(mapped[index] if value is None or value == "" else value)
                if value is None or value == "":
                    why = reasons[index]
                    if why is not None:
                        errors.add(index, mapping.column, why)
            template_column = f"template or {mapping.column}"

        widths: npt.NDArray[np.float64] | None = None
        width_columns = ["width_m"]
        if "width_m" in has:
            widths, bad = _numbers(table, "width_m", self.decimal)
            for index in np.flatnonzero(bad).tolist():
                errors.add(index, "width_m", f"{table.column('width_m')[index]} is not a number")
        rule = self.width_from
        if rule is not None:
            inputs: dict[str, npt.NDArray[np.float64]] = {}
            for name in rule.columns:
                inputs[name], bad = _numbers(table, name, self.decimal)
                for index in np.flatnonzero(bad).tolist():
                    errors.add(index, name, f"{table.column(name)[index]} is not a number")
            derived = rule.evaluate(inputs)
            widths = derived if widths is None else np.where(np.isnan(widths), derived, widths)
            width_columns = ["width_m", *rule.columns]

        overrides: dict[str, list[Any]] = {}
        for name in OVERRIDE_PROPERTIES:
            if name in has:
                overrides[name] = self._override_values(table, name, errors)

        planned = plan_columns(
            count,
            self.options,
            template=template,
            width_m=widths,
            name=_column_values(table, "name").tolist() if "name" in has else None,
            overrides=overrides or None,
        )
        for index, problem in enumerate(planned.problems):
            if problem is not None:
                column = column_of(problem)
                if column == "width_m":
                    column = " or ".join(width_columns)
                errors.add(index, column, problem.detail)
        references = np.asarray(planned.plan.templates, dtype=object)
        for reference in dict.fromkeys(planned.plan.templates):
            why = templates.unusable.get(reference)
            if why is None and reference not in templates.usable:
                why = f"template {reference!r} was not resolved"  # `references` missed it
            if why is not None:
                for index in np.flatnonzero(references == reference).tolist():
                    errors.add(index, template_column, why)
        return planned.plan

    def _override_values(self, table: pa.Table, name: str, errors: RowErrors) -> list[Any]:
        column = table.column(name)
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            return column.to_pylist()
        if name not in _JSON_OVERRIDES:
            numbers, bad = parse_numbers(column, self.decimal)
            for index in np.flatnonzero(bad).tolist():
                errors.add(index, name, f"{column[index]} is not a number")
            return [None if np.isnan(value) else value for value in numbers.tolist()]
        values: list[Any] = column.to_pylist()
        for index, text in enumerate(values):
            if text is not None:
                try:
                    values[index] = json.loads(text)
                except json.JSONDecodeError:
                    values[index] = None
                    errors.add(index, name, 'expected a JSON object such as {"AC-WC": 0.05}')
        return values
