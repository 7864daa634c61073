"""Templates, rate catalogs and treatment rule sets over HTTP: open reads, writes with an
API key.

All are versioned documents with the same routes, so one factory builds their routers.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from pydantic import BaseModel

from app.estimate.catalogs import RateCatalog
from app.estimate.templates import Template
from app.io.pricelist import save_price_list
from app.programme.rules import RuleSet
from app.routes.deps import RepositoryDep, WriteAccess
from app.routes.errors import problems
from app.store.repository import DocumentVersion, Repository, VersionedDocuments


class VersionInfo(BaseModel):
    """Provenance of one stored version."""

    version: int
    created_at: datetime
    note: str | None


class DocumentSummary(VersionInfo):
    """A document in a listing: its id, newest version and name."""

    id: str
    name: dict[str, str]
    href: str


def _body(document: DocumentVersion) -> dict[str, Any]:
    return {**document.body, "version": document.version}


def _catalog_body(document: DocumentVersion) -> dict[str, Any]:
    """A catalog as stored, with each analysis worked out at the catalog's haul distance
    (lines, coefficient x basic price = amount, totals, HSP) under `analysis_results`."""
    body = _body(document)
    if not body.get("analyses"):
        return body
    catalog = RateCatalog.model_validate(body)
    results = {code: catalog.costing(code).to_dict() for code in catalog.analyses}
    return {**body, "analysis_results": results}


def document_router(
    kind: str,
    model: type[Template] | type[RateCatalog] | type[RuleSet],
    documents: Callable[[Repository], VersionedDocuments[Any]],
    view: Callable[[DocumentVersion], dict[str, Any]] = _body,
) -> APIRouter:
    """Routes for one kind of versioned document (`templates`, `catalogs`, `rule-sets`)."""
    router = APIRouter(prefix=f"/{kind}", tags=[kind], responses=problems(503))
    name = kind.replace("-", "_")

    @router.get("", summary=f"Newest version of every {kind[:-1]}")
    def list_documents(request: Request, repository: RepositoryDep) -> list[DocumentSummary]:
        return [
            DocumentSummary(
                id=document.slug,
                version=document.version,
                created_at=document.created_at,
                note=document.note,
                name=document.body.get("name", {}),
                href=str(request.url_for(f"get_{name}", slug=document.slug)),
            )
            for document in documents(repository).latest_all()
        ]

    @router.get("/{slug}", name=f"get_{name}", summary=f"Newest version of one {kind[:-1]}")
    def get_document(slug: str, repository: RepositoryDep) -> dict[str, Any]:
        return view(documents(repository).get(slug))

    @router.get("/{slug}/versions", summary="Every version, oldest first")
    def list_versions(slug: str, repository: RepositoryDep) -> list[VersionInfo]:
        return [
            VersionInfo(version=d.version, created_at=d.created_at, note=d.note)
            for d in documents(repository).versions(slug)
        ]

    @router.get("/{slug}/versions/{version}", summary="One version, as it was")
    def get_version(slug: str, version: int, repository: RepositoryDep) -> dict[str, Any]:
        return view(documents(repository).get(slug, version))

    @router.post(
        "",
        status_code=201,
        dependencies=[WriteAccess],
        responses=problems(409),
        summary=f"Save a new version of a {kind[:-1]} (needs an API key)",
    )
    def add_version(
        document: model,  # type: ignore[valid-type]
        request: Request,
        response: Response,
        repository: RepositoryDep,
        note: str | None = None,
    ) -> dict[str, Any]:
        validated: Template | RateCatalog | RuleSet = document
        body = validated.model_dump(mode="json", exclude={"version"})
        saved = documents(repository).add(validated.slug, body, note=note)
        url = request.url_for(f"get_{name}", slug=saved.slug)
        response.headers["Location"] = f"{url}/versions/{saved.version}"
        return _body(saved)

    return router


templates_router = document_router("templates", Template, lambda repository: repository.templates)
catalogs_router = document_router(
    "catalogs", RateCatalog, lambda repository: repository.catalogs, _catalog_body
)
rule_sets_router = document_router("rule-sets", RuleSet, lambda repository: repository.rule_sets)


@catalogs_router.post(
    "/import",
    status_code=201,
    dependencies=[WriteAccess],
    summary="Import a city's price list (HSPK / SSH, XLSX or CSV) as a new catalog version",
)
def import_catalog(
    request: Request,
    response: Response,
    repository: RepositoryDep,
    file: Annotated[UploadFile, File(description="The price list, XLSX or CSV.")],
    crosswalk: Annotated[UploadFile, File(description="CSV item_code,list_code.")],
    slug: Annotated[str, Form(description="Catalog id of the new version.")],
    base: Annotated[str | None, Form(description="Catalog it starts from (default: slug).")] = None,
    columns: Annotated[
        str | None, Form(description="code=...,description=...,unit=...,price=...")
    ] = None,
    decimal: Annotated[str, Form(description="Decimal mark of prices written as text.")] = ",",
) -> dict[str, Any]:
    """Nothing is saved when a row the crosswalk needs is missing or unreadable: the answer
    (422) lists every such row and why."""
    imported, version = save_price_list(
        repository,
        file.file.read(),
        file.filename or "price list",
        crosswalk.file.read(),
        slug=slug,
        base=base,
        columns=columns,
        decimal=decimal,
    )
    url = request.url_for("get_catalogs", slug=slug)
    response.headers["Location"] = f"{url}/versions/{version}"
    return {
        "id": slug,
        "version": version,
        "items": imported.items,
        "basic_prices": imported.basic_prices,
        "added_basic_prices": imported.added,
        "unreadable_rows": imported.unused_problems,
    }
