"""Kubernetes resource quantities ("250m", "1.5", "64Mi", "1e9") as integers."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_SUFFIX = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)$")


def parse_quantity(text: str | int | float) -> Decimal:
    """The value of a quantity in base units (cores, bytes); ValueError if malformed."""
    match = _QUANTITY.match(str(text).strip())
    if not match:
        raise ValueError(f"not a quantity: {text!r}")
    try:
        return Decimal(match.group(1)) * _SUFFIX[match.group(2)]
    except InvalidOperation:
        raise ValueError(f"not a quantity: {text!r}") from None


def cpu_millis(text: str | int | float) -> int:
    """CPU in millicores, rounded up as the scheduler does."""
    return int((parse_quantity(text) * 1000).to_integral_value(rounding="ROUND_CEILING"))


def memory_bytes(text: str | int | float) -> int:
    return int(parse_quantity(text).to_integral_value(rounding="ROUND_CEILING"))


def format_cpu(millis: int) -> str:
    return f"{millis / 1000:g}" if millis % 1000 == 0 else f"{millis}m"


def format_memory(value: int) -> str:
    for unit, size in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if value >= size:
            return f"{value / size:.1f}{unit}".replace(".0" + unit, unit)
    return str(value)
