"""Profile fields as the eligibility rules read them: numbers in range, yes/no flags, gender words
and ZIP codes; missing (None, NaN, an empty or "unknown" cell) is ``None``, a malformed value raises
ValueError naming the field. The yes/no and missing vocabularies are the data contract's
(``recommender.schema``), shared with table loading and the API."""
from __future__ import annotations

import math
import re
from typing import Mapping

from recommender.schema import FALSE_WORDS, MISSING_WORDS, RANGES, TRUE_WORDS


def missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and value.strip().lower() in MISSING_WORDS:
        return True
    try:  # numpy / pandas missing scalars
        return bool(value != value)  # noqa: PLR0124 - NaN is the only value unequal to itself
    except (TypeError, ValueError):
        return False


def _malformed(field: str, expected: str, value) -> ValueError:
    """The one wording of a profile value the rules cannot read."""
    return ValueError(f"profile field {field!r}: expected {expected}, got {value!r}")


def number(profile: Mapping, field: str) -> float | None:
    value = profile.get(field)
    if missing(value):
        return None
    if isinstance(value, bool):
        raise _malformed(field, "a number", value)
    try:
        out = float(str(value).strip().replace(",", "")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise _malformed(field, "a number", value) from None
    if math.isnan(out):
        return None
    low, high = RANGES.get(field, (-math.inf, math.inf))
    if not low <= out <= high:
        raise ValueError(f"profile field {field!r}: {out:g} is outside {low}-{high}")
    return out


def flag(profile: Mapping, field: str) -> bool | None:
    value = profile.get(field)
    if missing(value):
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise _malformed(field, "yes/no", value)
    try:
        n = float(value)
    except (TypeError, ValueError):
        raise _malformed(field, "yes/no", value) from None
    if n in (0.0, 1.0):
        return bool(n)
    raise _malformed(field, "yes/no", value)


_FEMALE = {"female", "f", "woman", "women", "girl", "w"}
_MALE = {"male", "m", "man", "men", "boy"}


def gender(profile: Mapping) -> str | None:
    value = profile.get("gender")
    if missing(value):
        return None
    text = str(value).strip().lower()
    if text in _FEMALE:
        return "female"
    if text in _MALE:
        return "male"
    return text


def zip_code(profile: Mapping) -> str | None:
    value = profile.get("zip")
    if missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    m = re.match(r"^(\d{5})(?:-\d{4})?$", text) or (re.match(r"^(\d{4})$", text) if text.isdigit() else None)
    if not m:
        raise _malformed("zip", "a 5-digit ZIP code", value)
    return m.group(1).zfill(5)
