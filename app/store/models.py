"""Table models. API models live in the routes; these describe storage only."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

import shapely
from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from app.store.types import GeometryColumn, JSONDocument, UTCDateTime


class Base(DeclarativeBase):
    """Declarative base; the schema itself is made by the Alembic migrations."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSONDocument}


class VersionedDocument:
    """A JSON document that is never edited in place: each change is a new version."""

    __tablename__: str

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        return (UniqueConstraint("slug", "version", name=f"uq_{cls.__tablename__}_slug_version"),)


class TemplateVersion(VersionedDocument, Base):
    """One version of a cross-section template."""

    __tablename__ = "template_versions"


class CatalogVersion(VersionedDocument, Base):
    """One version of a rate catalog."""

    __tablename__ = "catalog_versions"


class RuleSetVersion(VersionedDocument, Base):
    """One version of a treatment rule set (maintenance programmes)."""

    __tablename__ = "rule_set_versions"


class Footprint:
    """A geometry with its bounding box, so bbox filters work without spatial SQL."""

    geom: Mapped[shapely.Geometry] = mapped_column(GeometryColumn())
    minx: Mapped[float]
    miny: Mapped[float]
    maxx: Mapped[float]
    maxy: Mapped[float]


OWNER_LENGTH = 64
"""An owner is the hex SHA-256 digest of the API key a row was made with, never the key."""


class Estimate(Footprint, Base):
    """A saved estimate: what was asked, what was answered, and the data versions used.

    A later version of an estimate is a new row that `supersedes` it (at most one does).
    """

    __tablename__ = "estimates"
    __table_args__ = (
        Index("ix_estimates_owner_id", "owner", "id"),
        Index("ux_estimates_supersedes", "supersedes", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    request: Mapped[dict[str, Any]]
    result: Mapped[dict[str, Any]]
    properties: Mapped[dict[str, Any]]
    template_slug: Mapped[str] = mapped_column(String(100))
    template_version: Mapped[int]
    catalog_slug: Mapped[str] = mapped_column(String(100))
    catalog_version: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Numeric(24, 4))
    owner: Mapped[str | None] = mapped_column(String(OWNER_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)
    supersedes: Mapped[int | None]


class Layer(Base):
    """A road layer published as an OGC API Features collection."""

    __tablename__ = "layers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    attribution: Mapped[str | None] = mapped_column(Text)
    license: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    queryables: Mapped[dict[str, Any] | None]
    """Each property's JSON type and the geometry type, seen as the layer was loaded."""


class LayerFeature(Footprint, Base):
    """One feature of a road layer, with its original id and properties."""

    __tablename__ = "layer_features"
    __table_args__ = (Index("ix_layer_features_layer_id_id", "layer_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("layers.id", ondelete="CASCADE"))
    feature_id: Mapped[str | None] = mapped_column(Text)
    properties: Mapped[dict[str, Any]]


class Job(Base):
    """An asynchronous job: status and progress in the store, so every web worker can answer."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_created_at", "created_at"),
        Index("ix_jobs_owner_created_at", "owner", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    message: Mapped[str | None] = mapped_column(Text)
    rows_total: Mapped[int | None]
    rows_done: Mapped[int]
    request: Mapped[dict[str, Any]]
    summary: Mapped[dict[str, Any] | None]
    result_file: Mapped[str | None] = mapped_column(Text)
    result_media_type: Mapped[str | None] = mapped_column(String(100))
    owner: Mapped[str | None] = mapped_column(String(OWNER_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JobResultChunk(Base):
    """One piece of a job's result file, when results are kept in the store: rows of a
    bounded size, so a result is written and served piece by piece, never loaded whole."""

    __tablename__ = "job_result_chunks"

    job_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class MaterialSource(Footprint, Base):
    """A plant, quarry or base camp (a point) and, in `properties`, the materials it supplies."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40))
    properties: Mapped[dict[str, Any]]
    owner: Mapped[str | None] = mapped_column(String(OWNER_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Delivery(Base):
    """A delivery ticket of a saved estimate; a correction is a new row that `supersedes` one."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_estimate_id_id", "estimate_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    estimate_id: Mapped[int] = mapped_column(ForeignKey("estimates.id", ondelete="CASCADE"))
    ticket: Mapped[str] = mapped_column(Text)
    delivered_on: Mapped[date]
    material: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[float]
    unit: Mapped[str] = mapped_column(String(10))
    feature: Mapped[int | None]
    supersedes: Mapped[int | None]
    owner: Mapped[str | None] = mapped_column(String(OWNER_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FieldTestRecord(Base):
    """A core or sand-cone test of a saved estimate, placed by feature index or lon/lat."""

    __tablename__ = "field_tests"
    __table_args__ = (Index("ix_field_tests_estimate_id_id", "estimate_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    estimate_id: Mapped[int] = mapped_column(ForeignKey("estimates.id", ondelete="CASCADE"))
    sample: Mapped[str] = mapped_column(Text)
    tested_on: Mapped[date]
    kind: Mapped[str] = mapped_column(String(20))
    layer: Mapped[str] = mapped_column(String(40))
    thickness_mm: Mapped[float | None]
    density_t_m3: Mapped[float | None]
    feature: Mapped[int | None]
    lon: Mapped[float | None]
    lat: Mapped[float | None]
    supersedes: Mapped[int | None]
    owner: Mapped[str | None] = mapped_column(String(OWNER_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Programme(Base):
    """A saved maintenance programme: what was asked, its totals and the data versions used
    (rule set and catalog here; every template's version in `summary`)."""

    __tablename__ = "programmes"
    __table_args__ = (Index("ix_programmes_owner_id", "owner", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    request: Mapped[dict[str, Any]]
    summary: Mapped[dict[str, Any]]
    rule_set_slug: Mapped[str] = mapped_column(String(100))
    rule_set_version: Mapped[int]
    catalog_slug: Mapped[str] = mapped_column(String(100))
    catalog_version: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    owner: Mapped[str | None] = mapped_column(String(OWNER_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProgrammeSegment(Footprint, Base):
    """One segment of a saved programme: its flat properties and its geometry with the
    bounding box. The migration leaves geometry and box nullable: an inventory table without
    geometry gives segments without one (null geometry in GeoJSON)."""

    __tablename__ = "programme_segments"
    __table_args__ = (Index("ix_programme_segments_programme_id_id", "programme_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    properties: Mapped[dict[str, Any]]
