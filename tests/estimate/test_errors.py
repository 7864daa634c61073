"""Every error names what is wrong and, for per-feature problems, which feature."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import pytest

from app.errors import InvalidParameter, MissingRates, UnitMismatch, UnknownCatalog, UnknownTemplate
from app.estimate import Measures, Overrides, RateCatalog, find_catalog, price_bill
from app.estimate.pricing import price_features


def price(templates, catalog, template="local-flexible", n=3, **kwargs):
    return price_bill(
        Measures.from_columns([100.0] * n), template, templates=templates, catalog=catalog, **kwargs
    )


def test_unknown_template_names_it_and_the_feature(templates, catalogs):
    with pytest.raises(UnknownTemplate) as raised:
        price(templates, catalogs["tangerang-sample"], ["local-flexible", "motorway", "motorway"])
    assert "'motorway'" in str(raised.value)
    assert "local-flexible" in str(raised.value)  # the known ones are listed
    assert raised.value.where == {"feature": 1}


def test_missing_template_per_feature(templates, catalogs):
    with pytest.raises(UnknownTemplate, match="no template given") as raised:
        price(templates, catalogs["tangerang-sample"], ["local-flexible", None, "local-flexible"])
    assert raised.value.where == {"feature": 1}


def test_unknown_catalog_and_version(catalogs):
    with pytest.raises(UnknownCatalog, match=r"unknown catalog 'jakarta'.*tangerang-sample"):
        find_catalog(catalogs, "jakarta")
    with pytest.raises(UnknownCatalog, match=r"'tangerang-sample' has no version 4"):
        find_catalog(catalogs, "tangerang-sample", version=4)
    stamped = {"x": catalogs["example-eur"].model_copy(update={"slug": "x", "version": 4})}
    assert find_catalog(stamped, "x", 4).version == 4


def test_missing_rates_lists_every_missing_code(templates, catalogs):
    base = catalogs["tangerang-sample"]
    items = {code: item for code, item in base.items.items() if code not in {"LPA", "AC-WC"}}
    catalog = base.model_copy(update={"items": items})
    with pytest.raises(MissingRates) as raised:
        price(templates, catalog)
    message = str(raised.value)
    assert "LPA" in message
    assert "AC-WC" in message
    assert "never priced at zero" in message


def test_unit_mismatch_names_item_basis_and_unit(templates, catalogs):
    base = catalogs["tangerang-sample"]
    asphalt_per_m3 = base.items["AC-WC"].model_copy(update={"unit": "m3"})
    catalog = base.model_copy(update={"items": {**base.items, "AC-WC": asphalt_per_m3}})
    with pytest.raises(UnitMismatch, match=r"AC-WC is measured by mass in t but priced per m3"):
        price(templates, catalog)


def test_unknown_catalog_unit_spelling_is_a_mismatch_not_a_guess(templates, catalogs):
    base = catalogs["tangerang-sample"]
    odd = base.items["KERB"].model_copy(update={"unit": "hari"})
    catalog = RateCatalog.model_validate(
        {
            **base.model_dump(mode="json"),
            "items": {**base.model_dump(mode="json")["items"], "KERB": odd.model_dump(mode="json")},
        }
    )
    with pytest.raises(UnitMismatch, match="KERB is measured by linear in m but priced per hari"):
        price(templates, catalog, "collector-flexible")


@pytest.mark.parametrize(
    ("columns", "field", "feature"),
    [
        ({"length_m": [10.0, -1.0]}, "length_m", 1),
        ({"length_m": [10.0, float("nan")]}, "length_m", 1),
        ({"length_m": [10.0, 10.0], "width_m": [0.0, 3.0]}, "width_m", 0),
        ({"length_m": [10.0, 10.0], "width_m": [3.0, -2.0]}, "width_m", 1),
        ({"length_m": [10.0, 10.0], "width_m": [3.0, float("inf")]}, "width_m", 1),
        ({"length_m": [10.0, 10.0], "area_m2": [float("nan"), 0.0]}, "area_m2", 1),
    ],
)
def test_invalid_measures_name_field_and_feature(columns, field, feature):
    with pytest.raises(InvalidParameter) as raised:
        Measures.from_columns(**columns)
    assert raised.value.where == {"feature": feature, "field": field}
    assert field in str(raised.value)


@pytest.mark.parametrize(
    ("own", "field", "detail"),
    [
        (Overrides(width_m=0), "width_m", "width_m must be > 0 m, got 0"),
        (Overrides(thickness={"AC-WC": -0.05}), "thickness.AC-WC", "must be > 0"),
        (Overrides(density={"AC-WC": 0}), "density.AC-WC", "must be > 0"),
        (Overrides(spray_rate={"PRIME-COAT": float("nan")}), "spray_rate.PRIME-COAT", "> 0"),
        (Overrides(material_loss={"LPA": 1.5}), "material_loss.LPA", "a fraction in [0, 1)"),
        (Overrides(rates={"LPA": Decimal("0")}), "rates.LPA", "must be > 0"),
        (Overrides(vat_pct=Decimal("-1")), "vat_pct", "within 0-100 %"),
        (Overrides(thickness={"PRIME-COAT": 0.1}), "thickness.PRIME-COAT", "no such item"),
        (Overrides(density={"KERB": 2.0}), "density.KERB", "items that take it: AC-WC"),
    ],
)
def test_invalid_feature_overrides_name_field_and_feature(templates, catalogs, own, field, detail):
    with pytest.raises(InvalidParameter) as raised:
        price(templates, catalogs["tangerang-sample"], feature_overrides=[None, None, own])
    assert raised.value.where == {"feature": 2, "field": field}
    assert detail in str(raised.value)


def test_invalid_request_override_names_the_field(templates, catalogs):
    with pytest.raises(InvalidParameter, match=re.escape("field thickness.AC-WC")) as raised:
        price(templates, catalogs["tangerang-sample"], overrides=Overrides(thickness={"AC-WC": 0}))
    assert "feature" not in raised.value.where


def test_request_override_for_an_item_of_another_template_is_fine(templates, catalogs):
    bill = price_bill(
        Measures.from_columns([100.0, 100.0]),
        ["neighbourhood-rigid", "local-flexible"],
        templates=templates,
        catalog=catalogs["tangerang-sample"],
        overrides=Overrides(thickness={"AC-WC": 0.06}),
    )
    ac_wc = {line.code: line for line in bill.feature_lines(1)}["AC-WC"]
    assert ac_wc.quantity == pytest.approx(100 * 5 * 0.06 * 2.32)


def test_feature_override_for_an_item_not_in_its_template_is_an_error(templates, catalogs):
    with pytest.raises(InvalidParameter, match="thickness given for item 'AC-WC'") as raised:
        price_bill(
            Measures.from_columns([100.0, 100.0]),
            ["local-flexible", "neighbourhood-rigid"],
            templates=templates,
            catalog=catalogs["tangerang-sample"],
            feature_overrides=[None, Overrides(thickness={"AC-WC": 0.06})],
        )
    assert raised.value.where["feature"] == 1


def test_features_of_one_bill_must_share_markups(templates, catalogs):
    with pytest.raises(InvalidParameter, match="vat_pct 0 differs from 11") as raised:
        price(
            templates,
            catalogs["tangerang-sample"],
            feature_overrides=[None, Overrides(vat_pct=Decimal("0")), None],
        )
    assert raised.value.where == {"feature": 1, "field": "vat_pct"}


def test_a_feature_markup_is_judged_against_the_request_not_the_first_feature(templates, catalogs):
    zero = Overrides(vat_pct=Decimal("0"))
    with pytest.raises(
        InvalidParameter, match=r"vat_pct 0 differs from 11 \(catalog tangerang-sample's\)"
    ) as raised:
        price(templates, catalogs["tangerang-sample"], feature_overrides=[zero, zero, zero])
    assert raised.value.where == {"feature": 0, "field": "vat_pct"}
    bill = price(
        templates,
        catalogs["tangerang-sample"],
        overrides=zero,
        feature_overrides=[zero, None, Overrides(vat_pct=Decimal("0.0"))],
    )
    assert bill.totals.tax == Decimal("0")


def test_every_feature_is_priced_or_says_why_in_one_pass(templates, catalogs):
    catalog = catalogs["tangerang-sample"]
    twelve = Overrides(vat_pct=Decimal("12"))
    thick = Overrides(thickness={"AC-WC": 0.06})
    result = price_features(
        Measures.from_columns([100.0, 100.0, 100.0, 100.0, 100.0]),
        ["local-flexible", "local-flexible", "motorway", "neighbourhood-rigid", "local-flexible"],
        templates=templates,
        catalog=catalog,
        feature_overrides=[twelve, None, None, thick, Overrides(vat_pct=Decimal("11"))],
    )
    assert result.priced.tolist() == [1, 4]
    kinds = [type(problem).__name__ if problem else None for problem in result.problems]
    assert kinds == ["InvalidParameter", None, "UnknownTemplate", "InvalidParameter", None]
    assert result.problems[0].where == {"feature": 0, "field": "vat_pct"}
    assert result.problems[3].where == {"feature": 3, "field": "thickness.AC-WC"}
    alone = price(templates, catalog, n=2)
    assert result.bill.totals == alone.totals
    assert result.bill.feature_totals(1) == alone.feature_totals(1)


def test_column_lengths_must_agree(templates, catalogs):
    with pytest.raises(InvalidParameter, match="width_m has 1 values for 2 features"):
        Measures.from_columns([1.0, 2.0], [3.0])
    with pytest.raises(InvalidParameter, match="template has 2 values for 3 features"):
        price(templates, catalogs["tangerang-sample"], ["local-flexible"] * 2)
    with pytest.raises(InvalidParameter, match="1 feature overrides for 3 features"):
        price(templates, catalogs["tangerang-sample"], feature_overrides=[None])


def test_a_quantity_too_large_to_price_fails_its_feature_alone(templates, catalogs):
    """Features priced at rates of their own: one whose amounts would pass 2**53 minor units
    fails, naming the first item in template order that does; the others are priced at their
    own rates, half up on the stated quantity."""
    catalog = catalogs["tangerang-sample"]
    huge = Decimal("1e15")  # 2**53 IDR / 1e15 = 9.007: a few m3 or t are too many
    odd_rate = Decimal("1500000.5")
    result = price_features(
        Measures.from_columns([100.0, 100.0, 100.0]),
        "local-flexible",
        templates=templates,
        catalog=catalog,
        feature_overrides=[
            Overrides(rates={"AC-WC": huge, "LPA": huge}),
            None,
            Overrides(rates={"AC-WC": odd_rate}),
        ],
    )
    assert result.priced.tolist() == [1, 2]
    problem = result.problems[0]
    assert problem.where == {"feature": 0, "field": "LPA"}  # LPA comes before AC-WC
    assert "too large to price" in str(problem)

    alone = price(templates, catalog, n=1)
    assert result.bill.feature_totals(0) == alone.feature_totals(0)
    own = {line.code: line for line in result.bill.feature_lines(1)}["AC-WC"]
    stated = Decimal(own.quantity).quantize(Decimal("0.01"))
    assert own.unit_rate == odd_rate
    assert own.amount == (stated * odd_rate).quantize(Decimal(1), rounding=ROUND_HALF_UP)
