"""What catalogs and templates must state for a bill an estimator can submit, and what old
stored versions may leave out."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.errors import InvalidParameter, UnitMismatch
from app.estimate import Measures, Overrides, RateCatalog, Template, price_bill
from app.estimate.units import quantity_decimals

DATA = Path(__file__).resolve().parents[2] / "data"


def catalog_with(catalogs, slug="tangerang-sample", **changes):
    """The shipped catalog with item fields changed: `changes[code] = {field: value}`."""
    data = catalogs[slug].model_dump(mode="json", exclude_unset=False)
    for code, fields in changes.items():
        data["items"][code].update(fields)
    return data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"AC-WC": {"pay_item": "5.3.(1)"}}, "pay_item 5.3.(1) is not in division 6"),
        ({"AC-WC": {"pay_item": None, "pay_item_note": None}}, "pay_item_note must cite"),
        ({"AC-WC": {"pay_item": "AC-WC"}}, "String should match pattern"),
        ({"AC-WC": {"division": None, "pay_item": None}}, "items without a division: AC-WC"),
        ({"AC-WC": {"division": "4"}}, "pay_item 6.3.(5a) is not in division 4"),
        ({"TACK-COAT": {"per_litre_of": None}}, "says per_litre_of: product or residue"),
        ({"LPA": {"per_litre_of": "residue"}}, "apply to a rate per litre only"),
    ],
)
def test_catalog_placement_errors_name_the_problem(catalogs, changes, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        RateCatalog.model_validate(catalog_with(catalogs, **changes))


def test_a_division_must_state_its_pay_item_even_when_there_is_none(catalogs):
    data = catalog_with(catalogs)
    del data["items"]["KERB"]["pay_item"]
    with pytest.raises(ValidationError, match="states its pay_item"):
        RateCatalog.model_validate(data)


def test_division_names_and_rounding_unit(catalogs):
    data = catalog_with(catalogs)
    del data["divisions"]["9"]
    with pytest.raises(ValidationError, match="divisions without a name in 'divisions': 9"):
        RateCatalog.model_validate(data)
    data = catalog_with(catalogs)
    data["rounding_unit"] = "0.5"
    with pytest.raises(ValidationError, match="not a whole number of the currency's minor unit 1"):
        RateCatalog.model_validate(data)


def test_pay_item_numbers_as_the_specification_writes_them(catalogs):
    for number in ("1.2", "5.1.(1)", "6.3.(5a)", "6.1.(1)(b)"):
        data = catalog_with(catalogs, **{"AC-WC": {"division": number.split(".")[0]}})
        data["items"]["AC-WC"]["pay_item"] = number
        assert RateCatalog.model_validate(data).items["AC-WC"].pay_item == number


def test_every_shipped_item_is_placed_and_every_template_item_priced(templates, catalogs):
    for catalog in catalogs.values():
        for code, item in catalog.items.items():
            assert item.division in catalog.divisions, code
            assert item.pay_item_note, code
        codes = {item.code for t in templates.values() for item in (*t.items, *t.options)}
        assert codes <= set(catalog.items)
    shipped = catalogs["tangerang-sample"].items
    assert (shipped["AC-WC"].division, shipped["AC-WC"].pay_item) == ("6", "6.3.(5a)")
    assert (shipped["SUBGRADE-PREP"].division, shipped["SUBGRADE-PREP"].pay_item) == (
        "3",
        "3.3.(1)",
    )
    assert shipped["TIE-BAR"].pay_item is None
    assert shipped["TACK-COAT"].per_litre_of == "residue"
    assert catalogs["example-eur"].items["TACK-COAT"].per_litre_of == "product"


def test_bill_lines_carry_division_and_pay_item(templates, catalogs):
    bill = price_bill(
        Measures.from_columns([100.0], [5.0]),
        "asphalt-overlay",
        templates=templates,
        catalog=catalogs["tangerang-sample"],
    )
    placed = [(line.code, line.division, line.pay_item) for line in bill.items]
    assert placed == [("TACK-COAT", "6", "6.1.(2)"), ("AC-WC", "6", "6.3.(5a)")]
    assert [line.pay_item for line in bill.feature_lines(0)] == ["6.1.(2)", "6.3.(5a)"]


def test_a_template_version_saved_with_waste_still_loads_as_material_loss():
    stored = json.loads((DATA / "templates" / "asphalt-overlay.json").read_text())
    layer = stored["layers"][1]
    layer["waste"] = layer.pop("material_loss")
    layer["sources"]["waste"] = layer["sources"].pop("material_loss")
    template = Template.model_validate({**stored, "slug": "asphalt-overlay", "version": 1})
    assert template.layers[1].material_loss == 0.03
    assert "waste" not in template.layers[1].sources


def test_a_catalog_version_saved_before_placement_still_loads(catalogs):
    data = catalogs["tangerang-sample"].model_dump(mode="json")
    for item in data["items"].values():
        for name in ("division", "pay_item", "pay_item_note", "per_litre_of", "product"):
            del item[name]
    for name in ("divisions", "rounding_unit"):
        del data[name]
        del data["sources"][name]
    catalog = RateCatalog.model_validate({**data, "version": 2})
    assert catalog.items["AC-WC"].division is None
    assert catalog.rounding_unit is None


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ({"basis": "spray", "spray_l_m2": 0.3, "product": "emulsion"}, "both its product and"),
        ({"basis": "volume", "thickness_m": 0.1, "residue_share": 0.6}, "only a spray layer"),
        ({"basis": "transverse_joint"}, "needs joint_spacing_m"),
    ],
)
def test_layer_rules(layer, message):
    named = ("spray_l_m2", "thickness_m", "joint_spacing_m", "product", "residue_share")
    sources = dict.fromkeys(named, "t [I]")
    with pytest.raises(ValidationError, match=message):
        Template.model_validate(
            {
                "slug": "t",
                "name": {"en": "t", "id": "t"},
                "description": {"en": "t", "id": "t"},
                "default_width_m": 3,
                "sources": {"default_width_m": "t [I]"},
                "layers": [{"code": "X", **layer, "sources": sources}],
            }
        )


def test_a_linear_item_counts_by_sides_or_by_slab_joints_not_both(templates):
    data = templates["collector-rigid"].model_dump(mode="json")
    data["linear_items"][1]["sides"] = 2
    data["linear_items"][1]["sources"]["sides"] = "t [I]"
    with pytest.raises(ValidationError, match="either sides or max_slab_width_m"):
        Template.model_validate(data)


def test_residue_paid_litres_need_the_templates_residue_share(templates, catalogs):
    data = templates["asphalt-overlay"].model_dump(mode="json")
    for name in ("product", "residue_share"):
        del data["layers"][0][name]
        del data["layers"][0]["sources"][name]
    old = Template.model_validate(data)
    with pytest.raises(UnitMismatch) as raised:
        price_bill(
            Measures.from_columns([100.0], [5.0]),
            "asphalt-overlay",
            templates={"asphalt-overlay": old},
            catalog=catalogs["tangerang-sample"],
        )
    assert str(raised.value) == (
        "catalog tangerang-sample, field TACK-COAT: the catalog pays per litre of residue but "
        "the template states no product and residue_share to convert its litres of product"
    )


def test_a_rate_for_another_binder_product_is_a_mismatch(templates, catalogs):
    catalog = RateCatalog.model_validate(
        catalog_with(catalogs, **{"TACK-COAT": {"product": "cutback"}})
    )
    with pytest.raises(UnitMismatch) as raised:
        price_bill(
            Measures.from_columns([100.0], [5.0]),
            "asphalt-overlay",
            templates=templates,
            catalog=catalog,
        )
    assert str(raised.value) == (
        "catalog tangerang-sample, field TACK-COAT: the catalog's rate is for cutback but the "
        "template sprays emulsion"
    )


def test_the_old_waste_override_is_refused_with_its_new_name():
    with pytest.raises(ValidationError, match="waste is now material_loss"):
        Overrides.model_validate({"waste": {"LPA": 0.1}})
    assert Overrides.model_validate({"material_loss": {"LPA": 0.1}}).material_loss == {"LPA": 0.1}


def test_u_ditch_is_an_option_of_the_local_road(templates, catalogs):
    local = templates["local-flexible"]
    assert "U-DITCH" not in {item.code for item in local.items}
    drained = local.with_options({"U-DITCH"})
    bill = price_bill(
        Measures.from_columns([100.0], [5.0]),
        "local-flexible",
        templates={"local-flexible": drained},
        catalog=catalogs["tangerang-sample"],
    )
    # 100 m x 2 sides = 200 m x 1,250,000 = 250,000,000
    lines = {line.code: (line.quantity, line.amount) for line in bill.items}
    assert lines["U-DITCH"] == (200.0, Decimal("250000000"))
    with pytest.raises(InvalidParameter, match="offers no option KERB; options: U-DITCH"):
        local.with_options({"KERB"})


@pytest.mark.parametrize(
    ("unit", "decimals"),
    [("m3", 2), ("t", 2), ("m2", 2), ("m", 2), ("L", 2), ("unit", 0), ("kg", 0), ("Ls", 0)],
)
def test_quantity_decimals(unit, decimals):
    assert quantity_decimals(unit) == decimals


def test_osm_classes_get_a_structure_that_fits(templates):
    mapping = json.loads((DATA / "mappings" / "osm-highway.json").read_text())["templates"]
    assert set(mapping.values()) <= set(templates)
    assert {mapping[c] for c in ("motorway", "trunk", "primary")} == {"arterial-flexible"}
    assert mapping["secondary"] == "collector-flexible"
    assert mapping["residential"] == "local-flexible"
    assert mapping["living_street"] == "neighbourhood-rigid"


def test_formwork_follows_the_slab_thickness_override(templates, catalogs):
    bill = price_bill(
        Measures.from_columns([100.0, 100.0], [3.0, 3.0]),
        "neighbourhood-rigid",
        templates=templates,
        catalog=catalogs["tangerang-sample"],
        feature_overrides=[None, Overrides(thickness={"CONC-FC20": 0.2})],
    )
    formwork = [
        {line.code: line.quantity for line in bill.feature_lines(i)}["FORMWORK"] for i in (0, 1)
    ]
    # 100 m x 2 edges x 0.15 m = 30 m2; with a 20 cm slab 100 x 2 x 0.20 = 40 m2
    assert formwork == [pytest.approx(30.0), pytest.approx(40.0)]


def test_thickness_of_must_name_a_layer_with_a_thickness(templates):
    data = templates["neighbourhood-rigid"].model_dump(mode="json")
    data["linear_items"][0]["thickness_of"] = "PLASTIC-SHEET"
    with pytest.raises(ValidationError, match="FORMWORK takes its thickness_of PLASTIC-SHEET"):
        Template.model_validate(data)


@pytest.mark.parametrize(
    ("dug_for", "message"),
    [
        (["PRIME-COAT"], "EXCAVATION is dug for PRIME-COAT \\(depth_of\\), not another layer"),
        (["EXCAVATION"], "EXCAVATION is dug for EXCAVATION \\(depth_of\\), not another layer"),
    ],
)
def test_a_box_cut_is_dug_for_other_layers_with_a_thickness(templates, dug_for, message):
    data = templates["local-flexible"].model_dump(mode="json")
    data["layers"][0]["depth_of"] = dug_for
    with pytest.raises(ValidationError, match=message):
        Template.model_validate(data)


def test_the_tax_line_reads_as_the_catalog_applies_it(catalogs):
    catalog = catalogs["tangerang-sample"]
    # 12 % nominal on 11/12 of the price = 11 % effective
    assert catalog.vat_pct == Decimal("12") * 11 / 12
    assert catalog.vat_label is not None and catalog.vat_label.id == "PPN 12 % x 11/12"
