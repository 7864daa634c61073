"""Prime and tack coat litres: litres of the sprayed product, or of its bitumen residue.

A template sprays a product (an emulsion, a cut-back) at litres of product per m2 and states
the product's residue share; Bina Marga pays these coats per litre of residual bitumen, while
other price lists pay per litre of product. The catalog says which its rate is, so the paid
quantity is the product litres times 1 or times the residue share. A rate for another product
than the one sprayed, or a residue rate for a layer that states no residue share, cannot be
converted and is refused rather than priced at the wrong basis.
"""

from __future__ import annotations

from app.errors import UnitMismatch
from app.estimate.catalogs import RateCatalog
from app.estimate.templates import Layer


def paid_litres_per_litre(layer: Layer, catalog: RateCatalog) -> float:
    """Paid litres per litre of product sprayed for spray layer `layer` under `catalog`."""
    rate = catalog.items[layer.code]
    if rate.product is not None and layer.product is not None and rate.product != layer.product:
        raise UnitMismatch(
            f"the catalog's rate is for {rate.product} but the template sprays {layer.product}",
            catalog=catalog.slug,
            field=layer.code,
        )
    if rate.per_litre_of != "residue":
        # per litre of product, or a catalog that predates the statement: priced as product
        return 1.0
    if layer.residue_share is None:
        raise UnitMismatch(
            "the catalog pays per litre of residue but the template states no product and "
            "residue_share to convert its litres of product",
            catalog=catalog.slug,
            field=layer.code,
        )
    return layer.residue_share
