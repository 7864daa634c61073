"""Media types and response classes, so a content type is never spelled twice or wrong."""

from __future__ import annotations

from enum import StrEnum

from fastapi.responses import JSONResponse


class MediaType(StrEnum):
    """The media types the service answers with."""

    json = "application/json"
    geojson = "application/geo+json"
    openapi30_json = "application/vnd.oai.openapi+json;version=3.0"
    html = "text/html"


class GeoJSONResponse(JSONResponse):
    """GeoJSON (RFC 7946): GDAL refuses items served under another content type."""

    media_type = MediaType.geojson.value


class OpenAPIResponse(JSONResponse):
    """The OpenAPI document, typed as QGIS prefers for a landing page's `service-desc`."""

    media_type = MediaType.openapi30_json.value
