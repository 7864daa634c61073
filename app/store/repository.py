"""The one repository layer: the same code on PostGIS and on the embedded SQLite store.

It returns plain dataclasses, never ORM objects, so callers cannot trigger lazy loads and
the HTTP models stay separate from the table models.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, BinaryIO, Generic, TypeVar, cast

import numpy as np
import numpy.typing as npt
import shapely
import sqlalchemy as sa
from cachetools import LRUCache, TTLCache
from sqlalchemy.dialects.postgresql import JSONB, JSONPATH
from sqlalchemy.engine import Engine
from sqlalchemy.orm import QueryableAttribute, Session

from app.errors import Conflict, InvalidInput, NotFound
from app.estimate.fieldtests import FieldTest, StoredTest
from app.estimate.reconciliation import StoredTicket, Ticket
from app.store.database import SQLITE_RELATION, outage
from app.store.models import (
    CatalogVersion,
    Delivery,
    Estimate,
    FieldTestRecord,
    Footprint,
    Job,
    JobResultChunk,
    Layer,
    LayerFeature,
    MaterialSource,
    Programme,
    ProgrammeSegment,
    RuleSetVersion,
    TemplateVersion,
    VersionedDocument,
)
from app.store.queryables import (
    ESTIMATE_QUERYABLES,
    SOURCE_QUERYABLES,
    PropertyTypes,
    Queryables,
)
from app.store.types import SRID

if TYPE_CHECKING:  # tiles, layers and filters are imported where used: a batch needs none
    import psycopg

    from app.geo.tiles import TileAddress
    from app.io.layers import LayerFeatures, PublishedLayer
    from app.io.material_sources import SourceData
    from app.store.cql import Columns, FeatureQuery

BBox = tuple[float, float, float, float]
RESERVED_COLLECTIONS = frozenset({"estimates", "sources", "field-tests"})
DocumentRow = TypeVar("DocumentRow", TemplateVersion, CatalogVersion, RuleSetVersion)
FeatureRow = TypeVar("FeatureRow", Estimate, LayerFeature, MaterialSource, ProgrammeSegment)
Selection = TypeVar("Selection", bound=sa.Select)
MAX_STORED_ID = 2**31 - 1
"""Ids and versions are 32-bit integer columns: a larger number names nothing stored (and
would make PostgreSQL fail the query rather than find nothing)."""


def _storable_id(number: int) -> bool:
    return 0 < number <= MAX_STORED_ID


FRESHNESS_SECONDS = 2.0
"""How long a process reuses the newest version number it read for a template, catalog or
road layer. Its own writes show at once; another process's (another worker's) within this
time."""
PGROUTING_INSTALLED = "select exists (select 1 from pg_extension where extname = 'pgrouting')"
RESULT_CHUNK_BYTES = 1 << 20
"""Size of the pieces a job result kept in the store is written and served in."""


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
class NewProgramme:
    """What is saved for a programme besides its segments."""

    name: str | None
    request: dict[str, Any]
    summary: dict[str, Any]
    rule_set_slug: str
    rule_set_version: int
    catalog_slug: str
    catalog_version: int
    currency: str


@dataclass(frozen=True)
class StoredProgramme(NewProgramme):
    """A saved programme as read back."""

    id: int
    owner: str | None
    created_at: datetime


_INSERT_BATCH = 5_000
"""Segments inserted per statement: big enough to be quick, small enough for any driver."""


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
    """A page of features and how many match in all: counted when `exact`, else the
    planner's estimate (a count over more rows than the caller's limit is not made)."""

    features: list[StoredFeature]
    number_matched: int
    exact: bool = True
    more: bool = False
    """Whether features follow this page."""


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


@dataclass(frozen=True)
class DeliveryVersions:
    """Markers of what a delivery plan reads from the store, read in one round trip: the
    road layers as (slug, id, creation time), which name their features (a layer's features
    never change once published; replacing it makes a new row), the material sources
    (`Repository.sources_version`), and whether pgRouting is installed."""

    layers: tuple[tuple[str, int, str], ...]
    sources: str
    pgrouting: bool


Record = TypeVar("Record")
Key = TypeVar("Key")
Value = TypeVar("Value")


class _Fresh(Generic[Key, Value]):
    """Markers read from the store, reused for `FRESHNESS_SECONDS`. `forget` (this process
    wrote) drops them, and a marker read while such a write happened is not kept: this
    process's own writes show at once."""

    def __init__(self, maxsize: int) -> None:
        self._kept: TTLCache[Key, Value] = TTLCache(maxsize=maxsize, ttl=FRESHNESS_SECONDS)
        self._writes = 0
        self._lock = threading.Lock()

    def get(self, key: Key, read: Callable[[], Value]) -> Value:
        """The marker kept under `key`, or `read()` and keep it."""
        with self._lock:
            known, writes = self._kept.get(key), self._writes
        if known is not None:
            return known
        value = read()
        with self._lock:
            if writes == self._writes:
                self._kept[key] = value
        return value

    def forget(self) -> None:
        """Drop every kept marker: this process changed what they mark."""
        with self._lock:
            self._kept.clear()
            self._writes += 1


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


def _wkb(model: type[Footprint]) -> sa.ColumnElement[Any]:
    """The stored geometry as it is kept, for `shapely.from_wkb`: WKB bytes on SQLite, hex
    EWKB text on PostGIS (no per-row conversion on either side)."""
    return sa.type_coerce(model.geom, sa.LargeBinary())


def _bbox_shape(bbox: BBox) -> shapely.Geometry:
    """`bbox` as a prepared (multi)polygon for exact tests."""
    boxes = [shapely.box(*box) for box in _envelopes(bbox)]
    shape = boxes[0] if len(boxes) == 1 else shapely.MultiPolygon(boxes)
    shapely.prepare(shape)
    return shape


def _literal(name: str) -> sa.BindParameter[int]:
    """A number written into the statement when it runs (the compiled form is still cached):
    PostgreSQL then plans the tile for its envelope. A parameter let it reuse a generic plan,
    which transformed the envelope again for every feature."""
    return sa.bindparam(name, type_=sa.Integer, literal_execute=True)


def _mvt_sql(model: type[FeatureRow], where: sa.ColumnElement[bool]) -> sa.ScalarSelect[Any]:
    """PostGIS: the tile made by ST_AsMVT, for the parameters of `_tile_parameters` (bound,
    so a statement built once serves every tile). Features are found with ST_Intersects on
    the tile's lon/lat envelope (the GIST index on `geom`). Properties are handed over as
    JSONB, whose nulls ST_AsMVT leaves out as `app.io.mvt` does; only a row holding nested
    values (which ST_AsMVT would drop) is flattened first, those values becoming their JSON
    text. A feature too small to draw at the tile's zoom has a null `geom`, which ST_AsMVT
    skips: a filter on it had PostgreSQL draw every feature twice (for the filter and for
    the tile)."""
    from app.geo.tiles import MVT_BUFFER, MVT_EXTENT

    envelope = sa.func.ST_TileEnvelope(*(_literal(name) for name in ("zoom", "col", "row")))
    drawn = sa.func.ST_AsMVTGeom(
        sa.func.ST_Transform(model.geom, 3857), envelope, MVT_EXTENT, MVT_BUFFER, True
    )
    found = (
        sa.select(
            model.id.label("id"),
            sa.cast(model.properties, JSONB).label("properties"),
            drawn.label("geom"),
        )
        .where(where, sa.func.ST_Intersects(model.geom, sa.func.ST_Transform(envelope, SRID)))
        .subquery("found")
    )
    entry = sa.func.jsonb_each(found.c.properties).table_valued("key", "value").alias("entry")
    kind = sa.func.jsonb_typeof(entry.c.value)
    flat = (
        sa.select(
            sa.func.jsonb_object_agg(
                entry.c.key,
                sa.case(
                    (
                        kind.in_(["object", "array"]),
                        sa.func.to_jsonb(sa.cast(entry.c.value, sa.Text)),
                    ),
                    else_=entry.c.value,
                ),
            )
        )
        .where(kind != "null")
        .scalar_subquery()
    )
    nested = sa.func.jsonb_path_exists(
        found.c.properties,
        sa.cast(
            sa.literal('strict $.* ? (@.type() == "object" || @.type() == "array")'), JSONPATH
        ),  # strict: lax mode looks inside arrays
    )
    rows = sa.select(
        found.c.id,
        sa.case((nested, flat), else_=found.c.properties).label("properties"),
        found.c.geom,
    ).subquery("tile")
    layer = sa.bindparam("layer", type_=sa.Text)
    return (
        sa.select(sa.func.ST_AsMVT(sa.literal_column("tile"), layer, MVT_EXTENT, "geom", "id"))
        .select_from(rows)
        .scalar_subquery()
    )


def _tile_parameters(tile: TileAddress, layer: str) -> dict[str, Any]:
    """The values of `_mvt_sql`'s parameters for `tile`, whose one layer is named `layer`."""
    return {"zoom": tile.zoom, "col": tile.col, "row": tile.row, "layer": layer}


@cache
def _layer_tile() -> sa.Select[Any]:
    """PostGIS: a road layer's tile, built once: SQLAlchemy then computes its cache key once,
    where building and keying the statement anew took longer than PostgreSQL's answer."""
    return sa.select(_mvt_sql(LayerFeature, LayerFeature.layer_id == _literal("layer_id")))


def _read_queryables(
    session: Session, model: type[FeatureRow], where: sa.ColumnElement[bool]
) -> Queryables:
    """The property types and geometry type of the rows `where` selects, read in batches."""
    types = PropertyTypes()
    features = session.execute(
        sa.select(model.properties, model.geom).where(where).execution_options(yield_per=5_000)
    )
    for chunk in features.partitions():
        for properties, _geometry in chunk:
            types.add(cast(dict[str, Any], properties))
        types.add_geometries(cast(shapely.Geometry, row[1]) for row in chunk)
    return types.queryables()


class _Columns:
    """A feature table's columns as filters and sort orders read them on this backend (the
    `Columns` of `app.store.cql`): properties out of the JSON column as their queryable type;
    spatial tests with PostGIS functions (the GIST index on `geom` serves them) or, on SQLite,
    the bounding-box columns first and then Shapely, exactly."""

    def __init__(
        self,
        model: type[Estimate] | type[LayerFeature] | type[MaterialSource] | type[ProgrammeSegment],
        postgis: bool,
    ) -> None:
        self.model = model
        self.postgis = postgis

    def property(self, name: str, kind: str) -> sa.ColumnElement[Any]:
        """The value of property `name` as its queryable type `kind`."""
        value = self.model.properties[name]
        if kind == "string":
            return value.as_string()
        if kind == "boolean":
            return value.as_boolean()
        return value.as_float()

    def geometry(self) -> sa.ColumnElement[Any]:
        """The geometry column."""
        return cast(sa.ColumnElement[Any], self.model.geom)

    def spatial(self, relation: str, literal: shapely.Geometry) -> sa.ColumnElement[bool]:
        """Rows whose geometry stands in `relation` to `literal` (CRS84)."""
        wkb = sa.literal(shapely.to_wkb(literal), sa.LargeBinary)
        if self.postgis:
            function = getattr(sa.func, f"ST_{relation.capitalize()}")
            return cast(
                sa.ColumnElement[bool],
                function(self.model.geom, sa.func.ST_GeomFromWKB(wkb, SRID)),
            )
        stored = sa.type_coerce(self.model.geom, sa.LargeBinary())
        exact = getattr(sa.func, SQLITE_RELATION)(relation, stored, wkb) == 1
        if relation == "disjoint":
            return exact
        minx, miny, maxx, maxy = shapely.bounds(literal).tolist()
        return sa.and_(_bbox_columns_meet(self.model, (minx, miny, maxx, maxy)), exact)


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
        self._last_heads: LRUCache[tuple[str, int | None], tuple[int, str]] = LRUCache(1024)
        self._writes = 0
        self._lock = threading.Lock()

    @staticmethod
    def _as_version(row: VersionedDocument) -> DocumentVersion:
        return _from_row(DocumentVersion, row)

    def _newest(self, *columns: Any) -> sa.Select[Any]:
        """`columns` of the newest version of every document, by slug."""
        model = self._model
        newest = (
            sa.select(model.slug, sa.func.max(model.version).label("version"))
            .group_by(model.slug)
            .subquery()
        )
        return (
            sa.select(*columns)
            .join(newest, sa.and_(model.slug == newest.c.slug, model.version == newest.c.version))
            .order_by(model.slug)
        )

    def latest_all(self) -> list[DocumentVersion]:
        """The newest version of every document, by slug."""
        with Session(self._engine) as session:
            return [self._as_version(row) for row in session.scalars(self._newest(self._model))]

    def latest_notes(self) -> dict[str, tuple[str | None, str]]:
        """Each document's newest note and content hash, without the bodies."""
        model = self._model
        query = self._newest(model.slug, model.note, model.content_hash)
        with Session(self._engine) as session:
            return {row.slug: (row.note, row.content_hash) for row in session.execute(query)}

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
        remembered for `FRESHNESS_SECONDS` and forgotten as soon as this process adds one.

        While the database cannot be reached, the last answer it gave stands in: an estimate
        that saves nothing goes on working with the templates and catalogs already read.
        """
        with self._lock:
            known, writes = self._heads.get((slug, version)), self._writes
        if known is not None:
            return known
        model = self._model
        query = self._one(sa.select(model.version, model.content_hash), slug, version)
        try:
            with self._engine.connect() as connection:
                row = connection.execute(query).first()
        except sa.exc.SQLAlchemyError as exc:
            with self._lock:
                last = self._last_heads.get((slug, version))
            if last is None or not outage(exc):
                raise
            return last
        if row is None:
            raise self._missing(slug, version)
        found = int(row[0]), str(row[1])
        with self._lock:
            if writes == self._writes:  # no version was added while this one was read
                self._heads[(slug, version)] = found
                self._last_heads[(slug, version)] = found
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
                    self._last_heads.clear()
                    self._writes += 1
                return self._as_version(row)
        raise Conflict(f"{self.kind} {slug!r} is being changed concurrently; try again")


class Repository:
    """Every read and write the service makes, on either backend."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.address = str(engine.url)
        """Where the store is (its URL, password hidden): the key of what is kept per store."""
        self.templates: VersionedDocuments[TemplateVersion] = VersionedDocuments(
            engine, TemplateVersion
        )
        self.catalogs: VersionedDocuments[CatalogVersion] = VersionedDocuments(
            engine, CatalogVersion
        )
        self.rule_sets: VersionedDocuments[RuleSetVersion] = VersionedDocuments(
            engine, RuleSetVersion
        )
        self._layer_versions: _Fresh[str, str] = _Fresh(maxsize=1024)
        self._delivery_versions: _Fresh[None, DeliveryVersions] = _Fresh(maxsize=1)
        self._sources: LRUCache[str, list[StoredFeature]] = LRUCache(4)
        self._stored_edges: str | None = None
        """The road edges version this process last routed over: stored, unless the layers
        changed since, which a new version says (another version's edges replace them)."""
        self._lock = threading.Lock()

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
        query: FeatureQuery | None = None,
        exact_count_limit: int | None = None,
    ) -> FeaturePage:
        """Saved estimates the reader may see, as features, ordered by id."""
        return self._page(
            Estimate,
            visible.allows(Estimate.owner),
            limit,
            offset,
            bbox,
            query,
            exact_count_limit,
        )

    def estimate_extent(self, visible: Visibility = EVERYONE) -> BBox | None:
        """Bounding box of every saved estimate the reader may see."""
        return self._extent(Estimate, visible.allows(Estimate.owner))

    def estimate_tile(self, tile: TileAddress, visible: Visibility = EVERYONE) -> bytes:
        """The saved estimates the reader may see that meet `tile`, as a vector tile."""
        return self._tile(Estimate, visible.allows(Estimate.owner), tile, "estimates")

    def estimates_version(self, visible: Visibility = EVERYONE) -> str:
        """Changes whenever an estimate the reader may see is saved or deleted."""
        return self._rows_version(Estimate, visible.allows(Estimate.owner))

    # road layers

    def create_layer(
        self,
        layer: PublishedLayer,
        replace: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> LayerInfo:
        """Publish a road layer, chunk by chunk in one transaction: all or none, so a
        feature that cannot be stored leaves the layer it was to replace as it was. Refuses
        to overwrite a layer unless `replace`; `progress` hears how many features each chunk
        stored."""
        from app.io.layers import check_layer_slug

        check_layer_slug(layer.slug)
        if layer.slug in RESERVED_COLLECTIONS or layer.slug.startswith("programme-"):
            raise InvalidInput(
                f"{layer.slug!r} is a reserved collection id (estimates, sources and "
                "programme-{id} are the service's own)",
                field="slug",
            )
        with Session(self.engine) as session:
            existing = session.scalars(sa.select(Layer).where(Layer.slug == layer.slug)).first()
            if existing is not None:
                if not replace:
                    raise InvalidInput(f"a layer named {layer.slug!r} exists already", field="slug")
                session.delete(existing)
                session.flush()
            types = PropertyTypes()
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
            for chunk in layer.chunks():
                if len(chunk):
                    self._insert_features(session, row.id, chunk)
                for properties in chunk.properties:
                    types.add(properties)
                types.add_geometries(chunk.geometries)
                if progress is not None:
                    progress(len(chunk))
            row.queryables = types.queryables().as_json()
            session.commit()
        self._forget_versions()
        if self.engine.dialect.name == "postgresql":
            # Statistics for the planner, and the visibility map that lets counts and deep
            # pages read the (layer_id, id) index alone, without visiting the new rows.
            autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            with autocommit.connect() as connection:
                connection.exec_driver_sql("VACUUM (ANALYZE) layer_features")
        return self.get_layer(layer.slug)

    def _insert_features(self, session: Session, layer_id: int, chunk: LayerFeatures) -> None:
        """Add one chunk of a layer's features: COPY on PostGIS, executemany on SQLite."""
        bounds = shapely.bounds(chunk.geometries).tolist()
        if self.engine.dialect.name != "postgresql":
            rows = [
                {
                    "layer_id": layer_id,
                    "feature_id": feature_id,
                    "properties": props,
                    "geom": geometry,
                    "minx": box[0],
                    "miny": box[1],
                    "maxx": box[2],
                    "maxy": box[3],
                }
                for geometry, props, feature_id, box in zip(
                    chunk.geometries, chunk.properties, chunk.feature_ids, bounds, strict=True
                )
            ]
            session.execute(sa.insert(LayerFeature), rows)
            return
        ewkb = shapely.to_wkb(
            shapely.set_srid(np.asarray(chunk.geometries, dtype=object), SRID),
            hex=True,
            include_srid=True,
        ).tolist()
        copy_sql = (
            "COPY layer_features (layer_id, feature_id, properties, geom, minx, miny, maxx, maxy)"
            " FROM STDIN"
        )
        raw = cast("psycopg.Connection[Any]", session.connection().connection.driver_connection)
        with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for feature_id, props, geometry, box in zip(
                chunk.feature_ids, chunk.properties, ewkb, bounds, strict=True
            ):
                copy.write_row((layer_id, feature_id, json.dumps(props), geometry, *box))

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
        self._forget_versions()
        with Session(self.engine) as session:
            deleted = session.execute(sa.delete(Layer).where(Layer.slug == slug))
            session.commit()
        if cast(sa.CursorResult[Any], deleted).rowcount == 0:
            raise NotFound(f"there is no collection {slug!r}")

    def layer_page(
        self,
        slug: str,
        limit: int,
        offset: int = 0,
        bbox: BBox | None = None,
        query: FeatureQuery | None = None,
        exact_count_limit: int | None = None,
    ) -> FeaturePage:
        """Features of a road layer, ordered by their stored id."""
        with Session(self.engine) as session:
            in_layer = LayerFeature.layer_id == self._layer_id(session, slug)
            return self._page_in(
                session, LayerFeature, in_layer, limit, offset, bbox, query, exact_count_limit
            )

    def layer_tile(self, slug: str, tile: TileAddress) -> bytes:
        """The features of a road layer that meet `tile`, as a vector tile."""
        with Session(self.engine) as session:
            layer_id = self._layer_id(session, slug)
            if self.engine.dialect.name == "postgresql":  # the layer's id known to the planner
                parameters = _tile_parameters(tile, slug) | {"layer_id": layer_id}
                return bytes(session.scalar(_layer_tile(), parameters) or b"")
        return self._tile(LayerFeature, LayerFeature.layer_id == layer_id, tile, slug)

    def layer_version(self, slug: str) -> str:
        """Which publication of a road layer is stored: replacing it makes a new layer row,
        with a new id or (SQLite reuses the id of a deleted last row) a later `created_at`;
        features added to a layer raise its last feature id. One index look-up each, made at
        most every `FRESHNESS_SECONDS` per process (every tile request asks), and at once
        after this process changed a layer."""
        return self._layer_versions.get(slug, lambda: self._read_layer_version(slug))

    def _forget_versions(self) -> None:
        """This process changed a layer or the sources: the next request reads the markers."""
        self._layer_versions.forget()
        self._delivery_versions.forget()

    def _read_layer_version(self, slug: str) -> str:
        last_feature = (
            sa.select(sa.func.max(LayerFeature.id))
            .where(LayerFeature.layer_id == Layer.id)
            .scalar_subquery()
        )
        query = sa.select(Layer.id, Layer.created_at, last_feature).where(Layer.slug == slug)
        with Session(self.engine) as session:
            found = session.execute(query).first()
        if found is None:
            raise NotFound(f"there is no collection {slug!r}")
        layer_id, created_at, last_id = found
        return f"{layer_id}@{created_at}:{last_id}"

    def layer_queryables(self, slug: str) -> Queryables:
        """The properties a road layer can be filtered on, with the JSON type of their
        values, as recorded when it was loaded (or, for a layer loaded before they were
        recorded, read from its features now and recorded)."""
        with Session(self.engine) as session:
            layer = session.scalars(sa.select(Layer).where(Layer.slug == slug)).first()
            if layer is None:
                raise NotFound(f"there is no collection {slug!r}")
            if layer.queryables is not None:
                return Queryables.from_json(layer.queryables)
            found = _read_queryables(session, LayerFeature, LayerFeature.layer_id == layer.id)
            layer.queryables = found.as_json()
            session.commit()
            return found

    def programme_queryables(self, programme_id: int) -> Queryables:
        """The properties the segments of a saved programme can be filtered on, read from
        them (a programme's columns follow its inventory's)."""
        with Session(self.engine) as session:
            where = ProgrammeSegment.programme_id == programme_id
            return _read_queryables(session, ProgrammeSegment, where)

    def queryables(self, collection_id: str) -> Queryables:
        """What a collection (`estimates`, `sources` or a road layer) can be filtered on."""
        if collection_id == "estimates":
            return ESTIMATE_QUERYABLES
        if collection_id == "sources":
            return SOURCE_QUERYABLES
        return self.layer_queryables(collection_id)

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

    # maintenance programmes

    def save_programme(
        self,
        programme: NewProgramme,
        segments: Sequence[tuple[dict[str, Any], shapely.Geometry | None]],
        owner: str | None = None,
    ) -> StoredProgramme:
        """Save a programme and its segments (all or none); return it with its id."""
        values = {name: getattr(programme, name) for name in fieldnames(NewProgramme)}
        row = Programme(**values, owner=owner, created_at=_now())
        with Session(self.engine) as session:
            session.add(row)
            session.flush()
            rows = []
            for properties, geometry in segments:
                box = (
                    _bbox_values(geometry)
                    if geometry is not None and not shapely.is_empty(geometry)
                    else dict.fromkeys(("minx", "miny", "maxx", "maxy"))
                )
                rows.append(
                    {"programme_id": row.id, "properties": properties, "geom": geometry, **box}
                )
            for start in range(0, len(rows), _INSERT_BATCH):
                session.execute(sa.insert(ProgrammeSegment), rows[start : start + _INSERT_BATCH])
            session.commit()
            return self._as_programme(row)

    @staticmethod
    def _as_programme(row: Programme) -> StoredProgramme:
        return _from_row(StoredProgramme, row)

    def get_programme(self, programme_id: int, visible: Visibility = EVERYONE) -> StoredProgramme:
        """A saved programme; `NotFound` when there is none with that id the reader may see."""
        if not _storable_id(programme_id):
            raise NotFound(f"there is no saved programme {programme_id}")
        query = sa.select(Programme).where(
            Programme.id == programme_id, visible.allows(Programme.owner)
        )
        with Session(self.engine) as session:
            row = session.scalars(query).first()
            if row is None:
                raise NotFound(f"there is no saved programme {programme_id}")
            return self._as_programme(row)

    def list_programmes(self, visible: Visibility = EVERYONE) -> list[StoredProgramme]:
        """Saved programmes the reader may see, by id."""
        query = sa.select(Programme).where(visible.allows(Programme.owner)).order_by(Programme.id)
        with Session(self.engine) as session:
            return [self._as_programme(row) for row in session.scalars(query)]

    def delete_programme(self, programme_id: int, visible: Visibility = EVERYONE) -> None:
        """Delete a saved programme and its segments."""
        self.get_programme(programme_id, visible)
        with Session(self.engine) as session:
            session.execute(
                sa.delete(ProgrammeSegment).where(ProgrammeSegment.programme_id == programme_id)
            )
            session.execute(sa.delete(Programme).where(Programme.id == programme_id))
            session.commit()

    def programme_page(
        self,
        programme_id: int,
        limit: int,
        offset: int = 0,
        bbox: BBox | None = None,
        query: FeatureQuery | None = None,
        exact_count_limit: int | None = None,
    ) -> FeaturePage:
        """Segments of a saved programme, in input order."""
        where = ProgrammeSegment.programme_id == programme_id
        return self._page(ProgrammeSegment, where, limit, offset, bbox, query, exact_count_limit)

    def programme_segment(self, programme_id: int, feature_pk: int) -> StoredFeature:
        """One segment of a saved programme by its stored id."""
        page = self._page(
            ProgrammeSegment,
            sa.and_(
                ProgrammeSegment.programme_id == programme_id, ProgrammeSegment.id == feature_pk
            )
            if _storable_id(feature_pk)
            else sa.false(),
            1,
        )
        if not page.features:
            raise NotFound(f"programme {programme_id} has no segment {feature_pk}")
        return page.features[0]

    def programme_tile(self, programme_id: int, tile: TileAddress) -> bytes:
        """The segments of a saved programme that meet `tile`, as a vector tile."""
        where = ProgrammeSegment.programme_id == programme_id
        return self._tile(ProgrammeSegment, where, tile, f"programme-{programme_id}")

    def programme_extent(self, programme_id: int) -> BBox | None:
        """Bounding box of a programme's segments that have geometry."""
        return self._extent(ProgrammeSegment, ProgrammeSegment.programme_id == programme_id)

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
            self._forget_versions()
            return [row.id for row in rows]

    def has_sources(self) -> bool:
        """Whether any material source is stored."""
        with Session(self.engine) as session:
            return session.scalar(sa.select(MaterialSource.id).limit(1)) is not None

    def source_page(
        self,
        limit: int,
        offset: int = 0,
        bbox: BBox | None = None,
        query: FeatureQuery | None = None,
        exact_count_limit: int | None = None,
    ) -> FeaturePage:
        """Material sources in id order, as features."""
        return self._page(MaterialSource, sa.true(), limit, offset, bbox, query, exact_count_limit)

    def source_feature(self, source_id: int) -> StoredFeature:
        """One material source by its id."""
        page = self._page(MaterialSource, MaterialSource.id == source_id, 1)
        if not page.features:
            raise NotFound(f"collection 'sources' has no feature {source_id}")
        return page.features[0]

    def source_extent(self) -> BBox | None:
        """Bounding box of every material source."""
        return self._extent(MaterialSource, sa.true())

    def source_tile(self, tile: TileAddress) -> bytes:
        """The material sources in `tile`, as a vector tile."""
        return self._tile(MaterialSource, sa.true(), tile, "sources")

    def sources_version(self) -> str:
        """Changes whenever a material source is added or removed."""
        return self._rows_version(MaterialSource, sa.true())

    def sources_supplying(self, materials: list[str], version: str) -> list[StoredFeature]:
        """Every source that supplies at least one of `materials` (the table is small: the
        plants and quarries of a city), in id order; all sources are read once per `version`
        (`sources_version`) and kept."""
        with self._lock:
            every = self._sources.get(version)
        if every is None:
            every = self._page(MaterialSource, sa.true(), limit=MAX_STORED_ID).features
            with self._lock:
                self._sources[version] = every
        wanted = set(materials)
        return [
            source
            for source in every
            if wanted.intersection(source.properties.get("materials", []))
        ]

    def delivery_versions(self) -> DeliveryVersions:
        """The road layers, sources and pgRouting a delivery plan would use, as markers read
        over one connection (each checkout of a PostGIS connection costs a ping), at most
        every `FRESHNESS_SECONDS` per process (every estimate asks), and at once after this
        process changed a layer or the sources."""
        return self._delivery_versions.get(None, self._read_delivery_versions)

    def _read_delivery_versions(self) -> DeliveryVersions:
        with self.engine.connect() as connection:
            layers = connection.execute(
                sa.select(Layer.slug, Layer.id, Layer.created_at).order_by(Layer.slug)
            ).all()
            sources = _version_marker(
                connection.execute(_rows_version_query(MaterialSource, sa.true())).one()
            )
            pgrouting = self.engine.dialect.name == "postgresql" and bool(
                connection.exec_driver_sql(PGROUTING_INSTALLED).scalar()
            )
        return DeliveryVersions(
            layers=tuple((slug, int(row_id), str(created)) for slug, row_id, created in layers),
            sources=sources,
            pgrouting=pgrouting,
        )

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

    def visible_field_tests(self, visible: Visibility = EVERYONE) -> list[tuple[int, StoredTest]]:
        """Every field test of the saved estimates `visible` to the reader, superseded ones
        included, with its estimate's id, in the order recorded."""
        with Session(self.engine) as session:
            rows = session.scalars(
                sa.select(FieldTestRecord)
                .join(Estimate, Estimate.id == FieldTestRecord.estimate_id)
                .where(visible.allows(Estimate.owner))
                .order_by(FieldTestRecord.id)
            ).all()
            return [(row.estimate_id, _from_row(StoredTest, row)) for row in rows]

    # routing over the road layers (PostGIS with pgRouting)

    def has_pgrouting(self) -> bool:
        """Whether shortest paths can be solved in the database."""
        if self.engine.dialect.name != "postgresql":
            return False
        with self.engine.connect() as connection:
            return bool(connection.exec_driver_sql(PGROUTING_INSTALLED).scalar())

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
        layers' slugs, ids and dates; other versions are dropped); the `links` of the points
        snapped for one request are added to them in the query. Node ids are shifted by one,
        as pgRouting wants positive ids. Infinity where no path reaches a target.
        """
        ends, lengths = edges
        rows, cols, weights = links
        with Session(self.engine) as session:
            stored = (
                version == self._stored_edges
                or session.execute(
                    sa.text("select 1 from road_edges where version = :v limit 1"), {"v": version}
                ).scalar()
            )
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
        self._stored_edges = version
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
        query: FeatureQuery | None = None,
        exact_count_limit: int | None = None,
    ) -> FeaturePage:
        """Features in the query's order, then id's; with `bbox`, only those whose geometry
        meets it."""
        with Session(self.engine) as session:
            return self._page_in(
                session, model, where, limit, offset, bbox, query, exact_count_limit
            )

    def _page_in(
        self,
        session: Session,
        model: type[FeatureRow],
        where: sa.ColumnElement[bool],
        limit: int,
        offset: int = 0,
        bbox: BBox | None = None,
        query: FeatureQuery | None = None,
        exact_count_limit: int | None = None,
    ) -> FeaturePage:
        """`_page` in an open session. The page's ids are found first, from an index alone
        where one covers the filter ((layer_id, id) for a layer), so a deep page skips index
        entries rather than rows; only the page's own rows are then read, as plain columns
        (no ORM objects), their geometries decoded in one vectorised call. One id past the
        page says whether more follow, so the last page needs no count; no count is made in
        a collection the planner expects to pass `exact_count_limit` rows."""
        from app.store.cql import FeatureQuery

        postgis = self.engine.dialect.name == "postgresql"
        columns: Columns = _Columns(model, postgis)
        chosen: FeatureQuery = query or FeatureQuery()
        collection = where
        where = sa.and_(where, chosen.where(columns))
        order: list[Any] = [*chosen.order_by(columns), model.id]
        if bbox is not None and not postgis:
            ids = self._ids_meeting(session, model, where, bbox, order)
            matched, exact, more = len(ids), True, offset + limit < len(ids)
            on_page = ids[offset : offset + limit]
        else:
            if bbox is not None:
                where = sa.and_(where, _intersects_sql(model, bbox))
            ordered = sa.select(model.id).where(where).order_by(*order)
            on_page = list(session.scalars(ordered.limit(limit + 1).offset(offset)))
            more = len(on_page) > limit
            if not more and (on_page or offset == 0):
                matched, exact = offset + len(on_page), True
            else:
                matched, exact = self._count(session, model, collection, where, exact_count_limit)
            on_page = on_page[:limit]
        feature_id = LayerFeature.feature_id if model is LayerFeature else sa.null()
        found = session.execute(
            sa.select(model.id, feature_id, _wkb(model), model.properties).where(
                model.id.in_(on_page)
            )
        ).all()
        by_id: dict[int, Any] = {row[0]: row for row in found}
        rows = [by_id[pk] for pk in on_page]
        geometries = shapely.from_wkb([row[2] for row in rows])
        features = [
            StoredFeature(id=pk, feature_id=original, geometry=geometry, properties=properties)
            for (pk, original, _, properties), geometry in zip(rows, geometries, strict=True)
        ]
        return FeaturePage(features=features, number_matched=matched, exact=exact, more=more)

    def _count(
        self,
        session: Session,
        model: type[FeatureRow],
        collection: sa.ColumnElement[bool],
        where: sa.ColumnElement[bool],
        exact_count_limit: int | None,
    ) -> tuple[int, bool]:
        """(rows matching `where`, True); or on PostGIS, when the planner expects the whole
        `collection` to pass `exact_count_limit` rows, (its estimate of the matches, False).
        The collection's size decides, not the matches': a filter on properties is tested
        on every row of it, however few rows it keeps."""
        if (
            exact_count_limit is not None
            and self.engine.dialect.name == "postgresql"
            and self._estimated_rows(session, model, collection) > exact_count_limit
        ):
            return self._estimated_rows(session, model, where), False
        count = sa.select(sa.func.count()).select_from(model).where(where)
        return session.scalar(count) or 0, True

    def _estimated_rows(
        self, session: Session, model: type[FeatureRow], where: sa.ColumnElement[bool]
    ) -> int:
        """PostGIS: the planner's estimate of the rows matching `where`."""
        statement = sa.select(model.id).where(where).compile(dialect=self.engine.dialect)
        plan = cast(
            list[dict[str, Any]],
            session.connection()
            .exec_driver_sql(f"explain (format json) {statement}", statement.params)
            .scalar(),
        )
        return int(plan[0]["Plan"]["Plan Rows"])

    @staticmethod
    def _meeting(
        session: Session,
        model: type[FeatureRow],
        where: sa.ColumnElement[bool],
        bbox: BBox,
        *columns: QueryableAttribute[Any],
        order: Sequence[Any] = (),
    ) -> list[tuple[int, shapely.Geometry, tuple[Any, ...]]]:
        """SQLite: id, geometry and `columns` of the rows whose geometry meets `bbox`, in
        `order` (by id unless given). The bbox columns pick the candidates in SQL; Shapely then
        drops those that only come near the box."""
        query = sa.select(model.id, _wkb(model), *columns).where(
            where, _bbox_columns_meet(model, bbox)
        )
        candidates = session.execute(query.order_by(*(order or [model.id]))).all()
        if not candidates:
            return []
        geometries = shapely.from_wkb([row[1] for row in candidates])
        meets = shapely.intersects(geometries, _bbox_shape(bbox))
        return [
            (row[0], geometry, tuple(row[2:]))
            for row, geometry, hit in zip(candidates, geometries, meets.tolist(), strict=True)
            if hit
        ]

    def _ids_meeting(
        self,
        session: Session,
        model: type[FeatureRow],
        where: sa.ColumnElement[bool],
        bbox: BBox,
        order: Sequence[Any],
    ) -> list[int]:
        """SQLite: ids of the rows whose geometry meets `bbox`, in `order`."""
        found = self._meeting(session, model, where, bbox, order=order)
        return [pk for pk, _geometry, _columns in found]

    def _tile(
        self, model: type[FeatureRow], where: sa.ColumnElement[bool], tile: TileAddress, layer: str
    ) -> bytes:
        """The rows that meet `tile` as one MVT layer; empty bytes when none does. PostGIS
        makes the tile itself; on SQLite the bbox columns pick candidates, Shapely keeps those
        that really meet the tile, and `app.io.mvt` encodes them."""
        with Session(self.engine) as session:
            if self.engine.dialect.name == "postgresql":
                query = sa.select(_mvt_sql(model, where))
                return bytes(session.scalar(query, _tile_parameters(tile, layer)) or b"")
            found = self._meeting(session, model, where, tile.lonlat_bounds, model.properties)
        from app.io.mvt import TileFeature, encode_tile

        features = [
            TileFeature(id=pk, geometry=geometry, properties=properties)
            for pk, geometry, (properties,) in found
        ]
        return encode_tile(layer, features, tile)

    def _rows_version(
        self, model: type[Estimate] | type[MaterialSource], where: sa.ColumnElement[bool]
    ) -> str:
        """A cheap marker of a table's rows, for rows that are only ever added or deleted: a
        delete lowers the count, an insert raises the last id, and one of each (even when
        SQLite gives the new row a deleted row's id) moves the last `created_at`."""
        with Session(self.engine) as session:
            return _version_marker(session.execute(_rows_version_query(model, where)).one())

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

    def store_job_result(
        self, job_id: str, source: BinaryIO, chunk_bytes: int = RESULT_CHUNK_BYTES
    ) -> int:
        """Keep a job's result in the store, read from `source` one chunk at a time and
        written in one transaction (all of it or none); its size in bytes."""
        size, seq = 0, 0
        with self.engine.begin() as connection:
            connection.execute(sa.delete(JobResultChunk).where(JobResultChunk.job_id == job_id))
            insert = sa.insert(JobResultChunk)
            while data := source.read(chunk_bytes):
                connection.execute(insert, {"job_id": job_id, "seq": seq, "data": data})
                size, seq = size + len(data), seq + 1
            if seq == 0:  # an empty result is still a result
                connection.execute(insert, {"job_id": job_id, "seq": 0, "data": b""})
        return size

    def job_result_size(self, job_id: str) -> int | None:
        """Bytes of a job's result kept in the store; None when it is not kept there."""
        query = sa.select(sa.func.count(), sa.func.sum(sa.func.length(JobResultChunk.data)))
        with self.engine.connect() as connection:
            pieces, size = connection.execute(query.where(JobResultChunk.job_id == job_id)).one()
        return int(cast(int, size) or 0) if pieces else None

    def job_result_chunks(self, job_id: str) -> Iterator[bytes]:
        """A kept result, piece by piece, each read with a query of its own: no connection
        is held while a slow client takes its time."""
        query = sa.select(JobResultChunk.data).where(JobResultChunk.job_id == job_id)
        for seq in itertools.count():
            with self.engine.connect() as connection:
                data = connection.execute(query.where(JobResultChunk.seq == seq)).scalar()
            if data is None:
                return
            yield bytes(data)

    def count_jobs(self) -> dict[str, int]:
        """How many jobs are in each state (every state named, zero where none is)."""
        query = sa.select(Job.status, sa.func.count()).group_by(Job.status)
        with self.engine.connect() as connection:
            counts = {str(status): int(count) for status, count in connection.execute(query)}
        return {state: counts.get(state, 0) for state in JOB_STATES}

    @staticmethod
    def _as_job(row: Job) -> StoredJob:
        return StoredJob(**{name: getattr(row, name) for name in StoredJob.__dataclass_fields__})


def _rows_version_query(
    model: type[Estimate] | type[MaterialSource], where: sa.ColumnElement[bool]
) -> sa.Select[int, int, datetime]:
    return sa.select(sa.func.count(), sa.func.max(model.id), sa.func.max(model.created_at)).where(
        where
    )


def _version_marker(row: sa.Row[int, int, datetime]) -> str:
    count, last_id, last_created = row
    return f"{count}:{last_id}:{last_created}"
