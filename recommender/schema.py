"""The data contract: the three tables servicematch reads, their columns, and the event vocabulary.

Everything that reads or writes tables (loading, generation, import, the API's event export) takes
its column names from here, so the contract is written once.
"""
from __future__ import annotations

#: Separator of multi-valued cells (categories, districts, languages, needs).
LIST_SEP = ";"

#: Separator of levels in a hierarchical category code: ``food/pantry`` is a child of ``food``.
CODE_SEP = "/"

SERVICE_REQUIRED = ("service_id", "name")
#: What a caseworker must tell the resident before referring (HSDS ``application_process``,
#: ``required_documents``, ``fees``, ``schedule``, ``wait_time``): free text, shown with a suggestion.
SERVICE_REFERRAL = ("application_process", "required_documents", "fees", "hours", "wait_time")
SERVICE_OPTIONAL = (
    "description", "organization", "status", "categories", "min_age", "max_age", "districts",
    "languages", "max_income", "capacity", "eligibility_description", "latitude", "longitude",
) + SERVICE_REFERRAL
SERVICE_NUMERIC = ("min_age", "max_age", "max_income", "capacity", "latitude", "longitude")
SERVICE_LISTS = ("categories", "districts", "languages")

RESIDENT_REQUIRED = ("resident_id",)
RESIDENT_OPTIONAL = (
    "age", "gender", "district", "household_size", "monthly_income", "employment_status",
    "disability", "languages", "needs", "latitude", "longitude",
)
RESIDENT_NUMERIC = ("age", "household_size", "monthly_income", "latitude", "longitude")
RESIDENT_LISTS = ("languages", "needs")

INTERACTION_REQUIRED = ("resident_id", "service_id")
INTERACTION_OPTIONAL = ("event", "timestamp", "weight")

#: Service statuses. Only ``active`` services are suggested.
STATUSES = ("active", "inactive", "defunct", "temporarily closed")
DEFAULT_STATUS = "active"

#: Feedback events, in funnel order. ``declined`` is an explicit negative.
EVENTS = ("viewed", "referred", "applied", "enrolled", "completed", "declined")
DEFAULT_EVENT = "enrolled"

#: Events that count as a positive when evaluating a holdout.
POSITIVE_EVENTS = frozenset({"referred", "applied", "enrolled", "completed"})

#: Training weight of each event when no explicit ``weight`` is given. A view is weak evidence of
#: interest; completing a programme is the strongest. ``declined`` gets no positive weight: it is
#: kept out of the positive matrix and used to exclude the service at ranking time.
EVENT_WEIGHTS = {
    "viewed": 0.25,
    "referred": 0.5,
    "applied": 0.75,
    "enrolled": 1.0,
    "completed": 1.25,
    "declined": 0.0,
}

#: Numeric ranges a value must fall in to be accepted (inclusive).
RANGES = {
    "age": (0, 125),
    "min_age": (0, 125),
    "max_age": (0, 125),
    "household_size": (1, 30),
    "monthly_income": (0, 10_000_000),
    "max_income": (0, 10_000_000),
    "capacity": (0, 10_000_000),
    "latitude": (-90, 90),
    "longitude": (-180, 180),
    "weight": (0, 1_000),
}


#: The one vocabulary of yes/no and missing cells, shared by table loading and the API's profiles, so
#: ``disability=y`` means the same in ``residents.csv`` and over HTTP.
TRUE_WORDS = frozenset({"true", "yes", "y", "t", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "f", "0"})
#: Cells that mean "not given" (besides an empty cell).
MISSING_WORDS = frozenset({"", "nan", "none", "null", "n/a", "unknown"})


def split_list(value) -> list[str]:
    """Split a ``;``-separated cell into stripped, non-empty, lower-cased items (order kept, deduplicated)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [str(v) for v in value]
    else:
        text = str(value)
        if text == "" or text.lower() == "nan":
            return []
        items = text.split(LIST_SEP)
    seen: dict[str, None] = {}
    for item in items:
        item = item.strip().lower()
        if item:
            seen.setdefault(item, None)
    return list(seen)
