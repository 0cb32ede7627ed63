"""One way to write a number for a person: tables, summaries, formulas and plot labels.

Exact values are for machines (``--json``, ``--format csv``); what a person reads is short
and always written the same way, whichever command prints it.

Pure Python: the CLI imports it at start-up.
"""

from __future__ import annotations

import math
from numbers import Number
from typing import Any

__all__ = ["format_number"]

_SI = ((1e9, "G"), (1e6, "M"))


def _sci(number: float, digits: int) -> str:
    """``1.404e18``, ``2.5e-4``: no ``+`` and no leading zeros in the exponent."""
    mantissa, _, exponent = f"{number:.{max(digits - 1, 0)}e}".partition("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def format_number(value: Any, *, digits: int = 4, missing: str = "", compact: bool = False) -> str:
    """Write ``value`` for a person.

    The rules, in order: ``None``/NaN/NA -> ``missing``; booleans and non-numbers -> ``str``;
    infinities -> ``inf``/``-inf``; magnitudes from 1e12 (compute) and below 1e-3 ->
    scientific with ``digits`` significant digits (``1.404e18``); from 1e6 -> ``M``/``G``
    suffixes (parameter and MAC counts, ``11.69M``, ``1.827G``); whole numbers -> thousands
    separators (``1,000``); the rest -> at most ``digits`` decimals (``0.4821``).

    Args:
        value: a Python, numpy or pandas scalar (or anything else, which is written with
            ``str``).
        digits: significant digits of scientific and suffixed forms, decimals of the others.
        missing: what a missing value reads as (``""`` in tables, ``"—"`` in summaries).
        compact: write round numbers from 100 as a power of ten (``1e13``, ``5e4``), the way
            a law's scales read in its formula.

    Example:
        >>> [format_number(v) for v in (11_689_512, 1_826_516_992, 1.404e18, 0.48213, 1000, None)]
        ['11.69M', '1.827G', '1.404e18', '0.4821', '1,000', '']
        >>> format_number(1e13, compact=True), format_number(1e5, compact=True)
        ('1e13', '1e5')
        >>> format_number(float("nan"), missing="—"), format_number(2.5e-4), format_number(True)
        ('—', '2.5e-4', 'True')
    """
    if value is None:
        return missing
    if isinstance(value, bool) or type(value).__name__ in {"bool_", "bool"}:
        return str(bool(value))
    if type(value).__name__ in {"NAType", "NaTType"}:
        return missing
    if not isinstance(value, Number) and not hasattr(value, "dtype"):
        return str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return missing
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    size = abs(number)
    if compact and size >= 100:
        short = _sci(number, 1)
        if float(short) == number:
            return short
    if size >= 1e12 or (0 < size < 1e-3):
        return _sci(number, digits)
    for scale, suffix in _SI:
        if size >= scale:
            return f"{number / scale:.{digits}g}{suffix}"
    if number.is_integer():
        return f"{number:,.0f}"
    if size >= 1000:
        return f"{number:,.1f}"
    return f"{number:.{digits}f}".rstrip("0").rstrip(".")
