"""Typed results of the library: what ``Recommender.recommend`` returns.

These are plain dataclasses so the API (or any other caller) can shape them without knowing how they
were computed. ``to_dict`` gives JSON-ready values.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


class _ToDict:
    """``to_dict`` of a result dataclass: its fields as JSON-ready values (``asdict``, nested results too)."""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Contribution:
    """One feature's share of a suggestion's model score (LightFM scores are sums of such products)."""

    feature: str
    value: float


@dataclass
class Suggestion(_ToDict):
    service_id: str
    name: str
    organization: str | None
    rank: int
    score: float
    #: declared needs this service answers, each as the taxonomy path that links them
    needs: list[str]
    #: the ``recommender.eligibility.Outcome`` label: ``eligible`` or ``unknown`` (``ineligible``
    #: services are never suggested); a label, so the JSON form is the word
    eligibility: str
    #: the checks that passed, in words ("age 67 within 60-120")
    reasons: list[str]
    #: what a caseworker should still ask ("Is the resident a veteran?")
    questions: list[str]
    distance_km: float | None
    capacity: int | None
    explanation: str
    #: the features that drove the model score, largest first
    contributions: list[Contribution] = field(default_factory=list)
    # -- before you refer: what the caseworker must tell the resident, where the source has it
    #: how to apply (HSDS ``application_process``)
    how_to_apply: str | None = None
    #: True when the listing says a referral is required (None: it does not say)
    referral_required: bool | None = None
    #: documents to bring (HSDS ``required_documents``)
    documents: str | None = None
    fees: str | None = None
    #: opening hours (HSDS ``schedule``)
    hours: str | None = None
    wait_time: str | None = None


@dataclass
class NeedAnswer(_ToDict):
    """How one declared need is answered in a result list."""

    #: the category code (a free-text need is matched to one; the dict key keeps the words)
    need: str
    service_ids: list[str]
    #: why nothing answers it, when ``service_ids`` is empty
    reason: str | None = None
    #: the category's readable taxonomy path
    path: str | None = None


@dataclass
class RecommendationResult:
    model_version: str
    resident_id: str | None
    #: ``warm`` when the model knows this resident's history, ``cold`` when it ranks from the profile
    mode: str
    items: list[Suggestion]
    needs: dict[str, NeedAnswer]

    def to_dict(self) -> dict:
        return {
            "model_version": self.model_version,
            "resident_id": self.resident_id,
            "mode": self.mode,
            "items": [s.to_dict() for s in self.items],
            "needs": {k: v.to_dict() for k, v in self.needs.items()},
        }
