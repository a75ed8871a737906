"""A resident's profile as a typed record, validated the same way whether it came from a table row,
the API, or the command line.

Missing is a first-class value here (``None``): eligibility treats a missing field as "unknown", never
as a pass or a fail.
"""
from __future__ import annotations

import difflib
import math
from dataclasses import asdict, dataclass, field

from .languages import normalise_language
from .schema import FALSE_WORDS, RANGES, RESIDENT_LISTS, RESIDENT_NUMERIC, RESIDENT_OPTIONAL, TRUE_WORDS, split_list


#: Fields the eligibility rules read from a profile besides the contract's (a resident's statuses
#: and address parts); any profile may carry them.
RULE_FIELDS = ("veteran", "homeless", "pregnant", "student", "caregiver", "hiv", "in_recovery",
               "referral", "zip", "area", "city", "county", "state", "neighborhood", "neighbourhood")
#: Everyday names of contract fields, refused with the field meant (``income`` -> ``monthly_income``).
ALIASES = {"income": "monthly_income", "salary": "monthly_income", "need": "needs", "language": "languages",
           "lang": "languages", "sex": "gender", "household": "household_size", "family_size": "household_size",
           "lat": "latitude", "lon": "longitude", "lng": "longitude", "disabled": "disability",
           "employment": "employment_status", "job_status": "employment_status", "years": "age", "zipcode": "zip",
           "zip_code": "zip", "postcode": "zip"}


_ACCEPTED = frozenset(RESIDENT_OPTIONAL) | frozenset(RULE_FIELDS) | {"resident_id"}
_NUMERIC = frozenset(RESIDENT_NUMERIC)
_LISTS = frozenset(RESIDENT_LISTS)
_OPTIONAL = frozenset(RESIDENT_OPTIONAL)


def check_field_names(data: dict, extra_columns=()) -> None:
    """Refuse a field that is not the contract's, a rule's or a known extra column of the model: a near
    miss ("agee", "income") names the field meant; anything else lists the accepted fields."""
    for key in data:
        name = str(key)
        if name in _ACCEPTED or name in extra_columns:
            continue
        accepted = _ACCEPTED | set(extra_columns)
        meant = ALIASES.get(name.lower()) or next(iter(difflib.get_close_matches(name.lower(), sorted(accepted), 1, 0.75)),
                                                  None)
        if meant:
            raise ValueError(f"{name}: not a profile field; did you mean {meant!r}?")
        raise ValueError(f"{name}: not a profile field (accepted: {', '.join(sorted(accepted - {'resident_id'}))})")


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
    def from_dict(cls, data: dict, extra_columns=None) -> "Profile":
        """Validate a dict of contract resident fields. Raises ValueError naming the field. With
        ``extra_columns`` (the model's extra resident columns), a field that is neither those, the
        contract's nor one the eligibility rules read is refused, naming the field meant."""
        if not isinstance(data, dict):
            raise ValueError("profile: expected an object of resident fields")
        if extra_columns is not None:
            check_field_names(data, extra_columns)
        kwargs: dict = {}
        extra: dict[str, str] = {}
        for key, value in data.items():
            name = str(key)
            if name == "resident_id":
                continue
            if name in _NUMERIC:
                kwargs[name] = parse_number(value, name)
            elif name == "disability":
                kwargs[name] = parse_bool(value, name)
            elif name in _LISTS:
                if not _missing(value) and not isinstance(value, (str, list, tuple)):
                    raise ValueError(f"{name}: expected a list of strings or a ';'-separated string")
                if isinstance(value, (list, tuple)) and not all(isinstance(v, str) for v in value):
                    raise ValueError(f"{name}: every item must be a string")
                kwargs[name] = split_list(value)
            elif name in _OPTIONAL:
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
        if kwargs.get("languages"):
            try:  # ISO 639-1 or 639-3 codes or names, as the contract's codes ("spanish" -> "es")
                kwargs["languages"] = list(dict.fromkeys(normalise_language(x) for x in kwargs["languages"]))
            except ValueError as e:
                raise ValueError(f"languages: {e}") from None
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
