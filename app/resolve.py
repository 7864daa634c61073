"""Turn the template and catalog names of a request into stored, validated versions.

A reference is `slug` (the newest version) or `slug@N` (version N, to reproduce an estimate).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from app.errors import (
    InvalidInput,
    NotFound,
    UnknownCatalog,
    UnknownRuleSet,
    UnknownTemplate,
)
from app.estimate.catalogs import RateCatalog
from app.estimate.overrides import Overrides
from app.estimate.templates import Template
from app.programme.rules import RuleSet
from app.store.repository import Repository, VersionedDocuments


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


Model = TypeVar("Model", Template, RateCatalog, RuleSet)

_validated: dict[tuple[str, str, int, str], Template | RateCatalog | RuleSet] = {}
_CACHE_SIZE = 256


def _load(
    documents: VersionedDocuments[Any], slug: str, version: int | None, model: type[Model]
) -> Model:
    """A stored version as a validated model.

    Versions never change once written, so a model validated once is kept (keyed by its
    content hash too, in case a store is rebuilt); only a cheap (version, hash) query runs.
    """
    number, digest = documents.head(slug, version)
    key = (documents.kind, slug, number, digest)
    cached = _validated.get(key)
    if isinstance(cached, model):
        return cached
    stored = documents.get(slug, number)
    loaded = model.model_validate({**stored.body, "version": stored.version})
    if len(_validated) >= _CACHE_SIZE:
        _validated.pop(next(iter(_validated)))
    _validated[key] = loaded
    return loaded


def resolve_catalog(repository: Repository, reference: str) -> RateCatalog:
    """The catalog a request names; `UnknownCatalog` lists the known ones."""
    slug, version = split_reference(reference, "catalog")
    return _known(repository.catalogs, slug, version, RateCatalog, UnknownCatalog, "catalog")


def resolve_rule_set(repository: Repository, reference: str) -> RuleSet:
    """The treatment rule set a request names; `UnknownRuleSet` lists the known ones."""
    slug, version = split_reference(reference, "rules")
    return _known(repository.rule_sets, slug, version, RuleSet, UnknownRuleSet, "rules")


_KNOWN = {"template": "templates", "catalog": "catalogs", "rules": "rule sets"}


def _known(
    documents: VersionedDocuments[Any],
    slug: str,
    version: int | None,
    model: type[Model],
    unknown: type[InvalidInput],
    field: str,
) -> Model:
    """`_load`, or `unknown` naming `field` and listing the ids the store knows."""
    try:
        return _load(documents, slug, version, model)
    except NotFound as exc:
        known = ", ".join(d.slug for d in documents.latest_all()) or "none"
        raise unknown(f"{exc.detail}; known {_KNOWN[field]}: {known}", field=field) from exc


def haul_overrides(haul_km: float | None, overrides: Overrides | None = None) -> Overrides:
    """Request-level overrides with the haul distance a query or command line gives (it wins
    over one in the body's overrides)."""
    overrides = overrides or Overrides()
    if haul_km is None:
        return overrides
    return overrides.model_copy(update={"haul_km": Decimal(str(haul_km))})


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
        template = _known(
            repository.templates, slug, version, Template, UnknownTemplate, "template"
        )
        if pinned.setdefault(slug, template.version or 0) != template.version:
            raise InvalidInput(
                f"one estimate cannot use two versions of template {slug!r}", field="template"
            )
        resolved[reference] = template
    return resolved


def item_codes(repository: Repository, references: list[str], every_template: bool) -> list[str]:
    """The items given a column of per-row quantities and amounts, in order: those of every
    template the rows may use (`every_template`: rows name their own, so any stored one)."""
    if every_template:
        references = references + [doc.slug for doc in repository.templates.latest_all()]
    codes: list[str] = []
    for reference in dict.fromkeys(references):
        try:
            template = resolve_templates(repository, [reference])[reference]
        except InvalidInput:
            continue  # reported on the rows that name it
        codes.extend(item.code for item in template.items)
    return list(dict.fromkeys(codes))
