"""The grand total as an RAB states it: rounded down ("dibulatkan") and in words ("terbilang").

An RAB rounds its total down to the catalog's rounding unit (Rp 1,000 for rupiah: the
"Pembulatan" line), never up, so the rounded figure never exceeds the computed one, and writes
the rounded amount in words, Indonesian in title case as RAB forms print it ("Tujuh Puluh
Juta Enam Ratus Empat Ribu Rupiah"). The words come from `num2words`.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import Any, Literal

Language = Literal["id", "en"]

_CURRENCY_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "IDR": {"id": ("Rupiah", "Sen"), "en": ("rupiah", "sen")},
    "EUR": {"id": ("Euro", "Sen"), "en": ("euro", "cents")},
}
"""Currency and minor-unit words per language; other currencies read their ISO code."""


def rounded_total(total: Decimal, unit: Decimal | None) -> Decimal:
    """`total` rounded down to a multiple of `unit` (None: the total as it is)."""
    if unit is None:
        return total
    if not unit.is_finite() or unit <= 0:
        raise ValueError(f"a rounding unit must be > 0, got {unit}")
    return (total / unit).to_integral_value(rounding=ROUND_FLOOR) * unit


def total_in_words(amount: Decimal, lang: Language, currency: str = "IDR") -> str:
    """`amount` in words with its currency, e.g. 1,500,000 IDR in `id`: "Satu Juta Lima Ratus
    Ribu Rupiah"; in `en`: "One million, five hundred thousand rupiah". Cents, where there
    are any, follow in words ("... euro and fifty cents")."""
    if lang not in ("id", "en"):
        raise ValueError(f"terbilang is written in 'id' or 'en', not {lang!r}")
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"an amount to write in words must be >= 0, got {amount}")
    unit_word, minor_word = _CURRENCY_WORDS.get(currency, {}).get(lang, (currency, ""))
    whole = int(amount)
    cents = int((amount - whole) * 100)
    from num2words import num2words  # here: a batch without words starts without it

    words = f"{num2words(whole, lang=lang)} {unit_word}"
    if cents:
        joiner = " " if lang == "id" else " and "
        words += f"{joiner}{num2words(cents, lang=lang)} {minor_word or currency}"
    if lang == "id":
        return " ".join(word.capitalize() for word in words.split())
    return words[0].upper() + words[1:]


def grand_total_figures(
    total: Decimal, unit: Decimal | None, lang: Language, currency: str
) -> dict[str, Any]:
    """`rounded_total` and `total_in_words` of a bill's total, JSON-ready (money as text)."""
    rounded = rounded_total(total, unit)
    return {
        "rounded_total": format(rounded, "f"),
        "total_in_words": total_in_words(rounded, lang, currency),
    }
