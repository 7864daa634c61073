"""Column types that read and write the same Python values on PostGIS and on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import shapely
from geoalchemy2 import Geometry
from geoalchemy2.shape import from_shape, to_shape
from sqlalchemy import JSON, DateTime, LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

SRID = 4326

JSONDocument = JSON()
"""Plain `json` on PostgreSQL, not `jsonb`: jsonb reorders keys, and the order of a layer's
properties is the column order QGIS and GDAL show."""


def _is_postgres(dialect: Dialect | None) -> bool:
    return dialect is not None and dialect.name == "postgresql"


class GeometryColumn(TypeDecorator[shapely.Geometry]):
    """A shapely geometry in SRID 4326.

    On PostGIS it is a real `geometry(GEOMETRY, 4326)` column (GIST-indexed by the
    migrations); on the embedded SQLite store it is plain WKB beside bbox columns, because
    SpatiaLite cannot be relied on there. Repository code sees shapely objects either way.
    """

    impl = LargeBinary
    cache_ok = True
    spatial_index = False  # the migrations create the GIST indexes themselves

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Pick the storage type of this dialect."""
        if _is_postgres(dialect):
            return Geometry("GEOMETRY", srid=SRID, spatial_index=False)
        return LargeBinary()

    def process_bind_param(self, value: shapely.Geometry | None, dialect: Dialect) -> Any:
        """Shapely in, WKB (SQLite) or a GeoAlchemy2 element (PostGIS) out."""
        if value is None:
            return None
        if _is_postgres(dialect):
            return from_shape(value, srid=SRID)  # type: ignore[arg-type]
        return shapely.to_wkb(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> shapely.Geometry | None:
        """Stored value in, shapely out."""
        if value is None:
            return None
        if _is_postgres(dialect):
            return to_shape(value)
        return shapely.from_wkb(value)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both backends (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC where the backend returned a naive value."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value
