"""Shipped templates, catalogs, rule sets, the sample road layer and material sources, put into
a store.

A shipped document is added when the store lacks it, and updated when a newer release ships
a different body, unless someone has since saved their own version: user edits always win.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel

from app import __version__
from app.estimate.catalogs import load_builtin_catalogs
from app.estimate.templates import load_builtin_templates
from app.programme.rules import load_builtin_rule_sets
from app.store.repository import Repository, VersionedDocuments, content_hash

SHIPPED_NOTE = "shipped with Takeoff"
SAMPLE_LAYER = ("sample_layers/tangerang_roads.geojson", "roads", "Roads of Kota Tangerang")
SAMPLE_SOURCES = "sources/tangerang_sources.geojson"
"""Illustrative material sources, loaded into a store that has none."""


def _sync_documents(documents: VersionedDocuments, shipped: Mapping[str, BaseModel]) -> None:
    """Add each shipped document the store lacks, or has an older shipped body of; the
    newest versions are read in one query, so an up-to-date store costs no more."""
    latest = documents.latest_notes()
    for slug, document in shipped.items():
        note, digest = latest.get(slug, (SHIPPED_NOTE, None))
        if not (note or "").startswith(SHIPPED_NOTE):
            continue  # someone's own version: it wins
        body = document.model_dump(mode="json", exclude={"version"})
        if digest != content_hash(body):
            documents.add(slug, body, note=f"{SHIPPED_NOTE} {__version__}")


def sync_builtin_data(repository: Repository, data_dir: Path) -> None:
    """Make sure the shipped templates, catalogs and sample layer are in the store, and the
    sample material sources in a store without any."""
    _sync_documents(repository.templates, load_builtin_templates(data_dir / "templates"))
    _sync_documents(repository.catalogs, load_builtin_catalogs(data_dir / "catalogs"))
    _sync_documents(repository.rule_sets, load_builtin_rule_sets(data_dir / "rules"))
    relative, slug, title = SAMPLE_LAYER
    if slug not in repository.layer_slugs():
        from app.io.layers import read_layer  # GeoJSON readers: needed on a first run only

        repository.create_layer(read_layer(data_dir / relative, slug=slug, title=title))
    if not repository.has_sources():
        from app.io.material_sources import read_sources

        repository.add_sources(read_sources(data_dir / SAMPLE_SOURCES))
