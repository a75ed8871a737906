"""A resident's profile as a typed record, validated the same way whether it came from a table row,
the API, or the command line.

Missing is a first-class value here (``None``): eligibility treats a missing field as "unknown", never
as a pass or a fail.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from .schema import FALSE_WORDS, RANGES, RESIDENT_LISTS, RESIDENT_NUMERIC, RESIDENT_OPTIONAL, TRUE_WORDS, split_list


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (
        isinstance(value, str) and value.strip() == "")


def parse_bool(value, name: str) -> bool | None:
    if _missing(value):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(f"{name}: expected true or false, got {value!r}")


def parse_number(value, name: str) -> float | None:
    if _missing(value):
        return None
    if isinstance(value, bool):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a number, got {value!r}") from None
    if math.isnan(v) or math.isinf(v):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    lo, hi = RANGES.get(name, (-math.inf, math.inf))
    if not lo <= v <= hi:
        raise ValueError(f"{name}: {v:g} is outside {lo}..{hi}")
    return v


@dataclass
class Profile:
    age: float | None = None
    gender: str | None = None
    district: str | None = None
    household_size: float | None = None
    monthly_income: float | None = None
    employment_status: str | None = None
    disability: bool | None = None
    languages: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    latitude: float | None = None
    longitude: float | None = None
    #: any other field (veteran, homeless, pregnant, a city's own categorical columns, ...)
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict) -> "Profile":
        """Validate a dict of contract resident fields. Raises ValueError naming the field."""
        if not isinstance(data, dict):
            raise ValueError("profile: expected an object of resident fields")
        kwargs: dict = {}
        extra: dict[str, str] = {}
        for key, value in data.items():
            name = str(key)
            if name == "resident_id":
                continue
            if name in RESIDENT_NUMERIC:
                kwargs[name] = parse_number(value, name)
            elif name == "disability":
                kwargs[name] = parse_bool(value, name)
            elif name in RESIDENT_LISTS:
                if not _missing(value) and not isinstance(value, (str, list, tuple)):
                    raise ValueError(f"{name}: expected a list of strings or a ';'-separated string")
                if isinstance(value, (list, tuple)) and not all(isinstance(v, str) for v in value):
                    raise ValueError(f"{name}: every item must be a string")
                kwargs[name] = split_list(value)
            elif name in RESIDENT_OPTIONAL:
                if _missing(value):
                    kwargs[name] = None
                elif isinstance(value, (dict, list)):
                    raise ValueError(f"{name}: expected a string")
                else:
                    kwargs[name] = str(value).strip().lower()
            else:
                if _missing(value):
                    continue
                if isinstance(value, (dict, list)):
                    raise ValueError(f"{name}: extra profile fields must be plain values")
                extra[name] = str(value).strip().lower()
        if (kwargs.get("latitude") is None) != (kwargs.get("longitude") is None):
            raise ValueError("latitude/longitude: give both or neither")
        for lang in kwargs.get("languages", []):
            if len(lang) != 2 or not lang.isalpha():
                raise ValueError(f"languages: {lang!r} is not an ISO 639-1 code")
        return cls(**kwargs, extra=extra)

    def get(self, name: str):
        """Any field by its contract name, extras included (None when missing)."""
        if name in self.__dataclass_fields__ and name != "extra":
            return getattr(self, name)
        return self.extra.get(name)

    def to_dict(self) -> dict:
        out = asdict(self)
        extra = out.pop("extra")
        out = {k: v for k, v in out.items() if v not in (None, [])}
        out.update(extra)
        return out
