"""The one repository layer: the same code on PostGIS and on the embedded SQLite store.

It returns plain dataclasses, never ORM objects, so callers cannot trigger lazy loads and
the HTTP models stay separate from the table models.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar, cast

import numpy as np
import numpy.typing as npt
import shapely
import sqlalchemy as sa
from cachetools import TTLCache
from sqlalchemy.engine import Engine
from sqlalchemy.orm import QueryableAttribute, Session

from app.errors import Conflict, InvalidInput, NotFound
from app.estimate.fieldtests import FieldTest, StoredTest
from app.estimate.reconciliation import StoredTicket, Ticket
from app.io.layers import LayerData, check_layer_slug
from app.io.material_sources import SourceData
from app.store.models import (
    CatalogVersion,
    Delivery,
    Estimate,
    FieldTestRecord,
    Footprint,
    Job,
    Layer,
    LayerFeature,
    MaterialSource,
    TemplateVersion,
    VersionedDocument,
)
from app.store.types import SRID

BBox = tuple[float, float, float, float]
RESERVED_COLLECTIONS = frozenset({"estimates", "sources"})
DocumentRow = TypeVar("DocumentRow", TemplateVersion, CatalogVersion)
FeatureRow = TypeVar("FeatureRow", Estimate, LayerFeature, MaterialSource)
Selection = TypeVar("Selection", bound=sa.Select)
MAX_STORED_ID = 2**31 - 1
"""Ids and versions are 32-bit integer columns: a larger number names nothing stored (and
would make PostgreSQL fail the query rather than find nothing)."""


def _storable_id(number: int) -> bool:
    return 0 < number <= MAX_STORED_ID


FRESHNESS_SECONDS = 2.0
"""How long a process reuses the newest version number it read for a template or catalog.
Its own writes show at once; another process's (another worker's) within this time."""


def _now() -> datetime:
    return datetime.now(UTC)


def content_hash(body: dict[str, Any]) -> str:
    """A hash of a document's meaning, independent of key order and whitespace."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class DocumentVersion:
    """One version of a template or catalog document."""

    slug: str
    version: int
    body: dict[str, Any]
    note: str | None
    created_at: datetime
    content_hash: str


@dataclass(frozen=True)
class NewEstimate:
    """What is saved for an estimate: the request, the answer and the versions used."""

    name: str | None
    geometry: shapely.Geometry
    request: dict[str, Any]
    result: dict[str, Any]
    properties: dict[str, Any]
    template_slug: str
    template_version: int
    catalog_slug: str
    catalog_version: int
    currency: str
    total: Decimal


@dataclass(frozen=True)
class StoredEstimate(NewEstimate):
    """A saved estimate as read back, with the estimate it `supersedes` (an earlier version)
    and the one it is `superseded_by` (the next version), where there are."""

    id: int
    owner: str | None
    created_at: datetime
    version: int
    supersedes: int | None
    superseded_by: int | None


@dataclass(frozen=True)
class Visibility:
    """Whose rows a reader sees: everyone's, or only those made with the reader's key.

    `owner` is the reader's key digest (None for an anonymous reader, who then owns nothing).
    """

    owner_only: bool = False
    owner: str | None = None

    def allows(self, column: QueryableAttribute[str | None]) -> sa.ColumnElement[bool]:
        """The rows of `column`'s table this reader may see."""
        if not self.owner_only:
            return sa.true()
        if self.owner is None:
            return sa.false()
        return column == self.owner


EVERYONE = Visibility()
"""Every row, whoever made it: the shared register."""


@dataclass(frozen=True)
class StoredFeature:
    """One feature of a collection (a saved estimate or a road-layer feature)."""

    id: int
    feature_id: str | None
    geometry: shapely.Geometry
    properties: dict[str, Any]


@dataclass(frozen=True)
class FeaturePage:
    """A page of features and how many match in all."""

    features: list[StoredFeature]
    number_matched: int


@dataclass(frozen=True)
class LayerInfo:
    """A road layer's metadata, size and extent."""

    slug: str
    title: str
    description: str | None
    attribution: str | None
    license: str | None
    source: str | None
    created_at: datetime
    feature_count: int
    extent: BBox | None


Record = TypeVar("Record")


def fieldnames(record: type[Any]) -> list[str]:
    """The field names of a dataclass."""
    return [field.name for field in fields(record)]


def _from_row(record: type[Record], row: object, **renamed: Any) -> Record:
    """A dataclass from a table row with the same attribute names (`renamed` for the others)."""
    values = {
        name: renamed[name] if name in renamed else getattr(row, name)
        for name in fieldnames(record)
    }
    return record(**values)


def _bbox_values(geometry: shapely.Geometry) -> dict[str, float]:
    minx, miny, maxx, maxy = shapely.bounds(geometry)
    return {"minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy}


def _envelopes(bbox: BBox) -> list[BBox]:
    """`bbox` as plain boxes: one, or two when it crosses the antimeridian (minx > maxx)."""
    minx, miny, maxx, maxy = bbox
    if minx <= maxx:
        return [bbox]
    return [(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]


def _intersects_sql(model: type[Footprint], bbox: BBox) -> sa.ColumnElement[bool]:
    """PostGIS: geometries that meet `bbox`, found through the GIST index on `geom`."""
    return sa.or_(
        *(
            sa.func.ST_Intersects(
                model.geom, sa.func.ST_MakeEnvelope(*box, sa.literal_column(str(SRID)))
            )
            for box in _envelopes(bbox)
        )
    )


def _bbox_columns_meet(model: type[Footprint], bbox: BBox) -> sa.ColumnElement[bool]:
    """SQLite: rows whose stored bounding box meets `bbox` (candidates, not yet answers)."""
    return sa.or_(
        *(
            sa.and_(model.maxx >= minx, model.minx <= maxx, model.maxy >= miny, model.miny <= maxy)
            for minx, miny, maxx, maxy in _envelopes(bbox)
        )
    )


def _bbox_shape(bbox: BBox) -> shapely.Geometry:
    """`bbox` as a prepared (multi)polygon for exact tests."""
    boxes = [shapely.box(*box) for box in _envelopes(bbox)]
    shape = boxes[0] if len(boxes) == 1 else shapely.MultiPolygon(boxes)
    shapely.prepare(shape)
    return shape


JOB_STATES = ("accepted", "running", "successful", "failed", "dismissed")
"""OGC API Processes job states used here; `dismissed` is a job its owner cancelled."""
UNFINISHED_JOB_STATES = ("accepted", "running")


@dataclass(frozen=True)
class StoredJob:
    """An asynchronous job as read back."""

    id: str
    process_id: str
    status: str
    message: str | None
    rows_total: int | None
    rows_done: int
    request: dict[str, Any]
    summary: dict[str, Any] | None
    result_file: str | None
    result_media_type: str | None
    owner: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime


class VersionedDocuments(Generic[DocumentRow]):
    """Templates or catalogs: documents that gain a new version on every change."""

    def __init__(self, engine: Engine, model: type[DocumentRow]):
        self._engine = engine
        self._model: type[DocumentRow] = model
        self.kind = model.__tablename__.removesuffix("_versions")
        self._heads: TTLCache[tuple[str, int | None], tuple[int, str]] = TTLCache(
            maxsize=1024, ttl=FRESHNESS_SECONDS
        )
        self._writes = 0
        self._lock = threading.Lock()

    @staticmethod
    def _as_version(row: VersionedDocument) -> DocumentVersion:
        return _from_row(DocumentVersion, row)

    def latest_all(self) -> list[DocumentVersion]:
        """The newest version of every document, by slug."""
        model = self._model
        newest = (
            sa.select(model.slug, sa.func.max(model.version).label("version"))
            .group_by(model.slug)
            .subquery()
        )
        query = (
            sa.select(model)
            .join(newest, sa.and_(model.slug == newest.c.slug, model.version == newest.c.version))
            .order_by(model.slug)
        )
        with Session(self._engine) as session:
            return [self._as_version(row) for row in session.scalars(query)]

    def _one(self, query: Selection, slug: str, version: int | None) -> Selection:
        model = self._model
        if version is not None and not _storable_id(version):
            raise self._missing(slug, version)
        query = query.where(model.slug == slug)
        if version is None:
            return query.order_by(model.version.desc()).limit(1)
        return query.where(model.version == version)

    def _missing(self, slug: str, version: int | None) -> NotFound:
        what = f"{self.kind} {slug!r}"
        if version is not None:
            what += f" version {version}"
        return NotFound(f"there is no {what}")

    def get(self, slug: str, version: int | None = None) -> DocumentVersion:
        """One version (the newest when `version` is None); `NotFound` names what is missing."""
        with Session(self._engine) as session:
            row = session.scalars(self._one(sa.select(self._model), slug, version)).first()
            if row is None:
                raise self._missing(slug, version)
            return self._as_version(row)

    def head(self, slug: str, version: int | None = None) -> tuple[int, str]:
        """(version, content hash) of one version, without its body: a cheap freshness check,
        remembered for `FRESHNESS_SECONDS` and forgotten as soon as this process adds one."""
        with self._lock:
            known, writes = self._heads.get((slug, version)), self._writes
        if known is not None:
            return known
        model = self._model
        query = self._one(sa.select(model.version, model.content_hash), slug, version)
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            raise self._missing(slug, version)
        found = int(row[0]), str(row[1])
        with self._lock:
            if writes == self._writes:  # no version was added while this one was read
                self._heads[(slug, version)] = found
        return found

    def versions(self, slug: str) -> list[DocumentVersion]:
        """Every version of one document, oldest first."""
        model = self._model
        query = sa.select(model).where(model.slug == slug).order_by(model.version)
        with Session(self._engine) as session:
            rows = [self._as_version(row) for row in session.scalars(query)]
        if not rows:
            raise NotFound(f"there is no {self.kind} {slug!r}")
        return rows

    def add(self, slug: str, body: dict[str, Any], note: str | None = None) -> DocumentVersion:
        """Store `body` as the next version; an unchanged body returns the newest version."""
        body = {key: value for key, value in body.items() if key != "version"}
        digest = content_hash(body)
        model = self._model
        for _attempt in range(3):
            with Session(self._engine) as session:
                latest = session.scalars(
                    sa.select(model).where(model.slug == slug).order_by(model.version.desc())
                ).first()
                if latest is not None and latest.content_hash == digest:
                    return self._as_version(latest)
                row = model(
                    slug=slug,
                    version=1 if latest is None else latest.version + 1,
                    body=body,
                    content_hash=digest,
                    note=note,
                    created_at=_now(),
                )
                session.add(row)
                try:
                    session.commit()
                except sa.exc.IntegrityError:
                    session.rollback()
                    continue
                with self._lock:
                    self._heads.clear()
                    self._writes += 1
                return self._as_version(row)
        raise Conflict(f"{self.kind} {slug!r} is being changed concurrently; try again")


class Repository:
    """Every read and write the service makes, on either backend."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.templates: VersionedDocuments[TemplateVersion] = VersionedDocuments(
            engine, TemplateVersion
        )
        self.catalogs: VersionedDocuments[CatalogVersion] = VersionedDocuments(
            engine, CatalogVersion
        )

    # saved estimates

    def save_estimate(
        self,
        estimate: NewEstimate,
        owner: str | None = None,
        supersedes: int | None = None,
        visible: Visibility = EVERYONE,
    ) -> StoredEstimate:
        """Save an estimate, made with the key whose digest is `owner`; return it with its id.

        With `supersedes`, it is the next version of that estimate (one the reader `visible`
        sees, else `NotFound`), which is kept unchanged; an estimate that already has a next
        version is not superseded again (`Conflict`): its versions stay one line.
        """
        values = {name: getattr(estimate, name) for name in fieldnames(NewEstimate)}
        geometry = values.pop("geometry")
        with Session(self.engine) as session:
            version = 1
            if supersedes is not None:
                earlier = self._visible_estimate(session, supersedes, visible)
                self._check_not_superseded(session, earlier.id)
                version = earlier.version + 1
            values["properties"] = {**values["properties"], "version": version}
            row = Estimate(
                **values,
                geom=geometry,
                owner=owner,
                created_at=_now(),
                version=version,
                supersedes=supersedes,
                **_bbox_values(geometry),
            )
            session.add(row)
            try:
                session.commit()
            except sa.exc.IntegrityError as exc:
                raise self._superseded(supersedes) from exc
            return self._as_estimate(row, superseded_by=None)

    @staticmethod
    def _superseded(estimate_id: int | None, later: int | None = None) -> Conflict:
        by = f" by estimate {later}" if later is not None else ""
        return Conflict(
            f"saved estimate {estimate_id} is already superseded{by}: save a new version of "
            "its latest version instead"
        )

    def _check_not_superseded(self, session: Session, estimate_id: int) -> None:
        later = self._successor(session, estimate_id)
        if later is not None:
            raise self._superseded(estimate_id, later)

    @staticmethod
    def _successor(session: Session, estimate_id: int) -> int | None:
        return session.scalar(sa.select(Estimate.id).where(Estimate.supersedes == estimate_id))

    @staticmethod
    def _visible_estimate(session: Session, estimate_id: int, visible: Visibility) -> Estimate:
        """The row of a saved estimate the reader sees; `NotFound` otherwise."""
        if not _storable_id(estimate_id):
            raise NotFound(f"there is no saved estimate {estimate_id}")
        query = sa.select(Estimate).where(
            Estimate.id == estimate_id, visible.allows(Estimate.owner)
        )
        row = session.scalars(query).first()
        if row is None:
            raise NotFound(f"there is no saved estimate {estimate_id}")
        return row

    @staticmethod
    def _as_estimate(row: Estimate, superseded_by: int | None) -> StoredEstimate:
        return _from_row(StoredEstimate, row, geometry=row.geom, superseded_by=superseded_by)

    def get_estimate(self, estimate_id: int, visible: Visibility = EVERYONE) -> StoredEstimate:
        """A saved estimate; `NotFound` when there is none with that id the reader may see."""
        with Session(self.engine) as session:
            row = self._visible_estimate(session, estimate_id, visible)
            return self._as_estimate(row, self._successor(session, row.id))

    def rename_estimate(
        self, estimate_id: int, name: str | None, visible: Visibility = EVERYONE
    ) -> StoredEstimate:
        """Give a saved estimate another name (None: no name); nothing else of it changes."""
        with Session(self.engine) as session:
            row = self._visible_estimate(session, estimate_id, visible)
            row.name = name
            row.properties = {**row.properties, "name": name}
            session.commit()
            return self._as_estimate(row, self._successor(session, row.id))

    def delete_estimate(self, estimate_id: int, visible: Visibility = EVERYONE) -> None:
        """Delete a saved estimate; `NotFound` when there is none with that id the reader sees."""
        if not _storable_id(estimate_id):
            raise NotFound(f"there is no saved estimate {estimate_id}")
        query = sa.delete(Estimate).where(
            Estimate.id == estimate_id, visible.allows(Estimate.owner)
        )
        with Session(self.engine) as session:
            deleted = session.execute(query)
            if cast(sa.CursorResult[Any], deleted).rowcount == 0:
                raise NotFound(f"there is no saved estimate {estimate_id}")
            # its next version keeps its own number but no longer names a missing estimate
            session.execute(
                sa.update(Estimate)
                .where(Estimate.supersedes == estimate_id)
                .values(supersedes=None)
            )
            session.commit()

    def estimate_page(
        self,
        limit: int,
        offset: int = 0,
        bbox: BBox | None = None,
        visible: Visibility = EVERYONE,
    ) -> FeaturePage:
        """Saved estimates the reader may see, as features, ordered by id."""
        return self._page(Estimate, visible.allows(Estimate.owner), limit, offset, bbox)

    def estimate_extent(self, visible: Visibility = EVERYONE) -> BBox | None:
        """Bounding box of every saved estimate the reader may see."""
        return self._extent(Estimate, visible.allows(Estimate.owner))

    # road layers

    def create_layer(self, layer: LayerData, replace: bool = False) -> LayerInfo:
        """Publish a road layer; refuses to overwrite one unless `replace`."""
        check_layer_slug(layer.slug)
        if layer.slug in RESERVED_COLLECTIONS:
            raise InvalidInput(f"{layer.slug!r} is a reserved collection id", field="slug")
        with Session(self.engine) as session:
            existing = session.scalars(sa.select(Layer).where(Layer.slug == layer.slug)).first()
            if existing is not None:
                if not replace:
                    raise InvalidInput(f"a layer named {layer.slug!r} exists already", field="slug")
                session.delete(existing)
                session.flush()
            row = Layer(
                slug=layer.slug,
                title=layer.title,
                description=layer.metadata.get("description"),
                attribution=layer.metadata.get("attribution"),
                license=layer.metadata.get("license"),
                source=layer.metadata.get("source"),
                created_at=_now(),
            )
            session.add(row)
            session.flush()
            bounds = shapely.bounds(layer.geometries)
            rows = [
                {
                    "layer_id": row.id,
                    "feature_id": feature_id,
                    "properties": props,
                    "geom": geometry,
                    "minx": box[0],
                    "miny": box[1],
                    "maxx": box[2],
                    "maxy": box[3],
                }
                for geometry, props, feature_id, box in zip(
                    layer.geometries,
                    layer.properties,
                    layer.feature_ids,
                    bounds.tolist(),
                    strict=True,
                )
            ]
            if rows:
                session.execute(sa.insert(LayerFeature), rows)
            session.commit()
        return self.get_layer(layer.slug)

    def _layer_id(self, session: Session, slug: str) -> int:
        layer_id = session.scalar(sa.select(Layer.id).where(Layer.slug == slug))
        if layer_id is None:
            raise NotFound(f"there is no collection {slug!r}")
        return layer_id

    def layer_slugs(self) -> list[str]:
        """The ids of every road layer, sorted: a cheap existence check."""
        with Session(self.engine) as session:
            return list(session.scalars(sa.select(Layer.slug).order_by(Layer.slug)))

    def list_layers(self) -> list[LayerInfo]:
        """Every road layer, by slug, with its size and extent."""
        return [self.get_layer(slug) for slug in self.layer_slugs()]

    def get_layer(self, slug: str) -> LayerInfo:
        """One road layer with its feature count and extent."""
        with Session(self.engine) as session:
            layer = session.scalars(sa.select(Layer).where(Layer.slug == slug)).first()
            if layer is None:
                raise NotFound(f"there is no collection {slug!r}")
            in_layer = LayerFeature.layer_id == layer.id
            count = session.scalar(sa.select(sa.func.count()).where(in_layer)) or 0
            return LayerInfo(
                slug=layer.slug,
                title=layer.title,
                description=layer.description,
                attribution=layer.attribution,
                license=layer.license,
                source=layer.source,
                created_at=layer.created_at,
                feature_count=count,
                extent=self._extent(LayerFeature, in_layer),
            )

    def delete_layer(self, slug: str) -> None:
        """Remove a road layer and its features."""
        with Session(self.engine) as session:
            deleted = session.execute(sa.delete(Layer).where(Layer.slug == slug))
            session.commit()
        if cast(sa.CursorResult[Any], deleted).rowcount == 0:
            raise NotFound(f"there is no collection {slug!r}")

    def layer_page(
        self, slug: str, limit: int, offset: int = 0, bbox: BBox | None = None
    ) -> FeaturePage:
        """Features of a road layer, ordered by their stored id."""
        with Session(self.engine) as session:
            layer_id = self._layer_id(session, slug)
        return self._page(LayerFeature, LayerFeature.layer_id == layer_id, limit, offset, bbox)

    def find_layer_features(self, slug: str, name: str, limit: int) -> FeaturePage:
        """Features of a road layer whose `name` property contains `name`, in any case."""
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        with Session(self.engine) as session:
            layer_id = self._layer_id(session, slug)
        named = LayerFeature.properties["name"].as_string().ilike(f"%{escaped}%", escape="\\")
        return self._page(LayerFeature, sa.and_(LayerFeature.layer_id == layer_id, named), limit)

    def layer_feature(self, slug: str, feature_pk: int) -> StoredFeature:
        """One feature of a road layer by its stored id."""
        if not _storable_id(feature_pk):
            raise NotFound(f"collection {slug!r} has no feature {feature_pk}")
        with Session(self.engine) as session:
            layer_id = self._layer_id(session, slug)
        page = self._page(
            LayerFeature,
            sa.and_(LayerFeature.layer_id == layer_id, LayerFeature.id == feature_pk),
            1,
        )
        if not page.features:
            raise NotFound(f"collection {slug!r} has no feature {feature_pk}")
        return page.features[0]

    # material sources

    def add_sources(self, sources: list[SourceData], owner: str | None = None) -> list[int]:
        """Store material sources (all or none); their ids in the order given."""
        created = _now()
        with Session(self.engine) as session:
            rows = [
                MaterialSource(
                    name=source.name,
                    kind=source.kind,
                    properties=source.all_properties(),
                    owner=owner,
                    created_at=created,
                    geom=source.geometry,
                    **_bbox_values(source.geometry),
                )
                for source in sources
            ]
            session.add_all(rows)
            session.commit()
            return [row.id for row in rows]

    def source_page(self, limit: int, offset: int = 0, bbox: BBox | None = None) -> FeaturePage:
        """Material sources in id order, as features."""
        return self._page(MaterialSource, sa.true(), limit, offset, bbox)

    def source_feature(self, source_id: int) -> StoredFeature:
        """One material source by its id."""
        page = self._page(MaterialSource, MaterialSource.id == source_id, 1)
        if not page.features:
            raise NotFound(f"collection 'sources' has no feature {source_id}")
        return page.features[0]

    def source_extent(self) -> BBox | None:
        """Bounding box of every material source."""
        return self._extent(MaterialSource, sa.true())

    def sources_supplying(self, materials: list[str]) -> list[StoredFeature]:
        """Every source that supplies at least one of `materials` (the table is small: the
        plants and quarries of a city), in id order."""
        wanted = set(materials)
        page = self._page(MaterialSource, sa.true(), limit=2**31 - 1)
        return [
            source
            for source in page.features
            if wanted.intersection(source.properties.get("materials", []))
        ]

    # delivery tickets of saved estimates

    def _add_superseding(
        self,
        model: type[Delivery] | type[FieldTestRecord],
        estimate_id: int,
        supersedes: list[int | None],
        what: str,
        make_rows: Callable[[datetime], list[Any]],
    ) -> list[int]:
        """Add an estimate's records (all or none); each `supersedes` must name a record of
        this estimate (nothing is edited in place: a correction supersedes)."""
        with Session(self.engine) as session:
            known = set(
                session.scalars(sa.select(model.id).where(model.estimate_id == estimate_id)).all()
            )
            for index, earlier in enumerate(supersedes):
                if earlier is not None and earlier not in known:
                    raise InvalidInput(
                        f"estimate {estimate_id} has no {what} {earlier} to supersede",
                        row=index,
                        field="supersedes",
                    )
            rows = make_rows(_now())
            session.add_all(rows)
            session.commit()
            return [row.id for row in rows]

    def add_deliveries(
        self, estimate_id: int, tickets: list[Ticket], owner: str | None
    ) -> list[int]:
        """Record tickets (all or none); a `supersedes` must name a ticket of this estimate."""

        def rows(created: datetime) -> list[Any]:
            return [
                Delivery(
                    estimate_id=estimate_id,
                    ticket=ticket.ticket,
                    delivered_on=ticket.date,
                    material=ticket.material,
                    quantity=ticket.quantity,
                    unit=ticket.unit,
                    feature=ticket.feature,
                    supersedes=ticket.supersedes,
                    owner=owner,
                    created_at=created,
                )
                for ticket in tickets
            ]

        supersedes = [ticket.supersedes for ticket in tickets]
        return self._add_superseding(Delivery, estimate_id, supersedes, "delivery", rows)

    def deliveries(self, estimate_id: int) -> list[StoredTicket]:
        """Every ticket of an estimate, superseded ones included, in the order recorded."""
        with Session(self.engine) as session:
            rows = session.scalars(
                sa.select(Delivery).where(Delivery.estimate_id == estimate_id).order_by(Delivery.id)
            ).all()
            return [_from_row(StoredTicket, row, delivered_on=row.delivered_on) for row in rows]

    def add_field_tests(
        self, estimate_id: int, tests: list[FieldTest], owner: str | None
    ) -> list[int]:
        """Record field tests (all or none); a `supersedes` must name a test of this estimate."""

        def rows(created: datetime) -> list[Any]:
            return [
                FieldTestRecord(
                    estimate_id=estimate_id,
                    sample=test.sample,
                    tested_on=test.date,
                    kind=test.kind,
                    layer=test.layer,
                    thickness_mm=test.thickness_mm,
                    density_t_m3=test.density_t_m3,
                    feature=test.feature,
                    lon=None if test.point is None else test.point[0],
                    lat=None if test.point is None else test.point[1],
                    supersedes=test.supersedes,
                    owner=owner,
                    created_at=created,
                )
                for test in tests
            ]

        supersedes = [test.supersedes for test in tests]
        return self._add_superseding(FieldTestRecord, estimate_id, supersedes, "field test", rows)

    def field_tests(self, estimate_id: int) -> list[StoredTest]:
        """Every field test of an estimate, superseded ones included, in the order recorded."""
        with Session(self.engine) as session:
            rows = session.scalars(
                sa.select(FieldTestRecord)
                .where(FieldTestRecord.estimate_id == estimate_id)
                .order_by(FieldTestRecord.id)
            ).all()
            return [_from_row(StoredTest, row) for row in rows]

    # routing over the road layers (PostGIS with pgRouting)

    def has_pgrouting(self) -> bool:
        """Whether shortest paths can be solved in the database."""
        if self.engine.dialect.name != "postgresql":
            return False
        with self.engine.connect() as connection:
            found = connection.exec_driver_sql(
                "select 1 from pg_extension where extname = 'pgrouting'"
            ).scalar()
        return bool(found)

    def pgrouting_distances(
        self,
        version: str,
        edges: tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]],
        links: tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float64]],
        origin: int,
        targets: npt.NDArray[np.intp],
    ) -> npt.NDArray[np.float64]:
        """Metres from node `origin` to each target with pgRouting's undirected Dijkstra.

        The road edges (`ends`, `lengths`) are stored once per `version` (a hex digest of the
        layers' ids, dates and sizes; other versions are dropped); the `links` of the points
        snapped for one request are added to them in the query. Node ids are shifted by one,
        as pgRouting wants positive ids. Infinity where no path reaches a target.
        """
        ends, lengths = edges
        rows, cols, weights = links
        with Session(self.engine) as session:
            stored = session.execute(
                sa.text("select 1 from road_edges where version = :v limit 1"), {"v": version}
            ).scalar()
            if not stored:
                session.execute(
                    sa.text("delete from road_edges where version <> :v"), {"v": version}
                )
                session.execute(
                    sa.text(
                        "insert into road_edges (version, id, source, target, cost) "
                        "values (:version, :id, :source, :target, :cost) on conflict do nothing"
                    ),
                    [
                        {
                            "version": version,
                            "id": i + 1,
                            "source": a + 1,
                            "target": b + 1,
                            "cost": c,
                        }
                        for i, (a, b, c) in enumerate(
                            zip(
                                ends[:, 0].tolist(),
                                ends[:, 1].tolist(),
                                lengths.tolist(),
                                strict=True,
                            )
                        )
                    ],
                )
            first = len(lengths) + 1
            extra = ", ".join(
                f"({first + i}, {int(a) + 1}, {int(b) + 1}, {float(c)!r})"
                for i, (a, b, c) in enumerate(zip(rows, cols, weights, strict=True))
            )
            graph = (
                "select id, source, target, cost, cost as reverse_cost from road_edges "
                f"where version = '{version}' union all "
                f"select id, source, target, cost, cost from (values {extra}) "
                "as links(id, source, target, cost)"
            )
            found: list[tuple[int, float]] = session.execute(  # type: ignore[assignment]
                sa.text(
                    "select end_vid, agg_cost from pgr_dijkstraCost("
                    ":graph, cast(:origin as bigint), cast(:targets as bigint[]), false)"
                ),
                {"graph": graph, "origin": origin + 1, "targets": [int(t) + 1 for t in targets]},
            ).all()
            session.commit()
        reached = {node - 1: cost for node, cost in found}
        return np.array([reached.get(int(t), np.inf) for t in targets], dtype=np.float64)

    # shared by the feature collections

    def _page(
        self,
        model: type[FeatureRow],
        where: sa.ColumnElement[bool],
        limit: int,
        offset: int = 0,
        bbox: BBox | None = None,
    ) -> FeaturePage:
        """Features in id order; with `bbox`, only those whose geometry meets it."""
        with Session(self.engine) as session:
            if bbox is not None and self.engine.dialect.name != "postgresql":
                ids = self._ids_meeting(session, model, where, bbox)
                matched = len(ids)
                where = model.id.in_(ids[offset : offset + limit])
                offset = 0
            else:
                if bbox is not None:
                    where = sa.and_(where, _intersects_sql(model, bbox))
                count = sa.select(sa.func.count()).select_from(model).where(where)
                matched = session.scalar(count) or 0
            rows = session.scalars(
                sa.select(model).where(where).order_by(model.id).limit(limit).offset(offset)
            ).all()
            features = [
                StoredFeature(
                    id=row.id,
                    feature_id=row.feature_id if isinstance(row, LayerFeature) else None,
                    geometry=row.geom,
                    properties=row.properties,
                )
                for row in rows
            ]
        return FeaturePage(features=features, number_matched=matched)

    @staticmethod
    def _ids_meeting(
        session: Session, model: type[FeatureRow], where: sa.ColumnElement[bool], bbox: BBox
    ) -> list[int]:
        """SQLite: ids of the rows whose geometry meets `bbox`, in order. The bbox columns
        pick the candidates in SQL; Shapely then drops those that only come near the box."""
        wkb = sa.type_coerce(model.geom, sa.LargeBinary())
        query = sa.select(model.id, wkb).where(where, _bbox_columns_meet(model, bbox))
        candidates = session.execute(query.order_by(model.id)).all()
        if not candidates:
            return []
        ids, blobs = zip(*candidates, strict=True)
        meets = shapely.intersects(shapely.from_wkb(list(blobs)), _bbox_shape(bbox))
        return [pk for pk, hit in zip(ids, meets.tolist(), strict=True) if hit]

    def _extent(self, model: type[FeatureRow], where: sa.ColumnElement[bool]) -> BBox | None:
        query = sa.select(
            sa.func.min(model.minx),
            sa.func.min(model.miny),
            sa.func.max(model.maxx),
            sa.func.max(model.maxy),
        ).where(where)
        with Session(self.engine) as session:
            box = session.execute(query).one()
        if box[0] is None:
            return None
        return (float(box[0]), float(box[1]), float(box[2]), float(box[3]))

    # asynchronous jobs

    def create_job(
        self,
        job_id: str,
        process_id: str,
        request: dict[str, Any],
        rows_total: int | None,
        owner: str | None = None,
    ) -> StoredJob:
        """Record a new job as accepted, made with the key whose digest is `owner`."""
        now = _now()
        row = Job(
            id=job_id,
            process_id=process_id,
            status="accepted",
            rows_total=rows_total,
            rows_done=0,
            request=request,
            owner=owner,
            created_at=now,
            updated_at=now,
        )
        with Session(self.engine) as session:
            session.add(row)
            session.commit()
            return self._as_job(row)

    def update_job(self, job_id: str, **changes: Any) -> StoredJob:
        """Change a job's status, progress, message, summary or result; stamps `updated_at`."""
        unknown = set(changes) - set(StoredJob.__dataclass_fields__)
        if unknown or changes.get("status", "accepted") not in JOB_STATES:
            raise InvalidInput(f"cannot set {sorted(unknown) or changes['status']} on a job")
        with Session(self.engine) as session:
            row = session.get(Job, job_id)
            if row is None:
                raise NotFound(f"there is no job {job_id!r}")
            for name, value in {**changes, "updated_at": _now()}.items():
                setattr(row, name, value)
            session.commit()
            return self._as_job(row)

    def transition_job(self, job_id: str, states: Sequence[str], **changes: Any) -> bool:
        """Change the job as `update_job` does, but only while its status is one of `states`
        (a job dismissed while it ran is not then marked successful); True if it changed."""
        unknown = set(changes) - set(StoredJob.__dataclass_fields__)
        if unknown or changes.get("status", "accepted") not in JOB_STATES:
            raise InvalidInput(f"cannot set {sorted(unknown) or changes['status']} on a job")
        query = (
            sa.update(Job)
            .where(Job.id == job_id, Job.status.in_(states))
            .values(**changes, updated_at=_now())
        )
        with Session(self.engine) as session:
            changed = cast(sa.CursorResult[Any], session.execute(query)).rowcount
            session.commit()
        return bool(changed)

    def heartbeat_jobs(self, job_ids: Sequence[str]) -> None:
        """Stamp `updated_at` of these queued or running jobs: their worker is alive."""
        if not job_ids:
            return
        query = (
            sa.update(Job)
            .where(Job.id.in_(job_ids), Job.status.in_(UNFINISHED_JOB_STATES))
            .values(updated_at=_now())
        )
        with Session(self.engine) as session:
            session.execute(query)
            session.commit()

    def fail_silent_jobs(self, silent_since: datetime, message: str) -> list[str]:
        """Mark failed, with `message`, the queued or running jobs not heard from since
        `silent_since` (their worker died); their ids."""
        now = _now()
        with Session(self.engine) as session:
            ids = list(
                session.scalars(
                    sa.select(Job.id).where(
                        Job.status.in_(UNFINISHED_JOB_STATES), Job.updated_at < silent_since
                    )
                )
            )
            if ids:
                session.execute(
                    sa.update(Job)
                    .where(Job.id.in_(ids), Job.status.in_(UNFINISHED_JOB_STATES))
                    .values(status="failed", message=message, finished_at=now, updated_at=now)
                )
            session.commit()
        return ids

    def delete_finished_jobs(self, finished_before: datetime) -> list[str]:
        """Remove the jobs that finished before `finished_before`; their ids."""
        finished = sa.and_(
            Job.status.not_in(UNFINISHED_JOB_STATES), Job.finished_at < finished_before
        )
        with Session(self.engine) as session:
            ids = list(session.scalars(sa.select(Job.id).where(finished)))
            if ids:
                session.execute(sa.delete(Job).where(Job.id.in_(ids), finished))
            session.commit()
        return ids

    def delete_job(self, job_id: str) -> None:
        """Remove a job's record; `NotFound` when there is none."""
        with Session(self.engine) as session:
            deleted = session.execute(sa.delete(Job).where(Job.id == job_id))
            if cast(sa.CursorResult[Any], deleted).rowcount == 0:
                raise NotFound(f"there is no job {job_id!r}")
            session.commit()

    def get_job(self, job_id: str) -> StoredJob:
        """A job by id; `NotFound` when there is none."""
        with Session(self.engine) as session:
            row = session.get(Job, job_id)
            if row is None:
                raise NotFound(f"there is no job {job_id!r}")
            return self._as_job(row)

    def list_jobs(self, visible: Visibility, limit: int = 100) -> list[StoredJob]:
        """The newest jobs the reader may see first."""
        query = (
            sa.select(Job)
            .where(visible.allows(Job.owner))
            .order_by(Job.created_at.desc(), Job.id)
            .limit(limit)
        )
        with Session(self.engine) as session:
            return [self._as_job(row) for row in session.scalars(query)]

    @staticmethod
    def _as_job(row: Job) -> StoredJob:
        return StoredJob(**{name: getattr(row, name) for name in StoredJob.__dataclass_fields__})
