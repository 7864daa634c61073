"""The options of one estimate as the API takes them: the query string of `POST /estimates`
and the inputs of the OGC process both extend `EstimateArguments`, so each option is declared
(and bounded) once and made into the service's `EstimateQuery` one way."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from app.estimate.ahsp import MAX_HAUL_KM
from app.geo.validate import MAX_WIDTH_M
from app.service import EstimateQuery
from app.settings import Settings


class EstimateArguments(BaseModel):
    """How to estimate: template, catalog, width, CRS, overlaps and haul distance."""

    template: Annotated[str | None, Field(description="Template id (or id@version).")] = None
    catalog: Annotated[str | None, Field(description="Rate catalog id or id@version.")] = None
    width_m: Annotated[
        float | None, Field(gt=0, le=MAX_WIDTH_M, description="Road width, metres.")
    ] = None
    crs: Annotated[
        str | None, Field(description="CRS of the body's coordinates, e.g. EPSG:32748.")
    ] = None
    dissolve: Annotated[
        bool, Field(description="Pave overlapping parts of features only once.")
    ] = False
    haul_km: Annotated[
        float | None,
        Field(
            ge=0,
            le=MAX_HAUL_KM,
            description="Average haul distance L (km) from base camp or plant to site for "
            "analysed hauled items (default: the delivery plan's distance to the nearest "
            "source, else the catalog's); a feature's `haul_km` wins.",
        ),
    ] = None

    def query(self, settings: Settings, **more: Any) -> EstimateQuery:
        """The service's query: these options, the configured defaults where no template or
        catalog is named, and `more` (options only some routes take)."""
        return EstimateQuery.with_defaults(
            settings,
            self.template,
            self.catalog,
            width_m=self.width_m,
            crs=self.crs,
            dissolve=self.dissolve,
            haul_km=self.haul_km,
            **more,
        )
