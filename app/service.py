"""Estimates against the store: parse, resolve templates and catalog, run, save, re-run.

The pure pipeline (`app.pipeline`) knows nothing of the store; this module feeds it the
stored versions a request names and records what a saved estimate needs to be reproduced:
the original body, the options, and the exact template and catalog versions used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
import sqlalchemy as sa

from app.errors import TooLarge
from app.estimate.bom import quantity_column
from app.estimate.catalogs import RateCatalog, priced_catalog
from app.estimate.grand_total import Language
from app.estimate.materials import Haul, with_delivery_overrides
from app.estimate.templates import Template
from app.geo.network import Edges, RoadNetwork, ShortestPaths, cached_network
from app.geo.parse import ParsedFeatures, parse_geojson
from app.geo.routing import nearest_hauls, site_point
from app.geo.validate import validate
from app.io.rows import money_number
from app.pipeline import (
    EstimateOptions,
    EstimateResult,
    estimate_features,
    plan_features,
    read_overrides,
)
from app.resolve import haul_overrides, resolve_catalog, resolve_templates
from app.settings import Settings
from app.store.database import outage
from app.store.repository import (
    EVERYONE,
    MAX_STORED_ID,
    DeliveryVersions,
    NewEstimate,
    Repository,
    StoredEstimate,
    Visibility,
)

HAULS_UNAVAILABLE = (
    "nearest sources and haul distances are left out: the database cannot be reached just now"
)
DELIVERY_OVERRIDES = ("vehicles", "daily_output")
"""Request overrides of the material view only (`app.estimate.materials`), not of the bill."""


@dataclass(frozen=True)
class EstimateQuery:
    """The request-level options of an estimate, as given (catalog may be `id@version`)."""

    template: str
    catalog: str
    width_m: float | None = None
    crs: str | None = None
    dissolve: bool = False
    project_items: bool = True
    lang: Language = "en"
    haul_km: float | None = None

    @classmethod
    def with_defaults(
        cls, settings: Settings, template: str | None, catalog: str | None, **options: Any
    ) -> EstimateQuery:
        """The query with the configured default template and catalog where none is named."""
        return cls(
            template=template or settings.estimate.default_template,
            catalog=catalog or settings.estimate.default_catalog,
            **options,
        )


@dataclass(frozen=True)
class EstimateRun:
    """A finished estimate with the template and catalog versions it was priced with."""

    result: EstimateResult
    templates: list[Template]
    catalog: RateCatalog
    hauls: dict[str, Haul] | None = None
    """Each material's nearest source and haul distance (None: no delivery plan was made)."""


def run_estimate(
    repository: Repository,
    settings: Settings,
    body: dict[str, Any],
    query: EstimateQuery,
    pins: dict[str, int] | None = None,
    hauls: Mapping[str, Haul] | None = None,
) -> EstimateRun:
    """Estimate a GeoJSON body with the stored templates and catalog the query names.

    The delivery plan's haul distances price the hauled items where the request sets no L;
    `hauls` are those a saved estimate was made with (None: route to the sources now).
    """
    features = parse_geojson(body, crs=query.crs)
    if len(features.properties) > settings.limits.max_features:
        raise TooLarge(
            f"{len(features.properties)} features in one request; the limit is "
            f"{settings.limits.max_features} (send larger batches to POST /batch)"
        )
    vertices = int(shapely.get_num_coordinates(features.geometries).sum())
    if vertices > settings.limits.max_request_vertices:
        raise TooLarge(
            f"{vertices:,} vertices in one request; the limit is "
            f"{settings.limits.max_request_vertices:,} (send larger batches to POST /batch)"
        )
    validate(features, max_vertices=settings.limits.max_vertices)
    given = body.get("overrides") or {}
    delivery = {}
    if isinstance(given, dict):
        delivery = {key: given[key] for key in DELIVERY_OVERRIDES if key in given}
        given = {key: value for key, value in given.items() if key not in DELIVERY_OVERRIDES}
    options = EstimateOptions(
        template=query.template,
        catalog=query.catalog,
        width_m=query.width_m,
        dissolve=query.dissolve,
        project_items=query.project_items,
        lang=query.lang,
        overrides=haul_overrides(query.haul_km, read_overrides(given, prefix=("overrides",))),
        max_overlap_checks=settings.limits.max_overlap_checks,
        max_dissolve_pairs=settings.limits.max_dissolve_pairs,
    )
    plan = plan_features(features, options)
    templates = resolve_templates(repository, plan.templates, pins)
    catalog = with_delivery_overrides(resolve_catalog(repository, query.catalog), delivery)
    unreachable = []
    try:
        routed = (
            dict(hauls)
            if hauls is not None
            else delivery_hauls(repository, features, templates, catalog)
        )
    except sa.exc.SQLAlchemyError as exc:
        if not outage(exc):
            raise
        routed, unreachable = None, [HAULS_UNAVAILABLE]
    catalog = priced_catalog(
        catalog,
        options.overrides.haul_km,
        None if routed is None else {code: haul.length for code, haul in routed.items()},
    )
    result = estimate_features(features, plan, options, templates, catalog, routed)
    if unreachable:
        result = replace(result, warnings=[*result.warnings, *unreachable])
    used = list({template.slug: template for template in templates.values()}.values())
    return EstimateRun(result=result, templates=used, catalog=catalog, hauls=routed)


def delivery_hauls(
    repository: Repository,
    features: ParsedFeatures,
    templates: Mapping[str, Template],
    catalog: RateCatalog,
) -> dict[str, Haul] | None:
    """Each material the templates may deliver, with its nearest source and haul distance
    (`app.geo.routing`); None where the catalog makes no delivery plan."""
    section = catalog.vehicles
    if section is None or not len(features.geometries):
        return None
    used = {item.code for template in templates.values() for item in template.items}
    codes = [code for code in section.materials if code in used]
    if not codes:
        return None
    versions = repository.delivery_versions()
    return nearest_hauls(
        site_point(features.geometries),
        codes,
        repository.sources_supplying(codes, versions.sources),
        section.detour_factor,
        *road_network(repository, versions),
    )


def road_network(
    repository: Repository, versions: DeliveryVersions
) -> tuple[RoadNetwork | None, ShortestPaths | None]:
    """The published road layers as one network, built once per version of the layers, and
    the database's shortest-path solver where it has one (pgRouting on PostGIS)."""
    version = versions.layers

    def geometries() -> list[shapely.Geometry]:
        return [
            feature.geometry
            for slug, _, _ in version
            for feature in repository.layer_page(slug, limit=MAX_STORED_ID).features
        ]

    network = cached_network((repository.address, version), geometries)
    if network is None or not versions.pgrouting:
        return network, None
    digest = hashlib.sha256(repr(version).encode()).hexdigest()

    def in_database(
        network: RoadNetwork, links: Edges, origin: int, targets: npt.NDArray[np.intp]
    ) -> npt.NDArray[np.float64]:
        return repository.pgrouting_distances(
            digest,
            (network.ends, network.lengths_m),
            (links.rows, links.cols, links.weights_m),
            origin,
            targets,
        )

    return network, in_database


def surface_geometry(result: EstimateResult) -> shapely.Geometry:
    """The paved surface as one MultiPolygon: polygons as drawn, lines as their footprints."""
    parts = shapely.get_parts(result.surfaces)
    return shapely.multipolygons(parts[shapely.get_type_id(parts) == 3])


def summary_properties(run: EstimateRun) -> dict[str, Any]:
    """Flat properties of a saved estimate as one feature of the `estimates` collection."""
    bill = run.result.bill
    properties: dict[str, Any] = {
        "name": next((name for name in run.result.plan.names if name), None),
        "features": len(bill),
        "templates": ", ".join(template.slug for template in run.templates),
        "catalog": run.catalog.slug,
        "catalog_version": run.catalog.version,
        "currency": run.catalog.currency,
        "length_m": bill.totals.length_m,
        "area_m2": bill.totals.area_m2,
    }
    for line in bill.items:
        column = quantity_column(line.code, line.unit)
        properties[column] = properties.get(column, 0.0) + line.quantity
    totals = bill.totals
    money = {
        "subtotal": totals.subtotal,
        "overhead_profit": totals.overhead_profit,
        "tax": totals.tax,
        "total": totals.total,
    }
    properties.update({name: money_number(amount) for name, amount in money.items()})
    return properties


def save_estimate(
    repository: Repository,
    run: EstimateRun,
    body: dict[str, Any],
    query: EstimateQuery,
    owner: str | None = None,
    supersedes: int | None = None,
    visible: Visibility = EVERYONE,
) -> StoredEstimate:
    """Keep the estimate with everything needed to make it again, byte for byte.

    `owner` is the digest of the API key it was saved with (None without one); with
    `supersedes` it is the next version of that saved estimate (one `visible` to the caller).
    """
    pinned = EstimateQuery(
        **{**asdict(query), "catalog": f"{run.catalog.slug}@{run.catalog.version}"}
    )
    properties = summary_properties(run)
    return repository.save_estimate(
        NewEstimate(
            name=properties["name"],
            geometry=surface_geometry(run.result),
            request={
                "body": body,
                "query": asdict(pinned),
                "template_versions": {t.slug: t.version for t in run.templates},
                **pinned_hauls(run.hauls),
            },
            result=run.result.to_dict(),
            properties=properties,
            template_slug=run.templates[0].slug,
            template_version=run.templates[0].version or 0,
            catalog_slug=run.catalog.slug,
            catalog_version=run.catalog.version or 0,
            currency=run.catalog.currency,
            total=run.result.bill.totals.total,
        ),
        owner=owner,
        supersedes=supersedes,
        visible=visible,
    )


def pinned_hauls(hauls: Mapping[str, Haul] | None) -> dict[str, Any]:
    """The request entry that keeps the sources and haul distances an estimate was made with:
    new sources or roads must not change its prices when it is made again."""
    if hauls is None:
        return {}
    return {"hauls": {code: asdict(haul) for code, haul in hauls.items()}}


def rerun_saved(repository: Repository, settings: Settings, saved: StoredEstimate) -> EstimateRun:
    """The saved estimate made again with the template and catalog versions and the haul
    distances it used."""
    request = saved.request
    hauls = request.get("hauls")
    return run_estimate(
        repository,
        settings,
        request["body"],
        EstimateQuery(**request["query"]),
        pins=request["template_versions"],
        hauls=None if hauls is None else {code: Haul(**haul) for code, haul in hauls.items()},
    )
