"""Templates and catalogs: shipped data loads, carries its sources, and round-trips exactly."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.errors import ConfigurationError
from app.estimate.catalogs import RateCatalog, load_builtin_catalogs
from app.estimate.localized import LocalizedText
from app.estimate.templates import Template, load_builtin_templates
from app.estimate.units import Basis, canonical_unit

SHIPPED_TEMPLATES = {
    "arterial-flexible",
    "neighbourhood-rigid",
    "neighbourhood-paving",
    "local-flexible",
    "collector-flexible",
    "collector-rigid",
    "asphalt-overlay",
    "patching",
    "crack-sealing",
    "overlay-levelling",
    "mill-overlay",
    "paving-relay",
    "slab-replacement",
    "joint-sealing",
}


def test_shipped_templates_and_catalogs_are_present(templates, catalogs):
    assert set(templates) == SHIPPED_TEMPLATES
    assert set(catalogs) == {"tangerang-sample", "tangerang-ahsp-sample", "example-eur"}
    for slug, template in templates.items():
        assert template.slug == slug
        assert template.version is None


def test_models_round_trip_exactly_through_json(templates, catalogs):
    for model in [*templates.values(), *catalogs.values()]:
        dumped = model.model_dump(mode="json")
        again = type(model).model_validate(json.loads(json.dumps(dumped)))
        assert again == model
        assert again.model_dump(mode="json") == dumped


def test_store_can_stamp_a_version(templates, catalogs):
    stamped = catalogs["tangerang-sample"].model_copy(update={"version": 3})
    assert RateCatalog.model_validate(stamped.model_dump(mode="json")).version == 3
    stamped_template = templates["local-flexible"].model_copy(update={"version": 7})
    assert Template.model_validate(stamped_template.model_dump(mode="json")).version == 7


def test_rates_are_decimal_strings_in_json(catalogs):
    item = catalogs["example-eur"].items["AC-WC"]
    assert item.rate == Decimal("92.50")
    assert catalogs["example-eur"].model_dump(mode="json")["items"]["AC-WC"]["rate"] == "92.50"


def test_tangerang_sample_is_labelled_and_vat_is_effective_11(catalogs):
    catalog = catalogs["tangerang-sample"]
    assert catalog.currency == "IDR"
    assert catalog.currency_exponent == 0
    assert catalog.vat_pct == Decimal("11")
    assert catalog.overhead_profit_pct == Decimal("0")
    assert "11/12" in catalog.sources["vat_pct"]
    for slug in ("tangerang-sample", "example-eur"):
        assert catalogs[slug].label == "indicative sample, not an official price list"


def test_every_shipped_parameter_cites_a_tagged_source(templates, catalogs):
    for template in templates.values():
        assert "default_width_m" in template.sources
        for item in template.items:
            assert item.sourced_parameters() <= item.sources.keys()
            assert all("[S]" in s or "[I]" in s for s in item.sources.values())
    for catalog in catalogs.values():
        for rate_item in catalog.items.values():
            assert "[S]" in rate_item.source or "[I]" in rate_item.source


def test_base_layers_of_flexible_roads_are_wider_than_the_surface(templates):
    layers = {layer.code: layer for layer in templates["collector-flexible"].layers}
    assert layers["LPB"].extra_width_m > layers["LPA"].extra_width_m > 0
    assert layers["AC-WC"].extra_width_m == 0


def _layer(**changes):
    base = {
        "code": "AC-WC",
        "basis": "mass",
        "thickness_m": 0.04,
        "density_t_m3": 2.32,
        "waste": 0.03,
        "sources": {"thickness_m": "x [I]", "density_t_m3": "x [I]", "waste": "x [I]"},
    }
    base.update(changes)
    return base


def _template(layers):
    return {
        "slug": "t",
        "name": {"en": "T", "id": "T"},
        "description": {"en": "T", "id": "T"},
        "default_width_m": 3,
        "sources": {"default_width_m": "x [I]"},
        "layers": layers,
    }


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        (_layer(density_t_m3=None), "basis mass needs density_t_m3"),
        (_layer(basis="volume"), "basis volume does not use density_t_m3"),
        (_layer(basis="linear"), "a layer cannot have basis 'linear'"),
        (_layer(sources={"thickness_m": "x [I]", "waste": "x [I]"}), "no source given for"),
        (_layer(sources={**_layer()["sources"], "waste": "a guess"}), "carries no tag"),
        (_layer(thickness_m=0), "greater than 0"),
    ],
)
def test_invalid_layers_are_rejected_with_the_reason(layer, message):
    with pytest.raises(ValidationError, match=message):
        Template.model_validate(_template([layer]))


def test_item_codes_must_be_unique():
    with pytest.raises(ValidationError, match=r"unique within a template.*AC-WC"):
        Template.model_validate(_template([_layer(), _layer()]))


def test_loader_rejects_a_file_whose_slug_differs_from_its_name(tmp_path: Path):
    (tmp_path / "a.json").write_text(json.dumps({**_template([_layer()]), "slug": "b"}))
    with pytest.raises(ConfigurationError, match="differs from the file name"):
        load_builtin_templates(tmp_path)


def test_loader_names_the_broken_file(tmp_path: Path):
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ConfigurationError, match=r"broken\.json"):
        load_builtin_catalogs(tmp_path)


@pytest.mark.parametrize(
    ("spelling", "unit"),
    [("M³", "m3"), ("ton", "t"), ("Ltr", "L"), ("sq m", "m2"), ("m'", "m"), ("bh", "unit")],
)
def test_common_unit_spellings_are_canonical(spelling, unit):
    assert canonical_unit(spelling) == unit


def test_unknown_units_are_kept_trimmed():
    assert canonical_unit(" hari ") == "hari"


def test_every_basis_has_a_canonical_unit():
    assert {basis.unit for basis in Basis} == {"m3", "t", "L", "m2", "kg", "m", "unit"}


def test_localized_text_answers_every_field():
    text = LocalizedText(en="Asphalt wearing course", id="Lapis aus aspal (AC-WC)")
    assert (
        text.to_dict()
        == text.model_dump()
        == {
            "en": "Asphalt wearing course",
            "id": "Lapis aus aspal (AC-WC)",
        }
    )
