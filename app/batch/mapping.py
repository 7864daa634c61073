"""Attribute rules for real GIS exports: a column's values to templates, widths from attributes.

A template map names one column and maps its values to template ids (OpenStreetMap
`highway=residential` -> a neighbourhood template). It is a small JSON or YAML file
(`{"column": "highway", "templates": {...}, "default": null, "width_from": "lanes * 3.5"}`)
or a two-column CSV whose header names the column (`highway,template`). Width rules are
arithmetic on numeric columns (`lanes * 3.5`), parsed with `ast` and evaluated on whole
columns: only column names, numbers, `+ - * /` and parentheses are accepted, nothing is
ever `eval`ed.
"""

from __future__ import annotations

import ast
import csv
import json
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from app.errors import InvalidInput
from app.resources import data_dir

FloatArray = npt.NDArray[np.float64]

_OPERATORS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


@dataclass(frozen=True)
class WidthRule:
    """`width_m` computed from numeric columns, e.g. `lanes * 3.5`."""

    text: str
    tree: ast.expr

    @classmethod
    def parse(cls, text: str) -> WidthRule:
        """Check the rule once; an error names what is not allowed."""
        try:
            tree = ast.parse(text.strip(), mode="eval").body
        except SyntaxError as exc:
            raise InvalidInput(
                f"width rule {text!r} is not arithmetic: {exc.msg}", field="width_from"
            ) from exc
        for node in ast.walk(tree):
            allowed = (ast.BinOp, ast.UnaryOp, ast.Name, ast.Constant, ast.Load, ast.USub, ast.UAdd)
            if isinstance(node, ast.operator) and type(node) in _OPERATORS:
                continue
            if not isinstance(node, allowed) or (
                isinstance(node, ast.Constant) and not isinstance(node.value, int | float)
            ):
                raise InvalidInput(
                    f"width rule {text!r}: only column names, numbers, + - * / and "
                    f"parentheses are allowed, not {ast.unparse(node) or type(node).__name__}",
                    field="width_from",
                )
        return cls(text.strip(), tree)

    @property
    def columns(self) -> list[str]:
        """The columns the rule reads, in order of appearance."""
        names = [node.id for node in ast.walk(self.tree) if isinstance(node, ast.Name)]
        return list(dict.fromkeys(names))

    def evaluate(self, columns: Mapping[str, FloatArray]) -> FloatArray:
        """The widths (NaN where a column is empty); numpy does the arithmetic on columns."""

        def value(node: ast.expr) -> Any:
            if isinstance(node, ast.Constant):
                assert isinstance(node.value, int | float)
                return float(node.value)
            if isinstance(node, ast.Name):
                return columns[node.id]
            if isinstance(node, ast.UnaryOp):
                return (
                    -value(node.operand) if isinstance(node.op, ast.USub) else value(node.operand)
                )
            assert isinstance(node, ast.BinOp)
            return _OPERATORS[type(node.op)](value(node.left), value(node.right))

        with np.errstate(divide="ignore", invalid="ignore"):
            count = len(next(iter(columns.values()))) if columns else 0
            return np.broadcast_to(np.asarray(value(self.tree), dtype=np.float64), (count,)).copy()


@dataclass(frozen=True)
class TemplateMap:
    """Values of `column` to template ids; `default` for values not listed (None: an error)."""

    column: str
    templates: dict[str, str]
    default: str | None = None
    width_from: WidthRule | None = None
    source: str = ""

    def lookup(self, values: npt.NDArray[np.object_]) -> tuple[list[str | None], list[str | None]]:
        """Each row's template (None where the value maps to nothing) and the reason why not."""
        templates: list[str | None] = []
        problems: list[str | None] = []
        for value in values.tolist():
            key = None if value is None else str(value).strip()
            template = self.templates.get(key, self.default) if key else self.default
            templates.append(template)
            problems.append(
                None
                if template is not None
                else f"no template for {self.column} {key!r} in {self.source} (add it, or a "
                "'default')"
            )
        return templates, problems


def _mapping_document(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8-sig")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = list(csv.reader(text.splitlines()))
        if not rows or len(rows[0]) < 2:
            raise InvalidInput(
                f"{path.name}: expected a header 'column,template'", field="template_map"
            )
        return {
            "column": rows[0][0].strip(),
            "templates": {row[0].strip(): row[1].strip() for row in rows[1:] if len(row) >= 2},
        }
    try:
        document = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InvalidInput(f"{path.name} cannot be read: {exc}", field="template_map") from exc
    if not isinstance(document, dict):
        raise InvalidInput(
            f"{path.name} must be a mapping with 'column' and 'templates'", field="template_map"
        )
    return document


def load_template_map(reference: str | Path) -> TemplateMap:
    """A map from a file, or a shipped one by name (`osm-highway`, in `data/mappings/`)."""
    path = Path(reference)
    if not path.is_file():
        shipped = sorted((data_dir() / "mappings").glob(f"{path.name}.*"))
        if not shipped:
            raise InvalidInput(f"no such template map: {reference}", field="template_map")
        path = shipped[0]
    document = _mapping_document(path)
    column, templates = document.get("column"), document.get("templates")
    if not isinstance(column, str) or not isinstance(templates, dict):
        raise InvalidInput(
            f"{path.name} needs 'column' (text) and 'templates' (a mapping)", field="template_map"
        )
    default = document.get("default")
    width_from = document.get("width_from")
    return TemplateMap(
        column=column,
        templates={str(key): str(value) for key, value in templates.items()},
        default=None if default is None else str(default),
        width_from=WidthRule.parse(width_from) if width_from else None,
        source=path.name,
    )
