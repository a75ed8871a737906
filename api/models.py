"""Request and response bodies of the HTTP API (pydantic), each with an example for the OpenAPI docs.

Request models forbid unknown fields so a typo ("neds") is a 422 naming the field instead of being
silently ignored. The recommendation response models are derived from the library's result types
(``recommender.results``), so the documented answer cannot drift from what the engine returns;
the hot routes serialise with orjson and return the bytes directly, so these classes cost nothing
per request there.
"""
from __future__ import annotations

import dataclasses
import math
import re
import typing
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, create_model, field_validator, model_validator

from api.limits import (EVENTS_MAX, EXCLUDE_MAX, EXTRA_MAX, ID_MAX, INT_ABS_MAX, K_MAX, LIST_MAX,
                        MAX_OFFSET, NEED_TEXT_MAX, NEEDS_MAX, NUMBER_ABS_MAX, TEXT_MAX)
from recommender import results
from recommender.schema import (EVENTS, FALSE_WORDS, RANGES, SERVICE_LISTS, SERVICE_NUMERIC, SERVICE_OPTIONAL,
                               SERVICE_REFERRAL, SERVICE_REQUIRED, STATUSES, TRUE_WORDS, split_list)

__all__ = ["ID_MAX", "MAX_OFFSET", "TEXT_MAX"]  # re-exported for the routes

Id = Annotated[str, Field(min_length=1, max_length=ID_MAX)]
Code = Annotated[str, Field(min_length=1, max_length=TEXT_MAX)]

# ISO 639-1 or 639-3 codes, or language names: the library normalises them (recommender.languages)
LangCode = Annotated[str, Field(pattern=r"^\s*[A-Za-z][A-Za-z -]{1,39}\s*$")]
LANG_LIST = r"^\s*(?:[A-Za-z][A-Za-z -]{1,39}\s*)?(?:;\s*(?:[A-Za-z][A-Za-z -]{1,39}\s*)?)*$"

EventName = Literal["viewed", "referred", "applied", "enrolled", "completed", "declined"]
StatusName = Literal["active", "inactive", "defunct", "temporarily closed"]
assert set(EventName.__args__) == set(EVENTS) and set(StatusName.__args__) == set(STATUSES)


def _range(name: str) -> dict:
    low, high = RANGES[name]
    return {"ge": low, "le": high}


def _code_list(value: Any, field: str) -> Any:
    """Accept a JSON list or the contract's ``;``-separated string; normalise like the loaders do.
    Needs are matched as free text (CPU per need), so they have tighter limits than other lists."""
    if value is None:
        return None
    if isinstance(value, str):
        items = split_list(value)
    elif isinstance(value, list):
        if not all(isinstance(v, str) for v in value):
            raise ValueError(f"{field} must be a list of strings")
        items = split_list(value)
    else:
        return value  # let pydantic report the type error
    most, longest = (NEEDS_MAX, NEED_TEXT_MAX) if field == "needs" else (LIST_MAX, TEXT_MAX)
    if len(items) > most:
        raise ValueError(f"{field} has {len(items)} items; at most {most} allowed")
    if any(len(item) > longest for item in items):
        raise ValueError(f"{field} items must be at most {longest} characters")
    return items


def _plain_number(value: Any, field: str) -> Any:
    """Profile numbers: a bool is not a number, and a value beyond what a resident fact can be
    (or a JSON reader keeps exactly) is refused rather than stored as 1e+30."""
    if isinstance(value, bool):
        raise ValueError(f"{field} must be a number, not true/false")
    if isinstance(value, int) and abs(value) > INT_ABS_MAX:
        raise ValueError(f"{field} must be at most {INT_ABS_MAX} in magnitude")
    if isinstance(value, float) and (not math.isfinite(value) or abs(value) > NUMBER_ABS_MAX):
        raise ValueError(f"{field} must be a finite number of at most {NUMBER_ABS_MAX:g} in magnitude")
    return value


PROFILE_EXAMPLE = {
    "age": 67,
    "gender": "female",
    "district": "d03",
    "household_size": 1,
    "monthly_income": 1200,
    "employment_status": "retired",
    "disability": False,
    "languages": ["en", "es"],
    "needs": ["food", "housing/repair"],
    "latitude": 39.29,
    "longitude": -76.61,
}


_EXTRA_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class ResidentProfile(BaseModel):
    """The resident fields of the data contract (everything except ``resident_id``); all optional.

    A city may add its own plain fields (``veteran``, ``homeless``, ...) that services' eligibility
    rules read; they are accepted as extra fields with scalar values.
    """

    model_config = ConfigDict(extra="allow", json_schema_extra={
        "examples": [PROFILE_EXAMPLE],
        # What the validator below enforces on the extra fields, stated in the schema too.
        "additionalProperties": {"anyOf": [{"type": "string", "maxLength": TEXT_MAX},
                                           {"type": "number"}, {"type": "boolean"}, {"type": "null"}]},
        "propertyNames": {"pattern": r"^[a-z][a-z0-9_]{0,63}$"},
        "maxProperties": 11 + EXTRA_MAX,
    })

    age: int | None = Field(None, **_range("age"))
    gender: str | None = Field(None, max_length=TEXT_MAX)
    district: str | None = Field(None, max_length=TEXT_MAX)
    household_size: int | None = Field(None, **_range("household_size"))
    monthly_income: float | None = Field(None, **_range("monthly_income"))
    employment_status: str | None = Field(None, max_length=TEXT_MAX)
    #: true/false, or the same yes/no words residents.csv accepts (one vocabulary): not 0.0 or "maybe"
    disability: StrictBool | Literal[tuple(sorted(TRUE_WORDS | FALSE_WORDS))] | None = Field(
        None, description="true/false (also yes/no)")
    languages: list[LangCode] | Annotated[str, Field(pattern=LANG_LIST)] | None = Field(
        None, description="ISO 639-1 or ISO 639-3 codes (or language names), as a list or the contract's "
                          "`;`-separated string")
    needs: list[Code] | str | None = Field(
        None, description=f"need codes (hierarchical, e.g. `food/pantry`) or free text, list or "
                          f"`;`-separated; at most {NEEDS_MAX}, {NEED_TEXT_MAX} characters each")
    latitude: float | None = Field(None, **_range("latitude"))
    longitude: float | None = Field(None, **_range("longitude"))

    @field_validator("languages", "needs", mode="before")
    @classmethod
    def _lists(cls, value: Any, info) -> Any:
        return _code_list(value, info.field_name)

    @field_validator("age", "household_size", "monthly_income", "latitude", "longitude", mode="before")
    @classmethod
    def _numbers(cls, value: Any, info) -> Any:
        return _plain_number(value, info.field_name)

    @model_validator(mode="after")
    def _extras(self) -> "ResidentProfile":
        extra = self.model_extra or {}
        if len(extra) > EXTRA_MAX:
            raise ValueError(f"at most {EXTRA_MAX} extra profile fields, got {len(extra)}")
        for name, value in extra.items():
            if not _EXTRA_NAME.match(name):
                raise ValueError(f"{name[:70]!r}: extra field names are lower-case letters, digits "
                                 "and _ (at most 64)")
            if not (value is None or isinstance(value, (bool, int, float))
                    or (isinstance(value, str) and len(value) <= TEXT_MAX)):
                raise ValueError(f"{name}: extra profile fields must be plain values "
                                 f"(string of at most {TEXT_MAX} characters, number or boolean)")
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                _plain_number(value, name)
        return self

    def to_contract(self) -> dict:
        """The profile as the library takes it: only the fields that were given (extras included;
        a ``resident_id`` inside a profile is not part of it)."""
        return {k: v for k, v in self.model_dump().items() if v is not None and k != "resident_id"}


class Near(BaseModel):
    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [{"lat": 39.29, "lon": -76.61, "max_km": 5}]})

    lat: float = Field(..., **_range("latitude"))
    lon: float = Field(..., **_range("longitude"))
    max_km: float = Field(..., gt=0, le=20_000)


class RecommendationRequest(BaseModel):
    """Either an inline ``profile`` (a walk-in resident never seen) or a known ``resident_id``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"profile": PROFILE_EXAMPLE, "k": 10, "categories": ["food"],
         "near": {"lat": 39.29, "lon": -76.61, "max_km": 10}},
        {"resident_id": "r000042", "k": 5, "exclude_service_ids": ["s0007"]},
    ]})

    profile: ResidentProfile | None = None
    resident_id: Id | None = None
    k: int = Field(10, ge=1, le=K_MAX, strict=True, description="number of services to return")
    needs: list[Code] | None = Field(
        None, description=f"overrides the profile's declared needs (at most {NEEDS_MAX}, "
                          f"{NEED_TEXT_MAX} characters each)")
    categories: list[Code] | None = Field(
        None, description="only services in these categories (and their sub-categories)")
    exclude_service_ids: list[Id] = Field(default_factory=list, max_length=EXCLUDE_MAX)
    near: Near | None = None
    include_unknown_eligibility: bool = Field(
        True, description="also suggest services whose eligibility cannot be decided from the profile")
    explain: bool = Field(True, description="compute explanations and score contributions")
    lang: Literal["en", "zh"] = Field("en", description="language of the explanation sentences")

    @field_validator("needs", "categories", mode="before")
    @classmethod
    def _lists(cls, value: Any, info) -> Any:
        return _code_list(value, info.field_name)

    @model_validator(mode="after")
    def _one_subject(self) -> "RecommendationRequest":
        if (self.profile is None) == (self.resident_id is None):
            raise ValueError("give exactly one of profile or resident_id")
        return self


def _from_result_type(cls, name: str, **extra) -> type[BaseModel]:
    """A pydantic model with the fields of one of the library's result dataclasses (types and
    defaults as declared there), plus ``extra`` fields the API adds."""
    hints = typing.get_type_hints(cls, vars(results))
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = Field(default_factory=f.default_factory)
        else:
            default = ...
        fields[f.name] = (hints[f.name], default)
    fields.update(extra)
    return create_model(name, __doc__=cls.__doc__, **fields)


Contribution = _from_result_type(results.Contribution, "Contribution")
Suggestion = _from_result_type(
    results.Suggestion, "Suggestion",
    contributions=(list[Contribution], Field(default_factory=list)),
    distance_band=(str | None, Field(None, description="under 1 km, 1-3 km, 3-10 km or over 10 km; "
                                                       "the only distance a portal answer carries")))
NeedAnswer = _from_result_type(results.NeedAnswer, "NeedAnswer")


SUGGESTION_EXAMPLE = {
    "service_id": "s0107", "name": "Eastside Senior Pantry", "organization": "Eastside Outreach",
    "rank": 1, "score": 2.31, "needs": ["food"], "eligibility": "eligible",
    "reasons": ["age 67 within 60-120", "serves district d03"], "questions": [],
    "distance_km": 1.4, "distance_band": "1-3 km", "capacity": 40,
    "explanation": "Answers food; eligible by age and district; 1.4 km away.",
    "contributions": [{"feature": "need:food", "value": 1.2}],
}


class RecommendationResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "request_id": "6f1c0d6a2b5e4f0e9d3c2b1a09876543", "model_version": "20250101T120000Z",
        "resident_id": None, "mode": "cold", "items": [SUGGESTION_EXAMPLE],
        "needs": {"food": {"need": "food", "service_ids": ["s0107"], "reason": None},
                  "housing/repair": {"need": "housing/repair", "service_ids": [],
                                     "reason": "no active service in housing/repair"}},
    }]})

    request_id: str
    model_version: str
    resident_id: str | None
    mode: str = Field(description="`warm` (ranked from history) or `cold` (from the profile)")
    items: list[Suggestion]
    needs: dict[str, NeedAnswer]


class ProfileResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"resident_id": "r000042", "source": "store", "profile": PROFILE_EXAMPLE}]})

    resident_id: str
    source: Literal["store", "model"] = Field(
        description="`store`: set through this API; `model`: the training data's profile")
    profile: dict[str, Any]


class DeleteResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"resident_id": "r000042", "deleted": True}]})

    resident_id: str
    deleted: bool = Field(description="false when the store held nothing about this resident")


MAX_TIMESTAMP = datetime(3000, 1, 1, tzinfo=timezone.utc).timestamp()


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "event_id": "e-2025-000001", "resident_id": "r000042", "service_id": "s0107",
        "event": "enrolled", "timestamp": "2025-01-05T10:30:00Z"}]})

    event_id: Id = Field(description="client-chosen id; a replayed id is not counted twice")
    resident_id: Id
    service_id: Id
    event: EventName
    timestamp: float | datetime = Field(description="epoch seconds or ISO-8601 date-time")

    @field_validator("timestamp")
    @classmethod
    def _epoch(cls, value: float | datetime) -> float:
        if isinstance(value, datetime):
            if value.tzinfo is None:  # a naive time is taken as UTC, as the loaders do
                value = value.replace(tzinfo=timezone.utc)
            value = value.timestamp()
        if not math.isfinite(value) or not 0 <= value <= MAX_TIMESTAMP:
            raise ValueError("timestamp must be between 1970-01-01 and 3000-01-01")
        return float(value)


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"events": [
        EventIn.model_config["json_schema_extra"]["examples"][0],
        {"event_id": "e-2025-000002", "resident_id": "r000042", "service_id": "s0031",
         "event": "declined", "timestamp": 1736073000},
    ]}]})

    events: list[EventIn] = Field(..., min_length=1, max_length=EVENTS_MAX,
                                  description=f"at most {EVENTS_MAX} events per batch")


class EventsAccepted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"accepted": 2, "duplicates": 0}]})

    accepted: int = Field(description="events newly stored")
    duplicates: int = Field(description="events whose event_id was already stored (not counted again)")


SERVICE_EXAMPLE = {
    "service_id": "s0107", "name": "Eastside Senior Pantry", "description": "Weekly groceries.",
    "organization": "Eastside Outreach", "status": "active", "categories": ["food/pantry"],
    "min_age": 60, "max_age": None, "districts": ["d03"], "languages": ["en"],
    "max_income": 2500, "capacity": 40, "eligibility_description": "Seniors 60+",
    "latitude": 39.3, "longitude": -76.6,
}


def _service_field(column: str) -> tuple[Any, Any]:
    """The API type and default of one service column of the data contract."""
    if column in SERVICE_LISTS:
        return list[str], Field(default_factory=list)
    if column == "capacity":  # a count of places
        return int | None, None
    if column in SERVICE_NUMERIC:
        return float | None, None
    if column in SERVICE_REQUIRED or column == "status":  # the live status is always known here
        return str, ...
    return str | None, None


class _ServiceBase(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [SERVICE_EXAMPLE]})


#: A catalogue entry: the contract's service columns (from ``recommender.schema``) but for the
#: before-you-refer text, which comes with a suggestion.
Service = create_model(
    "Service", __base__=_ServiceBase, __doc__="A catalogue entry with the live status and capacity overrides applied.",
    **{c: _service_field(c) for c in SERVICE_REQUIRED + SERVICE_OPTIONAL if c not in SERVICE_REFERRAL})


class ServiceList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"total": 1, "offset": 0, "items": [SERVICE_EXAMPLE]}]})

    total: int = Field(description="services matching the filters (before offset/limit)")
    offset: int
    items: list[Service]


class ServicePatch(BaseModel):
    """Live changes that take effect on every replica at once, without retraining."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"status": "temporarily closed"}, {"capacity": 0}, {"status": "active", "capacity": 25}]})

    status: StatusName | None = None
    capacity: int | None = Field(None, **_range("capacity"))

    @model_validator(mode="after")
    def _something(self) -> "ServicePatch":
        given = {k: v for k, v in self.model_dump().items() if v is not None}
        if not given:
            raise ValueError("give at least one of status or capacity")
        return self

    def fields(self) -> dict:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class ModelInfo(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "version": "20250101T120000Z", "trained_at": "2025-01-01T12:00:00+00:00",
        "loaded_at": "2025-01-02T08:00:00+00:00", "services": 2000,
        "metrics": {"precision_at_10": 0.21, "auc": 0.91}}]})

    version: str
    trained_at: str | None
    loaded_at: str
    services: int = Field(description="services in the model's catalogue")
    metrics: dict[str, Any]


class ReloadResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "previous_version": "20250101T120000Z", "version": "20250108T120000Z", "changed": True,
        "published": True}]})

    previous_version: str | None
    version: str
    changed: bool
    published: bool = Field(description="whether the other replicas were notified through the store")


class AuditEntry(BaseModel):
    """One served list. The resident appears only as a keyed hash of their id, an inline profile
    as a keyed hash of its fields: never as data."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "time": 1736073000.5, "request_id": "6f1c0d6a2b5e4f0e9d3c2b1a09876543", "key_id": "k3f9a",
        "route": "POST /v1/recommendations", "resident_hash": None,
        "profile_hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "model_version": "20250101T120000Z", "service_ids": ["s0107", "s0031"]}]})

    time: float
    key_id: str | None = None
    resident_hash: str | None = None
    profile_hash: str | None = None
    model_version: str | None = None
    service_ids: list[str] = Field(default_factory=list)


class AuditPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "offset": 0, "items": [AuditEntry.model_config["json_schema_extra"]["examples"][0]]}]})

    offset: int
    items: list[AuditEntry]


class Health(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: str


class Readiness(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"status": "ready", "model_version": "20250101T120000Z", "store": True, "reasons": []},
        {"status": "not ready", "model_version": "20250101T120000Z", "store": True,
         "reasons": ["API keys file unusable, every key refused: ..."]}]})

    status: Literal["ready", "not ready"]
    model_version: str | None
    store: bool
    reasons: list[str] = Field(default_factory=list, description="why not ready (or what to look at)")


class FieldError(BaseModel):
    field: str = Field(description="where the problem is, e.g. `body.events.3.service_id`")
    message: str


class ErrorBody(BaseModel):
    """Every error answer: a message that names the field at fault, and the request id."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "detail": "body.k: Input should be less than or equal to 50",
        "errors": [{"field": "body.k", "message": "Input should be less than or equal to 50"}],
        "request_id": "6f1c0d6a2b5e4f0e9d3c2b1a09876543"}]})

    detail: str
    errors: list[FieldError] = Field(default_factory=list)
    request_id: str | None = None
