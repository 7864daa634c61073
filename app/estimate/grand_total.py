"""The grand total as an RAB states it: rounded down ("dibulatkan") and in words ("terbilang").

An RAB rounds its total down to the catalog's rounding unit (Rp 1,000 for rupiah: the
"Pembulatan" line), never up, so the rounded figure never exceeds the computed one, and writes
the rounded amount in words, Indonesian in title case as RAB forms print it ("Tujuh Puluh
Juta Enam Ratus Empat Ribu Rupiah"). The words come from `num2words`.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from functools import lru_cache
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
    words = f"{_cardinal(whole, lang)} {unit_word}"
    if cents:
        joiner = " " if lang == "id" else " and "
        words += f"{joiner}{_cardinal(cents, lang)} {minor_word or currency}"
    if lang == "id":
        return " ".join(word.capitalize() for word in words.split())
    return words[0].upper() + words[1:]


def _cardinal(number: int, lang: Language) -> str:
    """`number` in words as num2words writes it. English is put together from num2words'
    words for each group of three digits ("seventy million, six hundred and four thousand,
    one hundred and twenty-three"): num2words' own English splitter takes some 70 µs a number,
    a tenth of an estimate; its Indonesian is quick and is used as it is."""
    if lang != "en" or number < 1000:
        return _words(number, lang)
    groups = []
    rest, power = number, 0
    while rest:
        rest, group = divmod(rest, 1000)
        if group:
            scale = f" {_scale_word(power)}" if power else ""
            groups.append(f"{_group_words(group)}{scale}")
        power += 3
    if 0 < number % 1000 < 100:  # "one thousand and five", as num2words has it
        return f"{', '.join(reversed(groups[1:]))} and {groups[0]}"
    return ", ".join(reversed(groups))


def _words(number: int, lang: Language) -> str:
    from num2words import num2words  # here: a batch without words starts without it

    return str(num2words(number, lang=lang))


@lru_cache(maxsize=1000)
def _group_words(group: int) -> str:
    """English words of 1 to 999."""
    return _words(group, "en")


@lru_cache(maxsize=16)
def _scale_word(power: int) -> str:
    """English name of 10**power: "thousand", "million", ..."""
    return _words(10**power, "en").split(" ", 1)[1]


def grand_total_figures(
    total: Decimal, unit: Decimal | None, lang: Language, currency: str
) -> dict[str, Any]:
    """`rounded_total` and `total_in_words` of a bill's total, JSON-ready (money as text)."""
    rounded = rounded_total(total, unit)
    return {
        "rounded_total": format(rounded, "f"),
        "total_in_words": total_in_words(rounded, lang, currency),
    }
