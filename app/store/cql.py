"""CQL2 filters (OGC API Features Part 3) and sort orders of feature collections.

pygeofilter parses both encodings. The parsed expression is then checked against the
collection's queryables (an unknown property, a type mismatch or an unsupported operator is
an `InvalidQuery` naming it) and compiled into a builder of SQL. The SQL itself is written
by the store for its table and backend (`Columns`): properties read from the JSON column and
cast by their queryable type; spatial predicates with PostGIS functions or, on SQLite, the
bounding-box columns and then an exact Shapely test.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import shapely
import sqlalchemy as sa
from pygeofilter import ast, values
from shapely.geometry import shape

from app.errors import InvalidQuery
from app.geo.crs import CRS84, offered_crs_uri, to_lon_lat
from app.store.database import CONVERSE
from app.store.queryables import GEOMETRY, Queryables

if TYPE_CHECKING:
    import lark

CQL2_TEXT = "cql2-text"
CQL2_JSON = "cql2-json"
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_NUMERIC = frozenset({"integer", "number"})
MAX_DEPTH = 64
"""How deep a filter may nest (a run of ANDs or of ORs is one level)."""
MAX_CONDITIONS = 256
"""Conditions in one filter: SQLite refuses an expression deeper than 1000."""


class Columns(Protocol):
    """One table on one backend, as filters and sort orders read it."""

    def property(self, name: str, kind: str) -> sa.ColumnElement[Any]:
        """The value of property `name` as its queryable type `kind`."""

    def geometry(self) -> sa.ColumnElement[Any]:
        """The geometry column."""

    def spatial(self, relation: str, literal: shapely.Geometry) -> sa.ColumnElement[bool]:
        """Rows whose geometry stands in `relation` (`intersects`, `within`...) to `literal`."""


Builder = Callable[[Columns], sa.ColumnElement[Any]]


@dataclass(frozen=True)
class Operand:
    """A checked part of a filter: its type and how to write it in SQL.

    `kind` is a queryable type, `geometry`, or `condition` for a predicate; `shape` is the
    CRS84 geometry of a geometry literal; `name` the property an operand reads, if any.
    """

    kind: str
    build: Builder
    shape: shapely.Geometry | None = None
    name: str | None = None


@dataclass(frozen=True)
class SortKey:
    """One property of a sort order."""

    name: str
    kind: str
    descending: bool = False


@dataclass(frozen=True)
class FeatureQuery:
    """What a page of features selects (a compiled filter) and how it is ordered."""

    condition: Operand | None = None
    sortby: tuple[SortKey, ...] = field(default_factory=tuple)

    def where(self, columns: Columns) -> sa.ColumnElement[bool]:
        """The filter as SQL on `columns`' table."""
        return sa.true() if self.condition is None else self.condition.build(columns)

    def order_by(self, columns: Columns) -> list[sa.ColumnElement[Any]]:
        """The sort keys as SQL, nulls last either way."""
        keys: list[sa.ColumnElement[Any]] = []
        for key in self.sortby:
            value = columns.property(key.name, key.kind)
            keys.append((value.desc() if key.descending else value.asc()).nulls_last())
        return keys


def _parse_problem(text: str, error: lark.exceptions.LarkError) -> InvalidQuery:
    """Where the text parser stopped, and on what."""
    import lark  # loaded with the parser that raised `error`

    if isinstance(error, lark.exceptions.UnexpectedInput):
        column = getattr(error, "column", None)
        token = getattr(error, "token", None)
        char = getattr(error, "char", None)
        if (token is not None and token.type == "$END") or column in (None, -1):
            what = "the filter ends too early"
            column = len(text) + 1
        elif token is not None:
            what = f"unexpected {str(token)!r}"
        else:
            what = f"unexpected character {char!r}"
        return InvalidQuery(
            f"cannot read the filter at column {column}: {what}", field="filter", position=column
        )
    cause = getattr(error, "orig_exc", error)
    return InvalidQuery(f"cannot read the filter: {cause}", field="filter")


def _standard_json(node: Any) -> Any:
    """CQL2 JSON as pygeofilter 0.4 reads it: its `between` wants the bounds as one array;
    it reads `{"bbox": [...]}` with the axes swapped, so a bbox literal is handed over as the
    `BBOX(...)` function the text parser makes of the same literal; and it takes the pattern
    of `like` as it stands, so a `casei(...)` pattern is read first."""
    from pygeofilter.parsers.cql2_json import parse as parse_cql2_json

    if isinstance(node, list):
        return [_standard_json(item) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"bbox"} and isinstance(node["bbox"], list):
        return ast.Function("bbox", list(node["bbox"]))
    converted = {key: _standard_json(value) for key, value in node.items()}
    args = converted.get("args")
    if not isinstance(args, list):
        return converted
    if converted.get("op") == "between" and len(args) == 3:
        converted["args"] = [args[0], args[1:]]
    if converted.get("op") == "like" and len(args) == 2 and isinstance(args[1], dict):
        converted["args"] = [args[0], parse_cql2_json(args[1])]
    return converted


def parse_filter(text: str, lang: str) -> Any:
    """The pygeofilter expression of `filter` in `filter-lang` (`cql-text`, the draft's name
    GDAL up to 3.7 sends, is read as cql2-text); `InvalidQuery` says where it cannot be read."""
    # imported here: the text parser builds its grammar on import, a second that commands
    # which never read a filter need not wait
    import lark
    from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
    from pygeofilter.parsers.cql2_text import parse as parse_cql2_text

    try:
        if lang == CQL2_JSON:
            try:
                document = json.loads(text)
            except json.JSONDecodeError as error:
                raise InvalidQuery(
                    f"the filter is not JSON: {error.msg} at character {error.pos + 1}",
                    field="filter",
                    position=error.pos + 1,
                ) from None
            try:
                return parse_cql2_json(_standard_json(document))
            except (ValueError, KeyError, TypeError, IndexError, AttributeError) as error:
                raise InvalidQuery(
                    f"the filter is not CQL2 JSON: {type(error).__name__} {error}", field="filter"
                ) from None
        try:
            parsed = parse_cql2_text(text)
        except lark.exceptions.LarkError as error:
            raise _parse_problem(text, error) from None
        if _mixes_and_with_or(text):
            raise InvalidQuery(
                "the filter mixes AND with OR without parentheses, which is read left to "
                "right here: write (a AND b) OR c, or a AND (b OR c)",
                field="filter",
            )
        return parsed
    except RecursionError:
        raise InvalidQuery("the filter is nested too deeply", field="filter") from None


def _mixes_and_with_or(text: str) -> bool:
    """Whether AND and OR meet in one pair of parentheses (the AND of a BETWEEN aside).

    pygeofilter 0.4 gives them equal weight, left to right, where CQL2 has AND bind first:
    such a filter is refused rather than answered differently from other servers.
    """
    import lark
    from pygeofilter.parsers.cql2_text.parser import parser

    seen: list[set[str]] = [set()]
    betweens: list[int] = [0]
    try:
        for token in parser.lex(text):
            if token.type == "LPAR":
                seen.append(set())
                betweens.append(0)
            elif token.type == "RPAR" and len(seen) > 1:
                seen.pop()
                betweens.pop()
            elif token.type == "BETWEEN":
                betweens[-1] += 1
            elif token.type == "AND" and betweens[-1]:
                betweens[-1] -= 1
            elif token.type in ("AND", "OR"):
                seen[-1].add(token.type)
                if len(seen[-1]) == 2:
                    return True
    except lark.exceptions.LarkError:
        return False  # what the parser read, its lexer alone cannot: nothing to check
    return False


def _label(operand: Operand) -> str:
    return f"property {operand.name!r}" if operand.name else "the value"


class FilterCompiler:
    """Checks a parsed filter against a collection's queryables and compiles it to SQL.

    Geometry literals are read in `crs` (an OGC CRS URI, in its own axis order) and brought
    to CRS84, the stores' coordinates.
    """

    def __init__(self, queryables: Queryables, crs: str = CRS84) -> None:
        self.queryables = queryables
        self.crs = crs
        self._depth = 0
        self._conditions = 0

    def condition(self, node: Any) -> Operand:
        """The whole filter, which must be a predicate."""
        try:
            compiled = self._compile(node)
        except RecursionError:
            raise InvalidQuery("the filter is nested too deeply", field="filter") from None
        if compiled.kind != "condition":
            raise InvalidQuery("the filter is a value, not a condition", field="filter")
        return compiled

    def _compile(self, node: Any) -> Operand:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise InvalidQuery(
                    f"the filter nests more than {MAX_DEPTH} levels deep", field="filter"
                )
            return self._node(node)
        finally:
            self._depth -= 1

    def _node(self, node: Any) -> Operand:
        if isinstance(node, ast.Predicate | ast.Not):
            self._conditions += 1
            if self._conditions > MAX_CONDITIONS:
                raise InvalidQuery(
                    f"the filter has more than {MAX_CONDITIONS} conditions", field="filter"
                )
        if isinstance(node, ast.And | ast.Or):
            parts = [self._predicate(part) for part in _chain(node)]
            join = sa.and_ if isinstance(node, ast.And) else sa.or_
            return Operand("condition", lambda c: join(*(part.build(c) for part in parts)))
        if isinstance(node, ast.Not):
            inner = self._predicate(node.sub_node)
            return Operand("condition", lambda c: sa.not_(inner.build(c)))
        if isinstance(node, ast.Comparison):
            return self._comparison(node)
        if isinstance(node, ast.Between):
            return self._between(node)
        if isinstance(node, ast.Like):
            return self._like(node)
        if isinstance(node, ast.In):
            return self._in(node)
        if isinstance(node, ast.IsNull):
            return self._is_null(node)
        if isinstance(node, ast.Include):
            constant = sa.false() if node.not_ else sa.true()
            return Operand("condition", lambda _c: constant)
        if isinstance(node, ast.SpatialComparisonPredicate):
            return self._spatial(node)
        if isinstance(node, ast.Attribute):
            return self._attribute(node.name)
        if isinstance(node, ast.Function):
            return self._function(node)
        if isinstance(node, values.Geometry | values.Envelope):
            return self._geometry_literal(node)
        if isinstance(node, bool | int | float | str):
            return self._literal(node)
        raise InvalidQuery(f"{_unsupported(node)} is not supported here", field="filter")

    def _predicate(self, node: Any) -> Operand:
        compiled = self._compile(node)
        if compiled.kind != "condition":
            raise InvalidQuery(
                f"{_label(compiled)} stands where a condition must be", field="filter"
            )
        return compiled

    def _attribute(self, name: str) -> Operand:
        if name == GEOMETRY:
            return Operand("geometry", lambda c: c.geometry(), name=name)
        kind = self.queryables.properties.get(name)
        if kind is None:
            known = ", ".join([*self.queryables.properties, GEOMETRY])
            raise InvalidQuery(
                f"the collection has no queryable property {name!r} (it has: {known})",
                field="filter",
                property=name,
            )
        return Operand(kind, lambda c: c.property(name, kind), name=name)

    def _literal(self, value: bool | float | str) -> Operand:
        if isinstance(value, bool):
            return Operand("boolean", lambda _c: sa.literal(value))
        if isinstance(value, str):
            return Operand("string", lambda _c: sa.literal(value, sa.String))
        number = float(value)
        if not math.isfinite(number):
            raise InvalidQuery(f"{value!r} is not a finite number", field="filter")
        return Operand("number", lambda _c: sa.literal(number, sa.Float))

    def _scalar(self, node: Any) -> Operand:
        compiled = self._compile(node)
        if compiled.kind in ("condition", "geometry"):
            what = "a condition" if compiled.kind == "condition" else "a geometry"
            raise InvalidQuery(f"{what} stands where a value must be", field="filter")
        return compiled

    def _same_type(self, first: Operand, *others: Operand) -> None:
        for other in others:
            if first.kind == other.kind or {first.kind, other.kind} <= _NUMERIC:
                continue
            named = first if first.name else other
            raise InvalidQuery(
                f"{_label(first)} is {first.kind} and {_label(other)} is {other.kind}: "
                "they cannot be compared",
                field="filter",
                property=named.name,
            )

    def _comparison(self, node: ast.Comparison) -> Operand:
        left, right = self._scalar(node.lhs), self._scalar(node.rhs)
        self._same_type(left, right)
        compare = _COMPARE[node.op.value]
        return Operand("condition", lambda c: compare(left.build(c), right.build(c)))

    def _between(self, node: ast.Between) -> Operand:
        value, low, high = self._scalar(node.lhs), self._scalar(node.low), self._scalar(node.high)
        self._same_type(value, low, high)

        def build(c: Columns) -> sa.ColumnElement[Any]:
            between = value.build(c).between(low.build(c), high.build(c))
            return sa.not_(between) if node.not_ else between

        return Operand("condition", build)

    def _like(self, node: ast.Like) -> Operand:
        value, pattern = self._scalar(node.lhs), self._scalar(node.pattern)
        for operand in (value, pattern):
            if operand.kind != "string":
                raise InvalidQuery(
                    f"LIKE compares strings, and {_label(operand)} is {operand.kind}",
                    field="filter",
                    property=operand.name,
                )

        def build(c: Columns) -> sa.ColumnElement[Any]:
            text, like = value.build(c), pattern.build(c)
            if node.nocase:
                text, like = sa.func.lower(text), sa.func.lower(like)
            matches = text.like(like, escape="\\")
            return sa.not_(matches) if node.not_ else matches

        return Operand("condition", build)

    def _in(self, node: ast.In) -> Operand:
        value = self._scalar(node.lhs)
        options = [self._scalar(option) for option in node.sub_nodes]
        self._same_type(value, *options)

        def build(c: Columns) -> sa.ColumnElement[Any]:
            found = value.build(c).in_([option.build(c) for option in options])
            return sa.not_(found) if node.not_ else found

        return Operand("condition", build)

    def _is_null(self, node: ast.IsNull) -> Operand:
        value = self._compile(node.lhs)
        if value.name is None:
            raise InvalidQuery("IS NULL applies to a property", field="filter")

        def build(c: Columns) -> sa.ColumnElement[Any]:
            column = value.build(c)
            return column.is_not(None) if node.not_ else column.is_(None)

        return Operand("condition", build)

    def _function(self, node: ast.Function) -> Operand:
        if node.name == "lower" and len(node.arguments) == 1:  # CASEI
            inner = self._scalar(node.arguments[0])
            if inner.kind != "string":
                raise InvalidQuery(
                    f"CASEI applies to strings, and {_label(inner)} is {inner.kind}",
                    field="filter",
                    property=inner.name,
                )
            return Operand("string", lambda c: sa.func.lower(inner.build(c)), name=inner.name)
        if node.name == "bbox" and len(node.arguments) in (4, 6):
            numbers = [self._literal(value) for value in node.arguments]
            if any(number.kind != "number" for number in numbers):
                raise InvalidQuery("BBOX takes 4 or 6 numbers", field="filter")
            corners = [float(value) for value in node.arguments]
            if len(corners) == 6:
                corners = [corners[0], corners[1], corners[3], corners[4]]
            minx, miny, maxx, maxy = corners
            return self._geometry(shapely.box(minx, miny, maxx, maxy))
        raise InvalidQuery(
            f"function {node.name.upper()} with {len(node.arguments)} argument(s) is not "
            "supported here",
            field="filter",
        )

    def _geometry_literal(self, node: values.Geometry | values.Envelope) -> Operand:
        try:
            if isinstance(node, values.Envelope):
                literal = shapely.box(node.x1, node.y1, node.x2, node.y2)
            else:
                literal = shape(node.__geo_interface__)
        except (
            ValueError,
            TypeError,
            IndexError,
            KeyError,
            AttributeError,
            shapely.errors.GEOSException,
        ) as error:
            raise InvalidQuery(
                f"a geometry of the filter cannot be read: {error}", field="filter"
            ) from None
        return self._geometry(literal)

    def _geometry(self, literal: shapely.Geometry) -> Operand:
        lonlat = to_lon_lat(np.array([literal], dtype=object), self.crs)[0]
        coordinates = shapely.get_coordinates(lonlat)
        if shapely.is_empty(literal) or not all(math.isfinite(value) for value in coordinates.flat):
            raise InvalidQuery(
                "a geometry of the filter is empty or lies outside its filter-crs",
                field="filter",
            )
        if not shapely.is_valid(lonlat):
            reason = shapely.is_valid_reason(lonlat)
            raise InvalidQuery(f"a geometry of the filter is not valid: {reason}", field="filter")
        return Operand("geometry", lambda _c: sa.null(), shape=lonlat)

    def _spatial(self, node: ast.SpatialComparisonPredicate) -> Operand:
        relation = node.op.name.lower()
        left, right = self._compile(node.lhs), self._compile(node.rhs)
        for operand in (left, right):
            if operand.kind != "geometry":
                raise InvalidQuery(
                    f"S_{relation.upper()} compares geometries, and {_label(operand)} is "
                    f"{operand.kind}",
                    field="filter",
                    property=operand.name,
                )
        if left.shape is not None and right.shape is not None:
            holds = bool(getattr(shapely, relation)(left.shape, right.shape))
            return Operand("condition", lambda _c: sa.true() if holds else sa.false())
        if left.shape is not None:
            left, right = right, left
            relation = CONVERSE.get(relation, relation)
        literal = right.shape
        if literal is None:
            raise InvalidQuery(
                f"S_{relation.upper()} needs a geometry literal on one side", field="filter"
            )
        return Operand("condition", lambda c: c.spatial(relation, literal))


def _chain(node: ast.And | ast.Or) -> list[Any]:
    """The operands of a run of one connective (`a AND b AND c` parses as nested pairs),
    so a long list of conditions is one level, not one level per condition."""
    parts: list[Any] = []
    pending = [node]
    while pending:
        current = pending.pop()
        if type(current) is type(node):
            pending += [current.rhs, current.lhs]
        else:
            parts.append(current)
    return parts


def _unsupported(node: Any) -> str:
    if isinstance(node, ast.TemporalPredicate):
        return "a temporal operator"
    if isinstance(node, ast.ArrayPredicate):
        return "an array operator"
    if isinstance(node, ast.Arithmetic):
        return "arithmetic"
    if isinstance(node, ast.Node):
        return f"the {type(node).__name__} operator"
    return f"the value {node!r}"


def sort_keys(text: str, queryables: Queryables) -> tuple[SortKey, ...]:
    """`sortby`: comma-separated properties, each optionally `+` (ascending, the default;
    arriving as a space when the `+` was not escaped) or `-` (descending)."""
    keys = []
    for part in text.split(","):
        name = part.strip()
        descending = name.startswith("-")
        name = name.removeprefix("-").removeprefix("+").strip()
        kind = queryables.properties.get(name)
        if kind is None:
            raise InvalidQuery(
                f"cannot sort by {name!r}: sort by one of {', '.join(queryables.properties)}",
                field="sortby",
                property=name,
            )
        keys.append(SortKey(name, kind, descending))
    return tuple(keys)


def property_equals(
    parameters: Mapping[str, Sequence[str]], queryables: Queryables, reserved: frozenset[str]
) -> list[Any]:
    """Part 1 property filters (`?highway=residential`): a condition for each query parameter
    that names a queryable property, equal to one of the values given for it."""
    conditions: list[Any] = []
    for name, given in parameters.items():
        kind = queryables.properties.get(name)
        if kind is None or name in reserved:
            continue
        typed = [_typed(value, kind, name) for value in given]
        attribute = ast.Attribute(name)
        conditions.append(
            ast.Equal(attribute, typed[0]) if len(typed) == 1 else ast.In(attribute, typed, False)
        )
    return conditions


def _typed(value: str, kind: str, name: str) -> bool | float | str:
    if kind == "string":
        return value
    if kind == "boolean":
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise InvalidQuery(f"{name} is true or false, not {value!r}", field=name)
    try:
        number = float(value)
    except ValueError:
        raise InvalidQuery(f"{name} is a number, not {value!r}", field=name) from None
    if not math.isfinite(number):
        raise InvalidQuery(f"{name} is a finite number, not {value!r}", field=name)
    if kind == "integer" and not number.is_integer():
        raise InvalidQuery(f"{name} is a whole number, not {value!r}", field=name)
    return number


def compile_query(
    queryables: Queryables,
    filter_text: str | None = None,
    lang: str = CQL2_TEXT,
    crs: str | None = None,
    conditions: Sequence[Any] = (),
    sortby: str | None = None,
) -> FeatureQuery:
    """The query of an items request: its `filter` and property filters (all must hold),
    read and checked against `queryables`, and its sort order."""
    if crs is not None:
        offered_crs_uri(crs, "filter-crs")
    parsed = list(conditions)
    if filter_text is not None:
        parsed.append(parse_filter(filter_text, lang))
    condition = None
    if parsed:
        combined = parsed[0] if len(parsed) == 1 else ast.And.from_items(*parsed)
        condition = FilterCompiler(queryables, crs or CRS84).condition(combined)
    keys = sort_keys(sortby, queryables) if sortby else ()
    return FeatureQuery(condition=condition, sortby=keys)
