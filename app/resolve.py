"""Turn the template and catalog names of a request into stored, validated versions.

A reference is `slug` (the newest version) or `slug@N` (version N, to reproduce an estimate).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from app.errors import InvalidInput, NotFound, UnknownCatalog, UnknownTemplate
from app.estimate.catalogs import RateCatalog
from app.estimate.templates import Template
from app.store.repository import Repository


def split_reference(reference: str, field: str) -> tuple[str, int | None]:
    """`"slug@3"` -> `("slug", 3)`; `"slug"` -> `("slug", None)`."""
    slug, _, version = reference.strip().partition("@")
    if not version:
        return slug, None
    if not version.isdigit() or int(version) < 1:
        raise InvalidInput(
            f"{reference!r} is not 'id' or 'id@version' (version a whole number >= 1)",
            field=field,
        )
    return slug, int(version)


def resolve_catalog(repository: Repository, reference: str) -> RateCatalog:
    """The catalog a request names; `UnknownCatalog` lists the known ones."""
    slug, version = split_reference(reference, "catalog")
    try:
        stored = repository.catalogs.get(slug, version)
    except NotFound as exc:
        known = ", ".join(d.slug for d in repository.catalogs.latest_all()) or "none"
        raise UnknownCatalog(f"{exc.detail}; known catalogs: {known}", field="catalog") from exc
    return RateCatalog.model_validate({**stored.body, "version": stored.version})


def resolve_templates(
    repository: Repository, references: Iterable[str], pins: Mapping[str, int] | None = None
) -> dict[str, Template]:
    """The templates a request names, keyed by the reference as written.

    `pins` fixes the version of references that name none (to reproduce a saved estimate).
    """
    resolved: dict[str, Template] = {}
    pinned: dict[str, int] = {}
    for reference in sorted(set(references)):
        slug, version = split_reference(reference, "template")
        if version is None and pins:
            version = pins.get(slug)
        try:
            stored = repository.templates.get(slug, version)
        except NotFound as exc:
            known = ", ".join(d.slug for d in repository.templates.latest_all()) or "none"
            raise UnknownTemplate(
                f"{exc.detail}; known templates: {known}", field="template"
            ) from exc
        if pinned.setdefault(slug, stored.version) != stored.version:
            raise InvalidInput(
                f"one estimate cannot use two versions of template {slug!r}", field="template"
            )
        resolved[reference] = Template.model_validate({**stored.body, "version": stored.version})
    return resolved
