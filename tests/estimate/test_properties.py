"""Properties of the engine over generated roads: scaling, arithmetic of totals, determinism."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.estimate import Measures, Overrides, RateCatalog, Template, price_bill
from app.estimate.units import Basis

AREA_BASED = {Basis.VOLUME, Basis.MASS, Basis.SPRAY, Basis.AREA, Basis.AREA_MASS}

lengths = st.lists(st.floats(0.5, 5000), min_size=1, max_size=40)
widths = st.floats(0.5, 40)


def every_basis_template() -> Template:
    """One item of each basis, all layers as wide as the surface."""
    src = "test [I]"
    return Template.model_validate(
        {
            "slug": "every-basis",
            "name": {"en": "Every basis", "id": "Semua basis"},
            "description": {"en": "Test", "id": "Uji"},
            "default_width_m": 5,
            "sources": {"default_width_m": src},
            "layers": [
                {
                    "code": "LPA",
                    "basis": "volume",
                    "thickness_m": 0.15,
                    "waste": 0.05,
                    "sources": {"thickness_m": src, "waste": src},
                },
                {
                    "code": "PRIME-COAT",
                    "basis": "spray",
                    "spray_l_m2": 0.8,
                    "waste": 0.03,
                    "sources": {"spray_l_m2": src, "waste": src},
                },
                {
                    "code": "AC-WC",
                    "basis": "mass",
                    "thickness_m": 0.04,
                    "density_t_m3": 2.32,
                    "waste": 0.03,
                    "sources": {"thickness_m": src, "density_t_m3": src, "waste": src},
                },
                {
                    "code": "PAVING-K300-8",
                    "basis": "area",
                    "waste": 0.03,
                    "sources": {"waste": src},
                },
                {
                    "code": "DOWEL-BAR",
                    "basis": "area_mass",
                    "mass_kg_m2": 2.4,
                    "waste": 0.0,
                    "sources": {"mass_kg_m2": src, "waste": src},
                },
            ],
            "linear_items": [
                {"code": "KERB", "sides": 2, "waste": 0.02, "sources": {"sides": src, "waste": src}}
            ],
            "count_items": [
                {
                    "code": "LIGHT",
                    "spacing_m": 30,
                    "per_station": 1,
                    "sources": {"spacing_m": src, "per_station": src},
                }
            ],
        }
    )


@pytest.fixture(scope="module")
def setup(catalogs):
    base = catalogs["example-eur"]
    items = base.model_dump(mode="json")["items"]
    items["LIGHT"] = {**items["KERB"], "unit": "unit", "rate": "850.00"}
    catalog = RateCatalog.model_validate({**base.model_dump(mode="json"), "items": items})
    template = every_basis_template()
    return {"every-basis": template}, catalog


@settings(max_examples=60, deadline=None)
@given(lengths, widths)
def test_doubling_width_doubles_area_quantities_only(setup, length, width):
    templates, catalog = setup
    measures = [Measures.from_columns(length, [w] * len(length)) for w in (width, 2 * width)]
    narrow, wide = (
        price_bill(m, "every-basis", templates=templates, catalog=catalog) for m in measures
    )
    for item, q1, q2 in zip(
        templates["every-basis"].items,
        narrow.blocks[0].quantities,
        wide.blocks[0].quantities,
        strict=True,
    ):
        if item.basis in AREA_BASED:
            np.testing.assert_allclose(q2, 2 * q1, rtol=1e-12)
        else:
            np.testing.assert_array_equal(q2, q1)


def line_sum(lines):
    return sum((line.amount for line in lines), start=Decimal(0))


@settings(max_examples=60, deadline=None)
@given(
    lengths,
    widths,
    st.decimals(0, 15, places=1),
    st.decimals(0, 25, places=2),
)
def test_totals_are_rounded_lines_plus_markups(setup, length, width, op, vat):
    templates, catalog = setup
    bill = price_bill(
        Measures.from_columns(length, [width] * len(length)),
        "every-basis",
        templates=templates,
        catalog=catalog,
        overrides=Overrides(overhead_profit_pct=op, vat_pct=vat),
    )
    totals = bill.totals
    assert totals.subtotal == line_sum(bill.items)
    cent = Decimal("0.01")
    assert abs(totals.overhead_profit - totals.subtotal * op / 100) <= cent / 2
    assert abs(totals.tax - (totals.subtotal + totals.overhead_profit) * vat / 100) <= cent / 2
    assert totals.total == totals.subtotal + totals.overhead_profit + totals.tax
    for line in bill.items:
        assert line.amount == line.amount.quantize(cent)
    for index in range(len(bill)):
        own = bill.feature_totals(index)
        assert own.subtotal == line_sum(bill.feature_lines(index))
        assert own.total == own.subtotal + own.overhead_profit + own.tax


@settings(max_examples=30, deadline=None)
@given(lengths, st.lists(st.sampled_from(["narrow", "cheap-kerb", None]), min_size=40, max_size=40))
def test_a_feature_priced_in_a_batch_is_priced_as_alone(setup, length, choices):
    templates, catalog = setup
    options = {
        "narrow": Overrides(width_m=3),
        "cheap-kerb": Overrides(rates={"KERB": "50.00"}),
        None: None,
    }
    own = [options[choice] for choice in choices[: len(length)]]
    batch = price_bill(
        Measures.from_columns(length),
        "every-basis",
        templates=templates,
        catalog=catalog,
        feature_overrides=own,
    )
    for index in range(len(length)):
        alone = price_bill(
            Measures.from_columns(length[index : index + 1]),
            "every-basis",
            templates=templates,
            catalog=catalog,
            feature_overrides=own[index : index + 1],
        )
        assert batch.feature_lines(index) == alone.items
        assert batch.feature_totals(index) == alone.totals


def test_same_input_gives_identical_bytes(templates, catalogs):
    rng = np.random.default_rng(7)
    n = 500
    length = rng.uniform(1, 800, n)
    width = np.where(rng.random(n) < 0.3, np.nan, rng.uniform(2, 12, n))
    slugs = rng.choice(sorted(templates), n)
    own = [Overrides(width_m=4) if i % 7 == 0 else None for i in range(n)]

    def run() -> bytes:
        bill = price_bill(
            Measures.from_columns(length.copy(), width.copy()),
            slugs.tolist(),
            templates=templates,
            catalog=catalogs["tangerang-sample"],
            feature_overrides=own,
        )
        return bill.to_json().encode()

    first = run()
    assert first == run()
    assert b'"amount":"' in first


@pytest.mark.parametrize("catalog", ["tangerang-sample", "example-eur"])
def test_every_shipped_template_prices_against_the_shipped_catalogs(templates, catalogs, catalog):
    for slug, template in templates.items():
        bill = price_bill(
            # 7.5 m: wide enough for a longitudinal joint on both rigid templates
            Measures.from_columns([100.0], [7.5]),
            slug,
            templates=templates,
            catalog=catalogs[catalog],
        )
        used = {item.code for item in template.items}
        in_order = [code for code in catalogs[catalog].items if code in used]
        assert [line.code for line in bill.items] == in_order
        assert all(line.amount > 0 for line in bill.items)
        assert bill.totals.total > bill.totals.subtotal


def test_an_empty_batch_gives_an_empty_bill(templates, catalogs):
    bill = price_bill(
        Measures.from_columns([]),
        "local-flexible",
        templates=templates,
        catalog=catalogs["tangerang-sample"],
    )
    assert bill.items == ()
    assert bill.totals.total == Decimal(0)
    assert len(bill) == 0
