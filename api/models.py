"""Request and response bodies of the HTTP API (pydantic), each with an example for the OpenAPI docs.

Request models forbid unknown fields so a typo ("neds") is a 422 naming the field instead of being
silently ignored. Response models document what the routes emit; the hot routes serialise with
orjson and return the bytes directly, so these classes cost nothing per request there.
"""
from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from recommender.schema import EVENTS, RANGES, STATUSES, split_list

# Bounds on free text and lists: generous for real use, small enough that nothing a client sends
# can make a request expensive.
ID_MAX = 200
TEXT_MAX = 200
LIST_MAX = 50
EVENTS_MAX = 1000
EXCLUDE_MAX = 1000
MAX_OFFSET = 1_000_000

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
    """Accept a JSON list or the contract's ``;``-separated string; normalise like the loaders do."""
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
    if len(items) > LIST_MAX:
        raise ValueError(f"{field} has {len(items)} items; at most {LIST_MAX} allowed")
    if any(len(item) > TEXT_MAX for item in items):
        raise ValueError(f"{field} items must be at most {TEXT_MAX} characters")
    return items


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


EXTRA_MAX = 30
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
    disability: bool | None = Field(None, description="true/false (also yes/no)")
    languages: list[LangCode] | Annotated[str, Field(pattern=LANG_LIST)] | None = Field(
        None, description="ISO 639-1 or ISO 639-3 codes (or language names), as a list or the contract's "
                          "`;`-separated string")
    needs: list[Code] | str | None = Field(
        None, description="need codes (hierarchical, e.g. `food/pantry`), list or `;`-separated")
    latitude: float | None = Field(None, **_range("latitude"))
    longitude: float | None = Field(None, **_range("longitude"))

    @field_validator("languages", "needs", mode="before")
    @classmethod
    def _lists(cls, value: Any, info) -> Any:
        return _code_list(value, info.field_name)

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
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{name}: expected a finite number")
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
    k: int = Field(10, ge=1, le=50, description="number of services to return")
    needs: list[Code] | None = Field(None, description="overrides the profile's declared needs")
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


class Contribution(BaseModel):
    feature: str
    value: float


class Suggestion(BaseModel):
    service_id: str
    name: str
    organization: str | None
    rank: int
    score: float
    needs: list[str] = Field(description="declared needs this service answers")
    eligibility: Literal["eligible", "unknown"]
    reasons: list[str] = Field(description="eligibility checks that passed, in words")
    questions: list[str] = Field(description="what to ask the resident to settle unknown eligibility")
    distance_km: float | None
    capacity: int | None
    explanation: str
    contributions: list[Contribution] = Field(default_factory=list)
    # before you refer: what to tell the resident, where the listing says it
    how_to_apply: str | None = None
    referral_required: bool | None = Field(None, description="true when the listing requires a referral")
    documents: str | None = Field(None, description="documents to bring")
    fees: str | None = None
    hours: str | None = None
    wait_time: str | None = None


class NeedAnswer(BaseModel):
    need: str = Field(description="the category code (free text is matched to one; the key keeps the words)")
    service_ids: list[str]
    reason: str | None = None
    path: str | None = Field(default=None, description="the category's taxonomy path")


SUGGESTION_EXAMPLE = {
    "service_id": "s0107", "name": "Eastside Senior Pantry", "organization": "Eastside Outreach",
    "rank": 1, "score": 2.31, "needs": ["food"], "eligibility": "eligible",
    "reasons": ["age 67 within 60-120", "serves district d03"], "questions": [],
    "distance_km": 1.4, "capacity": 40,
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

    events: list[EventIn] = Field(..., min_length=1, max_length=EVENTS_MAX)


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


class Service(BaseModel):
    """A catalogue entry with the live status and capacity overrides applied."""

    model_config = ConfigDict(json_schema_extra={"examples": [SERVICE_EXAMPLE]})

    service_id: str
    name: str
    description: str | None = None
    organization: str | None = None
    status: str
    categories: list[str] = Field(default_factory=list)
    min_age: float | None = None
    max_age: float | None = None
    districts: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    max_income: float | None = None
    capacity: int | None = None
    eligibility_description: str | None = None
    latitude: float | None = None
    longitude: float | None = None


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
    """One served list. Inline profiles appear only as their sha256, never as data."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "time": 1736073000.5, "request_id": "6f1c0d6a2b5e4f0e9d3c2b1a09876543", "key_id": "k3f9a",
        "route": "POST /v1/recommendations", "resident_id": None,
        "profile_hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "model_version": "20250101T120000Z", "service_ids": ["s0107", "s0031"]}]})

    time: float
    key_id: str | None = None
    resident_id: str | None = None
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
        {"status": "ready", "model_version": "20250101T120000Z", "store": True}]})

    status: Literal["ready", "not ready"]
    model_version: str | None
    store: bool


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
